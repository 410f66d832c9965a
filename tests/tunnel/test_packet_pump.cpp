// Two whole data planes in one process, joined over loopback UDP, each with a
// datagram socketpair standing in for its TUN (one packet per read and write,
// like IFF_TUN | IFF_NO_PI, with or without IFF_VNET_HDR's header in front):
// real packets through the real pump, offloads included, no root.

#include "gre/gre.hpp"
#include "net/byte_order.hpp"
#include "net/headers.hpp"
#include "tests/tunnel/inner_packets.hpp"
#include "tests/tunnel/realtime_allowed.hpp"
#include "tunnel/packet_pump.hpp"
#include "tunnel/spi_steering.hpp"
#include "tunnel/udp_socket.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

using namespace mesh::tunnel;
namespace net = mesh::net;
namespace gre = mesh::gre;

namespace {

Botan::secure_vector<std::uint8_t> key_of(std::uint8_t seed, std::size_t n)
{
    Botan::secure_vector<std::uint8_t> key(n);
    for (std::size_t i = 0; i < n; ++i)
        key[i] = static_cast<std::uint8_t>(seed + i);
    return key;
}

SaParams params(std::uint32_t spi, std::uint8_t seed)
{
    SaParams p;
    p.spi = spi;
    p.cipher = EspCipher::aes128_gcm;
    p.cipher_key = key_of(seed, info(p.cipher).key_bytes);
    return p;
}

// An IPv4 ICMP-like packet of the given size with a recognisable payload.
std::vector<std::uint8_t> ipv4_packet(std::size_t size, std::uint8_t fill)
{
    std::vector<std::uint8_t> p(size, fill);
    p[0] = 0x45;
    p[2] = static_cast<std::uint8_t>(size >> 8);
    p[3] = static_cast<std::uint8_t>(size);
    p[9] = 1;
    return p;
}

// A datagram socketpair standing in for a TUN queue: the pump's side and
// the application's, with room for 64 KiB super-packets queued both ways.
std::pair<net::FileDescriptor, net::FileDescriptor> tun_pair()
{
    std::array<int, 2> fds{};
    REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds.data()) == 0);
    int buffer = 4 << 20;
    for (const int fd : fds) {
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    }
    return {net::FileDescriptor(fds[0]), net::FileDescriptor(fds[1])};
}

struct Site {
    explicit Site(TunnelMode tunnel_mode, bool with_vnet_hdr = false) : mode(tunnel_mode), vnet_hdr(with_vnet_hdr)
    {
        std::tie(tun_side, app_side) = tun_pair();
    }
    // A second socketpair as the TUN's priority queue (tunnel/tun_steering.hpp);
    // before connect().
    void add_priority_queue() { std::tie(tun_priority_side, app_priority_side) = tun_pair(); }
    void connect(const Site& peer, std::uint32_t spi_out, std::uint32_t spi_in, std::uint8_t key_out, std::uint8_t key_in)
    {
        SaTable::TunnelSettings settings;
        settings.tun_fd = tun_side.get();
        settings.tun_priority_fd = tun_priority_side ? tun_priority_side.get() : -1;
        settings.udp_fd = socket.fd();
        settings.mode = mode;
        settings.vnet_hdr = vnet_hdr;
        settings.peer = peer.socket.local();
        table.add_tunnel(1, settings);
        table.install(1,
                      {std::make_shared<InboundSa>(params(spi_in, key_in)),
                       std::make_shared<OutboundSa>(params(spi_out, key_out)), {}},
                      true);
        pump.watch_udp(0, socket.fd());
        pump.watch_tun(1, tun_side.get(), settings.tun_priority_fd);
        CHECK(!pump.start(priority));
    }
    std::optional<std::vector<std::uint8_t>> receive(int timeout_ms = 2000)
    {
        pollfd p{app_side.get(), POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0)
            return std::nullopt;
        std::vector<std::uint8_t> packet(70000);
        const auto n = ::recv(app_side.get(), packet.data(), packet.size(), 0);
        if (n < 0)
            return std::nullopt;
        packet.resize(static_cast<std::size_t>(n));
        return packet;
    }
    void send(const std::vector<std::uint8_t>& packet) { REQUIRE(::send(app_side.get(), packet.data(), packet.size(), 0) > 0); }
    // With IFF_VNET_HDR: what the kernel would hand the TUN reader.
    void send(const VirtioNetHeader& header, const std::vector<std::uint8_t>& packet)
    {
        std::vector<std::uint8_t> bytes(VirtioNetHeader::size);
        header.store(std::span<std::uint8_t, VirtioNetHeader::size>(bytes.data(), VirtioNetHeader::size));
        bytes.insert(bytes.end(), packet.begin(), packet.end());
        send(bytes);
    }
    std::optional<std::pair<VirtioNetHeader, std::vector<std::uint8_t>>> receive_with_header(int timeout_ms = 2000)
    {
        auto bytes = receive(timeout_ms);
        if (!bytes || bytes->size() < VirtioNetHeader::size)
            return std::nullopt;
        const auto header = VirtioNetHeader::load(std::span<const std::uint8_t, VirtioNetHeader::size>(bytes->data(), VirtioNetHeader::size));
        bytes->erase(bytes->begin(), bytes->begin() + VirtioNetHeader::size);
        return std::pair{header, std::move(*bytes)};
    }
    TunnelCounters& counters() { return *table.tunnels().at(1).counters; }

