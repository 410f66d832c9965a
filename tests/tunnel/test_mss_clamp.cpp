// TCP MSS clamping (tunnel/mss_clamp.hpp): SYNs over IPv4 and IPv6 are clamped
// with a checksum that still verifies; everything else is left alone, and no
// input makes it read or write out of bounds.

#include "tunnel/mss_clamp.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace {

using mesh::tunnel::clamp_tcp_mss;

constexpr std::uint32_t tunnel_mtu = 1400;
constexpr std::uint8_t syn = 0x02;
constexpr std::uint8_t ack = 0x10;

// Linux's SYN options: MSS, SACK permitted, timestamps, NOP, window scale.
std::vector<std::uint8_t> linux_options(std::uint16_t mss)
{
    return {2, 4, static_cast<std::uint8_t>(mss >> 8), static_cast<std::uint8_t>(mss),
            4, 2, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0, 0, 1, 3, 3, 7};
}

std::vector<std::uint8_t> tcp_header(std::uint8_t flags, const std::vector<std::uint8_t>& options)
{
    std::vector<std::uint8_t> tcp{0xc3, 0x50, 0x00, 0x50, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0,
                                  static_cast<std::uint8_t>((20 + options.size()) / 4 << 4), flags,
                                  0xfa, 0xf0, 0, 0, 0, 0};
    tcp.insert(tcp.end(), options.begin(), options.end());
    return tcp;
}

// RFC 1071 sum, 16 bits at a time: the test's own reference, independent of gre/checksum.cpp.
std::uint32_t add16(std::uint32_t sum, const std::uint8_t* p, std::size_t n)
{
    for (std::size_t i = 0; i < n; i += 2) {
        sum += std::uint32_t{p[i]} << 8 | (i + 1 < n ? p[i + 1] : 0U);
    }
    return sum;
}

std::uint16_t fold(std::uint32_t sum)
{
    while (sum > 0xffff) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}

// Sum of pseudo-header and segment: 0xffff when the TCP checksum is right
// (RFC 9293 section 3.1 for IPv4, RFC 8200 section 8.1 for IPv6).
std::uint16_t tcp_sum(const std::vector<std::uint8_t>& packet)
{
    if ((packet[0] >> 4) == 4) {
        const std::size_t ihl = std::size_t{packet[0] & 0x0fU} * 4;
        const std::size_t length = packet.size() - ihl;
        std::uint32_t sum = add16(0, &packet[12], 8);
        sum += 6 + static_cast<std::uint32_t>(length);
        return fold(add16(sum, &packet[ihl], length));
    }
    const std::size_t length = packet.size() - 40;
    std::uint32_t sum = add16(0, &packet[8], 32);
    sum += 6 + static_cast<std::uint32_t>(length);
    return fold(add16(sum, &packet[40], length));
}

void set_tcp_checksum(std::vector<std::uint8_t>& packet, std::size_t tcp_offset)
{
    packet[tcp_offset + 16] = 0;
    packet[tcp_offset + 17] = 0;
    const auto checksum = static_cast<std::uint16_t>(~tcp_sum(packet));
    packet[tcp_offset + 16] = static_cast<std::uint8_t>(checksum >> 8);
    packet[tcp_offset + 17] = static_cast<std::uint8_t>(checksum);
}

// 10.1.0.2 -> 10.2.0.2, DF set.
std::vector<std::uint8_t> ipv4_packet(const std::vector<std::uint8_t>& tcp, std::uint8_t protocol = 6,
                                      std::uint16_t fragment = 0x4000)
{
    const auto total = static_cast<std::uint16_t>(20 + tcp.size());
    std::vector<std::uint8_t> packet{0x45, 0, static_cast<std::uint8_t>(total >> 8), static_cast<std::uint8_t>(total),
                                     0xab, 0xcd, static_cast<std::uint8_t>(fragment >> 8), static_cast<std::uint8_t>(fragment),
                                     64, protocol, 0, 0, 10, 1, 0, 2, 10, 2, 0, 2};
    const auto header_checksum = static_cast<std::uint16_t>(~fold(add16(0, packet.data(), 20)));
    packet[10] = static_cast<std::uint8_t>(header_checksum >> 8);
    packet[11] = static_cast<std::uint8_t>(header_checksum);
    packet.insert(packet.end(), tcp.begin(), tcp.end());
    set_tcp_checksum(packet, 20);
    return packet;
}

