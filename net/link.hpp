#pragma once
// Settings of any network interface, by index, through rtnetlink: the one
// way the daemon changes links and their addresses.

#include "net/ip_address.hpp"
#include "net/netlink_socket.hpp"

#include <cstdint>

namespace mesh::net {

// Each throws std::runtime_error naming what failed.
void set_link_mtu(NetlinkSocket& nl, int ifindex, std::uint32_t mtu);
void set_link_up(NetlinkSocket& nl, int ifindex, bool up);
void set_link_txqueuelen(NetlinkSocket& nl, int ifindex, std::uint32_t packets);
// Adds the address, or announces it again when the interface has it already.
void add_link_address(NetlinkSocket& nl, int ifindex, const IpPrefix& address);
void remove_link_address(NetlinkSocket& nl, int ifindex, const IpPrefix& address);

} // namespace mesh::net
