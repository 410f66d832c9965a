#pragma once
// Inner IPv4/IPv6 TCP and UDP packets for the offload tests, built field by
// field, and a deliberately naive RFC 1071 checksum to check ours against.

#include "net/byte_order.hpp"
#include "tunnel/inner_packet.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace mesh::test {

struct PacketSpec {
    bool v6 = false;
    std::uint8_t protocol = tunnel::protocol_tcp;
    std::uint8_t tos = 0;                   // IPv4 TOS / IPv6 traffic class
    std::uint8_t ttl = 64;
    std::uint16_t id = 0x1234;              // IPv4 identification
    std::uint16_t source_port = 40000;
    std::uint16_t destination_port = 5201;
    std::uint32_t seq = 1000;
    std::uint32_t ack = 7000;
    std::uint8_t flags = 0x10;              // ACK
    std::uint16_t window = 512;
    std::vector<std::uint8_t> options;      // TCP options, a multiple of 4 bytes
    std::vector<std::uint8_t> payload;
};

// The 16-bit words added one by one, carries folded as they come.
inline std::uint16_t naive_sum(std::span<const std::uint8_t> bytes, std::uint32_t sum = 0)
{
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
        const std::uint32_t low = i + 1 < bytes.size() ? bytes[i + 1] : 0;
        sum += std::uint32_t{bytes[i]} << 8 | low;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}

inline std::size_t ip_header_bytes(std::span<const std::uint8_t> packet)
{
    return packet[0] >> 4 == 4 ? std::size_t{packet[0] & 0x0fu} * 4 : 40;
}

// Whether the transport checksum verifies: the sum over pseudo-header and
// segment, checksum included, is 0xffff.
inline bool transport_checksum_ok(std::span<const std::uint8_t> packet)
{
    const bool v4 = packet[0] >> 4 == 4;
    const std::size_t l3 = ip_header_bytes(packet);
    const std::size_t l4_bytes = packet.size() - l3;
    std::vector<std::uint8_t> pseudo;
    if (v4)
        pseudo.assign(packet.begin() + 12, packet.begin() + 20);
    else
        pseudo.assign(packet.begin() + 8, packet.begin() + 40);
    const std::uint8_t protocol = v4 ? packet[9] : packet[6];
    pseudo.insert(pseudo.end(), {0, 0, static_cast<std::uint8_t>(l4_bytes >> 8), static_cast<std::uint8_t>(l4_bytes), 0,
                                 0, 0, protocol});
    return naive_sum(packet.subspan(l3), naive_sum(pseudo)) == 0xffff;
}

inline bool ipv4_checksum_ok(std::span<const std::uint8_t> packet)
{
    return naive_sum(packet.first(ip_header_bytes(packet))) == 0xffff;
}

inline std::vector<std::uint8_t> build_packet(const PacketSpec& s)
{
    const std::size_t l3 = s.v6 ? 40 : 20;
    const bool tcp = s.protocol == tunnel::protocol_tcp;
    const std::size_t l4_header = tcp ? 20 + s.options.size() : 8;
    std::vector<std::uint8_t> p(l3 + l4_header + s.payload.size());
    const std::size_t l4_bytes = p.size() - l3;
    if (s.v6) {
        p[0] = static_cast<std::uint8_t>(0x60 | s.tos >> 4);
        p[1] = static_cast<std::uint8_t>(s.tos << 4);
        net::store_be16(&p[4], static_cast<std::uint16_t>(l4_bytes));
        p[6] = s.protocol;
        p[7] = s.ttl;
        const std::uint8_t source[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        const std::uint8_t destination[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
        std::copy(std::begin(source), std::end(source), p.begin() + 8);
        std::copy(std::begin(destination), std::end(destination), p.begin() + 24);
    } else {
        p[0] = 0x45;
        p[1] = s.tos;
        net::store_be16(&p[2], static_cast<std::uint16_t>(p.size()));
        net::store_be16(&p[4], s.id);
        p[6] = 0x40;   // DF
        p[8] = s.ttl;
        p[9] = s.protocol;
        const std::uint8_t addresses[8] = {10, 1, 0, 2, 10, 2, 0, 2};
        std::copy(std::begin(addresses), std::end(addresses), p.begin() + 12);
    }
    std::uint8_t* l4 = p.data() + l3;
    net::store_be16(l4, s.source_port);
    net::store_be16(l4 + 2, s.destination_port);
    if (tcp) {
        net::store_be32(l4 + 4, s.seq);
        net::store_be32(l4 + 8, s.ack);
        l4[12] = static_cast<std::uint8_t>(l4_header / 4 << 4);
        l4[13] = s.flags;
        net::store_be16(l4 + 14, s.window);
        std::copy(s.options.begin(), s.options.end(), l4 + 20);
    } else {
        net::store_be16(l4 + 4, static_cast<std::uint16_t>(l4_bytes));
    }
    std::copy(s.payload.begin(), s.payload.end(), l4 + l4_header);
    const auto transport = tunnel::parse_transport(p);
    tunnel::write_transport_checksum(p, *transport, l4_bytes);
    if (!s.v6)
        tunnel::write_ipv4_checksum(std::span(p).first(20));
    return p;
}

inline std::vector<std::uint8_t> counting_payload(std::size_t n, std::uint8_t start = 0)
{
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<std::uint8_t>(start + i * 7 + i / 251);
    return v;
}

// TCP timestamps (kind 8) behind two NOPs, as Linux sends them.
inline std::vector<std::uint8_t> timestamp_option(std::uint32_t value, std::uint32_t echo)
{
    std::vector<std::uint8_t> o{1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0};
    net::store_be32(&o[4], value);
    net::store_be32(&o[8], echo);
    return o;
}

} // namespace mesh::test
