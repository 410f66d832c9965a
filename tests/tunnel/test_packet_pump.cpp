// Two whole data planes in one process, joined over loopback UDP, each with a
// datagram socketpair standing in for its TUN (one packet per read and write,
// like IFF_TUN | IFF_NO_PI): real packets through the real pump, no root.

#include "gre/gre.hpp"
#include "tunnel/packet_pump.hpp"
#include "tunnel/udp_socket.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <vector>

using namespace mesh::tunnel;
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

struct Site {
    explicit Site(TunnelMode tunnel_mode) : mode(tunnel_mode)
    {
        REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds.data()) == 0);
        tun_side = FileDescriptor(fds[0]);
        app_side = FileDescriptor(fds[1]);
    }
    void connect(const Site& peer, std::uint32_t spi_out, std::uint32_t spi_in, std::uint8_t key_out, std::uint8_t key_in)
    {
        SaTable::TunnelSettings settings;
        settings.tun_fd = tun_side.get();
        settings.udp_fd = socket.fd();
        settings.mode = mode;
        settings.peer = peer.socket.local();
        table.add_tunnel(1, settings);
        table.install(1,
                      {std::make_shared<InboundSa>(params(spi_in, key_in)),
                       std::make_shared<OutboundSa>(params(spi_out, key_out)), {}},
                      true);
        pump.watch_udp(socket.fd());
        pump.watch_tun(1, tun_side.get());
        pump.start();
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

    TunnelMode mode;
    std::array<int, 2> fds{};
    FileDescriptor tun_side, app_side;
    UdpSocket socket{Endpoint{*IpAddress::parse("127.0.0.1"), 0}};
    SaTable table;
    PacketPump pump{table};
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

TEST_CASE("non-ESP marker, keepalive, runt and unknown SPI are told apart")
{
    Site a(TunnelMode::gre), b(TunnelMode::gre);
    a.connect(b, 0x2001, 0x1001, 7, 9);
    b.connect(a, 0x1001, 0x2001, 9, 7);
    UdpSocket sender{Endpoint{*IpAddress::parse("127.0.0.1"), 0}};
    socklen_t length = 0;
    const auto to = b.socket.local().to_sockaddr(length);
    auto send_raw = [&](std::vector<std::uint8_t> bytes) {
        REQUIRE(::sendto(sender.fd(), bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), length) >= 0);
    };
    send_raw({0xff});                                            // NAT keepalive
    send_raw({0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8});              // IKE behind the non-ESP marker
    send_raw({1, 2, 3});                                         // runt
    send_raw({0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1, 9, 9, 9, 9});  // unknown SPI
    for (int i = 0; i < 200 && b.pump.counters().unknown_spi_drops.get() == 0; ++i)
        ::poll(nullptr, 0, 5);
    CHECK(b.pump.counters().keepalives.get() == 1);
    CHECK(b.pump.counters().ike_datagrams.get() == 1);
    CHECK(b.pump.counters().runt_drops.get() == 1);
    CHECK(b.pump.counters().unknown_spi_drops.get() == 1);
    const IkeDatagram* ike = b.pump.ike_queue().front();
    REQUIRE(ike != nullptr);
    CHECK(ike->size == 8);
    CHECK(ike->bytes[0] == 1);
}
