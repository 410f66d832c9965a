// A tunnel's addresses announced again after it comes up, for FRR's zebra.
//
// zebra 8.4 reads interfaces from the kernel on its main thread and their
// addresses on its data-plane thread. An address added a moment after its
// interface was made can reach the main thread first; zebra drops it
// ("zebra_if_dplane_result: can't find ifp" with `debug zebra kernel`) and
// never learns it. Its clients then miss it too: bgpd refuses every session
// over that interface ("nexthop_set failed, resetting connection - intf
// (Unknown)"), ospfd says "OSPF not enabled on this interface". A branch's
// instance is made and comes up within a millisecond, and at a hub's start,
// while zebra is busy, one instance in a few lost its address so.
// Adding the address again (NLM_F_REPLACE) changes nothing in the kernel but
// makes it announce the address again; once zebra has the interface, it
// takes it.

#include "tools/daemon/daemon.hpp"

#include "net/link.hpp"
#include "tools/log/log.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace mesh::daemon {

namespace {
// After the announcement as the tunnel comes up: zebra's main thread was
// seen under a second behind its data-plane thread at its own start.
constexpr std::array<std::chrono::milliseconds, 2> reannounce_after{std::chrono::seconds(1), std::chrono::seconds(5)};
// Announcements due this much later go with those due now: a thousand
// branches coming up over seconds cost a few dozen passes over the
// tunnels, not one per branch.
constexpr auto reannounce_slack = std::chrono::milliseconds(100);
} // namespace

void Daemon::announce_addresses(Tunnel& tunnel)
{
    if (tunnel.address)
        net::add_link_address(netlink_, tunnel.device->ifindex(), *tunnel.address);
    for (const auto& address : tunnel.assigned)
        net::add_link_address(netlink_, tunnel.device->ifindex(), address);
}

void Daemon::reannounce_later(Tunnel& tunnel)
{
    const auto now = std::chrono::steady_clock::now();
    tunnel.up_at = now;
    tunnel.reannounced = 0;
    const auto due = now + reannounce_after.front();
    // An idle timer's expiry is in the past; a waiting one keeps its time
    // when it comes first (it will find this tunnel then).
    if (reannounce_timer_.expiry() > now && reannounce_timer_.expiry() <= due)
        return;
    arm_reannounce(due);
}

void Daemon::arm_reannounce(std::chrono::steady_clock::time_point when)
{
    reannounce_timer_.expires_at(when);
    reannounce_timer_.async_wait([this](const boost::system::error_code& error) {
        if (!error)
            reannounce_due();
    });
}

void Daemon::reannounce_due()
{
    const auto horizon = std::chrono::steady_clock::now() + reannounce_slack;
    auto next = std::chrono::steady_clock::time_point::max();
    for (auto& tunnel : tunnels_) {
        if (!tunnel.up)
            continue;
        const auto due = [&] {
            return tunnel.reannounced < reannounce_after.size() &&
                   tunnel.up_at + reannounce_after[tunnel.reannounced] <= horizon;
        };
        if (due()) {
            // Once, however many are due: they would all say the same.
            try {
                announce_addresses(tunnel);
            } catch (const std::runtime_error& error) {
                log::esp()->warn("tunnel {}: cannot announce its addresses again: {}", tunnel.name, error.what());
            }
            while (due())
                ++tunnel.reannounced;
        }
        if (tunnel.reannounced < reannounce_after.size())
            next = std::min(next, tunnel.up_at + reannounce_after[tunnel.reannounced]);
    }
    if (next != std::chrono::steady_clock::time_point::max())
        arm_reannounce(next);
}

} // namespace mesh::daemon
