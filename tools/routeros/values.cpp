#include "tools/routeros/values.hpp"

#include "net/ip_address.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>

namespace mesh::routeros {
namespace {

std::optional<std::uint32_t> v4(std::string_view text)
{
    const auto a = net::IpAddress::parse(text);
    if (!a || !a->is_v4())
        return std::nullopt;
    const std::uint8_t* b = a->bytes();
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

std::string v4_text(std::uint32_t a)
{
    return net::IpAddress::v4(a).to_string();
}

std::uint32_t mask(unsigned length)
{
    return length == 0 ? 0 : ~std::uint32_t{0} << (32 - length);
}

net::IpAddress masked(const net::IpPrefix& p)
{
    std::array<std::uint8_t, 16> bytes{};
    std::copy_n(p.address().bytes(), p.address().size(), bytes.begin());
    for (std::size_t bit = p.length(); bit < p.address().size() * 8; ++bit)
        bytes[bit / 8] = static_cast<std::uint8_t>(bytes[bit / 8] & ~(0x80u >> (bit % 8)));
    return net::IpAddress::from_bytes(p.address().family(), bytes.data());
}

} // namespace

std::optional<std::string> duration(std::string_view ros)
{
    std::uint64_t total_ms = 0;
    std::size_t i = 0;
    bool any = false;
    while (i < ros.size()) {
        if (ros[i] == ' ') {
            ++i;
            continue;
        }
        std::uint64_t count = 0;
        const auto [end, ec] = std::from_chars(ros.data() + i, ros.data() + ros.size(), count);
        if (ec != std::errc{})
            return std::nullopt;
        i = static_cast<std::size_t>(end - ros.data());
        if (i < ros.size() && ros[i] == ':') {
            // HH:MM:SS, perhaps after days.
            std::uint64_t minutes = 0;
            std::uint64_t seconds = 0;
            if (std::sscanf(std::string(ros.substr(i)).c_str(), ":%2lu:%2lu", &minutes, &seconds) != 2)
                return std::nullopt;
            total_ms += ((count * 60 + minutes) * 60 + seconds) * 1000;
            i = ros.size();
            any = true;
            break;
        }
        const std::string_view rest = ros.substr(i);
        std::uint64_t unit = 0;
        std::size_t unit_size = 1;
        if (rest.starts_with("ms")) {
            unit = 1;
            unit_size = 2;
        } else if (rest.starts_with("w")) {
            unit = 7 * 24 * 3600 * 1000ull;
        } else if (rest.starts_with("d")) {
            unit = 24 * 3600 * 1000ull;
        } else if (rest.starts_with("h")) {
            unit = 3600 * 1000ull;
        } else if (rest.starts_with("m")) {
            unit = 60 * 1000ull;
        } else if (rest.starts_with("s") || rest.empty()) {
            unit = 1000;   // a bare number is seconds
            unit_size = rest.empty() ? 0 : 1;
        } else {
            return std::nullopt;
        }
        total_ms += count * unit;
        i += unit_size;
        any = true;
    }
    if (!any || total_ms == 0)
        return std::nullopt;
    constexpr std::array<std::pair<std::uint64_t, std::string_view>, 5> units{
        {{24 * 3600 * 1000ull, "d"}, {3600 * 1000ull, "h"}, {60 * 1000ull, "m"}, {1000, "s"}, {1, "ms"}}};
    for (const auto& [size, name] : units)
        if (total_ms % size == 0)
            return std::to_string(total_ms / size) + std::string(name);
    return std::nullopt;
}

std::vector<std::string> split_list(std::string_view list)
{
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= list.size()) {
        const auto comma = list.find(',', start);
        const auto item = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (!item.empty())
            out.emplace_back(item);
        if (comma == std::string_view::npos)
            break;
        start = comma + 1;
    }
    return out;
}

std::string host_or_prefix(std::string_view address)
{
    const auto p = net::IpPrefix::parse(address);
    if (!p)
        return std::string(address);
    if (p->length() == p->address().size() * 8)
        return p->address().to_string();
    return p->to_string();
}

bool is_range(std::string_view address)
{
    const auto p = net::IpPrefix::parse(address);
    return p && p->length() < p->address().size() * 8;
}

std::optional<std::string> network(std::string_view prefix)
{
    const auto p = net::IpPrefix::parse(prefix);
    if (!p)
        return std::nullopt;
    return net::IpPrefix(masked(*p), p->length()).to_string();
}

bool within(std::string_view prefix, std::string_view outer)
{
    const auto p = net::IpPrefix::parse(prefix);
    const auto o = net::IpPrefix::parse(outer);
    return p && o && p->address().family() == o->address().family() && p->length() >= o->length() &&
           o->contains(p->address());
}

std::optional<PoolPrefix> pool_prefix(std::string_view ranges)
{
    std::optional<std::uint32_t> low;
    std::uint32_t high = 0;
    std::uint64_t count = 0;
    for (const auto& range : split_list(ranges)) {
        std::uint32_t first = 0;
        std::uint32_t last = 0;
        if (const auto dash = range.find('-'); dash != std::string::npos) {
            const auto a = v4(std::string_view(range).substr(0, dash));
            const auto b = v4(std::string_view(range).substr(dash + 1));
            if (!a || !b || *b < *a)
                return std::nullopt;
            first = *a;
            last = *b;
        } else {
            const auto p = net::IpPrefix::parse(range);
            const auto a = p ? v4(p->address().to_string()) : std::nullopt;
            if (!a)
                return std::nullopt;
            first = *a & mask(p->length());
            last = first | ~mask(p->length());
        }
        low = std::min(low.value_or(first), first);
        high = std::max(high, last);
        count += std::uint64_t{last} - first + 1;
    }
    if (!low)
        return std::nullopt;
    unsigned length = 32;
    while (length > 0 && (*low & mask(length)) != (high & mask(length)))
        --length;
    const std::uint32_t net = *low & mask(length);
    const std::uint32_t broadcast = net | ~mask(length);
    const std::uint64_t size = std::uint64_t{broadcast} - net + 1;
    // Overlapping ranges would count twice: exact only for one that covers all usable addresses.
    const bool usable_only = length < 31 && *low <= net + 1 && high >= broadcast - 1 && count >= size - 2;
    const bool exact = (*low == net && high == broadcast && count == size) || usable_only;
    return PoolPrefix{v4_text(net) + "/" + std::to_string(length), exact};
}

std::string toml_string(std::string_view s)
{
    std::string out = "\"";
    for (const char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                char buffer[8];
                std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
                out += buffer;
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

std::string toml_list(const std::vector<std::string>& items)
{
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i)
        out += (i == 0 ? "" : ", ") + toml_string(items[i]);
    return out + "]";
}

std::string toml_key(std::string_view name)
{
    const bool bare = !name.empty() && std::ranges::all_of(name, [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
    return bare ? std::string(name) : toml_string(name);
}

bool is_interface_name(std::string_view name)
{
    return !name.empty() && name.size() <= 15 && name != "." && name != ".." &&
           std::ranges::none_of(name, [](char c) {
               return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) ||
                      static_cast<unsigned char>(c) < 0x20;
           });
}

} // namespace mesh::routeros
