#pragma once
// The ESP-in-UDP socket (RFC 3948): one per local address and NAT-T port,
// non-blocking, with large kernel buffers since the pump drains it in batches.

#include "net/file_descriptor.hpp"
#include "net/ip_address.hpp"
#include "tunnel/mtu.hpp"

#include <cstdint>
#include <optional>

namespace mesh::tunnel {

class UdpSocket {
public:
    // Binds local (an unspecified address binds all, port 0 picks one, see
    // local()); throws std::system_error. reuse_port: a member of an
    // SO_REUSEPORT group (tunnel/spi_steering.hpp), one socket per worker.
    explicit UdpSocket(const net::Endpoint& local, bool reuse_port = false);

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] const net::Endpoint& local() const noexcept { return local_; }

private:
    net::FileDescriptor fd_;
    net::Endpoint local_;
};

} // namespace mesh::tunnel

namespace mesh::tunnel {

// Datagrams the kernel dropped on a socket so far (a full receive buffer, a
// bad checksum): SO_MEMINFO's count, exact whenever it is asked, also for a
// socket that has received nothing since; 0 when it cannot be read.
[[nodiscard]] std::uint64_t kernel_drops(int fd) noexcept;

// What the kernel's routing says about the way to a peer: the source address
// it would pick and the MTU of that path (IP_MTU of a connected socket).
struct PathInfo {
    net::IpAddress local;
    std::uint32_t mtu = default_path_mtu;
};
// nullopt when the kernel has no route to the peer (yet: the WAN may come up
// after the daemon).
[[nodiscard]] std::optional<PathInfo> probe_path(const net::Endpoint& peer);

} // namespace mesh::tunnel
