// The classifier that lets network control and small packets through the
// pump first: DSCP read from IPv4 and IPv6 headers, bare or inside GRE, and
// whatever is not a whole header taken as bulk.

#include "gre/gre.hpp"
#include "net/headers.hpp"
#include "tests/tunnel/inner_packets.hpp"
#include "tunnel/traffic_class.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using namespace mesh::tunnel;
using mesh::test::build_packet;
using mesh::test::PacketSpec;

namespace {

constexpr std::uint8_t ecn_ce = 3;

std::vector<std::uint8_t> packet(bool v6, std::uint8_t dscp, std::size_t payload, std::uint8_t ecn = 0)
{
    PacketSpec spec;
    spec.v6 = v6;
    spec.protocol = protocol_udp;
    spec.tos = static_cast<std::uint8_t>(dscp << 2 | ecn);
    spec.payload.assign(payload, 0xa5);
    return build_packet(spec);
}

// GRE (key and sequence number too, RFC 2890) around an inner packet.
std::vector<std::uint8_t> gre_wrapped(const std::vector<std::uint8_t>& inner, bool key = false, bool checksum = false)
{
    mesh::gre::Header header;
    header.protocol = inner[0] >> 4 == 4 ? mesh::gre::ethertype_ipv4 : mesh::gre::ethertype_ipv6;
    header.checksum = checksum;
    if (key) {
        header.key = 0x01020304;
        header.sequence = 7;
    }
    std::vector<std::uint8_t> out(mesh::gre::header_length(header));
    out.insert(out.end(), inner.begin(), inner.end());
    mesh::gre::encap(out, header);
    return out;
}

constexpr std::uint8_t next_ipv4 = mesh::net::protocol_ipv4;
constexpr std::uint8_t next_ipv6 = mesh::net::protocol_ipv6;
constexpr std::uint8_t next_gre = mesh::net::protocol_gre;

} // namespace

TEST_CASE("the DSCP of an IPv4 packet is the top six bits of its TOS byte, ECN aside")
{
    CHECK(ip_dscp(packet(false, dscp_cs6, 1000)) == dscp_cs6);
    CHECK(ip_dscp(packet(false, 46, 1000, ecn_ce)) == 46);   // EF with CE set
    CHECK(ip_dscp(packet(false, 0, 1000, ecn_ce)) == 0);
    CHECK(payload_dscp(packet(false, dscp_cs7, 1000), next_ipv4) == dscp_cs7);
}

TEST_CASE("the DSCP of an IPv6 packet straddles its first two bytes")
{
    for (const int value : {0, 1, 10, 46, 48, 56, 63}) {
        const auto dscp = static_cast<std::uint8_t>(value);
        CAPTURE(dscp);
        CHECK(ip_dscp(packet(true, dscp, 1000, ecn_ce)) == dscp);
        CHECK(payload_dscp(packet(true, dscp, 1000), next_ipv6) == dscp);
    }
}

TEST_CASE("inside GRE the DSCP is the carried packet's, whatever GRE's optional fields")
{
    CHECK(payload_dscp(gre_wrapped(packet(false, dscp_cs6, 1000)), next_gre) == dscp_cs6);
    CHECK(payload_dscp(gre_wrapped(packet(true, dscp_cs7, 1000)), next_gre) == dscp_cs7);
    CHECK(payload_dscp(gre_wrapped(packet(false, 46, 1000), true), next_gre) == 46);
    CHECK(payload_dscp(gre_wrapped(packet(true, 10, 1000), true, true), next_gre) == 10);
}

TEST_CASE("network control is priority at any size, other traffic only when small")
{
    CHECK(classify(packet(false, dscp_cs6, 1400), next_ipv4) == TrafficClass::priority);
    CHECK(classify(packet(true, dscp_cs7, 1400), next_ipv6) == TrafficClass::priority);
    CHECK(classify(gre_wrapped(packet(false, dscp_cs6, 1400)), next_gre) == TrafficClass::priority);
    CHECK(classify(packet(false, 0, 1400), next_ipv4) == TrafficClass::bulk);
    CHECK(classify(packet(true, 46, 1400), next_ipv6) == TrafficClass::bulk);
    CHECK(classify(gre_wrapped(packet(true, 0, 1400)), next_gre) == TrafficClass::bulk);
}

