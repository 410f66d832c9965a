// Inbound, one socket's batch at a time (RFC 3948 section 2.2 demultiplexing):
//   recvmmsg -> UDP GRO: several datagrams of gso_size in one read, split
//   each datagram:
//            -> a single 0xFF byte: NAT keepalive
//            -> four zero bytes (non-ESP marker): IKE, which the kernel steers to
//               the control thread's socket: here only behind ESP in a GRO read
//            -> otherwise ESP: SA by SPI -> open (anti-replay, ICV, padding)
//               -> classify (tunnel/traffic_class.hpp) -> GRE decap (mode gre)
//               -> TCP/UDP coalescing of bulk (TUN with a virtio-net header)
//                  or write(TUN) at once
//   -> the coalesced super-packets written at the batch's end
// A raw ESP socket skips the demultiplexing: its reads are IPv4 header + ESP.
// The worker reads its priority socket (small ESP, tunnel/spi_steering.hpp)
// before and between its other sockets' batches (PumpWorker::run), and
// within them every priority_check_bytes.

#include "gre/gre.hpp"
#include "net/byte_order.hpp"
#include "net/headers.hpp"
#include "tunnel/inner_packet.hpp"
#include "tunnel/mtu.hpp"
#include "tunnel/pump_worker.hpp"
#include "tunnel/traffic_class.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace mesh::tunnel {

namespace {
// How much of a bulk batch is opened between two reads of the priority
// socket: a TSO super-packet's worth, some 30 us of AES-GCM.
constexpr std::size_t priority_check_bytes = 64 * 1024;

// Until the control thread has moved the tunnel, every packet from the new
// mapping would report it again: once per interval is enough.
constexpr auto peer_moved_report_interval = std::chrono::milliseconds(100);

bool same_endpoint(const sockaddr_storage& a, socklen_t a_length, const sockaddr_storage& b, socklen_t b_length) noexcept
{
    if (a.ss_family != b.ss_family)
        return false;
    if (a.ss_family == AF_INET) {
        const auto& x = reinterpret_cast<const sockaddr_in&>(a);
        const auto& y = reinterpret_cast<const sockaddr_in&>(b);
        return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
    }
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return a_length == b_length && x.sin6_port == y.sin6_port &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
}

// UDP GRO's gso_size from a read's control messages: its datagrams are that
// long, the last one possibly shorter; 0 when the read is one datagram.
std::size_t gro_segment(msghdr& header) noexcept
{
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&header); cmsg != nullptr; cmsg = CMSG_NXTHDR(&header, cmsg)) {
        if (cmsg->cmsg_level == SOL_UDP && cmsg->cmsg_type == UDP_GRO && cmsg->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int size = 0;
            std::memcpy(&size, CMSG_DATA(cmsg), sizeof size);
            return size > 0 ? static_cast<std::size_t>(size) : 0;
        }
    }
    return 0;
}
} // namespace

template <class Room>
int PumpWorker::receive(int fd, ReadHeaders& reads, Room&& room) noexcept
{
    for (std::size_t i = 0; i < pump_batch; ++i) {
        const std::span<std::uint8_t> bytes = room(i);
        reads.iov[i] = {bytes.data(), bytes.size()};
        reads.messages[i].msg_hdr = {};
        reads.messages[i].msg_hdr.msg_name = &reads.names[i];
        reads.messages[i].msg_hdr.msg_namelen = sizeof reads.names[i];
        reads.messages[i].msg_hdr.msg_iov = &reads.iov[i];
        reads.messages[i].msg_hdr.msg_iovlen = 1;
        reads.messages[i].msg_hdr.msg_control = reads.controls[i].data();
        reads.messages[i].msg_hdr.msg_controllen = reads.controls[i].size();
    }
    return ::recvmmsg(fd, reads.messages.data(), pump_batch, MSG_DONTWAIT, nullptr);
}

