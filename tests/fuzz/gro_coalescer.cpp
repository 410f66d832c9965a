// libFuzzer target: a sequence of inner packets into the GRO coalescer, as the
// worker gives it the packets of its receive batches, and what reaches
// the TUNs compared with what a receiving stack would have taken from the
// packets had they been written one by one.
//
//   input    = record*
//   record   = selector || body
//   selector   bit 0: the packet is for the second TUN
//              bit 1: flush after it (the end of a receive batch)
//              bit 2: repair it: IP length, UDP length, IPv4 header and
//                     TCP/UDP checksums rewritten to fit its bytes
//              bit 3: continue the previous packet: body = payload length
//                     (2 bytes, big-endian); the packet is the previous one's
//                     headers (TCP seq after its payload, IPv4 ID + 1) with a
//                     new payload of that length, repaired
//              else  body = length (2 bytes, big-endian) || packet bytes
//
// Two datagram socketpairs stand in for the TUNs: each writev arrives whole.
// The receiving stack's view of a packet: nothing when the kernel would drop
// it (bad IPv4 header checksum, bad TCP/UDP checksum by the naive sum of
// tests/tunnel/inner_packets.hpp, a UDP length that does not fit, a zero
// UDP/IPv6 checksum), else its headers and the payload it delivers. A
// super-packet (virtio-net header with GSO) is first checked (flags, gso_type,
// hdr_len, csum_start/offset, lengths, the pseudo-header sum in the checksum
// field, at most 65535 bytes and max_coalesced_segments segments), then cut
// at gso_size as the kernel's GSO would. Per TUN and flow, the views of what
// came out must be exactly the views of what went in, in the same order; per
// TUN, packets that are no TCP/UDP come out unchanged, in order. The
// coalesced-packets and coalesced-segments counters count what came out.
// __builtin_trap() on any difference.

#include "net/byte_order.hpp"
#include "net/file_descriptor.hpp"
#include "tests/tunnel/inner_packets.hpp"
#include "tunnel/gro_coalescer.hpp"
#include "tunnel/offload_limits.hpp"
#include "tunnel/virtio_net_header.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

