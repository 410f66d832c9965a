#include "routing/kernel_routes.hpp"

#include <linux/rtnetlink.h>
#include <netlink/route/route.h>

namespace mesh::routing {

namespace {
using RoutePtr = tunnel::NetlinkObject<rtnl_route, rtnl_route_put>::Ptr;
using AddrPtr = tunnel::NetlinkObject<nl_addr, nl_addr_put>::Ptr;

RoutePtr make_route(const tunnel::IpPrefix& prefix, int ifindex, std::uint32_t metric)
{
    const int family = prefix.address().is_v4() ? AF_INET : AF_INET6;
    AddrPtr destination(nl_addr_build(family, prefix.address().bytes(), prefix.address().size()));
    nl_addr_set_prefixlen(destination.get(), prefix.length());
    RoutePtr route(rtnl_route_alloc());
    rtnl_route_set_family(route.get(), static_cast<std::uint8_t>(family));
    rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
    rtnl_route_set_protocol(route.get(), route_protocol);
    rtnl_route_set_scope(route.get(), RT_SCOPE_LINK);
    rtnl_route_set_type(route.get(), RTN_UNICAST);
    rtnl_route_set_priority(route.get(), metric);
    tunnel::check_netlink(rtnl_route_set_dst(route.get(), destination.get()), "route " + prefix.to_string());
    rtnl_nexthop* nexthop = rtnl_route_nh_alloc();
    rtnl_route_nh_set_ifindex(nexthop, ifindex);
    rtnl_route_add_nexthop(route.get(), nexthop);   // the route owns it from here
    return route;
}
} // namespace

void add_kernel_route(tunnel::NetlinkSocket& nl, const tunnel::IpPrefix& prefix, int ifindex, std::uint32_t metric)
{
    const auto route = make_route(prefix, ifindex, metric);
    tunnel::check_netlink(rtnl_route_add(nl.get(), route.get(), NLM_F_REPLACE), "adding route " + prefix.to_string());
}

void delete_kernel_route(tunnel::NetlinkSocket& nl, const tunnel::IpPrefix& prefix, int ifindex, std::uint32_t metric)
{
    const auto route = make_route(prefix, ifindex, metric);
    const int result = rtnl_route_delete(nl.get(), route.get(), 0);
    if (result != -NLE_OBJ_NOTFOUND && result != -NLE_NOADDR)
        tunnel::check_netlink(result, "deleting route " + prefix.to_string());
}

} // namespace mesh::routing