    TunnelMode mode;
    bool vnet_hdr;
    WorkerPriority priority = WorkerPriority::normal;
    net::FileDescriptor tun_side, app_side;
    net::FileDescriptor tun_priority_side, app_priority_side;   // none unless add_priority_queue()
    UdpSocket socket{net::Endpoint{*net::IpAddress::parse("127.0.0.1"), 0}};
    SaTable table;
    PacketPump pump{table};
};

// Raw datagrams to a site's UDP socket from a loopback socket of its own.
struct RawSender {
    explicit RawSender(const Site& site) : to(site.socket.local().to_sockaddr(length)) {}
    bool send(std::span<const std::uint8_t> bytes) const
    {
        return ::sendto(socket.fd(), bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), length) >= 0;
    }
    UdpSocket socket{net::Endpoint{*net::IpAddress::parse("127.0.0.1"), 0}};
    socklen_t length = 0;
    sockaddr_storage to;
};

// A site with several workers on the NAT-T port's steered group
// (tunnel/spi_steering.hpp), as the daemon runs them, and a socketpair TUN
// per tunnel. Tunnel t's inbound SPI is spi_in(t), its outbound spi_out(t).
struct MultiSite {
    MultiSite(std::size_t workers, std::size_t tunnel_count)
        : sockets(bind_steered({*net::IpAddress::parse("127.0.0.1"), 0}, workers)), pump(table, workers)
    {
        for (std::size_t w = 0; w < workers; ++w)
            pump.watch_udp(w, sockets.workers[w]->fd(), sockets.priority[w]->fd());
        for (std::size_t t = 0; t < tunnel_count; ++t) {
            auto [tun, app] = tun_pair();
            tun_sides.push_back(std::move(tun));
            app_sides.push_back(std::move(app));
        }
    }
    template <class SpiIn, class SpiOut>
    void connect(const MultiSite& peer, SpiIn spi_in, SpiOut spi_out, std::uint8_t key_in, std::uint8_t key_out)
    {
        for (std::size_t t = 0; t < tun_sides.size(); ++t) {
            const auto id = static_cast<TunnelId>(t + 1);
            SaTable::TunnelSettings settings;
            settings.tun_fd = tun_sides[t].get();
            settings.udp_fd = sockets.control->fd();
            settings.peer = peer.sockets.control->local();
            table.add_tunnel(id, settings);
            table.install(id,
                          {std::make_shared<InboundSa>(params(spi_in(t), key_in)),
                           std::make_shared<OutboundSa>(params(spi_out(t), key_out)), {}},
                          true);
            pump.watch_tun(id, tun_sides[t].get());
        }
        CHECK(!pump.start());
    }
    std::optional<std::vector<std::uint8_t>> receive(std::size_t t, int timeout_ms = 2000)
    {
        pollfd p{app_sides[t].get(), POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0)
            return std::nullopt;
        std::vector<std::uint8_t> packet(70000);
        const auto n = ::recv(app_sides[t].get(), packet.data(), packet.size(), 0);
        if (n < 0)
            return std::nullopt;
        packet.resize(static_cast<std::size_t>(n));
        return packet;
    }

    std::vector<net::FileDescriptor> tun_sides, app_sides;
    SteeredSockets sockets;
    SaTable table;
    PacketPump pump;
};

} // namespace

TEST_CASE("packets cross a GRE-over-ESP tunnel both ways and are counted")
{
    Site a(TunnelMode::gre), b(TunnelMode::gre);
    a.connect(b, 0x2001, 0x1001, 7, 9);
    b.connect(a, 0x1001, 0x2001, 9, 7);

    for (std::size_t size : {20u, 64u, 1400u, 9000u}) {
        const auto packet = ipv4_packet(size, static_cast<std::uint8_t>(size));
        a.send(packet);
        const auto received = b.receive();
        REQUIRE(received);
        CHECK(*received == packet);
        b.send(packet);
        const auto back = a.receive();
        REQUIRE(back);
        CHECK(*back == packet);
    }
    const auto& out = *a.table.tunnels().at(1).sas.front().outbound;
    const auto& in = *b.table.tunnels().at(1).sas.front().inbound;
    CHECK(out.counters().packets.get() == 4);
    CHECK(in.counters().packets.get() == 4);
    CHECK(in.counters().bytes.get() == 20 + 64 + 1400 + 9000 + 4 * gre::header_length({}));   // ESP payload: GRE included
}

