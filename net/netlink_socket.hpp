#pragma once
// An rtnetlink socket through libnl-3, owned; the one way the daemon changes
// links, addresses and routes in the kernel.

#include <netlink/errno.h>
#include <netlink/socket.h>

#include <memory>
#include <string>

namespace mesh::net {

class NetlinkSocket {
public:
    NetlinkSocket();   // throws std::runtime_error
    [[nodiscard]] nl_sock* get() const noexcept { return sock_.get(); }

private:
    struct Free {
        void operator()(nl_sock* s) const noexcept { nl_socket_free(s); }
    };
    std::unique_ptr<nl_sock, Free> sock_;
};

// Throws std::runtime_error naming `what` when a libnl call returned an error.
void check_netlink(int result, const std::string& what);

// Owner of any libnl object with reference counting (links, addresses, routes).
template <class T, void (*Put)(T*)>
struct NetlinkObject {
    struct Free {
        void operator()(T* p) const noexcept { Put(p); }
    };
    using Ptr = std::unique_ptr<T, Free>;
};

} // namespace mesh::net
