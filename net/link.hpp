#pragma once
// Settings of any network interface, by index, through rtnetlink: the one
// way the daemon changes links and their addresses.

#include "net/ip_address.hpp"
#include "net/netlink_socket.hpp"

#include <cstdint>
#include <vector>

namespace mesh::net {

// Each throws std::runtime_error naming what failed.
void set_link_mtu(NetlinkSocket& nl, int ifindex, std::uint32_t mtu);
void set_link_up(NetlinkSocket& nl, int ifindex, bool up);
void set_link_txqueuelen(NetlinkSocket& nl, int ifindex, std::uint32_t packets);
// The root qdisc "noqueue": what is sent goes straight to the driver, for a
// device that never asks the kernel to hold a packet (a TUN drops when its
// ring is full). Set while the link is down, it also spares the link's
// going up the default qdiscs: a TUN with IFF_MULTI_QUEUE has 256 transmit
// queues, and their mq and 256 pfifo_fast took about 1 ms a TUN.
void set_link_noqueue(NetlinkSocket& nl, int ifindex);
// IFLA_GROUP: the interface group, a number `ip link show group N` filters on.
void set_link_group(NetlinkSocket& nl, int ifindex, std::uint32_t group);
// Deletes every interface of `group` (nonzero) with one RTM_DELLINK: the
// kernel unregisters them together (unregister_netdevice_many), waiting for
// RCU once for all of them instead of once each. False when the group had
// no interface.
bool delete_link_group(NetlinkSocket& nl, std::uint32_t group);
// The indexes of the interfaces in `group`, from one dump of every link.
[[nodiscard]] std::vector<int> link_group_members(NetlinkSocket& nl, std::uint32_t group);
// Adds the address, or announces it again when the interface has it already.
void add_link_address(NetlinkSocket& nl, int ifindex, const IpPrefix& address);
void remove_link_address(NetlinkSocket& nl, int ifindex, const IpPrefix& address);

} // namespace mesh::net
