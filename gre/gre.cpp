// GRE encap and decap (RFC 2784, key and sequence number of RFC 2890).
// decap checks, in this order: the fixed 4 bytes are there, version, Reserved0,
// the optional fields the flags announce are there, Reserved1, checksum.

#include "gre/gre.hpp"

#include "gre/checksum.hpp"
#include "net/byte_order.hpp"

#include <cassert>

namespace mesh::gre {
namespace {

// The first 16 bits of the header.
constexpr std::uint16_t flag_checksum = 0x8000;   // C, RFC 2784 section 2.1
constexpr std::uint16_t flag_key = 0x2000;        // K, RFC 2890 section 2
constexpr std::uint16_t flag_sequence = 0x1000;   // S, RFC 2890 section 2
constexpr std::uint16_t version_mask = 0x0007;
// Reserved0 less K and S: bit 1 (RFC 1701's routing present) and bits 4-12
// (strict source route, recursion control, flags). RFC 2784 section 2.5.1
// has a receiver discard bits 1-5 but ignore 6-12; we discard on 6-12 as well,
// deliberately: no sender we talk to sets them, so a set bit means the packet
// is not what we think it is.
constexpr std::uint16_t reserved0_mask = 0x4ff8;

} // namespace

void encap(std::span<std::uint8_t> packet, const Header& h) noexcept
{
    assert(packet.size() >= header_length(h));
    std::uint8_t* p = packet.data();
    const std::uint16_t flags = (h.checksum ? flag_checksum : 0) | (h.key ? flag_key : 0)
                              | (h.sequence ? flag_sequence : 0);
    net::store_be16(p, flags);
    net::store_be16(p + 2, h.protocol);
    p += 4;
    // Checksum and Reserved1 are zero while the checksum is computed (RFC 2784 section 2.5).
    std::uint8_t* checksum_field = p;
    if (h.checksum) {
        net::store_be32(p, 0);
        p += 4;
    }
    if (h.key) {
        net::store_be32(p, *h.key);
        p += 4;
    }
    if (h.sequence) {
        net::store_be32(p, *h.sequence);
    }
    if (h.checksum) {
        net::store_be16(checksum_field, internet_checksum(packet));
    }
}

std::expected<Decapsulated, GreError> decap(std::span<const std::uint8_t> packet) noexcept
{
    if (packet.size() < 4) [[unlikely]] {
        return std::unexpected(GreError::truncated);
    }
    const std::uint8_t* p = packet.data();
    const std::uint16_t flags = net::load_be16(p);
    if ((flags & version_mask) != 0) [[unlikely]] {
        return std::unexpected(GreError::bad_version);
    }
    if ((flags & reserved0_mask) != 0) [[unlikely]] {
        return std::unexpected(GreError::reserved_bits_set);
    }
    Decapsulated d{};
    d.header.protocol = net::load_be16(p + 2);
    d.header.checksum = (flags & flag_checksum) != 0;
    // The optional fields' values are filled in below; their presence fixes the length.
    if ((flags & flag_key) != 0) {
        d.header.key = 0;
    }
    if ((flags & flag_sequence) != 0) {
        d.header.sequence = 0;
    }
    d.payload_offset = header_length(d.header);
    if (packet.size() < d.payload_offset) [[unlikely]] {
        return std::unexpected(GreError::truncated);
    }
    p += 4;
    if (d.header.checksum) {
        // RFC 2784 section 2.5.2: Reserved1 is sent as zero.
        if (net::load_be16(p + 2) != 0) [[unlikely]] {
            return std::unexpected(GreError::reserved_bits_set);
        }
        // Over header and payload with the checksum field in place, a correct
        // packet sums to -0 (RFC 1071 section 1).
        if (ones_complement_sum(packet) != 0xffff) [[unlikely]] {
            return std::unexpected(GreError::bad_checksum);
        }
        p += 4;
    }
    if (d.header.key) {
        d.header.key = net::load_be32(p);
        p += 4;
    }
    if (d.header.sequence) {
        d.header.sequence = net::load_be32(p);
    }
    return d;
}

} // namespace mesh::gre
