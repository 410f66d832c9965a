// Userspace TSO/USO: every segment must be byte for byte the packet a sender
// would have built for that piece of payload on its own, and its checksums
// must verify with the naive reference sum.

#include "net/byte_order.hpp"
#include "tests/tunnel/inner_packets.hpp"
#include "tunnel/gso_segmenter.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace mesh::tunnel;
namespace net = mesh::net;
using mesh::test::PacketSpec;
using mesh::test::build_packet;
using mesh::test::counting_payload;

namespace {

constexpr std::uint8_t fin = 0x01, psh = 0x08, ack = 0x10, cwr = 0x80;

VirtioNetHeader gso(std::uint8_t type, std::uint16_t size, std::size_t l4_offset, std::uint16_t csum_offset)
{
    VirtioNetHeader h;
    h.flags = VirtioNetHeader::needs_csum;
    h.gso_type = type;
    h.gso_size = size;
    h.csum_start = static_cast<std::uint16_t>(l4_offset);
    h.csum_offset = csum_offset;
    return h;
}

std::vector<std::vector<std::uint8_t>> cut(const std::vector<std::uint8_t>& packet, const VirtioNetHeader& header)
{
    const auto plan = plan_segments(packet, header);
    REQUIRE(plan);
    std::vector<std::vector<std::uint8_t>> segments;
    for (std::size_t i = 0; i < plan->count; ++i) {
        std::vector<std::uint8_t> out(plan->segment_size(i) + 16, 0xee);
        const std::size_t n = write_segment(packet, *plan, i, out);
        CHECK(n == plan->segment_size(i));
        out.resize(n);
        segments.push_back(out);
    }
    return segments;
}

// The super-packet as the kernel hands it over: lengths of the whole, and
// (NEEDS_CSUM) only a partial checksum, here garbage, which must not matter.
std::vector<std::uint8_t> super_packet(const PacketSpec& spec)
{
    auto p = build_packet(spec);
    const std::size_t l4 = spec.v6 ? 40 : 20;
    p[l4 + (spec.protocol == protocol_tcp ? 16 : 6)] ^= 0x5a;
    return p;
}

void check_tcp_segments(bool v6)
{
    PacketSpec spec;
    spec.v6 = v6;
    spec.seq = 0xfffff000;   // the sequence number wraps inside the super-packet
    spec.id = 0xfffe;        // and so does the IPv4 ID
    spec.flags = cwr | ack | psh | fin;
    spec.options = mesh::test::timestamp_option(0x01020304, 0x0a0b0c0d);
    spec.payload = counting_payload(10000);
    const std::uint16_t mss = 1448;
    const auto type = static_cast<std::uint8_t>(v6 ? VirtioNetHeader::gso_tcpv6
                                                   : VirtioNetHeader::gso_tcpv4 | VirtioNetHeader::gso_ecn);
    const auto segments = cut(super_packet(spec), gso(type, mss, v6 ? 40 : 20, 16));
    REQUIRE(segments.size() == 7);   // 6 * 1448 + 1312
    for (std::size_t i = 0; i < segments.size(); ++i) {
        CAPTURE(i);
        PacketSpec expected = spec;
        const std::size_t offset = i * mss;
        const std::size_t n = std::min<std::size_t>(mss, spec.payload.size() - offset);
        expected.payload.assign(spec.payload.begin() + static_cast<std::ptrdiff_t>(offset),
                                spec.payload.begin() + static_cast<std::ptrdiff_t>(offset + n));
        expected.seq = spec.seq + static_cast<std::uint32_t>(offset);
        expected.id = static_cast<std::uint16_t>(spec.id + i);
        expected.flags = ack;
        if (i == 0)
            expected.flags |= cwr;
        if (i + 1 == segments.size())
            expected.flags |= psh | fin;
        CHECK(segments[i] == build_packet(expected));
        CHECK(mesh::test::transport_checksum_ok(segments[i]));
        if (!v6)
            CHECK(mesh::test::ipv4_checksum_ok(segments[i]));
    }
}

} // namespace

TEST_CASE("a TSO super-packet over IPv4 is cut into segments with their own IDs, seq, flags and checksums")
{
    check_tcp_segments(false);
}

