#include "tools/config/file_modes.hpp"

#include <array>
#include <cstdio>

namespace mesh::config::detail {
namespace {

std::string octal(unsigned mode, const char* format)
{
    std::array<char, 8> text{};
    std::snprintf(text.data(), text.size(), format, mode);
    return text.data();
}

} // namespace

std::optional<std::string> exposure(const std::filesystem::path& file, std::filesystem::perms perms)
{
    const auto mode = static_cast<unsigned>(perms & std::filesystem::perms::mask);
    const unsigned group = mode & 070U;
    const unsigned others = mode & 007U;
    if (group == 0 && others == 0)
        return std::nullopt;
    const std::string whom = group != 0 && others != 0 ? "group and others" : group != 0 ? "group" : "others";
    const std::string what = (mode & 044U) != 0 ? "readable" : (mode & 022U) != 0 ? "writable" : "executable";
    return what + " by " + whom + " (mode " + octal(mode, "%04o") + "): chmod " +
           octal(mode & 0700U, "%03o") + " " + file.string();
}

std::optional<std::string> exposure(const std::filesystem::path& file)
{
    std::error_code ec;
    const auto status = std::filesystem::status(file, ec);
    if (ec || !std::filesystem::exists(status))
        return std::nullopt;
    return exposure(file, status.permissions());
}

} // namespace mesh::config::detail
