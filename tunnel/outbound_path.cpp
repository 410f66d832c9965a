// Outbound, one TUN's batch at a time:
//   read(TUN: its priority queue first, tunnel/tun_steering.hpp) -> virtio-net header: a TSO/USO super-packet is cut into
//   segments, a NEEDS_CSUM packet gets its checksum -> MSS clamp of SYNs
//   -> each inner packet written into the send batch behind room for the ESP
//   header and GRE (mode gre) -> ESP seal in place -> sendmmsg(UDP) with GSO,
//   at once behind a priority packet (tunnel/traffic_class.hpp), else when
//   the batch is full or read

#include "gre/gre.hpp"
#include "net/headers.hpp"
#include "tunnel/gso_segmenter.hpp"
#include "tunnel/inner_packet.hpp"
#include "tunnel/mss_clamp.hpp"
#include "tunnel/offload_limits.hpp"
#include "tunnel/pump_schedule.hpp"
#include "tunnel/pump_worker.hpp"
#include "tunnel/traffic_class.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace mesh::tunnel {

namespace {
// How long a full socket buffer may hold the worker before the rest of a batch is dropped.
constexpr int send_wait_ms = 20;
} // namespace

bool PumpWorker::outbound_batch(const Snapshot& snapshot, const TunnelPath& path, std::size_t ready_tunnels)
{
    sends_->set_segmentation(path.udp_gso && udp_gso_);
    // The priority queue first, then a slice of the bulk queue (at most two
    // 64 KiB TSO packets), again while the turn goes on (a tunnel alone in
    // its wake-up): what the kernel steered to the priority queue waits for
    // no more bulk than one slice sealed.
    const auto bulk_class = path.tun_priority_fd >= 0 ? std::optional{TrafficClass::bulk} : std::nullopt;
    TurnBudget bulk(ready_tunnels);
    bool drained = false;
    for (;;) {
        TurnBudget priority(ready_tunnels);
        read_tun(path, path.tun_priority_fd, priority, TrafficClass::priority);
        drained = read_tun(path, path.tun_fd, bulk, bulk_class);
        if (!bulk.next_slice())
            break;
        // The other way's pings, BFD and ACKs wait in the priority socket
        // meanwhile, and a lone tunnel's turn can seal 4 MiB.
        priority_batch(snapshot);
    }
    if (!sends_->empty())
        send_outbound(path);
    return drained;
}

bool PumpWorker::read_tun(const TunnelPath& path, int fd, TurnBudget& budget, std::optional<TrafficClass> steered)
{
    if (fd < 0)
        return true;
    PacketBuffer& packet = *read_;
    const std::size_t header_bytes = path.vnet_hdr ? VirtioNetHeader::size : 0;
    while (budget.allows_read()) {
        packet.reset();
        const auto room = packet.writable();
        const auto length = ::read(fd, room.data(), std::min(room.size(), header_bytes + max_ip_packet));
        if (length <= 0)
            return true;
        budget.spend(static_cast<std::size_t>(length));
        packet.set_size(static_cast<std::size_t>(length));
        VirtioNetHeader header;
        if (path.vnet_hdr) {
            if (packet.size() < VirtioNetHeader::size) [[unlikely]] {
                path.counters->not_ip_drops.add(1);
                continue;
            }
            header = VirtioNetHeader::load(packet.data().first<VirtioNetHeader::size>());
            packet.pull_front(VirtioNetHeader::size);
        }
        queue_outbound(path, packet.data(), header, steered);
    }
    return false;
}

