#pragma once
// The inner IPv4/IPv6 packet as the offloads see it: where its TCP or UDP
// header is, and the checksums they complete or recompute (RFC 1071 sums
// over the pseudo-headers of RFC 9293 section 3.1 and RFC 8200 section 8.1).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace mesh::tunnel {

inline constexpr std::uint8_t protocol_tcp = 6;
inline constexpr std::uint8_t protocol_udp = 17;

// A TCP segment or UDP datagram right behind its IP header.
struct TransportPacket {
    std::uint8_t version = 4;        // 4 or 6
    std::uint8_t protocol = 0;       // protocol_tcp or protocol_udp
    std::size_t l4_offset = 0;       // the IP header's length (IPv4 options included)
    std::size_t l4_header = 0;       // TCP: its data offset in bytes; UDP: 8
    std::size_t size = 0;            // the IP length fields' total, at most the bytes given
};

// nullopt for anything else: truncated or inconsistent lengths, IPv4
// fragments, IPv6 extension headers (the TCP/UDP header must follow the fixed
// header) and other protocols.
[[nodiscard]] std::optional<TransportPacket> parse_transport(std::span<const std::uint8_t> packet) noexcept;

// The folded, uncomplemented sum of the pseudo-header for l4_bytes of TCP or
// UDP: what the kernel leaves in the checksum field with NEEDS_CSUM, and the
// start of every full transport checksum.
[[nodiscard]] std::uint16_t pseudo_header_sum(std::span<const std::uint8_t> packet, const TransportPacket& transport,
                                              std::size_t l4_bytes) noexcept;

// Stores the transport checksum of packet[l4_offset, l4_offset + l4_bytes)
// computed from scratch; a UDP sum of zero is sent as 0xffff (RFC 768).
void write_transport_checksum(std::span<std::uint8_t> packet, const TransportPacket& transport,
                              std::size_t l4_bytes) noexcept;

// Stores the IPv4 header checksum computed from scratch.
void write_ipv4_checksum(std::span<std::uint8_t> header) noexcept;

// NEEDS_CSUM: the field at csum_start + csum_offset holds the pseudo-header
// sum; the checksum over packet[csum_start, end) with it in place is the
// one to store (a sum of zero stored as 0xffff, as the kernel does). False,
// packet untouched, when the field lies outside the packet.
[[nodiscard]] bool complete_checksum(std::span<std::uint8_t> packet, std::size_t csum_start,
                                     std::size_t csum_offset) noexcept;

} // namespace mesh::tunnel
