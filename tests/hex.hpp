#pragma once
// Test vectors are written as hex, spaces allowed, as the RFCs print them.

#include <botan/hex.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::test {

inline std::vector<std::uint8_t> hex(std::string_view text)
{
    return Botan::hex_decode(std::string(text), true);
}

} // namespace mesh::test
