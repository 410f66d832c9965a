// libFuzzer target: a TUN read with its virtio-net header into the GSO
// segmenter (plan_segments, write_segment), every segment checked; a read
// without GSO but with NEEDS_CSUM into complete_checksum, as the outbound
// thread does.
//
//   input = virtio-net header (10 bytes, as the TUN writes it: flags,
//           gso_type, then hdr_len, gso_size, csum_start, csum_offset in the
//           host's byte order) || the packet (at most max_ip_packet bytes,
//           as the outbound read takes it)
//
// Each segment goes into a fixed send batch, into a slot of exactly the size
// the plan gave, followed by guard bytes. What tunnel/gso_segmenter.hpp
// promises is checked, __builtin_trap() when broken:
//   - a packet is refused only for a reason the header comment names;
//   - every segment is at most headers + gso_size bytes and writes nothing
//     outside its slot;
//   - it parses as the super-packet does, its IP and UDP lengths are its own,
//     IPv4 ID + i, TCP seq + i * gso_size, PSH and FIN only on the last
//     segment, CWR only on the first, every other header byte as sent;
//   - the payloads, in order, are exactly the super-packet's payload;
//   - the IPv4 header and TCP/UDP checksums verify with the naive sum of
//     tests/tunnel/inner_packets.hpp;
//   - NEEDS_CSUM: refused only when the field lies outside the packet, else
//     only the field changed, and the bytes from csum_start on, with the
//     sum the field held before (the pseudo-header's), sum to 0xffff when
//     csum_offset is even (the kernel gives 16 or 6; at an odd offset the
//     field is no 16-bit word of the sum, and the kernel's own
//     skb_checksum_help stores no verifying checksum there either).

#include "net/byte_order.hpp"
#include "tests/tunnel/inner_packets.hpp"
#include "tunnel/gso_segmenter.hpp"
#include "tunnel/offload_limits.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace {

using namespace mesh::tunnel;
namespace net = mesh::net;

constexpr std::uint8_t tcp_fin = 0x01;
constexpr std::uint8_t tcp_psh = 0x08;
constexpr std::uint8_t tcp_cwr = 0x80;
constexpr std::size_t guard_bytes = 16;
constexpr std::uint8_t guard = 0xa5;

void require(bool invariant)
{
    if (!invariant)
        __builtin_trap();
}

bool same(const std::uint8_t* a, const std::uint8_t* b, std::size_t from, std::size_t to)
{
    return std::memcmp(a + from, b + from, to - from) == 0;
}

// Whether the header comment allows refusing this packet.
bool refusable(std::span<const std::uint8_t> packet, const VirtioNetHeader& header)
{
    const auto t = parse_transport(packet);
    if (!t || t->size != packet.size() || header.gso_size == 0 || t->size == t->l4_offset + t->l4_header)
        return true;
    switch (header.gso_type & ~VirtioNetHeader::gso_ecn) {
    case VirtioNetHeader::gso_tcpv4: return t->version != 4 || t->protocol != protocol_tcp;
    case VirtioNetHeader::gso_tcpv6: return t->version != 6 || t->protocol != protocol_tcp;
    case VirtioNetHeader::gso_udp_l4: return t->protocol != protocol_udp;
    default: return true;
    }
}

