#pragma once
// The routes a tunnel owns, straight into the kernel's main table through
// rtnetlink, for sites that run no FRR (no zebra-socket). KernelRouteSink
// decides what goes in; these calls only build and send the messages.

#include "net/ip_address.hpp"
#include "net/netlink_socket.hpp"

#include <cstdint>
#include <span>

namespace mesh::routing {

// Marks mesh-site's routes in `ip route` output (`proto 0x?`), like zebra's own numbers in rt_protos.
inline constexpr std::uint8_t route_protocol = 250;

// Add or replace the route to prefix at `metric`: unicast out of the
// interfaces (a multipath route when more than one), or with no interface a
// blackhole. Returns libnl's result: 0 or a negative NLE_* code.
[[nodiscard]] int replace_route(net::NetlinkSocket& nl, const net::IpPrefix& prefix,
                                std::span<const int> ifindexes, std::uint32_t metric) noexcept;
// The same route added only if the prefix has no route at `metric`: -NLE_EXIST
// when one is there (ours, or someone else's that replace_route would overwrite).
[[nodiscard]] int add_route_if_absent(net::NetlinkSocket& nl, const net::IpPrefix& prefix,
                                      std::span<const int> ifindexes, std::uint32_t metric) noexcept;
// Remove our route to prefix at `metric`: unicast out of exactly `ifindexes`,
// or (none given) the blackhole. A route that is already gone, or that is no
// longer ours (another interface now), is success (0) and stays.
[[nodiscard]] int remove_route(net::NetlinkSocket& nl, const net::IpPrefix& prefix,
                               std::span<const int> ifindexes, std::uint32_t metric) noexcept;

} // namespace mesh::routing
