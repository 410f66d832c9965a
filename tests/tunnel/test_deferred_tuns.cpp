// When a deferred TUN bulk queue wakes its worker again
// (tunnel/deferred_tuns.hpp): every queue deferred falls due at the first
// one's time, once, and a full list refuses rather than forgets.

#include "tunnel/deferred_tuns.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using mesh::tunnel::DeferredTuns;
using namespace std::chrono_literals;

namespace {

std::vector<std::uint64_t> taken(DeferredTuns& deferred, DeferredTuns::Clock::time_point now)
{
    const auto due = deferred.take_due(now);
    return {due.begin(), due.end()};
}

} // namespace

TEST_CASE("a deferred queue falls due once, delay after it was deferred, and the worker sleeps until then")
{
    DeferredTuns deferred;
    const DeferredTuns::Clock::time_point start{10s};
    CHECK(deferred.empty());
    CHECK_FALSE(deferred.wait_for(start));
    CHECK(taken(deferred, start).empty());

    CHECK(deferred.defer(7, start));
    CHECK_FALSE(deferred.empty());
    CHECK(deferred.wait_for(start) == DeferredTuns::delay);
    CHECK(deferred.wait_for(start + 100us) == DeferredTuns::delay - 100us);
    CHECK(taken(deferred, start + DeferredTuns::delay - 1ns).empty());
    // Woken late (the budget, another event): due at once, never negative.
    CHECK(deferred.wait_for(start + 2 * DeferredTuns::delay) == DeferredTuns::Clock::duration::zero());
    CHECK(taken(deferred, start + DeferredTuns::delay) == std::vector<std::uint64_t>{7});
    CHECK(deferred.empty());
    CHECK(taken(deferred, start + 2 * DeferredTuns::delay).empty());
}

TEST_CASE("queues deferred later fall due with the first: one timer per worker")
{
    DeferredTuns deferred;
    const DeferredTuns::Clock::time_point start{10s};
    CHECK(deferred.defer(1, start));
    CHECK(deferred.defer(2, start + 200us));
    CHECK(deferred.wait_for(start + 200us) == DeferredTuns::delay - 200us);
    CHECK(taken(deferred, start + DeferredTuns::delay) == std::vector<std::uint64_t>{1, 2});
    // A new deferral after that starts a new time.
    CHECK(deferred.defer(3, start + DeferredTuns::delay + 1us));
    CHECK(deferred.wait_for(start + DeferredTuns::delay + 1us) == DeferredTuns::delay);
}

TEST_CASE("a full list refuses the next queue, which its caller arms at once, and keeps the others")
{
    DeferredTuns deferred;
    const DeferredTuns::Clock::time_point start{10s};
    for (std::uint64_t t = 0; t < DeferredTuns::capacity; ++t)
        REQUIRE(deferred.defer(t, start));
    CHECK_FALSE(deferred.defer(DeferredTuns::capacity, start));
    const auto due = taken(deferred, start + DeferredTuns::delay);
    REQUIRE(due.size() == DeferredTuns::capacity);
    CHECK(due.front() == 0);
    CHECK(due.back() == DeferredTuns::capacity - 1);
    CHECK(deferred.defer(99, start + DeferredTuns::delay));
}
