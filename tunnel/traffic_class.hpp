#pragma once
// Which inner packets go first through the pump: network control (DSCP CS6
// and CS7, RFC 4594 section 3.1, which FRR puts on BFD, OSPF and BGP) and
// small packets (pings, voice, DNS, TCP segments with data), so that neither
// waits behind a batch of bulk data in either direction. A pure TCP ACK is
// bulk unless it is network control: a busy stream's reverse direction is
// one ACK per two segments, enough to fill the priority queue's 64-packet
// ring and drop the pings and BFD packets in it. No allocation, every length
// checked first: it sees every packet.
//
//   IPv4 (RFC 791, RFC 2474):  byte 1 = DSCP(6) | ECN(2)
//   IPv6 (RFC 8200 section 7): version(4) | traffic class(8) | flow label(20),
//                              traffic class = DSCP(6) | ECN(2)
//   GRE (RFC 2784): the DSCP of the IPv4/IPv6 packet it carries
//   TCP (RFC 9293 section 3.1): byte 12 = data offset(4) | reserved(4),
//                              byte 13 = flags, FIN, SYN, RST the lowest

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace mesh::tunnel {

enum class TrafficClass : std::uint8_t {
    bulk,
    priority,   // network control or small: handed on before the rest of its batch
};

inline constexpr std::uint8_t dscp_cs6 = 48;   // internetwork control (routing protocols, BFD)
inline constexpr std::uint8_t dscp_cs7 = 56;   // network control
// An IP packet up to this long is small: a ping, a voice frame, a BFD or
// OSPF hello, a DNS query, a keystroke over ssh. Bulk TCP and UDP carry
// segments of the tunnel's MTU.
inline constexpr std::size_t small_packet_bytes = 256;
// FIN, SYN and RST (RFC 9293 section 3.1): a segment without data that
// carries one stays priority. A connection sends one or two of each, too few
// to fill a ring, and a SYN or SYN-ACK behind 64 bulk packets delays every
// new connection's handshake by that queue; only the ACK clock of a stream
// comes in floods.
inline constexpr std::uint8_t tcp_fin_syn_rst = 0x07;

// The DSCP of an IPv4 or IPv6 packet; nullopt when packet is no whole fixed
// IP header of either version.
[[nodiscard]] std::optional<std::uint8_t> ip_dscp(std::span<const std::uint8_t> packet) noexcept;

// The DSCP of the IP packet an ESP payload carries, by ESP's next header:
// IPv4 (4), IPv6 (41), or GRE (47, mode gre; RFC 2784 with the RFC 2890
// extensions) carrying either. nullopt for other next headers, a GRE header
// that is not whole or carries something else, or no whole IP header.
[[nodiscard]] std::optional<std::uint8_t> payload_dscp(std::span<const std::uint8_t> payload,
                                                       std::uint8_t next_header) noexcept;

// Priority when the carried IP packet's DSCP is CS6 or CS7, or the packet is
// at most small_packet_bytes long and no pure TCP ACK (a TCP segment without
// data, SYN, FIN or RST; TCP right behind the fixed IPv4 or IPv6 header);
// anything unreadable, a TCP header cut short too, is bulk (its own path
// drops it). The outbound path asks with the inner packet and its version's
// next header, the inbound path with what ESP opened, GRE still on.
[[nodiscard]] TrafficClass classify(std::span<const std::uint8_t> payload, std::uint8_t next_header) noexcept;

} // namespace mesh::tunnel
