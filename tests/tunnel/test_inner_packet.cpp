// Checksum completion and the transport checksums against packets the kernel
// itself wrote into a TUN (Linux 6.18), once with its checksums whole (no
// offloads) and once with NEEDS_CSUM (IFF_VNET_HDR, TUN_F_CSUM): the same
// UDP datagram both times, so the completed checksum has a known answer.

#include "tests/hex.hpp"
#include "tests/tunnel/inner_packets.hpp"
#include "tunnel/inner_packet.hpp"
#include "tunnel/virtio_net_header.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace mesh::tunnel;
using mesh::test::hex;

namespace {

// 10.9.0.1:5555 -> 10.9.0.2:9999 "mesh-site offload known answer", UDP checksum a542.
const auto udp4_whole = hex("4500003ae988400040113d160a0900010a09000215b3270f0026a5426d6573682d73697465206f66666c6f"
                            "6164206b6e6f776e20616e73776572");
const auto udp4_partial_header = hex("01000000000014000600");
const auto udp4_partial = hex("4500003a26f940004011ffa50a0900010a09000215b3270f0026144c6d6573682d73697465206f66666c6f"
                              "6164206b6e6f776e20616e73776572");
// [fd00::1]:5555 -> [fd00::2]:9999, the same payload, UDP checksum bf52.
const auto udp6_whole = hex("600d943e00261140fd000000000000000000000000000001fd00000000000000000000000000000215b3270f"
                            "0026bf526d6573682d73697465206f66666c6f6164206b6e6f776e20616e73776572");
const auto udp6_partial = hex("600d943e00261140fd000000000000000000000000000001fd00000000000000000000000000000215b327"
                              "0f0026fa3b6d6573682d73697465206f66666c6f6164206b6e6f776e20616e73776572");
// 10.9.0.1:40000 -> 10.9.0.2:80 SYN with MSS, SACK-permitted, timestamps, window scale.
const auto tcp4_syn = hex("4500003ce4864000400642210a0900010a0900029c40005034f0b33000000000a002faf045b70000020405b4"
                          "0402080a6c6d0222000000000103030a");
const auto tcp4_syn_partial = hex("4500003c575e40004006cf490a0900010a0900029c4000503b45538f00000000a002faf01443000002"
                                  "0405b40402080a6c6d1cb0000000000103030a");
const auto tcp6_syn = hex("6009394600280640fd000000000000000000000000000001fd0000000000000000000000000000029c4000508"
                          "59dc2b600000000a002fd20677d0000020405a00402080a3b63c926000000000103030a");

} // namespace

TEST_CASE("the virtio-net header reads as the kernel wrote it")
{
    const auto h = VirtioNetHeader::load(std::span<const std::uint8_t, 10>(udp4_partial_header.data(), 10));
    CHECK(h.flags == VirtioNetHeader::needs_csum);
    CHECK(h.gso_type == VirtioNetHeader::gso_none);
    CHECK(h.csum_start == 20);
    CHECK(h.csum_offset == 6);
    std::vector<std::uint8_t> out(10);
    h.store(std::span<std::uint8_t, 10>(out.data(), 10));
    CHECK(out == udp4_partial_header);
}

TEST_CASE("a NEEDS_CSUM UDP datagram is completed to the kernel's own checksum")
{
    auto p4 = udp4_partial;
    REQUIRE(complete_checksum(p4, 20, 6));
    CHECK(p4[26] == 0xa5);
    CHECK(p4[27] == 0x42);
    auto p6 = udp6_partial;
    REQUIRE(complete_checksum(p6, 40, 6));
    CHECK(p6 == udp6_whole);
}

TEST_CASE("a NEEDS_CSUM TCP SYN is completed to a checksum that verifies")
{
    auto p = tcp4_syn_partial;
    REQUIRE(complete_checksum(p, 20, 16));
    CHECK(mesh::test::transport_checksum_ok(p));
    CHECK_FALSE(mesh::test::transport_checksum_ok(tcp4_syn_partial));
}

TEST_CASE("checksum completion refuses a field outside the packet")
{
    auto p = udp4_partial;
    CHECK_FALSE(complete_checksum(p, p.size(), 0));
    CHECK_FALSE(complete_checksum(p, 20, p.size() - 21));
    CHECK_FALSE(complete_checksum(p, p.size() + 1, 0));
    CHECK(p == udp4_partial);
}

TEST_CASE("transport and IPv4 header checksums from scratch match the kernel's")
{
    for (const auto* known : {&udp4_whole, &udp6_whole, &tcp4_syn, &tcp6_syn}) {
        auto p = *known;
        const auto t = parse_transport(p);
        REQUIRE(t);
        p[t->l4_offset + (t->protocol == protocol_tcp ? 16 : 6)] ^= 0xff;
        write_transport_checksum(p, *t, p.size() - t->l4_offset);
        if (t->version == 4) {
            p[10] = p[11] = 0;
            write_ipv4_checksum(std::span(p).first(20));
        }
        CHECK(p == *known);
    }
}

TEST_CASE("parse_transport finds TCP and UDP right behind the IP header, and nothing else")
{
    const auto tcp = parse_transport(tcp4_syn);
    REQUIRE(tcp);
    CHECK(tcp->version == 4);
    CHECK(tcp->protocol == protocol_tcp);
    CHECK(tcp->l4_offset == 20);
    CHECK(tcp->l4_header == 40);
    CHECK(tcp->size == tcp4_syn.size());
    const auto udp6 = parse_transport(udp6_whole);
    REQUIRE(udp6);
    CHECK(udp6->l4_offset == 40);
    CHECK(udp6->l4_header == 8);

    auto fragment = udp4_whole;
    fragment[6] |= 0x20;   // more fragments
    CHECK_FALSE(parse_transport(fragment));
    auto later_fragment = udp4_whole;
    later_fragment[7] = 1;
    CHECK_FALSE(parse_transport(later_fragment));
    auto hop_by_hop = udp6_whole;
    hop_by_hop[6] = 0;
    CHECK_FALSE(parse_transport(hop_by_hop));
    auto icmp = udp4_whole;
    icmp[9] = 1;
    CHECK_FALSE(parse_transport(icmp));
    auto long_length = udp4_whole;
    long_length[3] = static_cast<std::uint8_t>(long_length[3] + 1);
    CHECK_FALSE(parse_transport(long_length));
    auto bad_offset = tcp4_syn;
    bad_offset[32] = 0x40;   // data offset 16 bytes, below the minimum
    CHECK_FALSE(parse_transport(bad_offset));
    CHECK_FALSE(parse_transport(std::span(tcp4_syn).first(30)));
}