TEST_CASE("small is judged by the carried packet's length, GRE header aside")
{
    // A 20-byte IPv4 header and 8-byte UDP header: payload p makes a packet of p + 28 bytes.
    const std::size_t largest_small = small_packet_bytes - 28;
    CHECK(classify(packet(false, 0, largest_small), next_ipv4) == TrafficClass::priority);
    CHECK(classify(packet(false, 0, largest_small + 1), next_ipv4) == TrafficClass::bulk);
    CHECK(classify(gre_wrapped(packet(false, 0, largest_small), true), next_gre) == TrafficClass::priority);
    CHECK(classify(gre_wrapped(packet(false, 0, largest_small + 1)), next_gre) == TrafficClass::bulk);
    CHECK(classify(packet(true, 0, small_packet_bytes - 48), next_ipv6) == TrafficClass::priority);
}

TEST_CASE("truncated headers and garbage have no DSCP and are bulk")
{
    const auto v4 = packet(false, dscp_cs6, 10);
    const auto v6 = packet(true, dscp_cs6, 10);
    for (std::size_t length = 0; length < 20; ++length) {
        CAPTURE(length);
        const std::span<const std::uint8_t> cut(v4.data(), length);
        CHECK_FALSE(ip_dscp(cut));
        CHECK(classify(cut, next_ipv4) == TrafficClass::bulk);
    }
    for (std::size_t length = 0; length < 40; ++length) {
        CAPTURE(length);
        CHECK_FALSE(ip_dscp(std::span<const std::uint8_t>(v6.data(), length)));
    }
    auto bad_ihl = v4;
    bad_ihl[0] = 0x44;   // a header length of 16 bytes
    CHECK_FALSE(ip_dscp(bad_ihl));
    auto version5 = v4;
    version5[0] = 0x55;
    CHECK_FALSE(ip_dscp(version5));
    CHECK(classify(version5, next_ipv4) == TrafficClass::bulk);
    // Next headers that carry no IP packet (59: no next header, RFC 4303 section 2.6 dummies).
    CHECK_FALSE(payload_dscp(v4, 59));
    CHECK_FALSE(payload_dscp(v4, mesh::net::protocol_udp));
}

TEST_CASE("a GRE header that is not whole or carries no IP has no DSCP")
{
    const auto wrapped = gre_wrapped(packet(false, dscp_cs6, 10), true);   // 12-byte GRE header
    for (std::size_t length = 0; length < 12 + 20; ++length) {
        CAPTURE(length);
        const std::span<const std::uint8_t> cut(wrapped.data(), length);
        CHECK_FALSE(payload_dscp(cut, next_gre));
        CHECK(classify(cut, next_gre) == TrafficClass::bulk);
    }
    auto ethernet = gre_wrapped(packet(false, dscp_cs6, 10));
    ethernet[2] = 0x65;   // 0x6558, transparent Ethernet bridging
    ethernet[3] = 0x58;
    CHECK_FALSE(payload_dscp(ethernet, next_gre));
    // A GRE header announcing IPv4 in front of something that is not.
    auto mislabeled = gre_wrapped(packet(false, dscp_cs6, 10));
    mislabeled[4] = 0x00;
    CHECK_FALSE(payload_dscp(mislabeled, next_gre));
}

TEST_CASE("random bytes never read past the span (seeded, the seed printed on failure)")
{
    std::uint32_t seed = 0x5eed14;
    CAPTURE(seed);
    std::uint32_t state = seed;
    std::vector<std::uint8_t> bytes(64);
    for (int round = 0; round < 20000; ++round) {
        for (auto& b : bytes) {
            state = state * 1664525u + 1013904223u;
            b = static_cast<std::uint8_t>(state >> 24);
        }
        const std::size_t length = state % bytes.size();
        const std::span<const std::uint8_t> view(bytes.data(), length);
        for (const std::uint8_t next : {next_ipv4, next_ipv6, next_gre}) {
            const auto dscp = payload_dscp(view, next);
            CHECK((!dscp || *dscp < 64));
            static_cast<void>(classify(view, next));
        }
    }
}
