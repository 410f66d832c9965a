#pragma once
// Where selected routes go: the kernel's main table through netlink
// (KernelRouteSink, sites without FRR) or FRR's zebra (ZebraClient). The
// daemon hands every change of RouteSet::selected() to the one sink it runs.

#include "routing/route_set.hpp"

#include <nlohmann/json.hpp>

#include <span>

namespace mesh::routing {

class RouteSink {
public:
    virtual ~RouteSink() = default;
    // Brings what is installed to exactly `routes` (adds, replaces, deletes the difference).
    // Failures are logged and counted in status(), never thrown.
    virtual void apply(std::span<const SelectedRoute> routes) = 0;
    // Removes everything this sink installed; must work after the io_context has stopped (shutdown).
    virtual void withdraw_all() = 0;
    // For `mesh-site status --json`: backend, connected, per-route state, counters.
    [[nodiscard]] virtual nlohmann::json status() const = 0;
};

// {"prefix": "10.2.0.0/24", "ifindexes": [7], "distance": 10, "metric": 0}: the part
// of a status() route entry both sinks share; each adds its own "state".
[[nodiscard]] nlohmann::json route_json(const SelectedRoute& route);

} // namespace mesh::routing
