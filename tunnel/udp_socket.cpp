#include "tunnel/udp_socket.hpp"

#include "net/os_error.hpp"

#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace mesh::tunnel {

namespace {
void set_option(int fd, int level, int name, int value)
{
    if (::setsockopt(fd, level, name, &value, sizeof value) < 0)
        throw std::system_error(errno, std::generic_category(), "setsockopt");
}
} // namespace

UdpSocket::UdpSocket(const net::Endpoint& local, bool reuse_port) : local_(local)
{
    const int family = local.address.is_v4() ? AF_INET : AF_INET6;
    fd_ = net::FileDescriptor(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_)
        net::throw_os_error("UDP socket");
    // No SO_REUSEADDR: with it a second daemon could bind the same address
    // and port and take IKE and ESP from the first; its bind must fail.
    // SO_REUSEPORT only for the workers' group, which keeps others out by its
    // owner (tools/daemon/listen_guard.hpp).
    if (reuse_port)
        set_option(fd_.get(), SOL_SOCKET, SO_REUSEPORT, 1);
    // The *FORCE variants pass rmem_max/wmem_max when running as root; fall
    // back to what an unprivileged process may ask for.
    if (::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &socket_buffer_bytes, sizeof socket_buffer_bytes) < 0)
        set_option(fd_.get(), SOL_SOCKET, SO_RCVBUF, socket_buffer_bytes);
    if (::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUFFORCE, &socket_buffer_bytes, sizeof socket_buffer_bytes) < 0)
        set_option(fd_.get(), SOL_SOCKET, SO_SNDBUF, socket_buffer_bytes);
    // On an IPv6 socket, IPv4 datagrams come with IPV6_PKTINFO too, their
    // destination IPv4-mapped, as their source is.
    if (family == AF_INET)
        set_option(fd_.get(), IPPROTO_IP, IP_PKTINFO, 1);
    else
        set_option(fd_.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
    socklen_t length = 0;
    const auto address = local.to_sockaddr(length);
    if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&address), length) < 0)
        throw std::system_error(errno, std::generic_category(), "binding UDP " + local.to_string());
    sockaddr_storage bound{};
    socklen_t bound_length = sizeof bound;
    if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&bound), &bound_length) == 0)
        local_ = net::Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&bound), bound_length).value_or(local);
}

std::optional<net::IpAddress> destination_address(const cmsghdr& cmsg) noexcept
{
    if (cmsg.cmsg_level == IPPROTO_IP && cmsg.cmsg_type == IP_PKTINFO && cmsg.cmsg_len >= CMSG_LEN(sizeof(in_pktinfo))) {
        in_pktinfo info{};
        std::memcpy(&info, CMSG_DATA(&cmsg), sizeof info);
        return net::IpAddress::from_bytes(net::IpAddress::Family::v4, reinterpret_cast<const std::uint8_t*>(&info.ipi_addr));
    }
    if (cmsg.cmsg_level == IPPROTO_IPV6 && cmsg.cmsg_type == IPV6_PKTINFO &&
        cmsg.cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
        in6_pktinfo info{};
        std::memcpy(&info, CMSG_DATA(&cmsg), sizeof info);
        return net::IpAddress::from_bytes(net::IpAddress::Family::v6, reinterpret_cast<const std::uint8_t*>(&info.ipi6_addr));
    }
    return std::nullopt;
}

void set_source_address(msghdr& header, std::span<std::uint8_t> control, const UdpSocket& socket,
                        const net::IpAddress& source) noexcept
{
    const bool v4 = socket.local().address.is_v4();
    if (source.is_unspecified() || source.is_v4() != v4 || control.size() < destination_control_bytes)
        return;
    std::fill(control.begin(), control.end(), std::uint8_t{0});
    header.msg_control = control.data();
    header.msg_controllen = v4 ? CMSG_SPACE(sizeof(in_pktinfo)) : CMSG_SPACE(sizeof(in6_pktinfo));
    cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
    if (v4) {
        in_pktinfo info{};
        std::memcpy(&info.ipi_spec_dst, source.bytes(), 4);
        cmsg->cmsg_level = IPPROTO_IP;
        cmsg->cmsg_type = IP_PKTINFO;
        cmsg->cmsg_len = CMSG_LEN(sizeof info);
        std::memcpy(CMSG_DATA(cmsg), &info, sizeof info);
    } else {
        in6_pktinfo info{};
        std::memcpy(&info.ipi6_addr, source.bytes(), 16);
        cmsg->cmsg_level = IPPROTO_IPV6;
        cmsg->cmsg_type = IPV6_PKTINFO;
        cmsg->cmsg_len = CMSG_LEN(sizeof info);
        std::memcpy(CMSG_DATA(cmsg), &info, sizeof info);
    }
}

} // namespace mesh::tunnel

namespace mesh::tunnel {

std::uint64_t kernel_drops(int fd) noexcept
{
    std::array<std::uint32_t, SK_MEMINFO_VARS> meminfo{};
    socklen_t length = sizeof meminfo;
    if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo.data(), &length) < 0 ||
        length < (SK_MEMINFO_DROPS + 1) * sizeof(std::uint32_t))
        return 0;
    return meminfo[SK_MEMINFO_DROPS];
}

std::optional<PathInfo> probe_path(const net::Endpoint& peer)
{
    const bool v4 = peer.address.is_v4();
    net::FileDescriptor fd(::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd)
        net::throw_os_error("UDP socket");
    socklen_t length = 0;
    const auto address = peer.to_sockaddr(length);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), length) < 0)
        return std::nullopt;
    sockaddr_storage local{};
    socklen_t local_length = sizeof local;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &local_length);
    PathInfo info;
    if (const auto endpoint = net::Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&local), local_length))
        info.local = endpoint->address;
    int mtu = 0;
    socklen_t mtu_length = sizeof mtu;
    if (::getsockopt(fd.get(), v4 ? IPPROTO_IP : IPPROTO_IPV6, v4 ? IP_MTU : IPV6_MTU, &mtu, &mtu_length) == 0 && mtu > 0)
        info.mtu = static_cast<std::uint32_t>(mtu);
    return info;
}

} // namespace mesh::tunnel