std::size_t PumpWorker::inbound_batch(const Snapshot& snapshot, int fd, bool raw_esp)
{
    Batch& batch = *batch_;
    const int received = receive(fd, batch, [&](std::size_t i) {
        batch.buffers[i].reset();
        return batch.buffers[i].writable();
    });
    if (received < 0) {
        if (errno != EAGAIN && errno != EINTR)
            counters_.receive_errors.add(1);
        return 0;
    }
    std::size_t since_priority = 0;
    for (int i = 0; i < received; ++i) {
        PacketBuffer& packet = batch.buffers[i];
        packet.set_size(batch.messages[i].msg_len);
        if (!raw_esp) {
            handle_read(snapshot, packet.data(), batch.messages[i].msg_hdr, batch.names[i], EspSource::udp_socket);
            // A read may be a 64 KiB GRO super-packet, a batch 64 of them: small
            // ESP that arrives meanwhile waits for one check's worth, not the batch.
            since_priority += packet.size();
            if (since_priority >= priority_check_bytes) {
                since_priority = 0;
                priority_batch(snapshot);
            }
            continue;
        }
        // IPv4 raw sockets deliver the IP header too (IPv6 ones do not).
        if (batch.names[i].ss_family == AF_INET) {
            const std::size_t header = packet.size() > 0 ? (packet.data()[0] & 0x0fu) * 4u : 0;
            if (header < 20 || header > packet.size()) [[unlikely]] {
                counters_.runt_drops.add(1);
                continue;
            }
            packet.pull_front(header);
        }
        handle_esp(snapshot, packet.data(), batch.names[i], batch.messages[i].msg_hdr.msg_namelen,
                   EspSource::raw_socket);
    }
    // The super-packets point into this batch's buffers: out before they are reused.
    coalescer_.flush();
    return static_cast<std::size_t>(received);
}

std::size_t PumpWorker::priority_batch(const Snapshot& snapshot)
{
    if (priority_fd_ < 0)
        return 0;
    PriorityBatch& batch = *priority_batch_;
    const int received = receive(priority_fd_, batch, [&](std::size_t i) { return std::span(batch.buffers[i]); });
    if (received < 0) {
        if (errno != EAGAIN && errno != EINTR)
            counters_.receive_errors.add(1);
        return 0;
    }
    for (int i = 0; i < received; ++i)
        handle_read(snapshot, std::span(batch.buffers[i]).first(batch.messages[i].msg_len), batch.messages[i].msg_hdr,
                    batch.names[i], EspSource::priority_socket);
    return static_cast<std::size_t>(received);
}

void PumpWorker::handle_read(const Snapshot& snapshot, std::span<std::uint8_t> bytes, msghdr& header,
                             const sockaddr_storage& from, EspSource source)
{
    const socklen_t from_length = header.msg_namelen;
    const std::size_t segment = gro_segment(header);
    const std::size_t datagrams = segment == 0 || segment >= bytes.size() ? 1 : (bytes.size() + segment - 1) / segment;
    if (source == EspSource::priority_socket)
        counters_.priority_datagrams.add(datagrams);
    if (datagrams == 1) {
        handle_datagram(snapshot, bytes, from, from_length, source);
        return;
    }
    counters_.gro_datagrams.add(1);
    for (std::size_t offset = 0; offset < bytes.size(); offset += segment)
        handle_datagram(snapshot, bytes.subspan(offset, std::min(segment, bytes.size() - offset)), from, from_length,
                        source);
}

void PumpWorker::handle_datagram(const Snapshot& snapshot, std::span<std::uint8_t> bytes,
                                 const sockaddr_storage& from, socklen_t from_length, EspSource source)
{
    if (bytes.size() == 1 && bytes[0] == 0xff) {
        counters_.keepalives.add(1);
        return;
    }
    if (bytes.size() >= 4 && net::load_be32(bytes.data()) == 0) [[unlikely]] {
        counters_.ike_misrouted_drops.add(1);   // the peer retransmits it
        return;
    }
    handle_esp(snapshot, bytes, from, from_length, source);
}