TEST_CASE("a TSO super-packet over IPv6 is cut the same way")
{
    check_tcp_segments(true);
}

TEST_CASE("a USO super-packet is cut into UDP datagrams with their own lengths and checksums")
{
    for (const bool v6 : {false, true}) {
        CAPTURE(v6);
        PacketSpec spec;
        spec.v6 = v6;
        spec.protocol = protocol_udp;
        spec.payload = counting_payload(5000, 3);
        const std::uint16_t size = 1200;
        const auto segments = cut(super_packet(spec), gso(VirtioNetHeader::gso_udp_l4, size, v6 ? 40 : 20, 6));
        REQUIRE(segments.size() == 5);
        for (std::size_t i = 0; i < segments.size(); ++i) {
            PacketSpec expected = spec;
            const std::size_t offset = i * size;
            const std::size_t n = std::min<std::size_t>(size, spec.payload.size() - offset);
            expected.payload.assign(spec.payload.begin() + static_cast<std::ptrdiff_t>(offset),
                                    spec.payload.begin() + static_cast<std::ptrdiff_t>(offset + n));
            expected.id = static_cast<std::uint16_t>(spec.id + i);
            CHECK(segments[i] == build_packet(expected));
            CHECK(mesh::test::transport_checksum_ok(segments[i]));
        }
    }
}

TEST_CASE("a super-packet whose payload is an exact multiple of gso_size has no short last segment")
{
    PacketSpec spec;
    spec.payload = counting_payload(3 * 1000);
    const auto segments = cut(super_packet(spec), gso(VirtioNetHeader::gso_tcpv4, 1000, 20, 16));
    REQUIRE(segments.size() == 3);
    for (const auto& s : segments)
        CHECK(s.size() == 20 + 20 + 1000);
}

TEST_CASE("a small MSS cuts a super-packet into many segments")
{
    PacketSpec spec;
    spec.payload = counting_payload(65000);
    const auto segments = cut(super_packet(spec), gso(VirtioNetHeader::gso_tcpv4, 100, 20, 16));
    REQUIRE(segments.size() == 650);
    CHECK(mesh::test::transport_checksum_ok(segments[649]));
    CHECK(mesh::net::load_be32(&segments[649][24]) == spec.seq + 649 * 100);
}

TEST_CASE("a super-packet that cannot be cut as its header says is refused")
{
    PacketSpec v4;
    v4.payload = counting_payload(4000);
    const auto tcp4 = super_packet(v4);
    PacketSpec v6 = v4;
    v6.v6 = true;
    const auto tcp6 = super_packet(v6);
    PacketSpec udp = v4;
    udp.protocol = protocol_udp;
    const auto udp4 = super_packet(udp);

    CHECK(plan_segments(tcp4, gso(VirtioNetHeader::gso_tcpv4, 1000, 20, 16)));
    CHECK_FALSE(plan_segments(tcp6, gso(VirtioNetHeader::gso_tcpv4, 1000, 40, 16)));   // type and version disagree
    CHECK_FALSE(plan_segments(tcp4, gso(VirtioNetHeader::gso_tcpv6, 1000, 20, 16)));
    CHECK_FALSE(plan_segments(tcp4, gso(VirtioNetHeader::gso_udp_l4, 1000, 20, 6)));  // not UDP
    CHECK_FALSE(plan_segments(udp4, gso(VirtioNetHeader::gso_tcpv4, 1000, 20, 16)));
    CHECK_FALSE(plan_segments(tcp4, gso(3, 1000, 20, 16)));                           // UFO was never offered
    CHECK_FALSE(plan_segments(tcp4, gso(VirtioNetHeader::gso_tcpv4, 0, 20, 16)));
    auto short_read = tcp4;
    short_read.pop_back();                                                            // IP length says more
    CHECK_FALSE(plan_segments(short_read, gso(VirtioNetHeader::gso_tcpv4, 1000, 20, 16)));
    PacketSpec empty = v4;
    empty.payload.clear();
    CHECK_FALSE(plan_segments(super_packet(empty), gso(VirtioNetHeader::gso_tcpv4, 1000, 20, 16)));
}