TEST_CASE("tunnel mode carries bare IP packets")
{
    Site a(TunnelMode::ip), b(TunnelMode::ip);
    a.connect(b, 0x2001, 0x1001, 7, 9);
    b.connect(a, 0x1001, 0x2001, 9, 7);
    const auto packet = ipv4_packet(100, 0x5a);
    a.send(packet);
    const auto received = b.receive();
    REQUIRE(received);
    CHECK(*received == packet);
}

TEST_CASE("a wrong key is counted as auth drops and nothing reaches the TUN")
{
    Site a(TunnelMode::gre), b(TunnelMode::gre);
    a.connect(b, 0x2001, 0x1001, 7, 9);
    b.connect(a, 0x1001, 0x2001, 9, 8);   // b opens with key 8, a seals with key 7
    for (int i = 0; i < 5; ++i)
        a.send(ipv4_packet(100, 1));
    CHECK_FALSE(b.receive(300));
    const auto& in = *b.table.tunnels().at(1).sas.front().inbound;
    CHECK(in.counters().auth_drops.get() == 5);
    CHECK(in.counters().packets.get() == 0);
}

TEST_CASE("a packet with no outbound SA is counted, not sent")
{
    Site a(TunnelMode::gre), b(TunnelMode::gre);
    a.connect(b, 0x2001, 0x1001, 7, 9);
    b.connect(a, 0x1001, 0x2001, 9, 7);
    a.table.remove(0x1001);
    a.send(ipv4_packet(100, 1));
    CHECK_FALSE(b.receive(300));
    CHECK(a.table.tunnels().at(1).counters->no_sa_drops.get() == 1);
}

TEST_CASE("at a worker: keepalive, a stray IKE message, runt and unknown SPI are told apart")
{
    Site a(TunnelMode::gre), b(TunnelMode::gre);
    a.connect(b, 0x2001, 0x1001, 7, 9);
    b.connect(a, 0x1001, 0x2001, 9, 7);
    const RawSender sender(b);
    auto send_raw = [&](std::vector<std::uint8_t> bytes) { REQUIRE(sender.send(bytes)); };
    send_raw({0xff});                                            // NAT keepalive
    send_raw({0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8});              // IKE behind the non-ESP marker
    send_raw({1, 2, 3});                                         // runt
    send_raw({0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1, 9, 9, 9, 9});  // unknown SPI
    for (int i = 0; i < 200 && b.pump.counters(0).unknown_spi_drops.get() == 0; ++i)
        ::poll(nullptr, 0, 5);
    CHECK(b.pump.counters(0).keepalives.get() == 1);
    // The kernel steers IKE to the control thread's socket (test_spi_steering.cpp):
    // one that reaches a worker all the same is counted and dropped.
    CHECK(b.pump.counters(0).ike_misrouted_drops.get() == 1);
    CHECK(b.pump.counters(0).runt_drops.get() == 1);
    CHECK(b.pump.counters(0).unknown_spi_drops.get() == 1);
}

namespace {

using mesh::test::PacketSpec;
using mesh::test::build_packet;

// A super-packet as the kernel hands it to a TUN with TSO: lengths of the
// whole, the pseudo-header sum in the checksum field.
std::pair<VirtioNetHeader, std::vector<std::uint8_t>> tso_packet(const PacketSpec& spec, std::uint16_t gso_size)
{
    auto packet = build_packet(spec);
    const auto t = parse_transport(packet);
    const std::size_t csum = t->l4_offset + (spec.protocol == protocol_tcp ? 16 : 6);
    net::store_be16(&packet[csum], pseudo_header_sum(packet, *t, packet.size() - t->l4_offset));
    VirtioNetHeader header;
    header.flags = VirtioNetHeader::needs_csum;
    header.gso_type = spec.protocol == protocol_udp ? VirtioNetHeader::gso_udp_l4
                      : spec.v6                     ? VirtioNetHeader::gso_tcpv6
                                                    : VirtioNetHeader::gso_tcpv4;
    header.hdr_len = static_cast<std::uint16_t>(t->l4_offset + t->l4_header);
    header.gso_size = gso_size;
    header.csum_start = static_cast<std::uint16_t>(t->l4_offset);
    header.csum_offset = static_cast<std::uint16_t>(csum - t->l4_offset);
    return {header, packet};
}

// What reaches the far TUN, checksums completed as the kernel would, until
// `payload_bytes` of TCP payload have arrived.
std::vector<std::vector<std::uint8_t>> receive_tcp(Site& site, std::size_t payload_bytes)
{
    std::vector<std::vector<std::uint8_t>> packets;
    std::size_t received = 0;
    while (received < payload_bytes) {
        auto got = site.receive_with_header();
        REQUIRE(got);
        auto& [header, packet] = *got;
        if (header.flags & VirtioNetHeader::needs_csum)
            REQUIRE(complete_checksum(packet, header.csum_start, header.csum_offset));
        CHECK(mesh::test::transport_checksum_ok(packet));
        const auto t = parse_transport(packet);
        REQUIRE(t);
        received += t->size - t->l4_offset - t->l4_header;
        packets.push_back(std::move(packet));
    }
    return packets;
}

} // namespace

