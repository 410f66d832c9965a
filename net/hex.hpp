#pragma once
// Hexadecimal digits as the configuration and identities write them.

#include <string_view>

namespace mesh::net {

// 0-15 for 0-9, a-f, A-F; -1 for anything else.
[[nodiscard]] constexpr int hex_digit(char c) noexcept
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// The text without a leading "0x" or "0X", which keys and SPIs may carry.
[[nodiscard]] constexpr std::string_view without_0x(std::string_view text) noexcept
{
    if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        text.remove_prefix(2);
    return text;
}

} // namespace mesh::net
