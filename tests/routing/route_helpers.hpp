#pragma once
// Prefixes and selected routes for the routing tests, written as text.

#include "routing/route_set.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace mesh::test {

inline net::IpPrefix prefix(const char* text)
{
    const auto p = net::IpPrefix::parse(text);
    REQUIRE(p.has_value());
    return *p;
}

inline routing::SelectedRoute via(const char* p, std::vector<int> ifindexes, std::uint8_t distance = 10,
                                  std::uint32_t metric = 0)
{
    return routing::SelectedRoute{prefix(p), std::move(ifindexes), distance, metric};
}

inline routing::SelectedRoute blackhole(const char* p)
{
    return routing::SelectedRoute{prefix(p), {}, routing::leak_guard_distance, 0};
}

} // namespace mesh::test
