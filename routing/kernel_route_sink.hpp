#pragma once
// Selected routes straight into the kernel's main table (sites without FRR).
//
// Per owned prefix, two kernel routes, told apart by metric:
//   blackhole  proto 250 metric leak_guard_metric - instance   while any tunnel owns the prefix
//   unicast    proto 250 metric <distance>          while an owner is up: dev X, or nexthop dev X nexthop dev Y
// The kernel picks the lowest metric, so the unicast route carries traffic
// and, when it is withdrawn (every owner down), the blackhole drops it
// instead of letting it follow the default route out in clear text.
//
// A sink removes only what it put in: its unicast routes by their
// interfaces, which are its own, and its blackholes by their metric, which
// `instance` makes its own among the mesh-sites of one network namespace.
// What someone else removes (on_route_deleted, from a RouteMonitor) it puts back.

#include "routing/route_monitor.hpp"
#include "routing/route_sink.hpp"
#include "net/netlink_socket.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mesh::routing {

// Kernel metric of the leak-guard blackhole. It must lose to every other
// route of the same prefix: the unicast one (metric = distance <= 255),
// zebra's (20), IPv6's default (1024), DHCP clients' (100..20000, 200+ifindex)
// and an operator's own. 2^31 - 1 is far above those and still prints as a
// positive number in tools that show the metric signed.
inline constexpr std::uint32_t leak_guard_metric = 2147483647;
// How many metrics below leak_guard_metric the blackholes of different
// daemons in one namespace spread over.
inline constexpr std::uint32_t leak_guard_instances = 65536;

class KernelRouteSink : public RouteSink {
public:
    // instance: below leak_guard_instances, the same for every run of one daemon.
    explicit KernelRouteSink(net::NetlinkSocket& nl, std::uint32_t instance = 0)
        : nl_(nl), blackhole_metric_(leak_guard_metric - instance % leak_guard_instances)
    {
    }

    void apply(std::span<const SelectedRoute> routes) override;
    // A route went from the kernel: if it was one of ours, it goes back, logged.
    void on_route_deleted(const RouteDeletion& deleted);
    // Puts back every route of ours that is missing (after the monitor lost notifications).
    void restore_all();
    [[nodiscard]] std::uint32_t blackhole_metric() const noexcept { return blackhole_metric_; }
    void withdraw_all() override;
    [[nodiscard]] nlohmann::json status() const override;

private:
    struct Unicast {
        std::vector<int> ifindexes;
        std::uint32_t metric = 0;
        friend bool operator==(const Unicast&, const Unicast&) = default;
    };
    // What this sink put in the kernel for one prefix (only changes that succeeded).
    struct Installed {
        SelectedRoute wanted;
        bool blackhole = false;
        std::optional<Unicast> unicast;
        std::string error; // the last netlink failure for this prefix; empty once all went in
    };

    void install(Installed& route);
    // Adds the blackhole (no ifindexes) or the unicast route again if the kernel lacks it.
    void restore(Installed& route, std::span<const int> ifindexes);
    // Both routes of the prefix out; false if one could not be removed.
    bool uninstall(const net::IpPrefix& prefix, Installed& route);
    // Logs and counts a failed netlink call; true when it succeeded.
    bool succeeded(int result, const char* action, const net::IpPrefix& prefix, Installed& route);

    net::NetlinkSocket& nl_;
    std::map<net::IpPrefix, Installed> routes_;
    std::uint64_t routes_replaced_ = 0;
    std::uint32_t blackhole_metric_;
    std::uint64_t routes_removed_ = 0;
    std::uint64_t routes_restored_ = 0;
    std::uint64_t netlink_errors_ = 0;
};

} // namespace mesh::routing
