#pragma once
// The limits of the data plane's offloads, in one place: what the kernel
// accepts from us and what we accept from it.

#include <cstddef>

namespace mesh::tunnel {

// An IP packet's length field: no inner packet, super-packets included, is
// longer (the TUN's gso_max_size keeps the kernel's TSO within it).
inline constexpr std::size_t max_ip_packet = 65535;

// UDP GSO (UDP_SEGMENT, Linux udp_send_skb): one send is cut into at most 64
// datagrams (UDP_MAX_SEGMENTS; newer kernels take 128), whose payloads add up to at
// most 65507 bytes, the most one IPv4 UDP datagram can carry.
inline constexpr std::size_t udp_gso_max_segments = 64;
inline constexpr std::size_t udp_gso_max_bytes = 65507;

// Packets merged into one super-packet written to the TUN: at most 64 (a
// UDP_L4 one of more is refused by virtio_net_hdr_to_skb on kernels where
// UDP_MAX_SEGMENTS is 64), and at most max_ip_packet bytes in all.
inline constexpr std::size_t max_coalesced_segments = 64;

} // namespace mesh::tunnel
