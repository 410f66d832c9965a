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
#include <span>
#include <string>
#include <vector>

namespace mesh::tunnel {

// The queues, and fds, of a TUN at most: bulk and priority.
inline constexpr std::size_t tun_queues = 2;

class TunDevice {
public:
    // Creates (or attaches to) the interface; throws std::system_error
    // (net::os_category: EMFILE names the open-files limit).
    explicit TunDevice(const std::string& name);

    // Queue 0: bulk, and every packet of a single-queue interface.
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    // Queue 1: what the steering program calls priority
    // (tunnel/tun_steering.hpp); -1 when the interface has one queue.
    [[nodiscard]] int priority_fd() const noexcept { return priority_fd_.get(); }
    // Why there is no priority queue, for the operator (empty when there is one).
    [[nodiscard]] const std::string& priority_queue_error() const noexcept { return priority_queue_error_; }
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
    net::FileDescriptor priority_fd_;
    std::string priority_queue_error_;
    std::string name_;
    int ifindex_ = 0;
    bool vnet_hdr_ = false;
    unsigned offloads_ = 0;
};

// Interface groups (IFLA_GROUP) of a daemon's TUNs, plus its instance
// number (below 65536): the live ones, and those released for deletion.
inline constexpr std::uint32_t tun_groups_live = 0x4d530000;
inline constexpr std::uint32_t tun_groups_released = 0x4d540000;

// TUN interfaces deleted in batches. Closing the last fd of a TUN
// unregisters its interface, and the kernel then waits for RCU grace periods
// (synchronize_net, rcu_barrier) under the RTNL lock: about 20 ms a TUN,
// one after another, 20 s for a hub of 1000 tunnels. Deleted by interface
// group with one RTM_DELLINK, they are unregistered together with one wait,
// and their fds then close at no cost.
//
// A new TUN joins the live group while it is down (free; once it is up, a
// move walks the kernel's IPv6 routes: ~1 ms a TUN beside 1000 others); a
// released one moves to the released group, which reap() deletes; the stop
// deletes both. Two daemons of one namespace whose instance numbers collide
// at worst reap each other's released interfaces early: reap_all() deletes
// the live group only when it holds this daemon's interfaces alone.
class TunReaper {
public:
    TunReaper(net::NetlinkSocket& nl, std::uint32_t instance) noexcept
        : nl_(nl), live_(tun_groups_live + instance % 65536), released_group_(tun_groups_released + instance % 65536)
    {
    }

    // Into the live group, before the interface goes up; throws std::runtime_error.
    void adopt(const TunDevice& device);
    // Moves the interface into the released group and keeps the device, and
    // with it the fd, until reap(). Stop polling its fd first: a deleted
    // TUN's fd polls as an error until closed. False when the interface could
    // not be moved (it then goes the slow way, as its last fd closes).
    bool release(std::shared_ptr<TunDevice> device);
    // Deletes every released interface at once; returns how many.
    // Throws std::runtime_error (the devices are let go all the same).
    std::size_t reap();
    // Deletes `live` (the adopted devices still in use) and the released
    // ones at once; returns how many. Throws std::runtime_error.
    std::size_t reap_all(std::span<const std::shared_ptr<TunDevice>> live);
    [[nodiscard]] std::size_t pending() const noexcept { return released_.size(); }
    [[nodiscard]] std::uint32_t live_group() const noexcept { return live_; }
    [[nodiscard]] std::uint32_t released_group() const noexcept { return released_group_; }

private:
    net::NetlinkSocket& nl_;
    std::uint32_t live_;
    std::uint32_t released_group_;
    std::vector<std::shared_ptr<TunDevice>> released_;
};

} // namespace mesh::tunnel