// 2001:db8:1::2 -> 2001:db8:2::2.
std::vector<std::uint8_t> ipv6_packet(const std::vector<std::uint8_t>& tcp, std::uint8_t next_header = 6)
{
    const auto length = static_cast<std::uint16_t>(tcp.size());
    std::vector<std::uint8_t> packet{0x60, 0, 0, 0, static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length),
                                     next_header, 64};
    const std::vector<std::uint8_t> source{0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    const std::vector<std::uint8_t> destination{0x20, 0x01, 0x0d, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    packet.insert(packet.end(), source.begin(), source.end());
    packet.insert(packet.end(), destination.begin(), destination.end());
    packet.insert(packet.end(), tcp.begin(), tcp.end());
    set_tcp_checksum(packet, 40);
    return packet;
}

std::uint16_t mss_at(const std::vector<std::uint8_t>& packet, std::size_t offset)
{
    return static_cast<std::uint16_t>(packet[offset] << 8 | packet[offset + 1]);
}

// Asserts the packet comes back untouched and reported as such.
void check_untouched(std::vector<std::uint8_t> packet, std::uint32_t mtu = tunnel_mtu)
{
    const auto before = packet;
    CHECK_FALSE(clamp_tcp_mss(packet, mtu));
    CHECK(packet == before);
}

} // namespace

TEST_CASE("an IPv4 SYN with MSS 1460 is clamped to MTU 1400 - 40")
{
    auto packet = ipv4_packet(tcp_header(syn, linux_options(1460)));
    REQUIRE(tcp_sum(packet) == 0xffff);
    CHECK(clamp_tcp_mss(packet, tunnel_mtu));
    CHECK(mss_at(packet, 20 + 22) == 1360);
    CHECK(tcp_sum(packet) == 0xffff);
}

TEST_CASE("an IPv6 SYN with MSS 1460 is clamped to MTU 1400 - 60")
{
    auto packet = ipv6_packet(tcp_header(syn, linux_options(1460)));
    REQUIRE(tcp_sum(packet) == 0xffff);
    CHECK(clamp_tcp_mss(packet, tunnel_mtu));
    CHECK(mss_at(packet, 40 + 22) == 1340);
    CHECK(tcp_sum(packet) == 0xffff);
}

TEST_CASE("a SYN-ACK is clamped like a SYN")
{
    auto packet = ipv4_packet(tcp_header(syn | ack, linux_options(8960)));
    CHECK(clamp_tcp_mss(packet, tunnel_mtu));
    CHECK(mss_at(packet, 20 + 22) == 1360);
    CHECK(tcp_sum(packet) == 0xffff);
}

TEST_CASE("an MSS option at an odd offset keeps the checksum right")
{
    // NOP first puts the MSS value at TCP offset 23, across two 16-bit words.
    auto packet = ipv4_packet(tcp_header(syn, {1, 2, 4, 0x05, 0xb4, 1, 1, 0}));
    CHECK(clamp_tcp_mss(packet, tunnel_mtu));
    CHECK(mss_at(packet, 20 + 23) == 1360);
    CHECK(tcp_sum(packet) == 0xffff);

    auto packet6 = ipv6_packet(tcp_header(syn, {1, 2, 4, 0xff, 0xff, 1, 1, 0}));
    CHECK(clamp_tcp_mss(packet6, tunnel_mtu));
    CHECK(mss_at(packet6, 40 + 23) == 1340);
    CHECK(tcp_sum(packet6) == 0xffff);
}

TEST_CASE("an IPv4 header with options still finds the TCP header")
{
    auto packet = ipv4_packet(tcp_header(syn, linux_options(1460)));
    // Insert 4 bytes of IP options (NOP x3, EOL) and grow IHL and total length.
    packet.insert(packet.begin() + 20, {1, 1, 1, 0});
    packet[0] = 0x46;
    packet[3] = static_cast<std::uint8_t>(packet[3] + 4);
    set_tcp_checksum(packet, 24);
    CHECK(clamp_tcp_mss(packet, tunnel_mtu));
    CHECK(mss_at(packet, 24 + 22) == 1360);
    CHECK(tcp_sum(packet) == 0xffff);
}

TEST_CASE("a segment without SYN is untouched")
{
    check_untouched(ipv4_packet(tcp_header(ack, linux_options(1460))));
    check_untouched(ipv6_packet(tcp_header(ack, linux_options(1460))));
}

TEST_CASE("an MSS that already fits is untouched")
{
    check_untouched(ipv4_packet(tcp_header(syn, linux_options(1360))));
    check_untouched(ipv4_packet(tcp_header(syn, linux_options(536))));
    check_untouched(ipv6_packet(tcp_header(syn, linux_options(1340))));
}

TEST_CASE("a SYN without an MSS option is untouched")
{
    check_untouched(ipv4_packet(tcp_header(syn, {})));
    check_untouched(ipv4_packet(tcp_header(syn, {1, 1, 4, 2})));
}

TEST_CASE("options after EOL are not read")
{
    check_untouched(ipv4_packet(tcp_header(syn, {0, 0, 0, 0, 2, 4, 0x05, 0xb4})));
}

TEST_CASE("an MSS option with a length other than 4 is skipped")
{
    check_untouched(ipv4_packet(tcp_header(syn, {2, 6, 0x05, 0xb4, 0, 0, 1, 1})));
}

TEST_CASE("non-TCP packets, later fragments and IPv6 extension headers are untouched")
{
    const auto tcp = tcp_header(syn, linux_options(1460));
    check_untouched(ipv4_packet(tcp, 17));
    check_untouched(ipv4_packet(tcp, 6, 0x0001));   // fragment offset 8 bytes
    check_untouched(ipv6_packet(tcp, 0));            // hop-by-hop options first
    check_untouched(ipv6_packet(tcp, 17));
}

