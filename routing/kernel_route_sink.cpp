// Flow of apply(): prefixes no longer selected lose both routes; then per
// selected prefix the blackhole goes in (once), and the unicast route is
// replaced when its interfaces or metric changed: new one in before the old
// metric is removed, so traffic never meets a gap the blackhole would fill.

#include "routing/kernel_route_sink.hpp"

#include "routing/kernel_routes.hpp"
#include "routing/routing_log.hpp"

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/errno.h>

namespace mesh::routing {

void KernelRouteSink::apply(std::span<const SelectedRoute> routes)
{
    std::map<net::IpPrefix, const SelectedRoute*> wanted;
    for (const SelectedRoute& route : routes)
        wanted.emplace(route.prefix, &route);

    for (auto it = routes_.begin(); it != routes_.end();)
        it = !wanted.contains(it->first) && uninstall(it->first, it->second) ? routes_.erase(it) : std::next(it);
    for (const auto& [prefix, route] : wanted) {
        Installed& installed = routes_[prefix];
        installed.wanted = *route;
        install(installed);
    }
}

void KernelRouteSink::install(Installed& route)
{
    const SelectedRoute& wanted = route.wanted;
    const net::IpPrefix& prefix = wanted.prefix;
    route.error.clear();
    if (!route.blackhole) {
        route.blackhole = succeeded(replace_route(nl_, prefix, {}, blackhole_metric_), "add leak-guard blackhole",
                                    prefix, route);
        if (route.blackhole && wanted.blackhole())
            routing_log()->info("kernel route {}: no owning tunnel up, traffic blackholed (leak protection)",
                                prefix.to_string());
    }

    std::optional<Unicast> next;
    if (!wanted.blackhole())
        next = Unicast{wanted.ifindexes, wanted.distance};
    if (next == route.unicast)
        return;
    const std::optional<Unicast> previous = route.unicast;
    if (next) {
        if (!succeeded(replace_route(nl_, prefix, next->ifindexes, next->metric), "add route", prefix, route))
            return; // the previous route stays; the next apply() tries again
        route.unicast = next;
        ++routes_replaced_;
        routing_log()->info("kernel route {}", to_string(wanted));
    }
    if (previous && (!next || previous->metric != next->metric)) {
        if (succeeded(remove_route(nl_, prefix, previous->ifindexes, previous->metric), "remove route", prefix, route))
            ++routes_removed_;
        else
            routing_log()->warn("netlink: route {} metric {} is left in the kernel", prefix.to_string(),
                                previous->metric);
        if (!next) {
            route.unicast.reset();
            routing_log()->info("kernel route {}: no owning tunnel up, traffic blackholed (leak protection)",
                                prefix.to_string());
        }
    }
}

bool KernelRouteSink::uninstall(const net::IpPrefix& prefix, Installed& route)
{
    if (route.unicast) {
        const Unicast& unicast = *route.unicast;
        if (!succeeded(remove_route(nl_, prefix, unicast.ifindexes, unicast.metric), "remove route", prefix, route))
            return false;
        route.unicast.reset();
        ++routes_removed_;
    }
    if (route.blackhole) {
        if (!succeeded(remove_route(nl_, prefix, {}, blackhole_metric_), "remove leak-guard blackhole", prefix, route))
            return false;
        route.blackhole = false;
    }
    routing_log()->info("kernel route {} removed", prefix.to_string());
    return true;
}

void KernelRouteSink::on_route_deleted(const RouteDeletion& deleted)
{
    if (deleted.protocol != route_protocol || deleted.table != RT_TABLE_MAIN)
        return;
    const auto it = routes_.find(deleted.prefix);
    if (it == routes_.end())
        return;
    Installed& route = it->second;
    if (deleted.blackhole && route.blackhole && deleted.metric == blackhole_metric_) {
        restore(route, {});
    } else if (!deleted.blackhole && route.unicast && deleted.metric == route.unicast->metric) {
        // Whatever its interfaces: a route someone else replaced ours with
        // (same prefix and metric) and then removed leaves ours missing too.
        restore(route, route.unicast->ifindexes);
    }
}

void KernelRouteSink::restore_all()
{
    for (auto& [prefix, route] : routes_) {
        if (route.blackhole)
            restore(route, {});
        if (route.unicast)
            restore(route, route.unicast->ifindexes);
    }
}

void KernelRouteSink::restore(Installed& route, std::span<const int> ifindexes)
{
    const net::IpPrefix& prefix = route.wanted.prefix;
    const bool blackhole = ifindexes.empty();
    const std::uint32_t metric = blackhole ? blackhole_metric_ : route.unicast->metric;
    // Only if absent: the deletion may be our own (a route replaced since),
    // and a route someone else put at our metric is left alone.
    const int result = add_route_if_absent(nl_, prefix, ifindexes, metric);
    if (result == -NLE_EXIST)
        return;
    std::string what = (blackhole ? "leak-guard blackhole " : "route ") + prefix.to_string();
    for (const int ifindex : ifindexes) {
        char name[IF_NAMESIZE] = {};
        const bool named = ::if_indextoname(static_cast<unsigned>(ifindex), name) != nullptr;
        what += " dev " + (named ? std::string(name) : std::to_string(ifindex));
    }
    if (result < 0) {
        succeeded(result, "restore removed route", prefix, route);
        if (blackhole)
            route.blackhole = false;
        else
            route.unicast.reset();
        routing_log()->warn("kernel {} was removed by someone else and cannot be restored; retried at the next change",
                            what);
        return;
    }
    ++routes_restored_;
    routing_log()->warn("kernel {} was removed by someone else: restored", what);
}

void KernelRouteSink::withdraw_all()
{
    for (auto it = routes_.begin(); it != routes_.end();)
        it = uninstall(it->first, it->second) ? routes_.erase(it) : std::next(it);
}

bool KernelRouteSink::succeeded(int result, const char* action, const net::IpPrefix& prefix, Installed& route)
{
    if (result >= 0)
        return true;
    ++netlink_errors_;
    route.error = std::string(action) + ": " + nl_geterror(result);
    routing_log()->warn("netlink: cannot {} {}: {}", action, prefix.to_string(), nl_geterror(result));
    return false;
}

nlohmann::json KernelRouteSink::status() const
{
    auto routes = nlohmann::json::array();
    for (const auto& [prefix, route] : routes_) {
        auto entry = route_json(route.wanted);
        entry["state"] = !route.error.empty() ? "failed" : route.unicast ? "installed" : "blackhole";
        if (!route.error.empty())
            entry["error"] = route.error;
        routes.push_back(std::move(entry));
    }
    return {{"backend", "netlink"},
            {"connected", true},
            {"leak-guard-metric", blackhole_metric_},
            {"routes", std::move(routes)},
            {"counters",
             {{"routes-replaced", routes_replaced_},
              {"routes-removed", routes_removed_},
              {"routes-restored", routes_restored_},
              {"netlink-errors", netlink_errors_}}}};
}

} // namespace mesh::routing