TEST_CASE("a 64 KiB TSO super-packet crosses as two UDP GSO sends and arrives coalesced, in either mode")
{
    for (const auto mode : {TunnelMode::gre, TunnelMode::ip}) {
        CAPTURE(mode == TunnelMode::gre);
        Site a(mode, true), b(mode, true);
        a.connect(b, 0x2001, 0x1001, 7, 9);
        b.connect(a, 0x1001, 0x2001, 9, 7);
        PacketSpec spec;
        spec.flags = 0x18;   // ACK, PSH
        spec.options = mesh::test::timestamp_option(11, 22);
        spec.payload = mesh::test::counting_payload(64000);
        const std::uint16_t mss = 1382;   // a 1434-byte tunnel MTU less IPv4, TCP and timestamps
        const auto [header, packet] = tso_packet(spec, mss);
        a.send(header, packet);

        const auto packets = receive_tcp(b, spec.payload.size());
        std::vector<std::uint8_t> payload;
        std::uint32_t seq = spec.seq;
        for (const auto& p : packets) {
            CHECK(net::load_be32(&p[24]) == seq);
            payload.insert(payload.end(), p.begin() + 52, p.end());
            seq += static_cast<std::uint32_t>(p.size() - 52);
        }
        CHECK(payload == spec.payload);
        CHECK((packets.back()[33] & 0x08) != 0);   // PSH on the last

        // 47 segments: 64000 = 46 * 1382 + 428. In GRE mode 1472-byte ESP
        // datagrams, 44 to a send within 65507 bytes: two sends, two GRO reads.
        CHECK(a.counters().gso_packets.get() == 1);
        CHECK(a.table.tunnels().at(1).sas.front().outbound->counters().packets.get() == 47);
        CHECK(b.table.tunnels().at(1).sas.front().inbound->counters().packets.get() == 47);
        CHECK(b.pump.counters(0).gro_datagrams.get() == 2);
        CHECK(b.counters().coalesced_segments.get() == 47);
        CHECK(b.counters().coalesced_packets.get() == packets.size());
    }
}

TEST_CASE("an IPv6 TSO super-packet crosses and arrives coalesced")
{
    Site a(TunnelMode::gre, true), b(TunnelMode::gre, true);
    a.connect(b, 0x2001, 0x1001, 7, 9);
    b.connect(a, 0x1001, 0x2001, 9, 7);
    PacketSpec spec;
    spec.v6 = true;
    spec.payload = mesh::test::counting_payload(20000);
    const auto [header, packet] = tso_packet(spec, 1362);
    a.send(header, packet);
    const auto packets = receive_tcp(b, spec.payload.size());
    std::vector<std::uint8_t> payload;
    for (const auto& p : packets)
        payload.insert(payload.end(), p.begin() + 60, p.end());
    CHECK(payload == spec.payload);
    CHECK(b.counters().coalesced_segments.get() == 15);
}

TEST_CASE("a USO super-packet crosses as UDP datagrams and arrives as one again")
{
    Site a(TunnelMode::gre, true), b(TunnelMode::gre, true);
    a.connect(b, 0x2001, 0x1001, 7, 9);
    b.connect(a, 0x1001, 0x2001, 9, 7);
    PacketSpec spec;
    spec.protocol = protocol_udp;
    spec.payload = mesh::test::counting_payload(5000);
    const auto [header, packet] = tso_packet(spec, 1200);
    a.send(header, packet);
    const auto got = b.receive_with_header();
    REQUIRE(got);
    CHECK(got->first.gso_type == VirtioNetHeader::gso_udp_l4);
    CHECK(got->first.gso_size == 1200);
    auto whole = got->second;
    REQUIRE(complete_checksum(whole, got->first.csum_start, got->first.csum_offset));
    CHECK(whole == build_packet(spec));   // the super-packet that went in, checksum whole
    CHECK(a.table.tunnels().at(1).sas.front().outbound->counters().packets.get() == 5);
    CHECK(b.counters().coalesced_segments.get() == 5);
}

