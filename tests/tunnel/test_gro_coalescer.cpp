// Userspace GRO: which TCP segments become one super-packet written to the
// TUN, what that packet's virtio-net header and headers say, and which
// segments must be left alone. A datagram socketpair stands in for the TUN:
// each writev arrives as one datagram, header and packet.

#include "net/byte_order.hpp"
#include "net/file_descriptor.hpp"
#include "tests/tunnel/inner_packets.hpp"
#include "tunnel/gro_coalescer.hpp"
#include "tunnel/virtio_net_header.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <deque>
#include <optional>
#include <vector>

using namespace mesh::tunnel;
namespace net = mesh::net;
using mesh::test::PacketSpec;
using mesh::test::build_packet;
using mesh::test::counting_payload;

namespace {

constexpr std::uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10, urg = 0x20, ece = 0x40,
                       cwr = 0x80;

struct Written {
    VirtioNetHeader header;
    std::vector<std::uint8_t> packet;
};

struct FakeTun {
    FakeTun()
    {
        std::array<int, 2> fds{};
        REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, fds.data()) == 0);
        tun = net::FileDescriptor(fds[0]);
        app = net::FileDescriptor(fds[1]);
        int buffer = 4 << 20;
        ::setsockopt(tun.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
        ::setsockopt(app.get(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    }
    std::optional<Written> read()
    {
        std::vector<std::uint8_t> bytes(70000);
        const auto n = ::recv(app.get(), bytes.data(), bytes.size(), 0);
        if (n < static_cast<ssize_t>(VirtioNetHeader::size))
            return std::nullopt;
        Written w;
        w.header = VirtioNetHeader::load(std::span<const std::uint8_t, 10>(bytes.data(), 10));
        w.packet.assign(bytes.begin() + 10, bytes.begin() + n);
        return w;
    }
    std::vector<Written> read_all()
    {
        std::vector<Written> all;
        while (auto w = read())
            all.push_back(std::move(*w));
        return all;
    }
    net::FileDescriptor tun, app;
};

// A bulk sender's segments: consecutive sequence numbers, one ack, window and
// timestamp, payloads of the given sizes.
std::vector<PacketSpec> stream(std::initializer_list<std::size_t> sizes, bool v6 = false)
{
    std::vector<PacketSpec> specs;
    std::uint32_t seq = 100000;
    std::uint8_t fill = 0;
    for (const std::size_t size : sizes) {
        PacketSpec s;
        s.v6 = v6;
        s.seq = seq;
        s.options = mesh::test::timestamp_option(5000, 6000);
        s.payload = counting_payload(size, fill++);
        seq += static_cast<std::uint32_t>(size);
        specs.push_back(s);
    }
    return specs;
}

// What one segment carrying all of specs' payloads would be.
std::vector<std::uint8_t> merged(const std::vector<PacketSpec>& specs)
{
    PacketSpec whole = specs.front();
    for (std::size_t i = 1; i < specs.size(); ++i) {
        whole.payload.insert(whole.payload.end(), specs[i].payload.begin(), specs[i].payload.end());
        whole.flags |= specs[i].flags;
    }
    return build_packet(whole);
}

struct Coalescing {
    // Packets live in `held` until flush, as they would in the receive batch.
    std::vector<bool> add_all(const std::vector<PacketSpec>& specs)
    {
        std::vector<bool> taken;
        for (const auto& s : specs) {
            held.push_back(build_packet(s));
            taken.push_back(coalescer.add(held.back(), tun.tun.get(), counters));
        }
        return taken;
    }
    std::vector<Written> flush()
    {
        coalescer.flush();
        return tun.read_all();
    }
    FakeTun tun;
    TunnelCounters counters;
    GroCoalescer coalescer;
    std::deque<std::vector<std::uint8_t>> held;
};

// The super-packet as a sender's TSO would have made it, with its checksum
// completed as the kernel will.
void check_super_packet(const Written& w, const std::vector<PacketSpec>& specs)
{
    const bool v6 = specs.front().v6;
    const std::size_t l3 = v6 ? 40 : 20;
    CHECK(w.header.flags == VirtioNetHeader::needs_csum);
    CHECK(w.header.gso_type == (v6 ? VirtioNetHeader::gso_tcpv6 : VirtioNetHeader::gso_tcpv4));
    CHECK(w.header.gso_size == specs.front().payload.size());
    CHECK(w.header.hdr_len == l3 + 32);
    CHECK(w.header.csum_start == l3);
    CHECK(w.header.csum_offset == 16);
    auto expected = merged(specs);
    REQUIRE(w.packet.size() == expected.size());
    const auto t = parse_transport(w.packet);
    REQUIRE(t);
    const std::uint16_t pseudo = pseudo_header_sum(w.packet, *t, w.packet.size() - l3);
    CHECK(net::load_be16(&w.packet[l3 + 16]) == pseudo);
    if (!v6)
        CHECK(mesh::test::ipv4_checksum_ok(w.packet));
    auto completed = w.packet;
    REQUIRE(complete_checksum(completed, w.header.csum_start, w.header.csum_offset));
    CHECK(completed == expected);
}

void check_plain(const Written& w, const PacketSpec& spec)
{
    CHECK(w.header.flags == 0);
    CHECK(w.header.gso_type == VirtioNetHeader::gso_none);
    CHECK(w.packet == build_packet(spec));
}

} // namespace

TEST_CASE("consecutive segments of one IPv4 flow become one super-packet")
{
    Coalescing c;
    const auto specs = stream({1000, 1000, 1000, 1000, 1000});
    CHECK(c.add_all(specs) == std::vector<bool>(5, true));
    const auto written = c.flush();
    REQUIRE(written.size() == 1);
    check_super_packet(written[0], specs);
    CHECK(c.counters.coalesced_packets.get() == 1);
    CHECK(c.counters.coalesced_segments.get() == 5);
}

TEST_CASE("consecutive segments of one IPv6 flow become one super-packet")
{
    Coalescing c;
    const auto specs = stream({1200, 1200, 700}, true);
    c.add_all(specs);
    const auto written = c.flush();
    REQUIRE(written.size() == 1);
    check_super_packet(written[0], specs);
}

TEST_CASE("a lone segment is written as it came")
{
    Coalescing c;
    const auto specs = stream({1000});
    c.add_all(specs);
    const auto written = c.flush();
    REQUIRE(written.size() == 1);
    check_plain(written[0], specs[0]);
    CHECK(c.counters.coalesced_packets.get() == 0);
}

TEST_CASE("PSH and a shorter segment end a super-packet; PSH is kept on it")
{
    Coalescing c;
    auto specs = stream({1000, 1000, 1000, 1000, 400, 1000});
    specs[1].flags |= psh;
    c.add_all(specs);
    const auto written = c.flush();
    REQUIRE(written.size() == 3);
    check_super_packet(written[0], {specs[0], specs[1]});
    CHECK((written[0].packet[33] & psh) != 0);
    check_super_packet(written[1], {specs[2], specs[3], specs[4]});
    check_plain(written[2], specs[5]);
}

TEST_CASE("a segment longer than the first starts a new super-packet")
{
    Coalescing c;
    const auto specs = stream({500, 1000, 1000});
    c.add_all(specs);
    const auto written = c.flush();
    REQUIRE(written.size() == 2);
    check_plain(written[0], specs[0]);
    check_super_packet(written[1], {specs[1], specs[2]});
}

TEST_CASE("segments that differ in what the one header would say are not merged")
{
    // Each case changes the second of two segments; they must reach the TUN
    // as they came, in order.
    struct Case {
        const char* what;
        void (*change)(PacketSpec&);
    };
    const Case cases[] = {
        {"ack", [](PacketSpec& s) { s.ack += 1; }},
        {"window", [](PacketSpec& s) { s.window = 1024; }},
        {"timestamp", [](PacketSpec& s) { s.options = mesh::test::timestamp_option(5001, 6000); }},
        {"timestamp echo", [](PacketSpec& s) { s.options = mesh::test::timestamp_option(5000, 6001); }},
        {"options length", [](PacketSpec& s) { s.options.clear(); }},
        {"sequence gap", [](PacketSpec& s) { s.seq += 1; }},
        {"retransmission", [](PacketSpec& s) { s.seq -= 1000; }},
        {"TOS (ECN CE)", [](PacketSpec& s) { s.tos = 3; }},
        {"TTL", [](PacketSpec& s) { s.ttl = 63; }},
    };
    for (const auto& test : cases) {
        CAPTURE(test.what);
        Coalescing c;
        auto specs = stream({1000, 1000});
        test.change(specs[1]);
        c.add_all(specs);
        const auto written = c.flush();
        REQUIRE(written.size() == 2);
        check_plain(written[0], specs[0]);
        check_plain(written[1], specs[1]);
    }
}

TEST_CASE("SYN, FIN, RST, URG, ECE, CWR, pure ACKs and IP options go straight through, after their flow")
{
    const std::uint8_t refused[] = {syn | ack, fin | ack, rst | ack, urg | ack, ece | ack, cwr | ack, psh};
    for (const std::uint8_t flags : refused) {
        CAPTURE(int{flags});
        Coalescing c;
        auto specs = stream({1000, 1000});
        specs[1].flags = flags;
        const auto taken = c.add_all(specs);
        CHECK(taken == std::vector<bool>{true, false});
        // What the flow held is out before add() returned, so the caller's
        // write of the refused segment lands behind it.
        const auto before = c.tun.read_all();
        REQUIRE(before.size() == 1);
        check_plain(before[0], specs[0]);
        CHECK(c.flush().empty());
    }
    Coalescing c;
    auto specs = stream({1000, 0});
    CHECK(c.add_all(specs) == std::vector<bool>{true, false});
    CHECK(c.tun.read_all().size() == 1);

    auto with_options = build_packet(stream({1000})[0]);
    with_options.insert(with_options.begin() + 20, {1, 1, 1, 0});   // NOP, NOP, NOP, EOL
    with_options[0] = 0x46;
    net::store_be16(&with_options[2], static_cast<std::uint16_t>(with_options.size()));
    CHECK_FALSE(c.coalescer.add(with_options, c.tun.tun.get(), c.counters));
}

TEST_CASE("UDP datagrams of one flow become one USO super-packet, beside a held TCP flow")
{
    Coalescing c;
    const auto tcp = stream({1000, 1000});
    std::vector<PacketSpec> udp(4);
    for (std::size_t i = 0; i < udp.size(); ++i) {
        udp[i].protocol = protocol_udp;
        udp[i].source_port = tcp[0].source_port;   // same ports, other protocol: another flow
        udp[i].payload = counting_payload(i + 1 < udp.size() ? 1200 : 300, static_cast<std::uint8_t>(i));
        udp[i].id = static_cast<std::uint16_t>(0x4000 + i);
    }
    CHECK(c.add_all({tcp[0], udp[0], udp[1], tcp[1], udp[2], udp[3]}) == std::vector<bool>(6, true));
    const auto written = c.flush();
    REQUIRE(written.size() == 2);
    check_super_packet(written[0], tcp);

    const Written& w = written[1];
    CHECK(w.header.flags == VirtioNetHeader::needs_csum);
    CHECK(w.header.gso_type == VirtioNetHeader::gso_udp_l4);
    CHECK(w.header.gso_size == 1200);
    CHECK(w.header.hdr_len == 28);
    CHECK(w.header.csum_start == 20);
    CHECK(w.header.csum_offset == 6);
    CHECK(w.packet.size() == 28 + 3 * 1200 + 300);
    CHECK(net::load_be16(&w.packet[2]) == w.packet.size());
    CHECK(net::load_be16(&w.packet[24]) == w.packet.size() - 20);   // UDP length of the whole
    CHECK(mesh::test::ipv4_checksum_ok(w.packet));
    auto completed = w.packet;
    REQUIRE(complete_checksum(completed, 20, 6));
    CHECK(mesh::test::transport_checksum_ok(completed));
    for (std::size_t i = 0; i < udp.size(); ++i) {
        const auto offset = static_cast<std::ptrdiff_t>(28 + i * 1200);
        CHECK(std::equal(udp[i].payload.begin(), udp[i].payload.end(), w.packet.begin() + offset));
    }
    CHECK(c.counters.coalesced_packets.get() == 2);
    CHECK(c.counters.coalesced_segments.get() == 6);
}

TEST_CASE("UDP datagrams that differ in size or IP fields are not merged")
{
    Coalescing c;
    std::vector<PacketSpec> udp(4);
    for (auto& s : udp) {
        s.protocol = protocol_udp;
        s.payload = counting_payload(500);
    }
    udp[1].payload = counting_payload(600);   // longer than the first: starts anew
    udp[3].tos = 1;                           // ECN capable: another header
    c.add_all(udp);
    const auto written = c.flush();
    REQUIRE(written.size() == 3);
    check_plain(written[0], udp[0]);
    CHECK(written[1].header.gso_type == VirtioNetHeader::gso_udp_l4);   // 600 then a shorter 500: merged
    CHECK(written[1].header.gso_size == 600);
    CHECK(written[1].packet.size() == 28 + 600 + 500);
    check_plain(written[2], udp[3]);
}

TEST_CASE("interleaved flows are coalesced each on its own")
{
    Coalescing c;
    const auto a = stream({1000, 1000, 1000});
    auto b = stream({800, 800});
    for (auto& s : b)
        s.source_port = 40001;
    c.add_all({a[0], b[0], a[1], b[1], a[2]});
    const auto written = c.flush();
    REQUIRE(written.size() == 2);
    check_super_packet(written[0], a);
    check_super_packet(written[1], b);
}

TEST_CASE("the same flow on two tunnels is two flows")
{
    Coalescing c;
    FakeTun other;
    const auto specs = stream({1000, 1000});
    c.held.push_back(build_packet(specs[0]));
    c.held.push_back(build_packet(specs[1]));
    CHECK(c.coalescer.add(c.held[0], c.tun.tun.get(), c.counters));
    CHECK(c.coalescer.add(c.held[1], other.tun.get(), c.counters));
    CHECK(c.flush().size() == 1);
    CHECK(other.read_all().size() == 1);
}

TEST_CASE("a super-packet stays within 65535 bytes and 64 segments")
{
    {
        Coalescing c;
        std::vector<PacketSpec> many;
        std::uint32_t seq = 1;
        for (int i = 0; i < 50; ++i) {
            PacketSpec s;
            s.seq = seq;
            s.options = mesh::test::timestamp_option(1, 2);
            s.payload = counting_payload(1448, static_cast<std::uint8_t>(i));
            seq += 1448;
            many.push_back(s);
        }
        c.add_all(many);
        const auto written = c.flush();
        REQUIRE(written.size() == 2);
        // 52 header bytes + 45 * 1448 = 65212; one more would be 66660.
        check_super_packet(written[0], {many.begin(), many.begin() + 45});
        check_super_packet(written[1], {many.begin() + 45, many.end()});
    }
    {
        Coalescing c;
        std::vector<PacketSpec> many;
        std::uint32_t seq = 1;
        for (int i = 0; i < 100; ++i) {
            PacketSpec s;
            s.seq = seq;
            s.payload = counting_payload(100, static_cast<std::uint8_t>(i));
            seq += 100;
            many.push_back(s);
        }
        c.add_all(many);
        const auto written = c.flush();
        REQUIRE(written.size() == 2);
        CHECK(written[0].packet.size() == 40 + 64 * 100);
        CHECK(written[1].packet.size() == 40 + 36 * 100);
        CHECK(c.counters.coalesced_segments.get() == 100);
    }
}

namespace {

bool add_packet(Coalescing& c, std::vector<std::uint8_t> packet)
{
    c.held.push_back(std::move(packet));
    return c.coalescer.add(c.held.back(), c.tun.tun.get(), c.counters);
}

std::vector<PacketSpec> datagrams(std::size_t count, bool v6 = false)
{
    std::vector<PacketSpec> udp(count);
    for (std::size_t i = 0; i < count; ++i) {
        udp[i].v6 = v6;
        udp[i].protocol = protocol_udp;
        udp[i].payload = counting_payload(500, static_cast<std::uint8_t>(i));
    }
    return udp;
}

} // namespace

// A merged packet leaves with NEEDS_CSUM, which the kernel trusts; ESP covers
// only the path between the gateways, so a segment corrupted before the
// peer's gateway sealed it must reach the stack as it came, to be dropped.
TEST_CASE("a TCP segment whose checksum fails is not merged but written as it came")
{
    for (const bool v6 : {false, true}) {
        for (const std::size_t bad : {std::size_t{0}, std::size_t{1}}) {
            CAPTURE(v6);
            CAPTURE(bad);
            Coalescing c;
            const auto specs = stream({1000, 1000, 1000}, v6);
            std::vector<bool> taken;
            for (std::size_t i = 0; i < specs.size(); ++i) {
                auto packet = build_packet(specs[i]);
                if (i == bad)
                    packet.back() ^= 0x01;
                taken.push_back(add_packet(c, std::move(packet)));
            }
            CHECK(taken == std::vector<bool>{bad != 0, bad != 1, true});
            const auto written = c.flush();
            if (bad == 0) {
                REQUIRE(written.size() == 1);
                check_super_packet(written[0], {specs[1], specs[2]});
            } else {
                REQUIRE(written.size() == 2);
                check_plain(written[0], specs[0]);
                check_plain(written[1], specs[2]);
            }
        }
    }
}

TEST_CASE("a segment whose IPv4 header checksum fails is not merged")
{
    Coalescing c;
    const auto specs = stream({1000, 1000, 1000});
    auto corrupt = build_packet(specs[1]);
    corrupt[10] ^= 0x01;
    CHECK(add_packet(c, build_packet(specs[0])));
    CHECK_FALSE(add_packet(c, corrupt));
    CHECK(add_packet(c, build_packet(specs[2])));
    const auto written = c.flush();
    REQUIRE(written.size() == 2);
    check_plain(written[0], specs[0]);
    check_plain(written[1], specs[2]);
}

TEST_CASE("UDP datagrams the stack would drop or trim are not merged")
{
    SUBCASE("a checksum that fails")
    {
        Coalescing c;
        const auto udp = datagrams(3);
        auto corrupt = build_packet(udp[1]);
        corrupt.back() ^= 0x01;
        CHECK(add_packet(c, build_packet(udp[0])));
        CHECK_FALSE(add_packet(c, corrupt));
        CHECK(add_packet(c, build_packet(udp[2])));
        CHECK(c.flush().size() == 2);
    }
    SUBCASE("a zero checksum over IPv6 (RFC 8200 section 8.1)")
    {
        Coalescing c;
        const auto udp = datagrams(2, true);
        auto zero = build_packet(udp[1]);
        net::store_be16(&zero[46], 0);
        CHECK(add_packet(c, build_packet(udp[0])));
        CHECK_FALSE(add_packet(c, zero));
        CHECK(c.flush().size() == 1);
    }
    SUBCASE("padding behind the UDP length: the stack delivers only what the UDP length says (RFC 768)")
    {
        Coalescing c;
        const auto udp = datagrams(2);
        auto padded = build_packet(udp[0]);
        padded.insert(padded.end(), 4, 0);
        net::store_be16(&padded[2], static_cast<std::uint16_t>(padded.size()));
        write_ipv4_checksum(std::span(padded).first(20));
        CHECK_FALSE(add_packet(c, padded));
        CHECK(add_packet(c, build_packet(udp[1])));
        const auto written = c.flush();
        REQUIRE(written.size() == 1);
        check_plain(written[0], udp[1]);
    }
    SUBCASE("a zero checksum over IPv4 means none (RFC 768): merged")
    {
        Coalescing c;
        const auto udp = datagrams(2);
        for (const auto& s : udp) {
            auto packet = build_packet(s);
            net::store_be16(&packet[26], 0);
            CHECK(add_packet(c, packet));
        }
        const auto written = c.flush();
        REQUIRE(written.size() == 1);
        CHECK(written[0].header.gso_type == VirtioNetHeader::gso_udp_l4);
    }
}

TEST_CASE("a segment of a held flow with IPv4 options is written after what the flow held")
{
    Coalescing c;
    const auto specs = stream({1000, 1000, 1000});
    CHECK(add_packet(c, build_packet(specs[0])));
    CHECK(add_packet(c, build_packet(specs[1])));
    // Three NOPs and an end of options list (RFC 791): the same flow, a longer header.
    auto options = build_packet(specs[2]);
    options.insert(options.begin() + 20, {1, 1, 1, 0});
    options[0] = 0x46;
    net::store_be16(&options[2], static_cast<std::uint16_t>(options.size()));
    write_ipv4_checksum(std::span(options).first(24));
    CHECK_FALSE(add_packet(c, options));
    const auto written = c.tun.read_all();   // before the caller writes it
    REQUIRE(written.size() == 1);
    check_super_packet(written[0], {specs[0], specs[1]});
    CHECK(c.flush().empty());
}

TEST_CASE("a priority packet of no held flow is left to the caller at once, the other flows stay held")
{
    Coalescing c;
    const auto bulk = stream({1000, 1000});
    CHECK(c.add_all(bulk) == std::vector<bool>{true, true});
    PacketSpec bfd;   // a BFD control packet (RFC 5881: UDP 3784, CS6)
    bfd.protocol = protocol_udp;
    bfd.tos = 48 << 2;
    bfd.source_port = 49152;
    bfd.destination_port = 3784;
    bfd.payload = counting_payload(24);
    c.held.push_back(build_packet(bfd));
    CHECK_FALSE(c.coalescer.add(c.held.back(), c.tun.tun.get(), c.counters, false));
    CHECK(c.tun.read_all().empty());   // the caller writes it; the TCP flow waits for the batch's end
    const auto written = c.flush();
    REQUIRE(written.size() == 1);
    check_super_packet(written[0], bulk);
}

TEST_CASE("a priority packet that ends a held flow joins it, and the super-packet is written at once")
{
    Coalescing c;
    const auto specs = stream({1000, 1000, 100});
    const std::vector<PacketSpec> bulk(specs.begin(), specs.begin() + 2);
    CHECK(c.add_all(bulk) == std::vector<bool>{true, true});
    c.held.push_back(build_packet(specs[2]));
    CHECK(c.coalescer.add(c.held.back(), c.tun.tun.get(), c.counters, false));
    const auto written = c.tun.read_all();
    REQUIRE(written.size() == 1);
    check_super_packet(written[0], specs);
    CHECK(c.flush().empty());
}
