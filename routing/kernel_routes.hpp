#pragma once
// The routes a tunnel owns, straight into the kernel's main table through
// rtnetlink, for sites that run no FRR (no zebra-socket).

#include "tunnel/ip_address.hpp"
#include "tunnel/netlink_socket.hpp"

#include <cstdint>

namespace mesh::routing {

// Marks mesh-site's routes in `ip route` output (`proto 0x?`), like zebra's own numbers in rt_protos.
inline constexpr std::uint8_t route_protocol = 250;

// Add or replace prefix via the interface with the given metric; throws std::runtime_error.
void add_kernel_route(tunnel::NetlinkSocket& nl, const tunnel::IpPrefix& prefix, int ifindex, std::uint32_t metric);
// Remove it; a route that is already gone is not an error.
void delete_kernel_route(tunnel::NetlinkSocket& nl, const tunnel::IpPrefix& prefix, int ifindex, std::uint32_t metric);

} // namespace mesh::routing
