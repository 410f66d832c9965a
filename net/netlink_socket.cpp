#include "net/netlink_socket.hpp"

#include <netlink/netlink.h>

#include <stdexcept>

namespace mesh::net {

void check_netlink(int result, const std::string& what)
{
    if (result < 0)
        throw std::runtime_error(what + ": " + nl_geterror(result));
}

NetlinkSocket::NetlinkSocket() : sock_(nl_socket_alloc())
{
    if (!sock_)
        throw std::runtime_error("netlink socket: out of memory");
    check_netlink(nl_connect(sock_.get(), NETLINK_ROUTE), "netlink connect");
}

} // namespace mesh::net
