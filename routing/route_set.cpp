#include "routing/route_set.hpp"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <tuple>
#include <utility>

namespace mesh::routing {

std::string to_string(const SelectedRoute& route)
{
    const std::string via = route.blackhole() ? "blackhole" : fmt::format("via ifindex {}", fmt::join(route.ifindexes, " "));
    return fmt::format("{} {} distance {} metric {}", route.prefix.to_string(), via, route.distance, route.metric);
}

void RouteSet::set(const std::string& tunnel, TunnelRoutes routes)
{
    tunnels_.insert_or_assign(tunnel, std::move(routes));
}

void RouteSet::remove(const std::string& tunnel)
{
    tunnels_.erase(tunnel);
}

std::vector<SelectedRoute> RouteSet::selected() const
{
    // Every owned prefix starts as a blackhole; each up owner that is at least
    // as good as the best seen so far replaces or joins the nexthops.
    std::map<net::IpPrefix, SelectedRoute> by_prefix;
    for (const auto& [name, owned] : tunnels_) {
        for (const net::IpPrefix& prefix : owned.prefixes) {
            auto [it, added] = by_prefix.try_emplace(prefix, SelectedRoute{prefix, {}, leak_guard_distance, 0});
            SelectedRoute& route = it->second;
            if (!owned.up)
                continue;
            const auto rank = std::tie(owned.distance, owned.metric);
            if (route.blackhole() || rank < std::tie(route.distance, route.metric)) {
                route.ifindexes = {owned.ifindex};
                route.distance = owned.distance;
                route.metric = owned.metric;
            } else if (rank == std::tie(route.distance, route.metric)) {
                route.ifindexes.push_back(owned.ifindex);
            }
        }
    }

    std::vector<SelectedRoute> result;
    result.reserve(by_prefix.size());
    for (auto& [prefix, route] : by_prefix) {
        // A tunnel listing a prefix twice, or two tunnels on one interface, is one nexthop.
        std::ranges::sort(route.ifindexes);
        const auto repeats = std::ranges::unique(route.ifindexes);
        route.ifindexes.erase(repeats.begin(), repeats.end());
        // Linux has no IPv6 multipath route through interfaces without a
        // gateway, and a TUN has none: the kernel refuses it ("Device only
        // routes can not be added for IPv6 using the multipath API"), and
        // zebra 8.4 reports install-failed and leaves the prefix with no route
        // at all (both checked here). So an IPv6 prefix goes through its
        // first up owner alone; the next takes over when that one goes down.
        if (!prefix.address().is_v4() && route.ifindexes.size() > 1)
            route.ifindexes.resize(1);
        result.push_back(std::move(route));
    }
    return result;
}

} // namespace mesh::routing
