// The classifier that lets network control and small packets through the
// pump first: DSCP read from IPv4 and IPv6 headers, bare or inside GRE, pure
// TCP ACKs taken as bulk, and whatever is not a whole header taken as bulk.

#include "gre/gre.hpp"
#include "net/byte_order.hpp"
#include "net/headers.hpp"
#include "tests/tunnel/inner_packets.hpp"
#include "tunnel/traffic_class.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <utility>
#include <vector>

using namespace mesh::tunnel;
using mesh::test::build_packet;
using mesh::test::PacketSpec;
using mesh::test::timestamp_option;

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

constexpr std::uint8_t tcp_fin = 0x01;
constexpr std::uint8_t tcp_syn = 0x02;
constexpr std::uint8_t tcp_rst = 0x04;
constexpr std::uint8_t tcp_psh = 0x08;
constexpr std::uint8_t tcp_ack = 0x10;
constexpr std::uint8_t tcp_ece_cwr = 0xc0;

std::vector<std::uint8_t> tcp_segment(bool v6, std::uint8_t flags, std::size_t payload,
                                      std::vector<std::uint8_t> options = {}, std::uint8_t dscp = 0)
{
    PacketSpec spec;
    spec.v6 = v6;
    spec.flags = flags;
    spec.tos = static_cast<std::uint8_t>(dscp << 2);
    spec.options = std::move(options);
    spec.payload.assign(payload, 0x5a);
    return build_packet(spec);
}

// 40 bytes of TCP options, the most there is room for: timestamps and three SACK blocks.
std::vector<std::uint8_t> longest_options()
{
    auto options = timestamp_option(1, 2);
    options.insert(options.end(), {1, 1, 5, 26});
    options.resize(40, 0x33);
    return options;
}