void PumpWorker::queue_outbound(const TunnelPath& path, std::span<std::uint8_t> packet, const VirtioNetHeader& header,
                                std::optional<TrafficClass> steered)
{
    TunnelCounters& counters = *path.counters;
    if (path.outbound == nullptr) [[unlikely]] {
        counters.no_sa_drops.add(1);
        return;
    }
    const auto version = static_cast<std::uint8_t>(packet.empty() ? 0 : packet[0] >> 4);
    if (version != 4 && version != 6) [[unlikely]] {
        counters.not_ip_drops.add(1);
        return;
    }
    // Every segment of a super-packet has its header's DSCP.
    const std::uint8_t dscp = ip_dscp(packet).value_or(0);
    if (header.gso_type != VirtioNetHeader::gso_none) {
        const auto plan = plan_segments(packet, header);
        if (!plan) [[unlikely]] {
            counters.offload_drops.add(1);
            return;
        }
        counters.gso_packets.add(1);
        bulk_queued_ = true;
        for (std::size_t i = 0; i < plan->count; ++i)
            seal_outbound(path, plan->segment_size(i), version, dscp,
                          [&](std::span<std::uint8_t> out) { write_segment(packet, *plan, i, out); });
        return;
    }
    if ((header.flags & VirtioNetHeader::needs_csum) != 0 &&
        !complete_checksum(packet, header.csum_start, header.csum_offset)) [[unlikely]] {
        counters.offload_drops.add(1);
        return;
    }
    // After the checksum is whole: the clamp updates it incrementally.
    if (path.mss_clamp && clamp_tcp_mss(packet, path.mtu))
        counters.mss_clamped.add(1);
    const bool priority =
        (steered ? *steered : classify(packet, version == 4 ? net::protocol_ipv4 : net::protocol_ipv6)) ==
        TrafficClass::priority;
    if (priority)
        sends_->close_message();
    seal_outbound(path, packet.size(), version, dscp,
                  [&](std::span<std::uint8_t> out) { std::memcpy(out.data(), packet.data(), packet.size()); });
    if (priority)
        sends_->close_message();
    // A priority packet leaves now with the bulk sealed before it, not after
    // the rest of the batch's reads (up to pump_batch super-packets) are cut
    // and sealed; small packets among small ones keep sharing sends.
    if (!priority)
        bulk_queued_ = true;
    else if (bulk_queued_)
        send_outbound(path);
}

// Writes one inner packet (write_inner fills inner_bytes) into the send batch
// and seals it there, for an outer header with the inner DSCP:
//   [ESP header | IV][GRE (mode gre)][inner packet][padding, trailer, ICV]
template <class WriteInner>
void PumpWorker::seal_outbound(const TunnelPath& path, std::size_t inner_bytes, std::uint8_t version,
                               std::uint8_t dscp, WriteInner&& write_inner)
{
    OutboundSa& sa = *path.outbound;
    const bool gre_mode = path.mode == TunnelMode::gre;
    gre::Header gre_header;
    gre_header.protocol = version == 4 ? gre::ethertype_ipv4 : gre::ethertype_ipv6;
    const std::size_t gre_bytes = gre_mode ? gre::header_length(gre_header) : 0;
    const std::size_t front = sa.header_room();
    const std::size_t frame_bytes = gre_bytes + inner_bytes + sa.max_overhead();
    auto frame = sends_->prepare(frame_bytes);
    if (frame.empty()) [[unlikely]] {
        send_outbound(path);
        frame = sends_->prepare(frame_bytes);
    }
    write_inner(frame.subspan(front + gre_bytes, inner_bytes));
    std::uint8_t next_header = version == 4 ? net::protocol_ipv4 : net::protocol_ipv6;
    if (gre_mode) {
        gre::encap(frame.subspan(front, gre_bytes + inner_bytes), gre_header);
        next_header = net::protocol_gre;
    }
    const auto sealed = sa.seal(frame, gre_bytes + inner_bytes, next_header);
    if (!sealed) [[unlikely]] {
        path.counters->seal_drops.add(1);
        if (sealed.error() == EspError::sequence_exhausted && last_exhausted_spi_ != sa.spi()) {
            last_exhausted_spi_ = sa.spi();
            post({DataplaneEvent::Kind::sequence_exhausted, path.id, sa.spi(), {}, {}});
        }
        return;
    }
    sends_->commit(*sealed, dscp);
}

void PumpWorker::send_outbound(const TunnelPath& path)
{
    // ESP-in-UDP leaves by the worker's own member of the NAT-T group (the
    // same address and port as the tunnel's): no socket shared between workers.
    const int fd = path.udp_gso && udp_fd_ >= 0 ? udp_fd_ : path.udp_fd;
    const auto result = sends_->send(fd, path.peer, path.peer_length, send_wait_ms);
    bulk_queued_ = false;
    if (result.refused > 0) [[unlikely]]
        path.counters->send_errors.add(result.refused);
    if (result.gso_refused) [[unlikely]]
        udp_gso_ = false;
}

} // namespace mesh::tunnel