TEST_CASE("a NEEDS_CSUM packet leaves with its checksum completed")
{
    Site a(TunnelMode::gre, true), b(TunnelMode::gre, true);
    a.connect(b, 0x2001, 0x1001, 7, 9);
    b.connect(a, 0x1001, 0x2001, 9, 7);
    PacketSpec ack;   // a pure ACK, as the kernel hands it to a TUN with TUN_F_CSUM
    auto [header, packet] = tso_packet(ack, 0);
    header.gso_type = VirtioNetHeader::gso_none;
    a.send(header, packet);
    const auto got = b.receive_with_header();
    REQUIRE(got);
    CHECK(got->first.flags == 0);
    CHECK(got->second == build_packet(ack));
}

TEST_CASE("a super-packet that cannot be cut is counted and dropped")
{
    Site a(TunnelMode::gre, true), b(TunnelMode::gre, true);
    a.connect(b, 0x2001, 0x1001, 7, 9);
    b.connect(a, 0x1001, 0x2001, 9, 7);
    PacketSpec spec;
    spec.payload = mesh::test::counting_payload(3000);
    auto [header, packet] = tso_packet(spec, 1000);
    header.gso_type = VirtioNetHeader::gso_tcpv6;
    a.send(header, packet);
    CHECK_FALSE(b.receive(300));
    CHECK(a.counters().offload_drops.get() == 1);
    CHECK(a.counters().gso_packets.get() == 0);
}

TEST_CASE("a NEEDS_CSUM SYN is clamped after its checksum is completed, and the checksum stays right")
{
    Site a(TunnelMode::gre, true), b(TunnelMode::gre, true);
    a.connect(b, 0x2001, 0x1001, 7, 9);
    b.connect(a, 0x1001, 0x2001, 9, 7);
    PacketSpec syn;
    syn.flags = 0x02;
    syn.ack = 0;
    syn.options = {2, 4, 0x05, 0xb4, 1, 1, 4, 2};   // MSS 1460, NOP, NOP, SACK permitted
    auto [header, packet] = tso_packet(syn, 0);
    header.gso_type = VirtioNetHeader::gso_none;
    a.send(header, packet);
    const auto got = b.receive_with_header();
    REQUIRE(got);
    PacketSpec clamped = syn;
    clamped.options[2] = 0x05;   // the tunnel MTU of 1400 less 40: MSS 1360
    clamped.options[3] = 0x50;
    CHECK(got->second == build_packet(clamped));
    CHECK(a.counters().mss_clamped.get() == 1);
}

namespace {

// One direction of app traffic for the concurrency test: a thread that
// writes packets into a site's TUN side as fast as it takes them, and one
// that reads what the far site's TUN side gets and checks every byte.
struct Flow {
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> sent{0}, received{0}, corrupt{0};
    std::thread writer, reader;

    void start(Site& from, Site& to) { start(from.app_side.get(), to.app_side.get()); }
    // From one TUN's app side to another's.
    void start(int from_fd, int to_fd)
    {
        writer = std::thread([this, fd = from_fd] {
            for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
                const auto packet = ipv4_packet(64 + i % 1300, static_cast<std::uint8_t>(i));
                if (::send(fd, packet.data(), packet.size(), 0) > 0)
                    sent.fetch_add(1, std::memory_order_relaxed);
                else
                    ::poll(nullptr, 0, 1);   // the socketpair is full: let the pump catch up
            }
        });
        reader = std::thread([this, fd = to_fd] {
            std::vector<std::uint8_t> packet(70000);
            while (!stop.load(std::memory_order_relaxed)) {
                pollfd p{fd, POLLIN, 0};
                if (::poll(&p, 1, 20) <= 0)
                    continue;
                const auto n = ::recv(fd, packet.data(), packet.size(), 0);
                if (n <= 0)
                    continue;
                const auto size = static_cast<std::size_t>(n);
                const bool intact = size >= 20 && ipv4_packet(size, packet[size - 1]) ==
                                                      std::vector<std::uint8_t>(packet.begin(), packet.begin() + n);
                (intact ? received : corrupt).fetch_add(1, std::memory_order_relaxed);
            }
        });
    }
    void join()
    {
        stop = true;
        writer.join();
        reader.join();
    }
};

// The control thread's side of the rings: what tools/daemon does with them.
std::size_t drain(PacketPump& pump)
{
    std::size_t n = 0;
    for (std::size_t worker = 0; worker < pump.workers(); ++worker)
        for (EventRing& ring = pump.events(worker); ring.front(); ring.release())
            ++n;
    return n;
}

} // namespace

