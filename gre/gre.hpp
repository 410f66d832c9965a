#pragma once
// GRE (RFC 2784) with the key and sequence-number extensions of RFC 2890,
// encapsulated and decapsulated on byte spans; no I/O.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |C| |K|S| Reserved0       | Ver |         Protocol Type         |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |      Checksum (optional)      |       Reserved1 (Optional)    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                         Key (optional)                        |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |                 Sequence Number (Optional)                    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>

namespace mesh::gre {

inline constexpr std::uint16_t ethertype_ipv4 = 0x0800;
inline constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
inline constexpr std::size_t max_header_length = 16;

enum class GreError : std::uint8_t {
    truncated = 1,      // shorter than the header its flags announce
    bad_version,        // version other than 0
    reserved_bits_set,  // a Reserved0 bit (routing, strict source route, recursion, flags) or Reserved1 set
    bad_checksum,       // C bit set and the checksum over header and payload is wrong
};

struct Header {
    std::uint16_t protocol = ethertype_ipv4;  // EtherType of the payload
    bool checksum = false;
    std::optional<std::uint32_t> key;
    std::optional<std::uint32_t> sequence;

    friend bool operator==(const Header&, const Header&) = default;
};

[[nodiscard]] constexpr std::size_t header_length(const Header& h) noexcept
{
    return 4 + (h.checksum ? 4 : 0) + (h.key ? 4 : 0) + (h.sequence ? 4 : 0);
}

// packet = header_length(h) bytes of room followed by the payload. Writes the
// header (and the checksum over the whole packet when h.checksum).
void encap(std::span<std::uint8_t> packet, const Header& h) noexcept;

struct Decapsulated {
    Header header;
    std::size_t payload_offset;   // the payload is packet.subspan(payload_offset)
};

[[nodiscard]] std::expected<Decapsulated, GreError> decap(std::span<const std::uint8_t> packet) noexcept;

} // namespace mesh::gre
