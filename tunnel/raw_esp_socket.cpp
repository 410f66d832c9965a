#include "tunnel/raw_esp_socket.hpp"

#include "net/os_error.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <system_error>

namespace mesh::tunnel {

RawEspSocket::RawEspSocket(const net::IpAddress& local)
{
    const bool v4 = local.is_v4();
    fd_ = net::FileDescriptor(::socket(v4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP));
    if (!fd_)
        net::throw_os_error("raw ESP socket");
    const int buffer = 8 << 20;
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUFFORCE, &buffer, sizeof buffer);
    // Reads carry the socket's count of kernel drops (status).
    const int on = 1;
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
    socklen_t length = 0;
    const auto address = net::Endpoint{local, 0}.to_sockaddr(length);
    if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&address), length) < 0)
        throw std::system_error(errno, std::generic_category(), "binding raw ESP to " + local.to_string());
}

} // namespace mesh::tunnel
