#include "tunnel/gro_coalescer.hpp"

#include "gre/checksum.hpp"
#include "net/byte_order.hpp"
#include "net/headers.hpp"
#include "tunnel/virtio_net_header.hpp"

#include <sys/uio.h>

#include <cstring>

namespace mesh::tunnel {

namespace {
constexpr std::uint8_t tcp_psh = 0x08;
constexpr std::uint8_t tcp_ack = 0x10;
constexpr std::uint8_t ipv4_df = 0x40;

std::uint8_t tcp_flags(std::span<const std::uint8_t> packet, const TransportPacket& t) noexcept
{
    return packet[t.l4_offset + 13];
}

std::size_t payload_bytes(const TransportPacket& t) noexcept
{
    return t.size - t.l4_offset - t.l4_header;
}

bool same_flow(std::span<const std::uint8_t> a, const TransportPacket& a_transport, std::span<const std::uint8_t> b,
               const TransportPacket& t) noexcept
{
    // Protocol, addresses (IPv4 bytes 12-19, IPv6 8-39), then the two ports,
    // each behind its own IP header: a packet with IPv4 options is of the
    // flow too, and must find it to flush it first.
    const bool v4 = t.version == 4;
    return a_transport.version == t.version && a_transport.protocol == t.protocol &&
           std::memcmp(a.data() + (v4 ? 12 : 8), b.data() + (v4 ? 12 : 8), v4 ? 8 : 32) == 0 &&
           std::memcmp(a.data() + a_transport.l4_offset, b.data() + t.l4_offset, 4) == 0;
}

// Whether the stack would take the packet as it is: the IPv4 header and
// TCP/UDP checksums verify. A super-packet leaves with NEEDS_CSUM, which the
// kernel trusts, and ESP covers only the path between the gateways: a segment
// corrupted before the peer's gateway sealed it must reach the stack as it
// came, to be dropped there (the kernel's GRO validates before merging too).
bool checksums_verify(std::span<const std::uint8_t> packet, const TransportPacket& t) noexcept
{
    if (t.version == 4 && gre::ones_complement_sum(packet.first(t.l4_offset)) != 0xffff)
        return false;
    const auto l4 = packet.subspan(t.l4_offset, t.size - t.l4_offset);
    if (t.protocol == protocol_udp && net::load_be16(&l4[net::udp_checksum_offset]) == 0)
        return t.version == 4;   // none over IPv4 (RFC 768), refused over IPv6 (RFC 8200 section 8.1)
    return gre::ones_complement_sum(l4, pseudo_header_sum(packet, t, l4.size())) == 0xffff;
}

// Whether a packet may join a super-packet at all: no IP options, the IP
// length the packet's own (and the UDP length too: the stack would trim the
// rest, as udp_gro_receive refuses), payload present, checksums verified;
// TCP with only ACK or ACK|PSH.
bool candidate(std::span<const std::uint8_t> packet, const TransportPacket& t) noexcept
{
    if (t.size != packet.size() || t.l4_offset != (t.version == 4 ? net::ipv4_header_bytes : net::ipv6_header_bytes) ||
        payload_bytes(t) == 0)
        return false;
    if (t.protocol == protocol_udp)
        return net::load_be16(packet.data() + t.l4_offset + 4) == t.size - t.l4_offset && checksums_verify(packet, t);
    const std::uint8_t flags = tcp_flags(packet, t);
    return (flags & ~(tcp_ack | tcp_psh)) == 0 && (flags & tcp_ack) != 0 && checksums_verify(packet, t);
}

// What the super-packet's one IP header says for every segment: IPv4 TOS,
// TTL and DF; IPv6 traffic class, flow label and hop limit.
bool same_ip_fields(const std::uint8_t* a, const std::uint8_t* b, bool v4) noexcept
{
    if (v4)
        return a[1] == b[1] && a[8] == b[8] && (a[6] & ipv4_df) == (b[6] & ipv4_df);
    return std::memcmp(a, b, 4) == 0 && a[7] == b[7];
}
} // namespace

bool GroCoalescer::add(std::span<std::uint8_t> packet, int tun_fd, TunnelCounters& counters, bool may_hold) noexcept
{
    const auto t = parse_transport(packet);
    if (!t)
        return false;
    const auto matches = [&](std::size_t i) {
        return flows_[i].tun_fd == tun_fd && same_flow(flows_[i].head, flows_[i].transport, packet, *t);
    };
    Flow* flow = last_ < flow_count_ && matches(last_) ? &flows_[last_] : nullptr;
    for (std::size_t i = 0; i < flow_count_ && flow == nullptr; ++i)
        if (matches(i))
            flow = &flows_[i];
    if (flow != nullptr)
        last_ = static_cast<std::size_t>(flow - flows_.data());

    if (!candidate(packet, *t)) {
        if (flow != nullptr) {
            write(*flow);
            *flow = flows_[--flow_count_];
        }
        return false;
    }
    if (flow != nullptr) {
        if (!append(*flow, packet, *t)) {
            write(*flow);
            start(*flow, packet, *t, tun_fd, counters);
        }
        if (!may_hold) {
            write(*flow);
            *flow = flows_[--flow_count_];
        }
        return true;
    }
    if (!may_hold)
        return false;
    if (flow_count_ == max_flows)
        flush();
    last_ = flow_count_;
    start(flows_[flow_count_++], packet, *t, tun_fd, counters);
    return true;
}

void GroCoalescer::flush() noexcept
{
    for (std::size_t i = 0; i < flow_count_; ++i)
        write(flows_[i]);
    flow_count_ = 0;
}

void GroCoalescer::start(Flow& flow, std::span<std::uint8_t> packet, const TransportPacket& t, int tun_fd,
                         TunnelCounters& counters) noexcept
{
    flow.tun_fd = tun_fd;
    flow.counters = &counters;
    flow.head = packet;
    flow.transport = t;
    flow.segment = payload_bytes(t);
    flow.total = t.size;
    flow.count = 1;
    const bool tcp = t.protocol == protocol_tcp;
    flow.next_seq = tcp ? net::load_be32(packet.data() + t.l4_offset + 4) + static_cast<std::uint32_t>(flow.segment) : 0;
    flow.psh = tcp && (tcp_flags(packet, t) & tcp_psh) != 0;
    flow.closed = flow.psh;
    flow.iov[1] = {packet.data(), packet.size()};
}

bool GroCoalescer::append(Flow& flow, std::span<std::uint8_t> packet, const TransportPacket& t) noexcept
{
    const std::size_t payload = payload_bytes(t);
    if (flow.closed || flow.count == max_coalesced_segments || payload > flow.segment ||
        flow.total + payload > max_ip_packet || t.l4_header != flow.transport.l4_header)
        return false;
    const std::uint8_t* head = flow.head.data();
    const std::uint8_t* p = packet.data();
    if (!same_ip_fields(p, head, t.version == 4))
        return false;
    if (t.protocol == protocol_udp) {
        flow.iov[flow.count + 1] = {packet.data() + t.l4_offset + t.l4_header, payload};
        ++flow.count;
        flow.total += payload;
        flow.closed = payload < flow.segment;
        return true;
    }
    const std::uint8_t* head_tcp = head + t.l4_offset;
    const std::uint8_t* tcp = p + t.l4_offset;
    // Sequence number next in line; ack and data offset (bytes 8-12), window
    // (14-15) and every option byte as the first segment's.
    if (net::load_be32(tcp + 4) != flow.next_seq || std::memcmp(tcp + 8, head_tcp + 8, 5) != 0 ||
        std::memcmp(tcp + 14, head_tcp + 14, 2) != 0 ||
        std::memcmp(tcp + net::tcp_min_header_bytes, head_tcp + net::tcp_min_header_bytes, t.l4_header - net::tcp_min_header_bytes) != 0)
        return false;
    flow.iov[flow.count + 1] = {packet.data() + t.l4_offset + t.l4_header, payload};
    ++flow.count;
    flow.total += payload;
    flow.next_seq += static_cast<std::uint32_t>(payload);
    if ((tcp_flags(packet, t) & tcp_psh) != 0)
        flow.psh = true;
    flow.closed = flow.psh || payload < flow.segment;
    return true;
}

void GroCoalescer::write(Flow& flow) noexcept
{
    VirtioNetHeader header;
    if (flow.count > 1) {
        const TransportPacket& t = flow.transport;
        std::uint8_t* ip = flow.head.data();
        if (t.version == 4) {
            net::store_be16(ip + 2, static_cast<std::uint16_t>(flow.total));
            write_ipv4_checksum(flow.head.first(t.l4_offset));
        } else {
            net::store_be16(ip + 4, static_cast<std::uint16_t>(flow.total - net::ipv6_header_bytes));
        }
        std::uint8_t* l4 = ip + t.l4_offset;
        const std::size_t l4_bytes = flow.total - t.l4_offset;
        const bool tcp = t.protocol == protocol_tcp;
        if (tcp && flow.psh)
            l4[13] |= tcp_psh;
        if (!tcp)
            net::store_be16(l4 + 4, static_cast<std::uint16_t>(l4_bytes));   // as udp_gro_complete leaves it
        // CHECKSUM_PARTIAL as the kernel keeps it: the pseudo-header sum in
        // the field, the rest added by whoever needs the checksum.
        const std::size_t checksum_offset = tcp ? net::tcp_checksum_offset : net::udp_checksum_offset;
        net::store_be16(l4 + checksum_offset, pseudo_header_sum(flow.head, t, l4_bytes));
        header.flags = VirtioNetHeader::needs_csum;
        header.gso_type = !tcp ? VirtioNetHeader::gso_udp_l4
                          : t.version == 4 ? VirtioNetHeader::gso_tcpv4
                                           : VirtioNetHeader::gso_tcpv6;
        header.hdr_len = static_cast<std::uint16_t>(t.l4_offset + t.l4_header);
        header.gso_size = static_cast<std::uint16_t>(flow.segment);
        header.csum_start = static_cast<std::uint16_t>(t.l4_offset);
        header.csum_offset = static_cast<std::uint16_t>(checksum_offset);
        flow.counters->coalesced_packets.add(1);
        flow.counters->coalesced_segments.add(flow.count);
    }
    header.store(flow.vnet);
    flow.iov[0] = {flow.vnet.data(), flow.vnet.size()};
    if (::writev(flow.tun_fd, flow.iov.data(), static_cast<int>(flow.count + 1)) < 0) [[unlikely]]
        flow.counters->tun_write_errors.add(1);   // EIO while the interface is down
}

} // namespace mesh::tunnel