// A 4-byte IPv4 option (NOPs) between the IPv4 and TCP headers: IHL 6.
std::vector<std::uint8_t> with_ipv4_option(std::vector<std::uint8_t> packet)
{
    packet.insert(packet.begin() + 20, {1, 1, 1, 0});
    packet[0] = 0x46;
    mesh::net::store_be16(&packet[2], static_cast<std::uint16_t>(packet.size()));
    return packet;
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

TEST_CASE("a pure TCP ACK is bulk however small, with or without options, bare or inside GRE")
{
    for (const bool v6 : {false, true}) {
        CAPTURE(v6);
        const auto next = v6 ? next_ipv6 : next_ipv4;
        CHECK(classify(tcp_segment(v6, tcp_ack, 0), next) == TrafficClass::bulk);
        CHECK(classify(tcp_segment(v6, tcp_ack, 0, timestamp_option(1, 2)), next) == TrafficClass::bulk);
        CHECK(classify(tcp_segment(v6, tcp_ack, 0, longest_options()), next) == TrafficClass::bulk);
        // PSH, ECE and CWR carry no data or connection state of their own.
        CHECK(classify(tcp_segment(v6, tcp_ack | tcp_psh, 0), next) == TrafficClass::bulk);
        CHECK(classify(tcp_segment(v6, tcp_ack | tcp_ece_cwr, 0), next) == TrafficClass::bulk);
        // Inbound, ESP opens the ACK with GRE still on.
        CHECK(classify(gre_wrapped(tcp_segment(v6, tcp_ack, 0)), next_gre) == TrafficClass::bulk);
        CHECK(classify(gre_wrapped(tcp_segment(v6, tcp_ack, 0, timestamp_option(1, 2)), true, true), next_gre) ==
              TrafficClass::bulk);
    }
    CHECK(classify(with_ipv4_option(tcp_segment(false, tcp_ack, 0)), next_ipv4) == TrafficClass::bulk);
}

TEST_CASE("small TCP with data, and SYN, FIN or RST without, stay priority")
{
    for (const bool v6 : {false, true}) {
        CAPTURE(v6);
        const auto next = v6 ? next_ipv6 : next_ipv4;
        CHECK(classify(tcp_segment(v6, tcp_ack | tcp_psh, 1), next) == TrafficClass::priority);
        CHECK(classify(tcp_segment(v6, tcp_ack, 19, timestamp_option(1, 2)), next) == TrafficClass::priority);
        CHECK(classify(gre_wrapped(tcp_segment(v6, tcp_ack | tcp_psh, 48), true), next_gre) ==
              TrafficClass::priority);
        CHECK(classify(tcp_segment(v6, tcp_syn, 0, {2, 4, 5, 0xb4}), next) == TrafficClass::priority);
        CHECK(classify(tcp_segment(v6, tcp_syn | tcp_ack, 0, longest_options()), next) == TrafficClass::priority);
        CHECK(classify(tcp_segment(v6, tcp_fin | tcp_ack, 0), next) == TrafficClass::priority);
        CHECK(classify(tcp_segment(v6, tcp_rst, 0), next) == TrafficClass::priority);
        CHECK(classify(tcp_segment(v6, tcp_ack, 1400), next) == TrafficClass::bulk);
    }
    CHECK(classify(with_ipv4_option(tcp_segment(false, tcp_ack, 4)), next_ipv4) == TrafficClass::priority);
    // IPv6 extension headers (here hop-by-hop, 0) hide TCP: not looked for, small is priority.
    auto behind_extension = tcp_segment(true, tcp_ack, 0);
    behind_extension[6] = 0;
    CHECK(classify(behind_extension, next_ipv6) == TrafficClass::priority);
}

TEST_CASE("a pure ACK marked CS6 or CS7 is priority: BGP's own ACKs")
{
    CHECK(classify(tcp_segment(false, tcp_ack, 0, timestamp_option(1, 2), dscp_cs6), next_ipv4) ==
          TrafficClass::priority);
    CHECK(classify(tcp_segment(true, tcp_ack, 0, {}, dscp_cs7), next_ipv6) == TrafficClass::priority);
    CHECK(classify(gre_wrapped(tcp_segment(false, tcp_ack, 0, {}, dscp_cs6)), next_gre) == TrafficClass::priority);
    CHECK(classify(tcp_segment(false, tcp_ack, 0, {}, 46), next_ipv4) == TrafficClass::bulk);   // EF is not control
}

TEST_CASE("a TCP header cut before its flags is bulk; one whole to them is judged by the IP length")
{
    for (const bool v6 : {false, true}) {
        CAPTURE(v6);
        const auto next = v6 ? next_ipv6 : next_ipv4;
        const std::size_t tcp_at = v6 ? 40 : 20;
        const auto with_data = tcp_segment(v6, tcp_ack | tcp_psh, 10);
        for (std::size_t length = tcp_at; length < tcp_at + 14; ++length) {
            CAPTURE(length);
            CHECK(classify(std::span<const std::uint8_t>(with_data.data(), length), next) == TrafficClass::bulk);
        }
        // Flags whole: the IP header still says 10 bytes of data.
        CHECK(classify(std::span<const std::uint8_t>(with_data.data(), tcp_at + 14), next) ==
              TrafficClass::priority);
    }
    // An IHL that puts TCP past the packet's end.
    auto long_ihl = tcp_segment(false, tcp_ack | tcp_psh, 4);
    long_ihl[0] = 0x4f;
    CHECK(classify(long_ihl, next_ipv4) == TrafficClass::bulk);
    // An IPv4 total length shorter than its own header is no pure ACK.
    auto short_total = tcp_segment(false, tcp_ack, 0);
    mesh::net::store_be16(&short_total[2], 8);
    CHECK(classify(short_total, next_ipv4) == TrafficClass::priority);
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
        // Every other round an IPv4 or IPv6 TCP header, for the ACK test to read.
        if (round % 2 == 1) {
            bytes[0] = static_cast<std::uint8_t>(round % 4 == 1 ? 0x40 | (bytes[0] & 0x0f) : 0x60);
            bytes[6] = mesh::net::protocol_tcp;
            bytes[9] = mesh::net::protocol_tcp;
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