void check_segment(std::span<const std::uint8_t> packet, const GsoPlan& plan, std::size_t index,
                   std::span<const std::uint8_t> segment)
{
    const TransportPacket& t = plan.transport;
    const auto parsed = parse_transport(segment);
    require(parsed && parsed->size == segment.size() && parsed->version == t.version &&
            parsed->protocol == t.protocol && parsed->l4_offset == t.l4_offset && parsed->l4_header == t.l4_header);
    const std::uint8_t* in = packet.data();
    const std::uint8_t* out = segment.data();
    if (t.version == 4) {
        require(net::load_be16(out + 2) == segment.size());
        require(net::load_be16(out + 4) == static_cast<std::uint16_t>(net::load_be16(in + 4) + index));
        require(same(in, out, 0, 2) && same(in, out, 6, 10) && same(in, out, 12, t.l4_offset));
        require(mesh::test::ipv4_checksum_ok(segment));
    } else {
        require(net::load_be16(out + 4) == segment.size() - t.l4_offset);
        require(same(in, out, 0, 4) && same(in, out, 6, 40));
    }
    const std::uint8_t* l4_in = in + t.l4_offset;
    const std::uint8_t* l4_out = out + t.l4_offset;
    require(same(l4_in, l4_out, 0, 4));   // ports
    if (t.protocol == protocol_tcp) {
        require(net::load_be32(l4_out + 4) == net::load_be32(l4_in + 4) + static_cast<std::uint32_t>(index * plan.segment_payload));
        std::uint8_t flags = l4_in[13];
        if (index + 1 < plan.count)
            flags &= static_cast<std::uint8_t>(~(tcp_fin | tcp_psh));
        if (index > 0)
            flags &= static_cast<std::uint8_t>(~tcp_cwr);
        require(l4_out[13] == flags);
        require(same(l4_in, l4_out, 8, 13) && same(l4_in, l4_out, 14, 16) && same(l4_in, l4_out, 18, t.l4_header));
    } else {
        require(net::load_be16(l4_out + 4) == segment.size() - t.l4_offset);
    }
    require(mesh::test::transport_checksum_ok(segment));
    const std::size_t offset = index * plan.segment_payload;
    const std::size_t payload = segment.size() - plan.headers;
    require(std::memcmp(out + plan.headers, in + plan.headers + offset, payload) == 0);
}

void check_completed(std::span<const std::uint8_t> packet, const VirtioNetHeader& header, std::span<std::uint8_t> out)
{
    std::memcpy(out.data(), packet.data(), packet.size());
    const std::size_t start = header.csum_start;
    const std::size_t field = start + header.csum_offset;
    if (!complete_checksum(out, header.csum_start, header.csum_offset)) {
        require(field + 2 > packet.size());
        require(std::memcmp(out.data(), packet.data(), packet.size()) == 0);
        return;
    }
    require(field + 2 <= packet.size());
    require(same(packet.data(), out.data(), 0, field) && same(packet.data(), out.data(), field + 2, packet.size()));
    if (header.csum_offset % 2 == 0)
        require(mesh::test::naive_sum(out.subspan(start), net::load_be16(&packet[field])) == 0xffff);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // The send batch a worker writes segments into, slot after slot.
    static auto* const batch = new std::array<std::uint8_t, 4 * (max_ip_packet + guard_bytes)>;
    if (size < VirtioNetHeader::size || size - VirtioNetHeader::size > max_ip_packet)
        return 0;
    const auto header = VirtioNetHeader::load(std::span<const std::uint8_t, VirtioNetHeader::size>(data, VirtioNetHeader::size));
    const std::span<const std::uint8_t> packet(data + VirtioNetHeader::size, size - VirtioNetHeader::size);

    if (header.gso_type == VirtioNetHeader::gso_none) {
        if ((header.flags & VirtioNetHeader::needs_csum) != 0)
            check_completed(packet, header, std::span(*batch).first(packet.size()));
        return 0;
    }
    const auto plan = plan_segments(packet, header);
    if (!plan) {
        require(refusable(packet, header));
        return 0;
    }
    require(!refusable(packet, header));
    require(plan->segment_payload == header.gso_size && plan->headers + plan->payload == packet.size() &&
            plan->count == (plan->payload + plan->segment_payload - 1) / plan->segment_payload);

    std::size_t used = 0;
    std::size_t payload = 0;
    for (std::size_t i = 0; i < plan->count; ++i) {
        const std::size_t bytes = plan->segment_size(i);
        require(bytes > plan->headers && bytes <= plan->headers + plan->segment_payload && bytes <= max_ip_packet);
        if (used + bytes + guard_bytes > batch->size())
            used = 0;   // the batch was sent
        const auto slot = std::span(*batch).subspan(used, bytes + guard_bytes);
        std::memset(slot.data() + bytes, guard, guard_bytes);
        require(write_segment(packet, *plan, i, slot.first(bytes)) == bytes);
        for (std::size_t g = 0; g < guard_bytes; ++g)
            require(slot[bytes + g] == guard);
        check_segment(packet, *plan, i, slot.first(bytes));
        payload += bytes - plan->headers;
        used += bytes + guard_bytes;
    }
    require(payload == plan->payload);
    return 0;
}
