#pragma once
// The NAT-T port, shared by the control thread and the workers: one UDP
// socket each in an SO_REUSEPORT group, two per worker, and a classic BPF
// program that picks the socket of every datagram the kernel receives
// (RFC 3948 section 2.2):
//
//   shorter than 4 bytes (a NAT keepalive), or 4 zero bytes (the non-ESP
//   marker: IKE)                                  -> the control socket
//   ESP of at most priority_esp_bytes, by its SPI -> worker SPI % workers,
//                                                    its priority socket
//   other ESP, by its SPI                         -> worker SPI % workers,
//                                                    its bulk socket
//
// IKE thus waits in the control socket's own buffer, where an overflow is a
// kernel drop (kernel_drops, udp_socket.hpp), never in a queue between threads; ESP of
// one SA always reaches the same worker, which keeps its anti-replay window
// and cipher state to one writer. A ping, BFD or OSPF hello waits in the
// priority socket behind other small datagrams only, not behind megabytes of
// bulk (docs/data-plane.md, "The priority socket").

#include "gre/gre.hpp"
#include "net/ip_address.hpp"
#include "tunnel/traffic_class.hpp"
#include "tunnel/udp_socket.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace mesh::tunnel {

inline constexpr std::size_t max_workers = 64;

// The most ESP adds to a payload with the transforms of esp_algorithm.hpp:
// AES-CBC with HMAC-SHA-512-256 (RFC 3602, RFC 4868): header 8, IV 16,
// padding up to 15 to a whole block, trailer 2, ICV 32.
inline constexpr std::size_t max_esp_overhead_bytes = 8 + 16 + 15 + 2 + 32;
// The longest ESP datagram (UDP payload) steered to a priority socket: one
// that can carry a small inner packet (traffic_class.hpp) in any transform,
// in the longest GRE header (mode gre). With AES-GCM and plain GRE this lets
// inner packets up to 307 bytes through as well: still small, never bulk
// data of the tunnel's MTU.
inline constexpr std::size_t priority_esp_bytes = small_packet_bytes + gre::max_header_length + max_esp_overhead_bytes;

// The most datagrams one read of a socket with UDP_GRO brings, one GSO or
// GRO super-packet (UDP_MAX_SEGMENTS, 64 before Linux 6.13).
inline constexpr std::size_t max_gro_segments = 128;

// The worker whose socket ESP with this SPI reaches.
[[nodiscard]] constexpr std::size_t steered_worker(std::uint32_t spi, std::size_t workers) noexcept
{
    return spi % workers;
}

struct SteeredSockets {
    std::unique_ptr<UdpSocket> control;
    std::vector<std::unique_ptr<UdpSocket>> workers;    // bulk ESP; the workers' ESP leaves by these
    std::vector<std::unique_ptr<UdpSocket>> priority;   // small ESP, priority[n] for worker n
};

// Binds the control socket, then one bulk socket per worker, then one
// priority socket per worker on `local` (port 0: the port the first one got),
// in that order, which is their index in the group, and attaches the
// program; throws std::system_error.
[[nodiscard]] SteeredSockets bind_steered(const net::Endpoint& local, std::size_t workers);

} // namespace mesh::tunnel
