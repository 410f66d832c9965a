#pragma once
// Plain ESP (IP protocol 50) for peers reached without a NAT when
// encapsulation = "auto": a raw socket, since this kernel has no ESP of its
// own to hand the packets to. Inbound reads carry the IPv4 header in front.

#include "net/file_descriptor.hpp"
#include "net/ip_address.hpp"

namespace mesh::tunnel {

class RawEspSocket {
public:
    // Throws std::system_error (needs CAP_NET_RAW).
    explicit RawEspSocket(const net::IpAddress& local);

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

private:
    net::FileDescriptor fd_;
};

} // namespace mesh::tunnel
