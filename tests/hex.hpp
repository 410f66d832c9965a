#pragma once
// Test vectors are written as hex, spaces allowed, as the RFCs print them.

#include "net/hex.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::test {

inline std::vector<std::uint8_t> hex(std::string_view text)
{
    std::vector<std::uint8_t> out;
    int high = -1;
    for (const char c : text) {
        if (c == ' ' || c == '\n' || c == '\t')
            continue;
        const int digit = net::hex_digit(c);
        if (digit < 0)
            throw std::invalid_argument("not a hex digit in a test vector: '" + std::string(1, c) + "'");
        if (high < 0) {
            high = digit;
        } else {
            out.push_back(static_cast<std::uint8_t>(high << 4 | digit));
            high = -1;
        }
    }
    if (high >= 0)
        throw std::invalid_argument("a test vector with an odd number of hex digits");
    return out;
}

} // namespace mesh::test
