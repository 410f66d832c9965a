#include "tunnel/traffic_class.hpp"

#include "gre/gre.hpp"
#include "net/byte_order.hpp"
#include "net/headers.hpp"

namespace mesh::tunnel {

namespace {
// GRE's C, K and S flags each add a 4-byte field (RFC 2784 section 2.1, RFC 2890).
constexpr std::uint8_t gre_checksum_bit = 0x80;
constexpr std::uint8_t gre_key_bit = 0x20;
constexpr std::uint8_t gre_sequence_bit = 0x10;

bool network_control(std::uint8_t dscp) noexcept
{
    return dscp == dscp_cs6 || dscp == dscp_cs7;
}

// The IP packet inside a GRE packet, without verifying a GRE checksum (what
// decapsulation does later): empty when the header is not whole.
std::span<const std::uint8_t> gre_payload(std::span<const std::uint8_t> gre_packet) noexcept
{
    if (gre_packet.size() < 4)
        return {};
    const std::uint8_t flags = gre_packet[0];
    const std::size_t header = 4 + ((flags & gre_checksum_bit) != 0 ? 4 : 0) + ((flags & gre_key_bit) != 0 ? 4 : 0) +
                               ((flags & gre_sequence_bit) != 0 ? 4 : 0);
    const std::uint16_t protocol = net::load_be16(gre_packet.data() + 2);
    if (header > gre_packet.size() || (protocol != gre::ethertype_ipv4 && protocol != gre::ethertype_ipv6))
        return {};
    return gre_packet.subspan(header);
}

// Whether an IP packet (a whole fixed header of its version) is a TCP
// segment without data, SYN, FIN or RST. A TCP header cut before its flags
// counts as one: unreadable is bulk, as the steering program's short loads
// make it.
bool pure_tcp_ack(std::span<const std::uint8_t> packet) noexcept
{
    const bool v4 = packet[0] >> 4 == 4;
    const std::size_t ip_header = v4 ? std::size_t{packet[0] & 0x0fu} * 4 : net::ipv6_header_bytes;
    if (packet[v4 ? 9 : 6] != net::protocol_tcp)   // IPv4 protocol, IPv6 next header
        return false;
    if (packet.size() < ip_header + 14)   // through TCP's data offset (byte 12) and flags (13)
        return true;
    // IPv4's total length counts its header, IPv6's payload length does not.
    const std::size_t segment = net::load_be16(packet.data() + (v4 ? 2 : 4)) - (v4 ? ip_header : 0);
    const std::size_t tcp_header = (std::size_t{packet[ip_header + 12]} >> 4) * 4;
    return segment == tcp_header && (packet[ip_header + 13] & tcp_fin_syn_rst) == 0;
}

// The IP packet an ESP payload carries; empty when there is none.
std::span<const std::uint8_t> carried_packet(std::span<const std::uint8_t> payload, std::uint8_t next_header) noexcept
{
    if (next_header == net::protocol_ipv4 || next_header == net::protocol_ipv6)
        return payload;
    return next_header == net::protocol_gre ? gre_payload(payload) : std::span<const std::uint8_t>{};
}
} // namespace

std::optional<std::uint8_t> ip_dscp(std::span<const std::uint8_t> packet) noexcept
{
    if (packet.empty())
        return std::nullopt;
    const unsigned version = packet[0] >> 4;
    if (version == 4 && packet.size() >= net::ipv4_header_bytes && (packet[0] & 0x0fu) >= 5)
        return static_cast<std::uint8_t>(packet[1] >> 2);
    if (version == 6 && packet.size() >= net::ipv6_header_bytes)
        return static_cast<std::uint8_t>(((packet[0] & 0x0fu) << 2) | (packet[1] >> 6));
    return std::nullopt;
}

std::optional<std::uint8_t> payload_dscp(std::span<const std::uint8_t> payload, std::uint8_t next_header) noexcept
{
    return ip_dscp(carried_packet(payload, next_header));
}

TrafficClass classify(std::span<const std::uint8_t> payload, std::uint8_t next_header) noexcept
{
    const auto packet = carried_packet(payload, next_header);
    const auto dscp = ip_dscp(packet);
    if (!dscp)
        return TrafficClass::bulk;
    if (network_control(*dscp))
        return TrafficClass::priority;
    return packet.size() <= small_packet_bytes && !pure_tcp_ack(packet) ? TrafficClass::priority : TrafficClass::bulk;
}

} // namespace mesh::tunnel
