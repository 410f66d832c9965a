// KernelRouteSink against the real kernel, in a private network namespace
// with two TUN interfaces. It needs root (CAP_NET_ADMIN) and iproute2 to read
// the table back (`ip -j route`), so it is a binary of its own, labelled netns
// (tests/routing/CMakeLists.txt); without them it exits 77, which ctest
// counts as a skip and tests/run-all.sh under CI as a failure.
// The namespace belongs to one worker thread (unshare(CLONE_NEWNET) is per
// thread), so nothing outside the test sees these routes.

#include "net/link.hpp"
#include "routing/kernel_route_sink.hpp"
#include "tests/routing/route_helpers.hpp"
#include "tunnel/tun_device.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sched.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace mesh::routing;
using namespace mesh::test;

namespace {

// Our routes as `ip` shows them, one line each: "10.2.0.0/24 metric 10 dev mt-a mt-b",
// "blackhole 10.2.0.0/24 metric 2147483647" (IPv6 blackholes show "dev lo" as well).
std::set<std::string> kernel_routes()
{
    std::set<std::string> lines;
    for (const char* family : {"-4", "-6"}) {
        const std::string command = std::string("ip -j ") + family + " route show table main proto 250";
        FILE* pipe = ::popen(command.c_str(), "r");
        if (!pipe)
            throw std::runtime_error("cannot run ip");
        std::string text;
        char buffer[4096];
        for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
            text.append(buffer, n);
        ::pclose(pipe);
        for (const auto& route : nlohmann::json::parse(text)) {
            std::string line = route.value("type", "unicast") == "blackhole" ? "blackhole " : "";
            line += route["dst"].get<std::string>() + " metric " + std::to_string(route.value("metric", 0));
            if (route.contains("dev"))
                line += " dev " + route["dev"].get<std::string>();
            if (route.contains("nexthops")) {
                line += " dev";
                for (const auto& nexthop : route["nexthops"])
                    line += " " + nexthop["dev"].get<std::string>();
            }
            lines.insert(line);
        }
    }
    return lines;
}

struct Lab {
    mesh::net::NetlinkSocket nl;
    mesh::tunnel::TunDevice a{"mt-a"};
    mesh::tunnel::TunDevice b{"mt-b"};
    KernelRouteSink sink{nl};

    Lab()
    {
        mesh::net::set_link_up(nl, a.ifindex(), true);
        mesh::net::set_link_up(nl, b.ifindex(), true);
    }
};

// Runs `steps` on a thread inside a new network namespace; exits 77 (skip)
// when this process may not make one.
void in_private_netns(const std::function<void(Lab&)>& steps)
{
    if (::geteuid() != 0 || std::system("ip -V >/dev/null 2>&1") != 0) {
        std::fputs("SKIP: needs root and iproute2\n", stderr);
        std::exit(77);
    }
    std::exception_ptr failure;
    std::thread worker([&] {
        try {
            if (::unshare(CLONE_NEWNET) != 0)
                throw std::runtime_error("unshare(CLONE_NEWNET) failed");
            Lab lab;
            steps(lab);
        } catch (...) {
            failure = std::current_exception();
        }
    });
    worker.join();
    if (failure)
        std::rethrow_exception(failure);
}

const std::string guard = " metric " + std::to_string(leak_guard_metric);

} // namespace

TEST_CASE("kernel: a unicast route per up prefix over a blackhole that stays while the prefix is owned")
{
    std::vector<std::set<std::string>> seen;
    std::vector<nlohmann::json> status;
    in_private_netns([&](Lab& lab) {
        const int a = lab.a.ifindex();
        const int b = lab.b.ifindex();
        lab.sink.apply(std::vector{via("10.2.0.0/24", {a, b}), via("10.3.0.0/24", {a}), blackhole("10.4.0.0/24")});
        seen.push_back(kernel_routes());
        lab.sink.apply(std::vector{blackhole("10.2.0.0/24"), via("10.3.0.0/24", {b}, 20)});
        seen.push_back(kernel_routes());
        status.push_back(lab.sink.status());
        lab.sink.withdraw_all();
        seen.push_back(kernel_routes());
        status.push_back(lab.sink.status());
    });
    REQUIRE(seen.size() == 3);
    CHECK(seen[0] == std::set<std::string>{"10.2.0.0/24 metric 10 dev mt-a mt-b", "blackhole 10.2.0.0/24" + guard,
                                           "10.3.0.0/24 metric 10 dev mt-a", "blackhole 10.3.0.0/24" + guard,
                                           "blackhole 10.4.0.0/24" + guard});
    // 10.2 down: only its blackhole; 10.3 moved to mt-b at distance 20 (old metric gone); 10.4 no longer owned.
    CHECK(seen[1] == std::set<std::string>{"blackhole 10.2.0.0/24" + guard, "10.3.0.0/24 metric 20 dev mt-b",
                                           "blackhole 10.3.0.0/24" + guard});
    CHECK(seen[2].empty());
    CHECK(status[0]["backend"] == "netlink");
    CHECK(status[0]["routes"][0]["state"] == "blackhole");
    CHECK(status[0]["routes"][1]["state"] == "installed");
    CHECK(status[0]["counters"]["netlink-errors"] == 0);
    CHECK(status[1]["routes"].empty());
}

