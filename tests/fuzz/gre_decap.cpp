// libFuzzer target for gre::decap: any input is either rejected or decoded,
// and a decoded header encapsulated again over the same payload decodes to
// the same header and offset, with the same header bytes (the checksum aside:
// 0x0000 and 0xffff are both valid when the rest sums to 0xffff).

#include "gre/gre.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::uint8_t> input(data, size);
    const auto decoded = mesh::gre::decap(input);
    if (!decoded) {
        return 0;
    }
    const mesh::gre::Header& header = decoded->header;
    const std::size_t offset = decoded->payload_offset;
    if (offset != mesh::gre::header_length(header) || offset > size) {
        std::abort();
    }

    std::vector<std::uint8_t> rebuilt(input.begin(), input.end());
    std::memset(rebuilt.data(), 0xa5, offset);   // encap must overwrite every header byte
    mesh::gre::encap(rebuilt, header);
    for (std::size_t i = 0; i < offset; ++i) {
        const bool checksum_field = header.checksum && (i == 4 || i == 5);
        if (!checksum_field && rebuilt[i] != data[i]) {
            std::abort();
        }
    }
    const auto again = mesh::gre::decap(rebuilt);
    if (!again || again->header != header || again->payload_offset != offset) {
        std::abort();
    }
    return 0;
}
