#pragma once
// Sizes and numbers of the IP, UDP and TCP headers every layer reasons
// about: MTU arithmetic, packet parsing, IKE fragment sizes.

#include <cstddef>
#include <cstdint>

namespace mesh::net {

inline constexpr std::size_t ipv4_header_bytes = 20;       // without options (RFC 791 section 3.1)
inline constexpr std::size_t ipv6_header_bytes = 40;       // without extension headers (RFC 8200 section 3)
inline constexpr std::size_t udp_header_bytes = 8;         // RFC 768
inline constexpr std::size_t tcp_min_header_bytes = 20;    // without options (RFC 9293 section 3.1)
inline constexpr std::size_t tcp_checksum_offset = 16;
inline constexpr std::size_t udp_checksum_offset = 6;

// IP protocol numbers (IANA), as ESP's next header and IPv4's protocol field carry them.
inline constexpr std::uint8_t protocol_ipv4 = 4;    // IP in IP: tunnel-mode ESP of IPv4
inline constexpr std::uint8_t protocol_tcp = 6;
inline constexpr std::uint8_t protocol_udp = 17;
inline constexpr std::uint8_t protocol_ipv6 = 41;   // tunnel-mode ESP of IPv6
inline constexpr std::uint8_t protocol_gre = 47;

} // namespace mesh::net
