#pragma once
// Which route each prefix gets, from what every tunnel owns. Pure logic: the
// daemon tells it which tunnels own which prefixes and which are up, and a
// RouteSink (routing/route_sink.hpp) installs the answer.
//
// Per prefix, among the tunnels that own it:
//   - some owner up: the up owners with the lowest (distance, metric) are the
//     nexthops (several: ECMP, IPv4 only: Linux has no IPv6 multipath through
//     interfaces without a gateway); worse ones wait as the routing
//     protocols' would, and take over when the better go down;
//   - no owner up: a blackhole at leak_guard_distance, so that traffic for the
//     remote site is dropped instead of leaking to the default route in clear
//     text (any real route, OSPF's or BGP's, still wins over it).

#include "net/ip_address.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mesh::routing {

// Worse than every routing protocol (OSPF 110, iBGP 200), better than "unusable" (255):
inline constexpr std::uint8_t leak_guard_distance = 254;

struct TunnelRoutes { // what one tunnel owns
    std::vector<net::IpPrefix> prefixes;
    int ifindex = 0;
    std::uint8_t distance = 10; // the tunnel's route-distance
    std::uint32_t metric = 0;
    bool up = false;
};

struct SelectedRoute { // the one answer per prefix that a sink installs
    net::IpPrefix prefix;
    std::vector<int> ifindexes; // sorted; empty = blackhole (no owning tunnel is up: leak protection); IPv6: at most one
    std::uint8_t distance = 0;  // best distance among the up owners; leak_guard_distance for a blackhole
    std::uint32_t metric = 0;

    [[nodiscard]] bool blackhole() const noexcept { return ifindexes.empty(); }
    friend bool operator==(const SelectedRoute&, const SelectedRoute&) = default;
};

// "10.2.0.0/24 via ifindex 7 8 distance 10 metric 0", "10.2.0.0/24 blackhole distance 254 metric 0": for log lines.
[[nodiscard]] std::string to_string(const SelectedRoute& route);

class RouteSet {
public:
    // Replaces what `tunnel` owns (a tunnel not seen before is added).
    void set(const std::string& tunnel, TunnelRoutes routes);
    // Forgets the tunnel; prefixes no other tunnel owns drop out of selected().
    void remove(const std::string& tunnel);
    // Sorted by prefix, one entry per owned prefix; up owners with the best
    // (distance, metric) become ECMP nexthops (IPv6: the first of them).
    [[nodiscard]] std::vector<SelectedRoute> selected() const;

private:
    std::map<std::string, TunnelRoutes> tunnels_;
};

} // namespace mesh::routing
