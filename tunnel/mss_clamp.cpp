// TCP MSS clamping: find the TCP header behind the IP header, the MSS option
// among the SYN's options, lower it, patch the checksum.
//
//   TCP header (RFC 9293 section 3.1), the fields we use:
//   byte 12: Data Offset (high 4 bits)   byte 13: flags, SYN = 0x02
//   bytes 16-17: Checksum                bytes 20..4*Data Offset: options
//   MSS option (RFC 9293 section 3.2): kind 2, length 4, 16-bit MSS

#include "tunnel/mss_clamp.hpp"

#include "gre/checksum.hpp"
#include "net/byte_order.hpp"
#include "net/headers.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>

namespace mesh::tunnel {
namespace {

constexpr std::uint8_t tcp_flag_syn = 0x02;
constexpr std::uint8_t option_eol = 0;
constexpr std::uint8_t option_nop = 1;
constexpr std::uint8_t option_mss = 2;
constexpr std::uint8_t option_mss_length = 4;

// The TCP segment inside an IPv4 packet, or an empty span when there is none
// whose header we may read.
std::span<std::uint8_t> ipv4_tcp_segment(std::span<std::uint8_t> packet) noexcept
{
    if (packet.size() < net::ipv4_header_bytes) {
        return {};
    }
    const std::size_t header_length = std::size_t{packet[0] & 0x0fU} * 4;
    const std::size_t total_length = net::load_be16(&packet[2]);
    const std::uint16_t fragment_offset = net::load_be16(&packet[6]) & 0x1fff;
    // Fragments after the first carry no TCP header.
    if (packet[9] != net::protocol_tcp || fragment_offset != 0 || header_length < net::ipv4_header_bytes
        || total_length < header_length || total_length > packet.size()) {
        return {};
    }
    return packet.subspan(header_length, total_length - header_length);
}

// The TCP segment of an IPv6 packet whose Next Header is TCP; extension
// headers in between are not walked (TCP SYNs practically never carry them).
std::span<std::uint8_t> ipv6_tcp_segment(std::span<std::uint8_t> packet) noexcept
{
    if (packet.size() < net::ipv6_header_bytes) {
        return {};
    }
    // A Payload Length of 0 announces a jumbogram (RFC 2675): not ours to parse.
    const std::size_t payload_length = net::load_be16(&packet[4]);
    if (packet[6] != net::protocol_tcp || payload_length == 0 || payload_length > packet.size() - net::ipv6_header_bytes) {
        return {};
    }
    return packet.subspan(net::ipv6_header_bytes, payload_length);
}

// Lowers every MSS option above max_mss (normally there is one, RFC 9293
// section 3.7.1) and keeps the TCP checksum right.
bool clamp_options(std::span<std::uint8_t> segment, std::uint16_t max_mss) noexcept
{
    if (segment.size() < net::tcp_min_header_bytes || (segment[13] & tcp_flag_syn) == 0) {
        return false;
    }
    const std::size_t data_offset = static_cast<std::size_t>(segment[12] >> 4) * 4;
    if (data_offset < net::tcp_min_header_bytes || data_offset > segment.size()) {
        return false;
    }
    bool changed = false;
    std::size_t i = net::tcp_min_header_bytes;
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
            const std::uint16_t mss = net::load_be16(&segment[i + 2]);
            if (mss > max_mss) {
                net::store_be16(&segment[i + 2], max_mss);
                // A field at an odd offset from the start of the summed data
                // adds its bytes swapped (RFC 1071 section 2(B)); the TCP
                // header starts the summed data after the even-sized pseudo-header.
                const bool odd = ((i + 2) & 1U) != 0;
                const auto swap = [odd](std::uint16_t v) { return odd ? std::byteswap(v) : v; };
                std::uint8_t* checksum = &segment[net::tcp_checksum_offset];
                net::store_be16(checksum, gre::checksum_update(net::load_be16(checksum), swap(mss), swap(max_mss)));
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
        ip_header = net::ipv4_header_bytes;
    } else if (version == 6) {
        segment = ipv6_tcp_segment(packet);
        ip_header = net::ipv6_header_bytes;
    } else {
        return false;
    }
    const std::size_t overhead = ip_header + net::tcp_min_header_bytes;
    if (segment.empty() || mtu <= overhead) {
        return false;
    }
    const auto max_mss = static_cast<std::uint16_t>(std::min<std::size_t>(mtu - overhead, 0xffff));
    return clamp_options(segment, max_mss);
}

} // namespace mesh::tunnel
