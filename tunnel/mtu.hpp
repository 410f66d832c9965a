#pragma once
// The tunnel interface's MTU: the largest inner packet whose ESP-in-UDP
// datagram still fits the underlay path MTU.
//
//   outer datagram = IP header | UDP (RFC 3948) | ESP header | IV
//                    | GRE header (mode gre) | inner packet
//                    | padding | pad length | next header | ICV
//                      \__ GRE + inner + padding + 2 is a multiple of the
//                          cipher's block_bytes: 16 for AES-CBC, and 4 for the
//                          AEADs, ESP's own alignment (RFC 4303 section 2.4)

#include "gre/gre.hpp"
#include "net/headers.hpp"
#include "tunnel/esp_algorithm.hpp"

#include <cstddef>
#include <cstdint>

namespace mesh::tunnel {

inline constexpr std::uint32_t default_path_mtu = 1500;      // Ethernet underlay
inline constexpr std::size_t esp_header_bytes = 8;           // SPI and sequence number, RFC 4303 section 2
inline constexpr std::size_t esp_trailer_bytes = 2;          // pad length and next header, RFC 4303 section 2.4

// Everything a tunnel adds around an inner packet.
struct TunnelOverhead {
    std::size_t underlay_ip_header = net::ipv4_header_bytes;    // net::ipv6_header_bytes over IPv6
    bool udp_encapsulation = true;                         // false: plain ESP (encapsulation "auto", no NAT)
    std::size_t gre_header = gre::header_length({});       // mode gre: 4 without key, sequence, checksum; mode ip: 0
    EspCipher cipher = EspCipher::aes128_gcm;
    EspIntegrity integrity = EspIntegrity::none;           // ignored for AEAD ciphers, whose ICV is their own
};

// Size of the outer IP datagram carrying an inner packet of inner_size bytes,
// with the least padding ESP allows.
[[nodiscard]] std::size_t outer_packet_size(std::size_t inner_size, const TunnelOverhead& overhead) noexcept;

// The largest inner packet size whose outer datagram is at most path_mtu:
// path_mtu minus the overhead, rounded so the padding fits, never above. So
// outer_packet_size(result) <= path_mtu < outer_packet_size(result + 1), with
// the gap below path_mtu under one cipher block. 0 if no inner byte fits.
[[nodiscard]] std::uint32_t tunnel_mtu(std::uint32_t path_mtu, const TunnelOverhead& overhead) noexcept;

} // namespace mesh::tunnel
