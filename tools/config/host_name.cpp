#include "tools/config/host_name.hpp"

#include <algorithm>
#include <cctype>

namespace mesh::config {

namespace {
constexpr std::size_t max_name = 253;   // RFC 1035 section 2.3.4: 255 octets on the wire
constexpr std::size_t max_label = 63;

bool name_character(char c)
{
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
}
} // namespace

std::optional<std::string> host_name_problem(std::string_view text)
{
    if (text.empty())
        return "it is empty";
    if (text.back() == '.')
        text.remove_suffix(1);
    if (text.size() > max_name)
        return "it has " + std::to_string(text.size()) + " characters, more than the " + std::to_string(max_name) +
               " a host name may have";
    std::string_view last;
    for (std::size_t start = 0; start <= text.size();) {
        const std::size_t end = std::min(text.find('.', start), text.size());
        const std::string_view label = text.substr(start, end - start);
        if (label.empty())
            return "it has an empty label (two dots, or a dot first)";
        if (label.size() > max_label)
            return "its label '" + std::string(label.substr(0, 16)) + "...' has " + std::to_string(label.size()) +
                   " characters, more than " + std::to_string(max_label);
        if (const auto bad = std::ranges::find_if_not(label, name_character); bad != label.end())
            return "its label '" + std::string(label) + "' holds '" + std::string(1, *bad) +
                   "': a host name has only letters, digits, '-' and dots between labels";
        if (label.front() == '-' || label.back() == '-')
            return "its label '" + std::string(label) + "' starts or ends with '-'";
        last = label;
        start = end + 1;
    }
    if (std::ranges::all_of(last, [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }))
        return "its last label '" + std::string(last) + "' is all digits, so it is no name, and no IP address either";
    return std::nullopt;
}

} // namespace mesh::config
