// Outbound, one TUN's batch at a time:
//   read(TUN) into a buffer with headroom -> MSS clamp of SYNs
//   -> GRE encap in front (mode gre) -> ESP seal in place -> sendmmsg(UDP)

#include "gre/gre.hpp"
#include "tunnel/mss_clamp.hpp"
#include "tunnel/packet_pump.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace mesh::tunnel {

namespace {
constexpr std::uint8_t next_header_ipv4 = 4;
constexpr std::uint8_t next_header_ipv6 = 41;
constexpr std::uint8_t next_header_gre = 47;
// Room kept behind a read for the ESP trailer and ICV (padding <= 255, pad length, next header, ICV <= 32).
constexpr std::size_t esp_tailroom = 255 + 2 + 32;
constexpr std::size_t max_ip_packet = 65535;
// How long a full socket buffer may hold the outbound thread before the rest of a batch is dropped.
constexpr int send_wait_ms = 20;
} // namespace

void PacketPump::outbound_batch(const TunnelPath& path)
{
    Batch& batch = *outbound_batch_;
    std::size_t count = 0;
    while (count < pump_batch) {
        PacketBuffer& packet = batch.buffers[count];
        packet.reset();
        const auto room = packet.writable();
        const auto length = ::read(path.tun_fd, room.data(), std::min(room.size() - esp_tailroom, max_ip_packet));
        if (length <= 0)
            break;
        packet.set_size(static_cast<std::size_t>(length));
        if (prepare_outbound(path, packet)) [[likely]] {
            batch.iov[count] = {packet.data().data(), packet.size()};
            batch.messages[count].msg_hdr = {};
            batch.messages[count].msg_hdr.msg_name = const_cast<sockaddr_storage*>(&path.peer);
            batch.messages[count].msg_hdr.msg_namelen = path.peer_length;
            batch.messages[count].msg_hdr.msg_iov = &batch.iov[count];
            batch.messages[count].msg_hdr.msg_iovlen = 1;
            ++count;
        }
    }
    if (count > 0)
        send_batch(path, count);
}

bool PacketPump::prepare_outbound(const TunnelPath& path, PacketBuffer& packet)
{
    TunnelCounters& counters = *path.counters;
    if (path.outbound == nullptr) [[unlikely]] {
        counters.no_sa_drops.add(1);
        return false;
    }
    const auto version = packet.data()[0] >> 4;
    if (version != 4 && version != 6) [[unlikely]] {
        counters.not_ip_drops.add(1);
        return false;
    }
    if (path.mss_clamp && clamp_tcp_mss(packet.data(), path.mtu))
        counters.mss_clamped.add(1);

    std::uint8_t next_header = version == 4 ? next_header_ipv4 : next_header_ipv6;
    if (path.mode == TunnelMode::gre) {
        gre::Header header;
        header.protocol = version == 4 ? gre::ethertype_ipv4 : gre::ethertype_ipv6;
        packet.push_front(gre::header_length(header));
        gre::encap(packet.data(), header);
        next_header = next_header_gre;
    }
    if (const auto sealed = path.outbound->seal(packet, next_header); !sealed) [[unlikely]] {
        counters.seal_drops.add(1);
        if (sealed.error() == EspError::sequence_exhausted && last_exhausted_spi_ != path.outbound->spi()) {
            last_exhausted_spi_ = path.outbound->spi();
            post(outbound_events_, {DataplaneEvent::Kind::sequence_exhausted, path.id, path.outbound->spi(), {}});
        }
        return false;
    }
    return true;
}

void PacketPump::send_batch(const TunnelPath& path, std::size_t count)
{
    Batch& batch = *outbound_batch_;
    std::size_t sent = 0;
    while (sent < count) {
        const int result = ::sendmmsg(path.udp_fd, &batch.messages[sent], static_cast<unsigned>(count - sent), 0);
        if (result > 0) [[likely]] {
            sent += static_cast<std::size_t>(result);
            continue;
        }
        if (errno == EAGAIN || errno == ENOBUFS) {
            // Back-pressure instead of loss: wait for the socket buffer to drain.
            pollfd writable{path.udp_fd, POLLOUT, 0};
            if (::poll(&writable, 1, send_wait_ms) > 0)
                continue;
            path.counters->send_errors.add(count - sent);
            return;
        }
        // This datagram is refused (unreachable, too big): count it, send the rest.
        path.counters->send_errors.add(1);
        ++sent;
    }
}

} // namespace mesh::tunnel