namespace {

using namespace mesh::tunnel;
namespace net = mesh::net;
using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t tuns = 2;
constexpr std::size_t max_packets = 512;
constexpr std::uint8_t tcp_psh = 0x08;
constexpr std::uint8_t tcp_urg = 0x20;

void require(bool invariant)
{
    if (!invariant)
        __builtin_trap();
}

// What reached (or would reach) the receiving stack, per TUN: each flow's
// packets as views, and the packets that are no TCP/UDP as they are.
struct Received {
    std::map<Bytes, std::vector<Bytes>> flows;
    std::array<std::vector<Bytes>, tuns> others;
    std::uint64_t super_packets = 0;
    std::uint64_t merged = 0;   // packets in them
    [[nodiscard]] bool same_packets(const Received& other) const
    {
        return flows == other.flows && others == other.others;
    }
};

// The reference sums, not traced for coverage: the comparisons of their
// byte-by-byte loops tell the fuzzer nothing and took 60% of its time.
[[gnu::noinline, gnu::flatten, clang::no_sanitize("coverage")]] bool ipv4_ok(std::span<const std::uint8_t> p)
{
    return mesh::test::ipv4_checksum_ok(p);
}
[[gnu::noinline, gnu::flatten, clang::no_sanitize("coverage")]] bool transport_ok(std::span<const std::uint8_t> p)
{
    return mesh::test::transport_checksum_ok(p);
}
[[gnu::noinline, gnu::flatten, clang::no_sanitize("coverage")]] std::uint16_t sum_of(std::span<const std::uint8_t> bytes)
{
    return mesh::test::naive_sum(bytes);
}

std::size_t transport_checksum_offset(std::uint8_t protocol)
{
    return protocol == protocol_tcp ? 16 : 6;
}

// The view of one packet the stack takes as it is: its headers with the
// fields that differ between equivalent packets (IPv4 ID, checksums, the
// urgent pointer without URG) zeroed, and the payload it delivers.
// checksums: whether they must verify (false for the segments the kernel
// cuts from a super-packet: it computes them).
void receive(Received& received, std::size_t tun, std::span<const std::uint8_t> packet, bool checksums)
{
    const auto t = parse_transport(packet);
    if (!t) {
        received.others[tun].emplace_back(packet.begin(), packet.end());
        return;
    }
    Bytes p(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(t->size));   // the IP length rules
    const bool v4 = t->version == 4;
    if (v4 && checksums && !ipv4_ok(p))
        return;
    std::uint8_t* l4 = p.data() + t->l4_offset;
    if (t->protocol == protocol_udp) {
        const std::size_t udp_length = net::load_be16(l4 + 4);
        if (udp_length < 8 || udp_length > p.size() - t->l4_offset)
            return;
        p.resize(t->l4_offset + udp_length);   // the UDP length rules (RFC 768)
        l4 = p.data() + t->l4_offset;
        if (v4)
            net::store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
        else
            net::store_be16(&p[4], static_cast<std::uint16_t>(p.size() - t->l4_offset));
        if (checksums && net::load_be16(l4 + 6) == 0) {
            if (!v4)
                return;   // RFC 8200 section 8.1: a zero UDP checksum over IPv6 is dropped
        } else if (checksums && !transport_ok(p)) {
            return;
        }
    } else if (checksums && !transport_ok(p)) {
        return;
    }
    if (v4) {
        net::store_be16(&p[4], 0);
        net::store_be16(&p[10], 0);
    }
    net::store_be16(l4 + transport_checksum_offset(t->protocol), 0);
    if (t->protocol == protocol_tcp && (l4[13] & tcp_urg) == 0)
        net::store_be16(l4 + 18, 0);   // read only with URG set (RFC 9293 section 3.1)

    Bytes flow{static_cast<std::uint8_t>(tun), t->version, t->protocol};
    const std::size_t addresses = v4 ? 12 : 8;   // the addresses only: IPv4 options do not make another flow
    flow.insert(flow.end(), p.begin() + static_cast<std::ptrdiff_t>(addresses),
                p.begin() + static_cast<std::ptrdiff_t>(addresses + (v4 ? 8 : 32)));
    flow.insert(flow.end(), l4, l4 + 4);
    received.flows[flow].push_back(std::move(p));
}

// A write to the TUN: virtio-net header and packet.
void receive_written(Received& received, std::size_t tun, std::span<const std::uint8_t> written)
{
    require(written.size() >= VirtioNetHeader::size && written.size() - VirtioNetHeader::size <= max_ip_packet);
    const auto header = VirtioNetHeader::load(written.first<VirtioNetHeader::size>());
    const auto packet = written.subspan(VirtioNetHeader::size);
    if (header.gso_type == VirtioNetHeader::gso_none) {
        require(header.flags == 0 && header.gso_size == 0);
        receive(received, tun, packet, true);
        return;
    }
    const auto t = parse_transport(packet);
    require(t && t->size == packet.size());
    const bool v4 = t->version == 4;
    const bool tcp = t->protocol == protocol_tcp;
    const std::uint8_t gso_type = !tcp ? VirtioNetHeader::gso_udp_l4
                                  : v4 ? VirtioNetHeader::gso_tcpv4
                                       : VirtioNetHeader::gso_tcpv6;
    const std::size_t headers = t->l4_offset + t->l4_header;
    require(header.flags == VirtioNetHeader::needs_csum && header.gso_type == gso_type &&
            header.hdr_len == headers && header.csum_start == t->l4_offset &&
            header.csum_offset == transport_checksum_offset(t->protocol) && header.gso_size != 0);
    const std::size_t payload = packet.size() - headers;
    const std::size_t count = (payload + header.gso_size - 1) / header.gso_size;
    require(count > 1 && count <= max_coalesced_segments);
    ++received.super_packets;
    received.merged += count;
    if (v4)
        require(ipv4_ok(packet));
    if (!tcp)
        require(net::load_be16(packet.data() + t->l4_offset + 4) == packet.size() - t->l4_offset);

    // NEEDS_CSUM: completed over the whole, the checksum must verify.
    Bytes whole(packet.begin(), packet.end());
    const auto sum = sum_of(std::span(whole).subspan(t->l4_offset));
    net::store_be16(&whole[header.csum_start + header.csum_offset], static_cast<std::uint16_t>(~sum));
    require(transport_ok(whole));

    // The kernel's GSO: headers repeated, lengths and sequence numbers of each
    // piece, PSH on the last one only.
    const bool psh = tcp && (packet[t->l4_offset + 13] & tcp_psh) != 0;
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t offset = i * header.gso_size;
        const std::size_t piece = std::min<std::size_t>(header.gso_size, payload - offset);
        Bytes segment(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(headers));
        segment.insert(segment.end(), packet.begin() + static_cast<std::ptrdiff_t>(headers + offset),
                       packet.begin() + static_cast<std::ptrdiff_t>(headers + offset + piece));
        std::uint8_t* l4 = segment.data() + t->l4_offset;
        if (v4)
            net::store_be16(&segment[2], static_cast<std::uint16_t>(segment.size()));
        else
            net::store_be16(&segment[4], static_cast<std::uint16_t>(segment.size() - t->l4_offset));
        if (tcp) {
            net::store_be32(l4 + 4, net::load_be32(l4 + 4) + static_cast<std::uint32_t>(offset));
            if (psh && i + 1 < count)
                l4[13] &= static_cast<std::uint8_t>(~tcp_psh);
        } else {
            net::store_be16(l4 + 4, static_cast<std::uint16_t>(segment.size() - t->l4_offset));
        }
        receive(received, tun, segment, false);
    }
}

