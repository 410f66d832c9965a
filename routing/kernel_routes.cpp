#include "routing/kernel_routes.hpp"

#include <linux/rtnetlink.h>
#include <netlink/route/route.h>

namespace mesh::routing {

namespace {
using RoutePtr = net::NetlinkObject<rtnl_route, rtnl_route_put>::Ptr;
using AddrPtr = net::NetlinkObject<nl_addr, nl_addr_put>::Ptr;

// Our route to prefix in the main table at `metric`; no nexthops yet. The
// kernel tells routes of one prefix apart by metric (and, for IPv4, by type
// and scope), so these fields are what add and delete must agree on.
RoutePtr make_route(const net::IpPrefix& prefix, bool blackhole, std::uint32_t metric) noexcept
{
    const int family = prefix.address().is_v4() ? AF_INET : AF_INET6;
    AddrPtr destination(nl_addr_build(family, prefix.address().bytes(), prefix.address().size()));
    RoutePtr route(rtnl_route_alloc());
    if (!destination || !route)
        return nullptr;
    nl_addr_set_prefixlen(destination.get(), prefix.length());
    rtnl_route_set_family(route.get(), static_cast<std::uint8_t>(family));
    rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
    rtnl_route_set_protocol(route.get(), route_protocol);
    // `ip route add blackhole` makes a global-scope route; a route out of an
    // interface without a gateway is link scope.
    rtnl_route_set_scope(route.get(), blackhole ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
    rtnl_route_set_type(route.get(), blackhole ? RTN_BLACKHOLE : RTN_UNICAST);
    rtnl_route_set_priority(route.get(), metric);
    if (rtnl_route_set_dst(route.get(), destination.get()) < 0)
        return nullptr;
    return route;
}

// make_route() with a nexthop out of each interface.
RoutePtr make_route(const net::IpPrefix& prefix, std::span<const int> ifindexes, std::uint32_t metric) noexcept
{
    auto route = make_route(prefix, ifindexes.empty(), metric);
    if (!route)
        return nullptr;
    for (const int ifindex : ifindexes) {
        rtnl_nexthop* nexthop = rtnl_route_nh_alloc();
        if (!nexthop)
            return nullptr;
        rtnl_route_nh_set_ifindex(nexthop, ifindex);
        rtnl_route_add_nexthop(route.get(), nexthop); // the route owns it from here
    }
    return route;
}

int add_route(net::NetlinkSocket& nl, const net::IpPrefix& prefix, std::span<const int> ifindexes,
              std::uint32_t metric, int flags) noexcept
{
    const auto route = make_route(prefix, ifindexes, metric);
    return route ? rtnl_route_add(nl.get(), route.get(), flags) : -NLE_NOMEM;
}
} // namespace

int replace_route(net::NetlinkSocket& nl, const net::IpPrefix& prefix, std::span<const int> ifindexes,
                  std::uint32_t metric) noexcept
{
    return add_route(nl, prefix, ifindexes, metric, NLM_F_REPLACE);
}

int add_route_if_absent(net::NetlinkSocket& nl, const net::IpPrefix& prefix, std::span<const int> ifindexes,
                        std::uint32_t metric) noexcept
{
    return add_route(nl, prefix, ifindexes, metric, NLM_F_EXCL);
}

int remove_route(net::NetlinkSocket& nl, const net::IpPrefix& prefix, std::span<const int> ifindexes,
                 std::uint32_t metric) noexcept
{
    // With the nexthops in the request the kernel matches them too (IPv4's
    // fib_nh_match, IPv6's ifindex check): a route another daemon or the
    // operator put at the same prefix and metric is not ours to remove.
    const auto route = make_route(prefix, ifindexes, metric);
    if (!route)
        return -NLE_NOMEM;
    const int result = rtnl_route_delete(nl.get(), route.get(), 0);
    return result == -NLE_OBJ_NOTFOUND || result == -NLE_NOADDR ? 0 : result;
}

} // namespace mesh::routing
