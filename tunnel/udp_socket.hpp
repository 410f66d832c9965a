#pragma once
// The ESP-in-UDP socket (RFC 3948): one per local address and NAT-T port,
// non-blocking, with large kernel buffers since the pump drains it in batches.
// IP_PKTINFO (IPV6_RECVPKTINFO) on: bound to any address, a read tells
// which of ours the datagram was sent to, which IKE's NAT detection hashes
// (RFC 7296 section 2.23).

#include "net/file_descriptor.hpp"
#include "net/ip_address.hpp"
#include "tunnel/mtu.hpp"

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <span>

namespace mesh::tunnel {

// What SO_RCVBUF and SO_SNDBUF are given; the kernel allows twice as much
// (socket(7)).
inline constexpr int socket_buffer_bytes = 8 << 20;

class UdpSocket {
public:
    // Binds local (an unspecified address binds all, port 0 picks one, see
    // local()); throws std::system_error. reuse_port: a member of an
    // SO_REUSEPORT group (tunnel/spi_steering.hpp), two sockets per worker.
    explicit UdpSocket(const net::Endpoint& local, bool reuse_port = false);

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] const net::Endpoint& local() const noexcept { return local_; }

private:
    net::FileDescriptor fd_;
    net::Endpoint local_;
};

// Room for the IP_PKTINFO or IPV6_PKTINFO control message of a read.
inline constexpr std::size_t destination_control_bytes = CMSG_SPACE(sizeof(in6_pktinfo));

// The address a datagram was sent to, when this control message of its read
// is the IP_PKTINFO or IPV6_PKTINFO the socket asked for; nullopt otherwise.
[[nodiscard]] std::optional<net::IpAddress> destination_address(const cmsghdr& cmsg) noexcept;

// Makes a send on `socket` leave from `source` (IP_PKTINFO or IPV6_PKTINFO):
// the control message in `control` (destination_control_bytes), set in
// `header`. Nothing when `source` is unspecified or of the other family.
void set_source_address(msghdr& header, std::span<std::uint8_t> control, const UdpSocket& socket,
                        const net::IpAddress& source) noexcept;

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
