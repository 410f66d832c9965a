#pragma once
// A TUN interface (IFF_TUN | IFF_NO_PI: the fd carries bare IPv4/IPv6
// packets) (its link settings: net/link.hpp).
//
// With IFF_VNET_HDR every read and write starts with a VirtioNetHeader, and
// TUNSETOFFLOAD lets the kernel hand over TCP (and, since Linux 6.2, UDP)
// super-packets of up to 64 KiB with their checksums left undone: the data
// plane then cuts them itself, a syscall per 64 KiB instead of per packet.

#include "net/file_descriptor.hpp"
#include "net/ip_address.hpp"
#include "net/netlink_socket.hpp"

#include <cstdint>
#include <string>

namespace mesh::tunnel {

class TunDevice {
public:
    // Creates (or attaches to) the interface; throws std::system_error.
    explicit TunDevice(const std::string& name);

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] int ifindex() const noexcept { return ifindex_; }
    // Reads and writes carry a VirtioNetHeader.
    [[nodiscard]] bool vnet_hdr() const noexcept { return vnet_hdr_; }
    // The TUN_F_* offloads the kernel accepted (0 when it took none).
    [[nodiscard]] unsigned offloads() const noexcept { return offloads_; }

    // Carrier through TUNSETCARRIER: routing daemons see the link go down
    // while the interface stays administratively up.
    void set_carrier(bool on);

private:
    net::FileDescriptor fd_;
    std::string name_;
    int ifindex_ = 0;
    bool vnet_hdr_ = false;
    unsigned offloads_ = 0;
};

} // namespace mesh::tunnel