// The data plane's lock-free parts under real concurrency, for
// ThreadSanitizer (tests/run-all.sh runs this binary built with MESH_TSAN):
// each site's one worker carries traffic both ways while the control
// thread rekeys (install, send_on, remove), reclaims old snapshots and drains
// the event rings, fed by ESP for removed SPIs (and stray IKE datagrams).
TEST_CASE("rekeys, deletes and reclaims while one worker per site carries traffic both ways")
{
    Site a(TunnelMode::gre), b(TunnelMode::gre);
    a.connect(b, 0x2001, 0x1001, 7, 9);
    b.connect(a, 0x1001, 0x2001, 9, 7);
    const RawSender ike_sender(b);
    const std::array<std::uint8_t, 12> ike{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};

    Flow ab, ba;
    ab.start(a, b);
    ba.start(b, a);
    std::uint32_t a_in = 0x1001, b_in = 0x2001;
    std::size_t drained = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    int rounds = 0;
    for (; rounds < 400 && std::chrono::steady_clock::now() < deadline; ++rounds) {
        const auto next_a_in = static_cast<std::uint32_t>(0x10000 + 2 * rounds);
        const auto next_b_in = next_a_in + 1;
        const auto key_ab = static_cast<std::uint8_t>(2 * rounds), key_ba = static_cast<std::uint8_t>(2 * rounds + 1);
        // The responder's order (RFC 7296 section 2.8): both halves in, then
        // the initiator sends on the new SA, then the old ones go.
        b.table.install(1, {std::make_shared<InboundSa>(params(next_b_in, key_ab)),
                            std::make_shared<OutboundSa>(params(next_a_in, key_ba)), {}}, false);
        a.table.install(1, {std::make_shared<InboundSa>(params(next_a_in, key_ba)),
                            std::make_shared<OutboundSa>(params(next_b_in, key_ab)), {}}, true);
        b.table.send_on(1, next_b_in);
        ike_sender.send(ike);
        ::poll(nullptr, 0, 1);
        a.table.remove(a_in);
        b.table.remove(b_in);
        a_in = next_a_in, b_in = next_b_in;
        a.table.reclaim();
        b.table.reclaim();
        drained += drain(a.pump) + drain(b.pump);
    }
    ::poll(nullptr, 0, 100);
    ab.join();
    ba.join();
    drained += drain(a.pump) + drain(b.pump);
    INFO("rounds ", rounds, "; a->b ", ab.received.load(), " of ", ab.sent.load(), "; b->a ", ba.received.load(),
         " of ", ba.sent.load(), "; ring entries drained ", drained);
    CHECK(rounds >= 20);
    CHECK(ab.corrupt == 0);
    CHECK(ba.corrupt == 0);
    CHECK(ab.received > 0);
    CHECK(ba.received > 0);
    CHECK(drained > 0);
    CHECK(b.pump.counters(0).ike_misrouted_drops.get() > 0);

    // Still one working tunnel on the last SAs, once the flows' backlog
    // (which overflows the loopback socket's buffer) has drained.
    const auto packet = ipv4_packet(1400, 0x77);   // longer than any the flows sent
    bool crossed = false;
    for (int attempt = 0; attempt < 20 && !crossed; ++attempt) {
        ::send(a.app_side.get(), packet.data(), packet.size(), 0);   // EAGAIN while the backlog is queued
        for (auto received = b.receive(500); received && !crossed; received = b.receive(500))
            crossed = *received == packet;
    }
    CHECK(crossed);
}

TEST_CASE("two workers: each reads half the TUNs, and ESP is opened by the worker its SPI steers to")
{
    constexpr std::size_t workers = 2, tunnels = 4;
    MultiSite a(workers, tunnels), b(workers, tunnels);
    // a's inbound SPIs steer to the worker that reads the tunnel's TUN, b's to the other one.
    auto a_in = [](std::size_t t) { return static_cast<std::uint32_t>(0x1000 + t); };
    auto b_in = [](std::size_t t) { return static_cast<std::uint32_t>(0x2001 + t); };
    a.connect(b, a_in, b_in, 7, 9);
    b.connect(a, b_in, a_in, 9, 7);
    for (std::size_t t = 0; t < tunnels; ++t) {
        CHECK(a.pump.worker_of_tun(a.tun_sides[t].get()) == t % workers);
        CHECK(b.pump.worker_of_tun(b.tun_sides[t].get()) == t % workers);
    }
    for (int round = 0; round < 3; ++round) {
        for (std::size_t t = 0; t < tunnels; ++t) {
            const auto packet = ipv4_packet(100 + t, static_cast<std::uint8_t>(t));
            REQUIRE(::send(a.app_sides[t].get(), packet.data(), packet.size(), 0) > 0);
            REQUIRE(::send(b.app_sides[t].get(), packet.data(), packet.size(), 0) > 0);
            INFO("tunnel ", t);
            CHECK(b.receive(t) == packet);
            CHECK(a.receive(t) == packet);
        }
    }
    for (auto* site : {&a, &b})
        for (const auto& [id, state] : site->table.tunnels()) {
            CHECK(state.sas.front().inbound->counters().packets.get() == 3);
            CHECK(state.sas.front().outbound->counters().packets.get() == 3);
        }
    // What the kernel steered: each worker saw ESP only for its own SPIs, so no unknown SPI and no claim lost.
    for (std::size_t w = 0; w < workers; ++w) {
        CHECK(a.pump.counters(w).claim_drops.get() == 0);
        CHECK(b.pump.counters(w).unknown_spi_drops.get() == 0);
    }
}

