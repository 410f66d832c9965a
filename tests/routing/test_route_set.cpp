// RouteSet: which route each owned prefix gets, from the tunnels that own it.

#include "routing/route_set.hpp"
#include "tests/routing/route_helpers.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace mesh::routing;
using namespace mesh::test;

namespace {

TunnelRoutes owning(std::vector<const char*> prefixes, int ifindex, bool up, std::uint8_t distance = 10,
                    std::uint32_t metric = 0)
{
    TunnelRoutes t;
    for (const char* p : prefixes)
        t.prefixes.push_back(prefix(p));
    t.ifindex = ifindex;
    t.distance = distance;
    t.metric = metric;
    t.up = up;
    return t;
}

} // namespace

TEST_CASE("nothing owned, nothing selected")
{
    CHECK(RouteSet{}.selected().empty());
}

TEST_CASE("an up tunnel's prefixes go out of its interface at its distance, sorted by prefix")
{
    RouteSet set;
    set.set("site-b", owning({"10.2.0.0/24", "10.0.0.0/8", "2001:db8::/32"}, 7, true, 10, 5));
    CHECK(set.selected() == std::vector{via("10.0.0.0/8", {7}, 10, 5), via("10.2.0.0/24", {7}, 10, 5),
                                        via("2001:db8::/32", {7}, 10, 5)});
}

TEST_CASE("a down tunnel's prefixes become leak-guard blackholes")
{
    RouteSet set;
    set.set("site-b", owning({"10.2.0.0/24"}, 7, false));
    const auto selected = set.selected();
    REQUIRE(selected.size() == 1);
    CHECK(selected[0] == blackhole("10.2.0.0/24"));
    CHECK(selected[0].blackhole());
}

TEST_CASE("two up tunnels at the same distance are ECMP nexthops, ifindexes sorted")
{
    RouteSet set;
    set.set("b2", owning({"10.2.0.0/24"}, 9, true));
    set.set("b1", owning({"10.2.0.0/24"}, 7, true));
    CHECK(set.selected() == std::vector{via("10.2.0.0/24", {7, 9}, 10)});
}

TEST_CASE("IPv6 has no ECMP through interfaces without a gateway: the first up owner alone")
{
    RouteSet set;
    set.set("b2", owning({"2001:db8:2::/48"}, 9, true));
    set.set("b1", owning({"2001:db8:2::/48"}, 7, true));
    CHECK(set.selected() == std::vector{via("2001:db8:2::/48", {7}, 10)});
    set.set("b1", owning({"2001:db8:2::/48"}, 7, false));
    CHECK(set.selected() == std::vector{via("2001:db8:2::/48", {9}, 10)});
}

TEST_CASE("the best distance wins; the backup takes over when it goes down")
{
    RouteSet set;
    set.set("primary", owning({"10.2.0.0/24"}, 7, true, 10));
    set.set("backup", owning({"10.2.0.0/24"}, 9, true, 20));
    CHECK(set.selected() == std::vector{via("10.2.0.0/24", {7}, 10)});

    set.set("primary", owning({"10.2.0.0/24"}, 7, false, 10));
    CHECK(set.selected() == std::vector{via("10.2.0.0/24", {9}, 20)});

    set.set("backup", owning({"10.2.0.0/24"}, 9, false, 20));
    CHECK(set.selected() == std::vector{blackhole("10.2.0.0/24")});
}

TEST_CASE("at equal distance the lower metric wins; equal metric joins")
{
    RouteSet set;
    set.set("a", owning({"10.2.0.0/24"}, 7, true, 10, 100));
    set.set("b", owning({"10.2.0.0/24"}, 8, true, 10, 50));
    CHECK(set.selected() == std::vector{via("10.2.0.0/24", {8}, 10, 50)});
    set.set("c", owning({"10.2.0.0/24"}, 9, true, 10, 50));
    CHECK(set.selected() == std::vector{via("10.2.0.0/24", {8, 9}, 10, 50)});
}

TEST_CASE("several tunnels owning different and shared prefixes")
{
    RouteSet set;
    set.set("b", owning({"10.2.0.0/24", "10.9.0.0/16"}, 7, true));
    set.set("c", owning({"10.3.0.0/24", "10.9.0.0/16"}, 8, false));
    CHECK(set.selected() == std::vector{via("10.2.0.0/24", {7}, 10), blackhole("10.3.0.0/24"),
                                        via("10.9.0.0/16", {7}, 10)});
}

TEST_CASE("removing a tunnel drops the prefixes only it owned")
{
    RouteSet set;
    set.set("b", owning({"10.2.0.0/24", "10.9.0.0/16"}, 7, true));
    set.set("c", owning({"10.9.0.0/16"}, 8, true));
    set.remove("b");
    CHECK(set.selected() == std::vector{via("10.9.0.0/16", {8}, 10)});
    set.remove("c");
    CHECK(set.selected().empty());
    set.remove("never-there");
    CHECK(set.selected().empty());
}

TEST_CASE("set() replaces what a tunnel owned before")
{
    RouteSet set;
    set.set("b", owning({"10.2.0.0/24"}, 7, true));
    set.set("b", owning({"10.4.0.0/24"}, 7, true, 30));
    CHECK(set.selected() == std::vector{via("10.4.0.0/24", {7}, 30)});
}

TEST_CASE("a prefix listed twice, or two tunnels on one interface, is one nexthop")
{
    RouteSet set;
    set.set("b", owning({"10.2.0.0/24", "10.2.0.0/24"}, 7, true));
    set.set("b-again", owning({"10.2.0.0/24"}, 7, true));
    CHECK(set.selected() == std::vector{via("10.2.0.0/24", {7}, 10)});
}

TEST_CASE("a down owner with a better distance does not stop an up one")
{
    RouteSet set;
    set.set("down", owning({"10.2.0.0/24"}, 7, false, 1));
    set.set("up", owning({"10.2.0.0/24"}, 9, true, 200));
    CHECK(set.selected() == std::vector{via("10.2.0.0/24", {9}, 200)});
}

TEST_CASE("to_string for log lines")
{
    CHECK(to_string(via("10.2.0.0/24", {7, 9}, 10, 3)) == "10.2.0.0/24 via ifindex 7 9 distance 10 metric 3");
    CHECK(to_string(blackhole("10.2.0.0/24")) == "10.2.0.0/24 blackhole distance 254 metric 0");
}
