#pragma once
// Userspace TSO and USO: a super-packet the TUN hands us (IFF_VNET_HDR with
// gso_type TCPV4, TCPV6 or UDP_L4) is cut into the packets the kernel would
// have put on a wire, each written straight into its place in the send batch.
//
//   super-packet:  [IP|TCP] [payload .................................]
//   segment i:     [IP|TCP]' [payload i*gso_size, +gso_size)
//
// What each segment's headers get, as the kernel's tcp_gso_segment and
// __udp_gso_segment do: IPv4 ID + i, total/payload length, TCP seq + i*gso_size,
// PSH and FIN only on the last segment, CWR only on the first, UDP length;
// the IPv4 header and TCP/UDP checksums computed from scratch.

#include "tunnel/inner_packet.hpp"
#include "tunnel/virtio_net_header.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace mesh::tunnel {

struct GsoPlan {
    TransportPacket transport;
    std::size_t headers = 0;          // IP and TCP/UDP header, repeated in every segment
    std::size_t segment_payload = 0;  // gso_size
    std::size_t payload = 0;          // all payload bytes behind the headers
    std::size_t count = 0;            // segments, the last one possibly shorter

    // Bytes of segment index (< count).
    [[nodiscard]] std::size_t segment_size(std::size_t index) const noexcept
    {
        const std::size_t offset = index * segment_payload;
        return headers + (payload - offset < segment_payload ? payload - offset : segment_payload);
    }
};

// nullopt when the packet cannot be cut as its header asks: a gso_type we did
// not offer or that does not match the packet, a gso_size of 0, lengths that
// disagree, IPv4 fragments or IPv6 extension headers, no payload.
[[nodiscard]] std::optional<GsoPlan> plan_segments(std::span<const std::uint8_t> packet,
                                                   const VirtioNetHeader& header) noexcept;

// Writes segment index of the planned packet into out, which holds at least
// plan.segment_size(index) bytes; returns that size.
std::size_t write_segment(std::span<const std::uint8_t> packet, const GsoPlan& plan, std::size_t index,
                          std::span<std::uint8_t> out) noexcept;

} // namespace mesh::tunnel