TEST_CASE("a first fragment with MF set is still clamped")
{
    auto packet = ipv4_packet(tcp_header(syn, linux_options(1460)), 6, 0x2000);
    CHECK(clamp_tcp_mss(packet, tunnel_mtu));
    CHECK(tcp_sum(packet) == 0xffff);
}

TEST_CASE("an MTU that leaves no room for an MSS changes nothing")
{
    check_untouched(ipv4_packet(tcp_header(syn, linux_options(1460))), 40);
    check_untouched(ipv6_packet(tcp_header(syn, linux_options(1460))), 60);
    check_untouched(ipv6_packet(tcp_header(syn, linux_options(1460))), 0);
}

TEST_CASE("malformed option lists are left alone")
{
    // Length running past the data offset, length 0, length 1, a kind in the
    // last byte with no length byte.
    check_untouched(ipv4_packet(tcp_header(syn, {1, 1, 2, 8})));
    check_untouched(ipv4_packet(tcp_header(syn, {3, 0, 2, 4, 0x05, 0xb4, 0, 0})));
    check_untouched(ipv4_packet(tcp_header(syn, {3, 1, 2, 4, 0x05, 0xb4, 0, 0})));
    check_untouched(ipv4_packet(tcp_header(syn, {1, 1, 1, 2})));
}

TEST_CASE("lengths that disagree with the buffer are left alone")
{
    const auto good = ipv4_packet(tcp_header(syn, linux_options(1460)));
    auto long_total = good;
    long_total[3] = static_cast<std::uint8_t>(long_total[3] + 1);   // IP total length beyond the buffer
    check_untouched(long_total);
    auto short_ihl = good;
    short_ihl[0] = 0x44;                                             // IHL below 5
    check_untouched(short_ihl);
    auto big_offset = good;
    big_offset[20 + 12] = 0xf0;                                      // data offset 60 beyond the segment
    check_untouched(big_offset);
    auto small_offset = good;
    small_offset[20 + 12] = 0x40;                                    // data offset 16, below the header
    check_untouched(small_offset);

    const auto good6 = ipv6_packet(tcp_header(syn, linux_options(1460)));
    auto long_payload = good6;
    long_payload[5] = static_cast<std::uint8_t>(long_payload[5] + 1);
    check_untouched(long_payload);
    auto jumbo = good6;
    jumbo[4] = 0;
    jumbo[5] = 0;
    check_untouched(jumbo);
}

TEST_CASE("every truncation of a SYN is safe")
{
    // Exact-size buffers, so a sanitizer build sees any read past the end;
    // with the IP length fixed up too, so the parse reaches the TCP header.
    for (const auto& whole : {ipv4_packet(tcp_header(syn, linux_options(1460))),
                              ipv6_packet(tcp_header(syn, linux_options(1460)))}) {
        for (std::size_t n = 0; n < whole.size(); ++n) {
            std::vector<std::uint8_t> cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
            (void)clamp_tcp_mss(cut, tunnel_mtu);
            const bool v4 = (whole[0] >> 4) == 4;
            if (n >= (v4 ? 20U : 40U)) {
                const auto length = static_cast<std::uint16_t>(v4 ? n : n - 40);
                cut[v4 ? 2 : 4] = static_cast<std::uint8_t>(length >> 8);
                cut[v4 ? 3 : 5] = static_cast<std::uint8_t>(length);
                (void)clamp_tcp_mss(cut, tunnel_mtu);
            }
        }
    }
}

TEST_CASE("random garbage behind a plausible IP header never crashes")
{
    std::mt19937 rng(879);
    std::uniform_int_distribution<unsigned> byte(0, 255);
    std::uniform_int_distribution<std::size_t> size(0, 120);
    for (int round = 0; round < 100000; ++round) {
        std::vector<std::uint8_t> packet(size(rng));
        for (auto& b : packet) {
            b = static_cast<std::uint8_t>(byte(rng));
        }
        // Steer most inputs past the IP checks so the option walk sees garbage.
        const bool v4 = round % 2 == 0;
        if (v4 && packet.size() >= 20) {
            packet[0] = static_cast<std::uint8_t>(0x40 | (packet[0] & 0x0f));
            packet[9] = 6;
            packet[6] = 0x40;
            packet[7] = 0;
            packet[2] = 0;
            packet[3] = static_cast<std::uint8_t>(packet.size());
        } else if (!v4 && packet.size() >= 40) {
            packet[0] = 0x60;
            packet[4] = 0;
            packet[5] = static_cast<std::uint8_t>(packet.size() - 40);
            packet[6] = 6;
        }
        if (packet.size() >= 60) {
            packet[(v4 ? 20 : 40) + 13] |= syn;
        }
        (void)clamp_tcp_mss(packet, static_cast<std::uint32_t>(size(rng) * 12));
    }
}
