#pragma once
// The NAT-T port, shared by the control thread and the workers: one UDP
// socket each in an SO_REUSEPORT group, and a classic BPF program that picks
// the socket of every datagram the kernel receives (RFC 3948 section 2.2):
//
//   shorter than 4 bytes (a NAT keepalive), or 4 zero bytes (the non-ESP
//   marker: IKE)                                  -> the control socket
//   ESP, by its SPI                               -> worker SPI % workers
//
// IKE thus waits in the control socket's own buffer, where an overflow is a
// kernel drop (kernel_drops, udp_socket.hpp), never in a queue between threads; ESP of
// one SA always reaches the same worker, which keeps its anti-replay window
// and cipher state to one writer.

#include "net/ip_address.hpp"
#include "tunnel/udp_socket.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace mesh::tunnel {

inline constexpr std::size_t max_workers = 64;

// The worker whose socket ESP with this SPI reaches.
[[nodiscard]] constexpr std::size_t steered_worker(std::uint32_t spi, std::size_t workers) noexcept
{
    return spi % workers;
}

struct SteeredSockets {
    std::unique_ptr<UdpSocket> control;
    std::vector<std::unique_ptr<UdpSocket>> workers;
};

// Binds the control socket and then one socket per worker on `local` (port
// 0: the port the first one got), in that order, which is their index in
// the group, and attaches the program; throws std::system_error.
[[nodiscard]] SteeredSockets bind_steered(const net::Endpoint& local, std::size_t workers);

} // namespace mesh::tunnel