// IP and UDP lengths and checksums made to fit the packet's bytes.
void repair(std::span<std::uint8_t> p)
{
    if (p.empty() || p.size() > max_ip_packet)
        return;
    if (p[0] >> 4 == 4 && p.size() >= 20 && std::size_t{p[0] & 0x0fu} * 4 <= p.size())
        net::store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
    else if (p[0] >> 4 == 6 && p.size() >= 40)
        net::store_be16(&p[4], static_cast<std::uint16_t>(p.size() - 40));
    const auto t = parse_transport(p);
    if (!t)
        return;
    const std::size_t l4_bytes = t->size - t->l4_offset;
    if (t->protocol == protocol_udp)
        net::store_be16(&p[t->l4_offset + 4], static_cast<std::uint16_t>(l4_bytes));
    write_transport_checksum(p.first(t->size), *t, l4_bytes);
    if (t->version == 4)
        write_ipv4_checksum(p.first(t->l4_offset));
}

struct FakeTun {
    net::FileDescriptor tun, app;
};

struct Harness {
    Harness()
    {
        for (auto& fake : tun) {
            std::array<int, 2> fds{};
            if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, fds.data()) != 0)
                __builtin_trap();
            fake.tun = net::FileDescriptor(fds[0]);
            fake.app = net::FileDescriptor(fds[1]);
            // Room for a flush of every flow's 64 KiB at once; without the
            // privilege to force it, packets are kept small enough to fit.
            int buffer = 8 << 20;
            if (::setsockopt(fake.tun.get(), SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer) != 0) {
                ::setsockopt(fake.tun.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
                max_packet = 8192;
            }
        }
    }
    std::array<FakeTun, tuns> tun;
    std::size_t max_packet = max_ip_packet;
    std::array<std::uint8_t, 2 << 20> arena{};   // the receive buffers, untouched until the flush
    std::array<std::uint8_t, max_ip_packet + VirtioNetHeader::size + 1> read_buffer{};
};

void drain(Harness& h, Received& received)
{
    for (std::size_t i = 0; i < tuns; ++i) {
        for (;;) {
            const auto n = ::recv(h.tun[i].app.get(), h.read_buffer.data(), h.read_buffer.size(), MSG_TRUNC);
            if (n < 0)
                break;
            require(static_cast<std::size_t>(n) < h.read_buffer.size());
            receive_written(received, i, std::span(h.read_buffer).first(static_cast<std::size_t>(n)));
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const auto h = std::make_unique<Harness>();
    static const auto coalescer = std::make_unique<GroCoalescer>();
    TunnelCounters counters;
    Received sent, received;

    std::size_t used = 0;
    Bytes previous;   // as it was added: a write rewrites the first packet of a super-packet
    std::uint8_t fill = 0;
    std::span<const std::uint8_t> in(data, size);
    for (std::size_t packets = 0; packets < max_packets && in.size() >= 3; ++packets) {
        const std::uint8_t selector = in[0];
        const std::size_t length = net::load_be16(&in[1]);
        in = in.subspan(3);
        std::span<std::uint8_t> packet;
        if ((selector & 0x08) != 0) {
            const auto t = parse_transport(previous);
            if (!t)
                continue;
            const std::size_t headers = t->l4_offset + t->l4_header;
            const std::size_t bytes = std::min(headers + length, h->max_packet);
            if (used + bytes > h->arena.size())
                break;
            packet = std::span(h->arena).subspan(used, bytes);
            std::memcpy(packet.data(), previous.data(), headers);
            for (std::size_t i = headers; i < bytes; ++i)
                packet[i] = fill++;
            if (t->protocol == protocol_tcp)
                net::store_be32(&packet[t->l4_offset + 4], net::load_be32(&previous[t->l4_offset + 4]) +
                                                          static_cast<std::uint32_t>(t->size - headers));
            if (t->version == 4)
                net::store_be16(&packet[4], static_cast<std::uint16_t>(net::load_be16(&previous[4]) + 1));
            repair(packet);
        } else {
            const std::size_t bytes = std::min({length, in.size(), h->max_packet});
            if (used + bytes > h->arena.size())
                break;
            packet = std::span(h->arena).subspan(used, bytes);
            std::memcpy(packet.data(), in.data(), bytes);
            in = in.subspan(bytes);
            if ((selector & 0x04) != 0)
                repair(packet);
        }
        used += packet.size();
        previous.assign(packet.begin(), packet.end());

        const std::size_t tun = selector & 0x01;
        receive(sent, tun, packet, true);
        if (!coalescer->add(packet, h->tun[tun].tun.get(), counters)) {
            static constexpr std::array<std::uint8_t, VirtioNetHeader::size> plain{};
            std::array<iovec, 2> iov{{{const_cast<std::uint8_t*>(plain.data()), plain.size()},
                                      {packet.data(), packet.size()}}};
            require(::writev(h->tun[tun].tun.get(), iov.data(), 2) >= 0);
        }
        if ((selector & 0x02) != 0)
            coalescer->flush();
        drain(*h, received);
    }
    coalescer->flush();
    drain(*h, received);
    require(counters.tun_write_errors.get() == 0);
    require(received.same_packets(sent));
    require(counters.coalesced_packets.get() == received.super_packets &&
            counters.coalesced_segments.get() == received.merged);
    return 0;
}
