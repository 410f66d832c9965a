#include "tunnel/gso_segmenter.hpp"

#include "net/byte_order.hpp"

#include <cassert>
#include <cstring>

namespace mesh::tunnel {

namespace {
constexpr std::uint8_t tcp_fin = 0x01;
constexpr std::uint8_t tcp_psh = 0x08;
constexpr std::uint8_t tcp_cwr = 0x80;

bool type_matches(std::uint8_t gso_type, const TransportPacket& t) noexcept
{
    switch (gso_type & ~VirtioNetHeader::gso_ecn) {
    case VirtioNetHeader::gso_tcpv4: return t.version == 4 && t.protocol == protocol_tcp;
    case VirtioNetHeader::gso_tcpv6: return t.version == 6 && t.protocol == protocol_tcp;
    case VirtioNetHeader::gso_udp_l4: return t.protocol == protocol_udp;
    default: return false;
    }
}
} // namespace

std::optional<GsoPlan> plan_segments(std::span<const std::uint8_t> packet, const VirtioNetHeader& header) noexcept
{
    const auto transport = parse_transport(packet);
    if (!transport || transport->size != packet.size() || header.gso_size == 0 ||
        !type_matches(header.gso_type, *transport))
        return std::nullopt;
    GsoPlan plan;
    plan.transport = *transport;
    plan.headers = transport->l4_offset + transport->l4_header;
    plan.segment_payload = header.gso_size;
    plan.payload = packet.size() - plan.headers;
    plan.count = (plan.payload + plan.segment_payload - 1) / plan.segment_payload;
    // No cap on the count: a peer's small MSS makes many small segments of a
    // 64 KiB packet (the TUN's gso_max_segs is 65535), and each goes to the
    // send batch on its own.
    if (plan.count == 0)
        return std::nullopt;
    return plan;
}

std::size_t write_segment(std::span<const std::uint8_t> packet, const GsoPlan& plan, std::size_t index,
                          std::span<std::uint8_t> out) noexcept
{
    const TransportPacket& t = plan.transport;
    const std::size_t offset = index * plan.segment_payload;
    const std::size_t size = plan.segment_size(index);
    assert(index < plan.count && out.size() >= size);
    std::memcpy(out.data(), packet.data(), plan.headers);
    std::memcpy(out.data() + plan.headers, packet.data() + plan.headers + offset, size - plan.headers);

    const auto segment = out.first(size);
    const std::size_t l4_bytes = size - t.l4_offset;
    if (t.version == 4) {
        net::store_be16(&segment[2], static_cast<std::uint16_t>(size));
        net::store_be16(&segment[4], static_cast<std::uint16_t>(net::load_be16(&segment[4]) + index));
        write_ipv4_checksum(segment.first(t.l4_offset));
    } else {
        net::store_be16(&segment[4], static_cast<std::uint16_t>(l4_bytes));
    }
    std::uint8_t* l4 = segment.data() + t.l4_offset;
    if (t.protocol == protocol_tcp) {
        net::store_be32(l4 + 4, net::load_be32(l4 + 4) + static_cast<std::uint32_t>(offset));
        if (index + 1 < plan.count)
            l4[13] &= static_cast<std::uint8_t>(~(tcp_fin | tcp_psh));
        if (index > 0)
            l4[13] &= static_cast<std::uint8_t>(~tcp_cwr);
    } else {
        net::store_be16(l4 + 4, static_cast<std::uint16_t>(l4_bytes));
    }
    write_transport_checksum(segment, t, l4_bytes);
    return size;
}

} // namespace mesh::tunnel
