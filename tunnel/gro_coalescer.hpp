#pragma once
// Userspace GRO for a worker's receive path: consecutive TCP segments or UDP
// datagrams of one flow, each authenticated by ESP, leave for the TUN as one
// super-packet, so the kernel's receive path runs once per 64 KiB instead of
// once per packet.
//
//   received:  [IP|TCP seq s][payload]  [IP|TCP seq s+n][payload]  ...
//   written:   [virtio_net_hdr TCPV4/6, NEEDS_CSUM, gso_size n]
//              [IP|TCP seq s, lengths of the whole][payload][payload] ...
//
// A TCP segment joins the super-packet of its flow when it continues it
// exactly: same addresses and ports, the next sequence number, the same ack,
// window, TCP options (timestamps included) and IP header fields, only ACK or
// ACK|PSH set. A UDP datagram joins when addresses, ports and IP header fields
// match (gso_type UDP_L4: the kernel cuts it back into the same datagrams).
// For both, the payload may be no longer than the first one's (a shorter one,
// or PSH, ends the super-packet), and the total stays within max_ip_packet
// bytes and max_coalesced_segments segments. Anything else first flushes what
// its flow holds, so a flow's packets reach the TUN in the order they came.
//
// Nothing is copied: the super-packet is written with writev from the
// receive buffers, which must stay untouched until flush(). The kernel does
// not verify the checksum of a NEEDS_CSUM packet, so only packets whose ESP
// ICV verified may be given to add(), and only those whose own IPv4, TCP and
// UDP checksums and UDP length are right join a super-packet: the others are
// left for the stack to drop, as the peer's LAN may have corrupted them.

#include "tunnel/inner_packet.hpp"
#include "tunnel/offload_limits.hpp"
#include "tunnel/sa_table.hpp"

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace mesh::tunnel {

class GroCoalescer {
public:
    // Flows held at once; one more flushes all. A worker's receive batch
    // interleaves the flows of all its tunnels: with 100 busy tunnels, 16
    // flushed so often that most TCP segments reached the TUN one by one.
    static constexpr std::size_t max_flows = 128;

    // Takes packet (for the TUN tun_fd with a virtio-net header) and returns
    // true, or returns false when it cannot be coalesced: then the caller
    // writes it, after anything of its flow was flushed here. may_hold false
    // (a priority packet, tunnel/traffic_class.hpp, that must not wait for
    // the batch's end): the packet ends its flow's super-packet, written now,
    // or is left to the caller when it starts none.
    [[nodiscard]] bool add(std::span<std::uint8_t> packet, int tun_fd, TunnelCounters& counters,
                           bool may_hold = true) noexcept;
    // Writes every held super-packet; at the end of each receive batch.
    void flush() noexcept;

private:
    struct Flow {
        int tun_fd = -1;
        TunnelCounters* counters = nullptr;
        std::span<std::uint8_t> head;   // the first packet, whose headers will describe the whole
        TransportPacket transport;
        std::uint32_t next_seq = 0;     // TCP
        std::size_t segment = 0;        // the first packet's payload bytes: gso_size
        std::size_t total = 0;          // bytes of the super-packet
        std::size_t count = 0;
        bool psh = false;
        bool closed = false;            // ended by a shorter packet or PSH
        std::array<std::uint8_t, 10> vnet{};
        std::array<iovec, 2 + max_coalesced_segments> iov{};   // header, head, then each payload
    };

    bool append(Flow& flow, std::span<std::uint8_t> packet, const TransportPacket& t) noexcept;
    void start(Flow& flow, std::span<std::uint8_t> packet, const TransportPacket& t, int tun_fd,
               TunnelCounters& counters) noexcept;
    void write(Flow& flow) noexcept;

    std::size_t flow_count_ = 0;
    std::size_t last_ = 0;    // the flow the previous packet joined: the usual one, looked at first
    std::array<Flow, max_flows> flows_{};
};

} // namespace mesh::tunnel
