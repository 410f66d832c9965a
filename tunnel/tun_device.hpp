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
#include <memory>
#include <string>
#include <vector>

namespace mesh::tunnel {

class TunDevice {
public:
    // Creates (or attaches to) the interface; throws std::system_error
    // (net::os_category: EMFILE names the open-files limit).
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

// Interface groups (IFLA_GROUP) of released TUNs: this plus a daemon's
// instance number (below 65536), one group per daemon in a namespace.
inline constexpr std::uint32_t tun_reaper_groups = 0x4d530000;

// TUN interfaces deleted in batches. Closing the last fd of a TUN
// unregisters its interface, and the kernel then waits for RCU grace periods
// (synchronize_net, rcu_barrier) under the RTNL lock: about 20 ms a TUN,
// one after another, 20 s for a hub of 1000 tunnels. Released interfaces
// move into the reaper's group, and reap() deletes that group with one
// RTM_DELLINK: the kernel unregisters them together with one wait, and
// their fds then close at no cost. Two daemons sharing a group by a hash
// collision at worst reap each other's released interfaces early.
class TunReaper {
public:
    // group: nonzero, this daemon's own (tun_reaper_groups + instance).
    TunReaper(net::NetlinkSocket& nl, std::uint32_t group) noexcept : nl_(nl), group_(group) {}

    // Moves the interface into the group and keeps the device, and with it
    // the fd, until reap(). Stop polling its fd first: a deleted TUN's fd
    // polls as an error until closed. False when the interface could not be
    // moved (it then goes the slow way, as its last fd closes).
    bool release(std::shared_ptr<TunDevice> device);
    // Deletes every released interface at once; returns how many.
    // Throws std::runtime_error (the devices are let go all the same).
    std::size_t reap();
    [[nodiscard]] std::size_t pending() const noexcept { return released_.size(); }
    [[nodiscard]] std::uint32_t group() const noexcept { return group_; }

private:
    net::NetlinkSocket& nl_;
    std::uint32_t group_;
    std::vector<std::shared_ptr<TunDevice>> released_;
};

} // namespace mesh::tunnel