TEST_CASE("kernel: a netlink failure is counted and shown, not thrown, and retried on the next apply")
{
    std::vector<std::set<std::string>> seen;
    std::vector<nlohmann::json> status;
    in_private_netns([&](Lab& lab) {
        lab.sink.apply(std::vector{via("10.2.0.0/24", {999})}); // no such interface
        seen.push_back(kernel_routes());
        status.push_back(lab.sink.status());
        lab.sink.apply(std::vector{via("10.2.0.0/24", {lab.a.ifindex()})});
        seen.push_back(kernel_routes());
        status.push_back(lab.sink.status());
    });
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] == std::set<std::string>{"blackhole 10.2.0.0/24" + guard});
    CHECK(status[0]["routes"][0]["state"] == "failed");
    CHECK(status[0]["counters"]["netlink-errors"] == 1);
    CHECK(seen[1] == std::set<std::string>{"10.2.0.0/24 metric 10 dev mt-a", "blackhole 10.2.0.0/24" + guard});
    CHECK(status[1]["routes"][0]["state"] == "installed");
}

TEST_CASE("kernel: IPv6 gets the same pair of routes")
{
    std::set<std::string> seen;
    in_private_netns([&](Lab& lab) {
        lab.sink.apply(std::vector{via("2001:db8:2::/48", {lab.a.ifindex()}), blackhole("2001:db8:3::/48")});
        seen = kernel_routes();
    });
    CHECK(seen == std::set<std::string>{"2001:db8:2::/48 metric 10 dev mt-a", "blackhole 2001:db8:2::/48" + guard + " dev lo",
                                        "blackhole 2001:db8:3::/48" + guard + " dev lo"});
}

TEST_CASE("kernel: a sink removes only its own routes, and puts back what someone else removed")
{
    std::vector<std::set<std::string>> seen;
    std::vector<std::size_t> deletions;
    nlohmann::json status;
    in_private_netns([&](Lab& lab) {
        // Another daemon of the namespace routes the same prefix over its own interface.
        KernelRouteSink other{lab.nl, 7};
        lab.sink.apply(std::vector{via("10.2.0.0/24", {lab.a.ifindex()})});
        other.apply(std::vector{via("10.2.0.0/24", {lab.b.ifindex()}, 20)});
        seen.push_back(kernel_routes());
        other.withdraw_all();
        seen.push_back(kernel_routes());

        RouteMonitor monitor;
        for (const char* command : {"ip route del 10.2.0.0/24 dev mt-a metric 10",
                                    "ip route del blackhole 10.2.0.0/24 metric 2147483647"})
            REQUIRE(std::system(command) == 0);
        seen.push_back(kernel_routes());
        const auto batch = monitor.read();
        deletions.push_back(batch.deleted.size());
        for (const auto& deleted : batch.deleted)
            lab.sink.on_route_deleted(deleted);
        seen.push_back(kernel_routes());
        status = lab.sink.status();
        // Our own removal is no one else's: nothing comes back.
        lab.sink.withdraw_all();
        const auto ours = monitor.read();
        deletions.push_back(ours.deleted.size());
        for (const auto& deleted : ours.deleted)
            lab.sink.on_route_deleted(deleted);
        seen.push_back(kernel_routes());
    });
    REQUIRE(seen.size() == 5);
    const std::set<std::string> mine{"10.2.0.0/24 metric 10 dev mt-a", "blackhole 10.2.0.0/24" + guard};
    CHECK(seen[0] == std::set<std::string>{"10.2.0.0/24 metric 10 dev mt-a", "blackhole 10.2.0.0/24" + guard,
                                           "10.2.0.0/24 metric 20 dev mt-b",
                                           "blackhole 10.2.0.0/24 metric " + std::to_string(leak_guard_metric - 7)});
    CHECK(seen[1] == mine);
    CHECK(seen[2].empty());
    CHECK(deletions[0] == 2);
    CHECK(seen[3] == mine);
    CHECK(status["counters"]["routes-restored"] == 2);
    CHECK(deletions[1] == 2);
    CHECK(seen[4].empty());
}

TEST_CASE("kernel: a route another sink replaced at the same metric and then withdrew comes back")
{
    std::vector<std::set<std::string>> seen;
    in_private_netns([&](Lab& lab) {
        KernelRouteSink other{lab.nl, 7};
        RouteMonitor monitor;
        lab.sink.apply(std::vector{via("10.2.0.0/24", {lab.a.ifindex()})});
        other.apply(std::vector{via("10.2.0.0/24", {lab.b.ifindex()})});
        seen.push_back(kernel_routes());
        other.withdraw_all();
        for (const auto& deleted : monitor.read().deleted)
            lab.sink.on_route_deleted(deleted);
        seen.push_back(kernel_routes());
    });
    REQUIRE(seen.size() == 2);
    const std::string other_guard = "blackhole 10.2.0.0/24 metric " + std::to_string(leak_guard_metric - 7);
    CHECK(seen[0] == std::set<std::string>{"10.2.0.0/24 metric 10 dev mt-b", "blackhole 10.2.0.0/24" + guard, other_guard});
    CHECK(seen[1] == std::set<std::string>{"10.2.0.0/24 metric 10 dev mt-a", "blackhole 10.2.0.0/24" + guard});
}
