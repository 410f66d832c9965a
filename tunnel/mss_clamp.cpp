// TCP MSS clamping: find the TCP header behind the IP header, the MSS option
// among the SYN's options, lower it, patch the checksum.
//
//   TCP header (RFC 9293 section 3.1), the fields we use:
//   byte 12: Data Offset (high 4 bits)   byte 13: flags, SYN = 0x02
//   bytes 16-17: Checksum                bytes 20..4*Data Offset: options
//   MSS option (RFC 9293 section 3.2): kind 2, length 4, 16-bit MSS

#include "tunnel/mss_clamp.hpp"

#include "gre/checksum.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>

namespace mesh::tunnel {
namespace {

constexpr std::uint8_t protocol_tcp = 6;
constexpr std::size_t ipv4_min_header = 20;
constexpr std::size_t ipv6_header = 40;
constexpr std::size_t tcp_min_header = 20;
constexpr std::uint8_t tcp_flag_syn = 0x02;
constexpr std::size_t tcp_checksum_offset = 16;
constexpr std::uint8_t option_eol = 0;
constexpr std::uint8_t option_nop = 1;
constexpr std::uint8_t option_mss = 2;
constexpr std::uint8_t option_mss_length = 4;

std::uint16_t load16(const std::uint8_t* p) noexcept
{
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

void store16(std::uint8_t* p, std::uint16_t v) noexcept
{
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

// The TCP segment inside an IPv4 packet, or an empty span when there is none
// whose header we may read.
std::span<std::uint8_t> ipv4_tcp_segment(std::span<std::uint8_t> packet) noexcept
{
    if (packet.size() < ipv4_min_header) {
        return {};
    }
    const std::size_t header_length = std::size_t{packet[0] & 0x0fU} * 4;
    const std::size_t total_length = load16(&packet[2]);
    const std::uint16_t fragment_offset = load16(&packet[6]) & 0x1fff;
    // Fragments after the first carry no TCP header.
    if (packet[9] != protocol_tcp || fragment_offset != 0 || header_length < ipv4_min_header
        || total_length < header_length || total_length > packet.size()) {
        return {};
    }
    return packet.subspan(header_length, total_length - header_length);
}

// The TCP segment of an IPv6 packet whose Next Header is TCP; extension
// headers in between are not walked (TCP SYNs practically never carry them).
std::span<std::uint8_t> ipv6_tcp_segment(std::span<std::uint8_t> packet) noexcept
{
    if (packet.size() < ipv6_header) {
        return {};
    }
    // A Payload Length of 0 announces a jumbogram (RFC 2675): not ours to parse.
    const std::size_t payload_length = load16(&packet[4]);
    if (packet[6] != protocol_tcp || payload_length == 0 || payload_length > packet.size() - ipv6_header) {
        return {};
    }
    return packet.subspan(ipv6_header, payload_length);
}

// Lowers every MSS option above max_mss (normally there is one, RFC 9293
// section 3.7.1) and keeps the TCP checksum right.
bool clamp_options(std::span<std::uint8_t> segment, std::uint16_t max_mss) noexcept
{
    if (segment.size() < tcp_min_header || (segment[13] & tcp_flag_syn) == 0) {
        return false;
    }
    const std::size_t data_offset = static_cast<std::size_t>(segment[12] >> 4) * 4;
    if (data_offset < tcp_min_header || data_offset > segment.size()) {
        return false;
    }
    bool changed = false;
    std::size_t i = tcp_min_header;
    while (i < data_offset) {
        const std::uint8_t kind = segment[i];
        if (kind == option_eol) {
            break;
        }
        if (kind == option_nop) {
            ++i;
            continue;
        }
        if (i + 1 >= data_offset) {
            break;
        }
        const std::size_t length = segment[i + 1];
        if (length < 2 || length > data_offset - i) {
            break;
        }
        if (kind == option_mss && length == option_mss_length) {
            const std::uint16_t mss = load16(&segment[i + 2]);
            if (mss > max_mss) {
                store16(&segment[i + 2], max_mss);
                // A field at an odd offset from the start of the summed data
                // adds its bytes swapped (RFC 1071 section 2(B)); the TCP
                // header starts the summed data after the even-sized pseudo-header.
                const bool odd = ((i + 2) & 1U) != 0;
                const auto swap = [odd](std::uint16_t v) { return odd ? std::byteswap(v) : v; };
                std::uint8_t* checksum = &segment[tcp_checksum_offset];
                store16(checksum, gre::checksum_update(load16(checksum), swap(mss), swap(max_mss)));
                changed = true;
            }
        }
        i += length;
    }
    return changed;
}

} // namespace

bool clamp_tcp_mss(std::span<std::uint8_t> packet, std::uint32_t mtu) noexcept
{
    if (packet.empty()) {
        return false;
    }
    const unsigned version = packet[0] >> 4;
    std::span<std::uint8_t> segment;
    std::size_t ip_header = 0;
    if (version == 4) {
        segment = ipv4_tcp_segment(packet);
        ip_header = ipv4_min_header;
    } else if (version == 6) {
        segment = ipv6_tcp_segment(packet);
        ip_header = ipv6_header;
    } else {
        return false;
    }
    const std::size_t overhead = ip_header + tcp_min_header;
    if (segment.empty() || mtu <= overhead) {
        return false;
    }
    const auto max_mss = static_cast<std::uint16_t>(std::min<std::size_t>(mtu - overhead, 0xffff));
    return clamp_options(segment, max_mss);
}

} // namespace mesh::tunnel