void PumpWorker::handle_esp(const Snapshot& snapshot, std::span<std::uint8_t> bytes, const sockaddr_storage& from,
                            socklen_t from_length, EspSource source)
{
    if (bytes.size() < esp_header_bytes) [[unlikely]] {
        counters_.runt_drops.add(1);
        return;
    }
    const std::uint32_t spi = net::load_be32(bytes.data());
    const InboundEntry* entry = snapshot.inbound(spi);
    // A worker keeps the snapshot of its wake-up for the whole round, which
    // under load lasts milliseconds. An SA installed meanwhile is in the
    // current one: a rekey's new inbound SA, which the peer uses as soon as
    // our Delete of the old one reaches it, a round trip after the install.
    // Not a reclamation hazard: a newer snapshot is retired, if ever, at a
    // later epoch than the one this reader reported.
    if (entry == nullptr) [[unlikely]] {
        if (const Snapshot* current = table_.snapshot(); current != &snapshot)
            entry = current->inbound(spi);
    }
    if (entry == nullptr) [[unlikely]] {
        counters_.unknown_spi_drops.add(1);
        if (const auto report = unknown_spi_reports_.admit(std::chrono::steady_clock::now())) {
            const auto sender = net::Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&from), from_length);
            post({DataplaneEvent::Kind::unknown_spi, 0, spi, sender.value_or(net::Endpoint{}), *report});
        }
        return;
    }
    if (!entry->sa->claim()) [[unlikely]] {
        counters_.claim_drops.add(1);
        return;
    }
    const auto opened = entry->sa->open(bytes);
    entry->sa->unclaim();
    if (!opened) [[unlikely]]
        return;   // counted by the SA
    auto packet = bytes.subspan(opened->payload_offset, opened->payload_bytes);
    const std::uint8_t next_header = opened->next_header;
    // What the priority socket brought is written now, whatever it carries:
    // its buffers are read again before the coalescer's batch ends.
    const TrafficClass traffic_class =
        source == EspSource::priority_socket ? TrafficClass::priority : classify(packet, next_header);

    const TunnelPath& path = *entry->tunnel;
    TunnelCounters& counters = *path.counters;
    // Authenticated and not a replay, so from the peer itself: follow it when
    // its NAT gave it another mapping, or our ESP goes where nobody listens.
    if (source != EspSource::raw_socket && !same_endpoint(from, from_length, path.peer, path.peer_length)) [[unlikely]] {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_peer_moved_report_ >= peer_moved_report_interval) {
            last_peer_moved_report_ = now;
            const auto sender = net::Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&from), from_length);
            if (sender)
                post({DataplaneEvent::Kind::peer_moved, path.id, entry->sa->spi(), *sender, {}});
        }
    }
    if (path.mode == TunnelMode::gre) {
        if (next_header != net::protocol_gre) [[unlikely]] {
            counters.inner_drops.add(1);
            return;
        }
        const auto decapsulated = gre::decap(packet);
        if (!decapsulated) [[unlikely]] {
            counters.gre_drops.add(1);
            return;
        }
        const auto protocol = decapsulated->header.protocol;
        packet = packet.subspan(decapsulated->payload_offset);
        const bool matches = !packet.empty() && ((protocol == gre::ethertype_ipv4 && packet[0] >> 4 == 4) ||
                                                 (protocol == gre::ethertype_ipv6 && packet[0] >> 4 == 6));
        if (!matches) [[unlikely]] {
            counters.gre_drops.add(1);
            return;
        }
    } else {
        const bool matches = !packet.empty() && ((next_header == net::protocol_ipv4 && packet[0] >> 4 == 4) ||
                                                 (next_header == net::protocol_ipv6 && packet[0] >> 4 == 6));
        if (!matches) [[unlikely]] {
            counters.inner_drops.add(1);   // includes next header 59, the dummy packets of RFC 4303 section 2.6
            return;
        }
    }
    deliver(path, packet, traffic_class);
}

void PumpWorker::deliver(const TunnelPath& path, std::span<std::uint8_t> packet, TrafficClass traffic_class)
{
    // A priority packet (a small UDP datagram: BFD, voice) is written now,
    // not held for coalescing until the batch's end.
    if (path.vnet_hdr && coalescer_.add(packet, path.tun_fd, *path.counters, traffic_class == TrafficClass::bulk))
        return;
    // A plain packet: a virtio-net header that asks nothing, if the TUN wants one.
    static constexpr std::array<std::uint8_t, VirtioNetHeader::size> plain{};
    std::array<iovec, 2> iov{{{const_cast<std::uint8_t*>(plain.data()), plain.size()}, {packet.data(), packet.size()}}};
    const int first = path.vnet_hdr ? 0 : 1;
    if (::writev(path.tun_fd, iov.data() + first, 2 - first) < 0) [[unlikely]]
        path.counters->tun_write_errors.add(1);   // EIO while the interface is down
}

} // namespace mesh::tunnel