namespace {
// What a peer's pump would send in mode gre: the inner packet in GRE, sealed.
std::vector<std::uint8_t> sealed_in_gre(OutboundSa& sa, const std::vector<std::uint8_t>& inner)
{
    auto buffer = std::make_unique<PacketBuffer>();
    buffer->reset();
    const gre::Header header;
    const std::size_t gre_bytes = gre::header_length(header);
    std::memcpy(buffer->writable().data() + gre_bytes, inner.data(), inner.size());
    buffer->set_size(gre_bytes + inner.size());
    gre::encap(buffer->data(), header);
    REQUIRE(sa.seal(*buffer, net::protocol_gre));
    return {buffer->data().begin(), buffer->data().end()};
}
} // namespace

// RFC 4301 section 4.1: a class that overtakes another on one SA must not
// push it out of the anti-replay window. Here the ping overtakes 1000 bulk
// datagrams of its SA, which the worker then opens below the window's top.
TEST_CASE("a small datagram overtakes the bulk queued before it, and the bulk stays inside the replay window")
{
    MultiSite a(1, 1), b(1, 1);
    OutboundSa peer(params(0x3001, 7));
    const UdpSocket from{net::Endpoint{*net::IpAddress::parse("127.0.0.1"), 0}};
    socklen_t length = 0;
    const auto to = b.sockets.control->local().to_sockaddr(length);
    const auto send = [&](const std::vector<std::uint8_t>& esp) {
        while (::sendto(from.fd(), esp.data(), esp.size(), 0, reinterpret_cast<const sockaddr*>(&to), length) < 0)
            ::poll(nullptr, 0, 1);
    };
    // Queued before b's worker runs: sequence numbers 1-1000 bulk, 1001 the ping.
    constexpr std::size_t bulk = 1000;
    for (std::size_t i = 0; i < bulk; ++i)
        send(sealed_in_gre(peer, ipv4_packet(1400, static_cast<std::uint8_t>(i))));
    const auto ping = ipv4_packet(small_packet_bytes, 0xee);
    send(sealed_in_gre(peer, ping));
    b.connect(a, [](std::size_t) { return 0x3001u; }, [](std::size_t) { return 0x4001u; }, 7, 9);

    CHECK(b.receive(0) == ping);
    std::size_t in_order = 0;
    for (std::size_t i = 0; i < bulk; ++i) {
        const auto received = b.receive(0);
        REQUIRE(received);
        in_order += *received == ipv4_packet(1400, static_cast<std::uint8_t>(i)) ? 1 : 0;
    }
    CHECK(in_order == bulk);
    const auto& in = *b.table.tunnels().at(1).sas.front().inbound;
    CHECK(in.counters().replay_drops.get() == 0);
    CHECK(in.counters().packets.get() == bulk + 1);
    CHECK(b.pump.counters(0).priority_datagrams.get() == 1);
    CHECK(kernel_drops(b.sockets.workers[0]->fd()) == 0);
}

