#include "tunnel/inner_packet.hpp"

#include "gre/checksum.hpp"
#include "net/byte_order.hpp"
#include "net/headers.hpp"

namespace mesh::tunnel {

std::optional<TransportPacket> parse_transport(std::span<const std::uint8_t> packet) noexcept
{
    TransportPacket t;
    if (packet.empty())
        return std::nullopt;
    t.version = packet[0] >> 4;
    if (t.version == 4) {
        if (packet.size() < net::ipv4_header_bytes)
            return std::nullopt;
        t.l4_offset = std::size_t{packet[0] & 0x0fu} * 4;
        t.size = net::load_be16(&packet[2]);
        t.protocol = packet[9];
        // MF set or a fragment offset: not a whole transport packet.
        if ((net::load_be16(&packet[6]) & 0x3fff) != 0 || t.l4_offset < net::ipv4_header_bytes)
            return std::nullopt;
    } else if (t.version == 6) {
        if (packet.size() < net::ipv6_header_bytes)
            return std::nullopt;
        t.l4_offset = net::ipv6_header_bytes;
        t.size = net::ipv6_header_bytes + net::load_be16(&packet[4]);
        t.protocol = packet[6];
    } else {
        return std::nullopt;
    }
    if (t.size > packet.size() || t.size < t.l4_offset)
        return std::nullopt;
    const auto l4 = packet.subspan(t.l4_offset, t.size - t.l4_offset);
    if (t.protocol == protocol_tcp) {
        if (l4.size() < net::tcp_min_header_bytes)
            return std::nullopt;
        t.l4_header = static_cast<std::size_t>(l4[12] >> 4) * 4;
        if (t.l4_header < net::tcp_min_header_bytes || t.l4_header > l4.size())
            return std::nullopt;
    } else if (t.protocol == protocol_udp) {
        if (l4.size() < net::udp_header_bytes)
            return std::nullopt;
        t.l4_header = net::udp_header_bytes;
    } else {
        return std::nullopt;
    }
    return t;
}

std::uint16_t pseudo_header_sum(std::span<const std::uint8_t> packet, const TransportPacket& transport,
                                std::size_t l4_bytes) noexcept
{
    // RFC 9293 section 3.1: source, destination, zero, protocol, TCP length.
    // RFC 8200 section 8.1: source, destination, 32-bit length, 24 zero bits, next header.
    const bool v4 = transport.version == 4;
    const auto addresses = v4 ? packet.subspan(12, 8) : packet.subspan(8, 32);
    return gre::ones_complement_sum(addresses, transport.protocol + static_cast<std::uint32_t>(l4_bytes));
}

void write_transport_checksum(std::span<std::uint8_t> packet, const TransportPacket& transport,
                              std::size_t l4_bytes) noexcept
{
    const bool tcp = transport.protocol == protocol_tcp;
    std::uint8_t* field = packet.data() + transport.l4_offset + (tcp ? net::tcp_checksum_offset : net::udp_checksum_offset);
    net::store_be16(field, 0);
    const std::uint16_t sum =
        gre::ones_complement_sum(packet.subspan(transport.l4_offset, l4_bytes), pseudo_header_sum(packet, transport, l4_bytes));
    const auto checksum = static_cast<std::uint16_t>(~sum);
    net::store_be16(field, !tcp && checksum == 0 ? 0xffff : checksum);
}

void write_ipv4_checksum(std::span<std::uint8_t> header) noexcept
{
    net::store_be16(header.data() + 10, 0);
    net::store_be16(header.data() + 10, gre::internet_checksum(header));
}

bool complete_checksum(std::span<std::uint8_t> packet, std::size_t csum_start, std::size_t csum_offset) noexcept
{
    if (csum_start > packet.size() || csum_offset + 2 > packet.size() - csum_start)
        return false;
    const auto checksum = static_cast<std::uint16_t>(~gre::ones_complement_sum(packet.subspan(csum_start)));
    net::store_be16(packet.data() + csum_start + csum_offset, checksum == 0 ? 0xffff : checksum);
    return true;
}

} // namespace mesh::tunnel
