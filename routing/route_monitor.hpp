#pragma once
// Kernel route deletions as they happen: an rtnetlink socket in the
// RTNLGRP_IPV4_ROUTE and RTNLGRP_IPV6_ROUTE groups. An operator's
// `ip route del`, a DHCP client or a second routing daemon may remove a
// mesh-site route or leak-guard blackhole behind its back; the daemon reads
// the deletions here and KernelRouteSink puts its own routes back.

#include "net/file_descriptor.hpp"
#include "net/ip_address.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace mesh::routing {

// One RTM_DELROUTE, with the fields that tell whose route it was.
struct RouteDeletion {
    net::IpPrefix prefix;
    std::uint32_t table = 0;
    std::uint8_t protocol = 0;
    bool blackhole = false;
    std::uint32_t metric = 0;
    std::vector<int> ifindexes; // RTA_OIF, or each nexthop of RTA_MULTIPATH
};

// The RTM_DELROUTE messages of one netlink datagram; anything else, and
// anything truncated, is skipped.
[[nodiscard]] std::vector<RouteDeletion> parse_route_deletions(std::span<const std::uint8_t> datagram);

class RouteMonitor {
public:
    RouteMonitor(); // throws std::system_error
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

    struct Batch {
        std::vector<RouteDeletion> deleted;
        // The kernel dropped notifications (ENOBUFS: the socket buffer
        // overflowed, e.g. while a full table was flushed): check every route.
        bool overflowed = false;
    };
    // Everything queued on the socket now; never blocks.
    [[nodiscard]] Batch read();

private:
    net::FileDescriptor fd_;
};

} // namespace mesh::routing