// N workers under ThreadSanitizer: every tunnel carries traffic both ways
// while the control thread rekeys them onto SPIs that move their inbound
// SAs from worker to worker, reclaims and drains.
TEST_CASE("two workers per site: rekeys move SAs between workers while every tunnel carries traffic both ways")
{
    constexpr std::size_t workers = 2, tunnels = 2;
    MultiSite a(workers, tunnels), b(workers, tunnels);
    auto a_in = [](std::size_t t) { return static_cast<std::uint32_t>(0x1000 + 2 * t); };
    auto b_in = [](std::size_t t) { return static_cast<std::uint32_t>(0x2000 + 2 * t); };
    a.connect(b, a_in, b_in, 7, 9);
    b.connect(a, b_in, a_in, 9, 7);
    std::vector<std::unique_ptr<Flow>> flows;
    for (std::size_t t = 0; t < tunnels; ++t) {
        flows.push_back(std::make_unique<Flow>());
        flows.back()->start(a.app_sides[t].get(), b.app_sides[t].get());
        flows.push_back(std::make_unique<Flow>());
        flows.back()->start(b.app_sides[t].get(), a.app_sides[t].get());
    }
    std::vector<std::uint32_t> a_spi(tunnels), b_spi(tunnels);
    for (std::size_t t = 0; t < tunnels; ++t)
        a_spi[t] = a_in(t), b_spi[t] = b_in(t);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    int rounds = 0;
    for (; rounds < 200 && std::chrono::steady_clock::now() < deadline; ++rounds) {
        for (std::size_t t = 0; t < tunnels; ++t) {
            const auto id = static_cast<TunnelId>(t + 1);
            // Consecutive SPIs: each rekey moves the inbound SA to the other worker.
            const auto next_a = static_cast<std::uint32_t>(0x100000 + 4 * (rounds * tunnels + t)) + static_cast<std::uint32_t>(rounds % 2);
            const auto next_b = next_a + 2;
            const auto key_ab = static_cast<std::uint8_t>(3 * rounds + t), key_ba = static_cast<std::uint8_t>(5 * rounds + t);
            b.table.install(id, {std::make_shared<InboundSa>(params(next_b, key_ab)),
                                 std::make_shared<OutboundSa>(params(next_a, key_ba)), {}}, false);
            a.table.install(id, {std::make_shared<InboundSa>(params(next_a, key_ba)),
                                 std::make_shared<OutboundSa>(params(next_b, key_ab)), {}}, true);
            b.table.send_on(id, next_b);
            a.table.remove(a_spi[t]);
            b.table.remove(b_spi[t]);
            a_spi[t] = next_a, b_spi[t] = next_b;
        }
        ::poll(nullptr, 0, 1);
        a.table.reclaim();
        b.table.reclaim();
        drain(a.pump);
        drain(b.pump);
    }
    // Every flow must then cross on the SAs the last round left. Packets on
    // an SA removed under them are lost by design, and on a loaded machine a
    // round can be shorter than a packet's way through the pump, so the rekey
    // rounds themselves may deliver nothing: wait for traffic after them.
    std::vector<std::uint64_t> after_rekeys(flows.size());
    for (std::size_t f = 0; f < flows.size(); ++f)
        after_rekeys[f] = flows[f]->received.load();
    const auto settle = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto all_crossed = [&] {
        for (std::size_t f = 0; f < flows.size(); ++f)
            if (flows[f]->received.load() <= after_rekeys[f])
                return false;
        return true;
    };
    while (!all_crossed() && std::chrono::steady_clock::now() < settle) {
        ::poll(nullptr, 0, 5);
        drain(a.pump);
        drain(b.pump);
    }
    for (auto& flow : flows)
        flow->join();
    CHECK(rounds >= 20);
    for (std::size_t f = 0; f < flows.size(); ++f) {
        INFO("rounds ", rounds, "; flow ", f, " (tunnel ", f / 2, f % 2 == 0 ? " a->b" : " b->a", "): ",
             after_rekeys[f], " received during the rekeys, ", flows[f]->received.load(), " in all, of ",
             flows[f]->sent.load());
        CHECK(flows[f]->corrupt == 0);
        CHECK(flows[f]->received > after_rekeys[f]);
    }
}

TEST_CASE("at real time a lone tunnel's bulk queue read empty waits for its next wake-up; the priority queue does not, and nothing is lost")
{
    if (!mesh::test::realtime_allowed()) {
        MESSAGE("not run: real-time scheduling needs root or an RLIMIT_RTPRIO of 1");
        return;
    }
    Site a(TunnelMode::gre), b(TunnelMode::gre);
    a.add_priority_queue();
    a.priority = WorkerPriority::realtime;
    a.connect(b, 0x2001, 0x1001, 7, 9);
    b.connect(a, 0x1001, 0x2001, 9, 7);
    REQUIRE(a.pump.scheduling(0) == WorkerScheduling::realtime);

    // Bursts 100 us apart: a turn reads each one and finds the queue empty,
    // and the next arrives while the queue's wake-up waits.
    constexpr std::size_t bursts = 40, per_burst = 4;
    for (std::size_t i = 0; i < bursts * per_burst; ++i) {
        a.send(ipv4_packet(1400, static_cast<std::uint8_t>(i)));
        if (i % per_burst == per_burst - 1)
            std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    for (std::size_t i = 0; i < bursts * per_burst; ++i) {
        const auto received = b.receive();
        REQUIRE(received);
        CHECK(*received == ipv4_packet(1400, static_cast<std::uint8_t>(i)));
    }
    CHECK(a.pump.counters(0).deferred_wakeups.get() > 0);

    // A ping in the priority queue right behind bulk: it does not wait for
    // the bulk queue's wake-up.
    a.send(ipv4_packet(1400, 0xb0));
    const auto ping = ipv4_packet(84, 0xee);
    REQUIRE(::send(a.app_priority_side.get(), ping.data(), ping.size(), 0) > 0);
    std::vector<std::vector<std::uint8_t>> got;
    for (int i = 0; i < 2; ++i) {
        auto received = b.receive();
        REQUIRE(received);
        got.push_back(std::move(*received));
    }
    CHECK(std::ranges::count(got, ping) == 1);
    CHECK(std::ranges::count(got, ipv4_packet(1400, 0xb0)) == 1);

    // Long after the last deferral the queue is armed again: a lone packet
    // still wakes the worker.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    a.send(ipv4_packet(1400, 0xc1));
    const auto last = b.receive();
    REQUIRE(last);
    CHECK(*last == ipv4_packet(1400, 0xc1));
}
