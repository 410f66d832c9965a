#include "tunnel/inner_packet.hpp"

#include "gre/checksum.hpp"

namespace mesh::tunnel {

namespace {
constexpr std::size_t ipv4_min_header = 20;
constexpr std::size_t ipv6_header = 40;
constexpr std::size_t tcp_min_header = 20;
constexpr std::size_t udp_header = 8;
constexpr std::size_t tcp_checksum_offset = 16;
constexpr std::size_t udp_checksum_offset = 6;
} // namespace

std::optional<TransportPacket> parse_transport(std::span<const std::uint8_t> packet) noexcept
{
    TransportPacket t;
    if (packet.empty())
        return std::nullopt;
    t.version = packet[0] >> 4;
    if (t.version == 4) {
        if (packet.size() < ipv4_min_header)
            return std::nullopt;
        t.l4_offset = std::size_t{packet[0] & 0x0fu} * 4;
        t.size = load_be16(&packet[2]);
        t.protocol = packet[9];
        // MF set or a fragment offset: not a whole transport packet.
        if ((load_be16(&packet[6]) & 0x3fff) != 0 || t.l4_offset < ipv4_min_header)
            return std::nullopt;
    } else if (t.version == 6) {
        if (packet.size() < ipv6_header)
            return std::nullopt;
        t.l4_offset = ipv6_header;
        t.size = ipv6_header + load_be16(&packet[4]);
        t.protocol = packet[6];
    } else {
        return std::nullopt;
    }
    if (t.size > packet.size() || t.size < t.l4_offset)
        return std::nullopt;
    const auto l4 = packet.subspan(t.l4_offset, t.size - t.l4_offset);
    if (t.protocol == protocol_tcp) {
        if (l4.size() < tcp_min_header)
            return std::nullopt;
        t.l4_header = static_cast<std::size_t>(l4[12] >> 4) * 4;
        if (t.l4_header < tcp_min_header || t.l4_header > l4.size())
            return std::nullopt;
    } else if (t.protocol == protocol_udp) {
        if (l4.size() < udp_header)
            return std::nullopt;
        t.l4_header = udp_header;
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
    std::uint8_t* field = packet.data() + transport.l4_offset + (tcp ? tcp_checksum_offset : udp_checksum_offset);
    store_be16(field, 0);
    const std::uint16_t sum =
        gre::ones_complement_sum(packet.subspan(transport.l4_offset, l4_bytes), pseudo_header_sum(packet, transport, l4_bytes));
    const auto checksum = static_cast<std::uint16_t>(~sum);
    store_be16(field, !tcp && checksum == 0 ? 0xffff : checksum);
}

void write_ipv4_checksum(std::span<std::uint8_t> header) noexcept
{
    store_be16(header.data() + 10, 0);
    store_be16(header.data() + 10, gre::internet_checksum(header));
}

bool complete_checksum(std::span<std::uint8_t> packet, std::size_t csum_start, std::size_t csum_offset) noexcept
{
    if (csum_start > packet.size() || csum_offset + 2 > packet.size() - csum_start)
        return false;
    const auto checksum = static_cast<std::uint16_t>(~gre::ones_complement_sum(packet.subspan(csum_start)));
    store_be16(packet.data() + csum_start + csum_offset, checksum == 0 ? 0xffff : checksum);
    return true;
}

} // namespace mesh::tunnel
