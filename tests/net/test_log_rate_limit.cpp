#include "net/log_rate_limit.hpp"

#include <doctest/doctest.h>

#include <chrono>

using mesh::net::LogRateLimit;
using namespace std::chrono_literals;

namespace {
const LogRateLimit::Clock::time_point t0 = LogRateLimit::Clock::time_point{} + 1000s;
}

TEST_CASE("the first line of a reason goes out, with nothing suppressed")
{
    LogRateLimit limit;
    const auto first = limit.admit(t0);
    REQUIRE(first);
    CHECK(first->count == 0);
    CHECK(first->note().empty());
}

TEST_CASE("within the interval lines are held back and counted, then told with the next line")
{
    LogRateLimit limit;
    REQUIRE(limit.admit(t0));
    for (int i = 1; i <= 1234; ++i)
        CHECK_FALSE(limit.admit(t0 + i * 500us));
    CHECK(limit.pending() == 1234);
    CHECK_FALSE(limit.admit(t0 + 999ms));
    const auto next = limit.admit(t0 + 1s);
    REQUIRE(next);
    CHECK(next->count == 1235);
    CHECK(next->over == 1s);
    CHECK(next->note() == " (1235 more suppressed in the last 1.0 s)");
    CHECK(limit.pending() == 0);
}

TEST_CASE("10,000 occurrences over 10 s give about one line a second")
{
    LogRateLimit limit;
    int lines = 0;
    std::uint64_t told = 0;
    for (int i = 0; i < 10'000; ++i) {
        if (const auto allowed = limit.admit(t0 + i * 1ms)) {
            ++lines;
            told += allowed->count;
        }
    }
    CHECK(lines == 10);
    CHECK(told + lines + limit.pending() == 10'000);
}

TEST_CASE("a quiet reason says over how long it held lines back")
{
    LogRateLimit limit(2s);
    REQUIRE(limit.admit(t0));
    CHECK_FALSE(limit.admit(t0 + 1s));
    const auto later = limit.admit(t0 + 12s + 340ms);
    REQUIRE(later);
    CHECK(later->note() == " (1 more suppressed in the last 12.3 s)");
    const auto again = limit.admit(t0 + 20s);
    REQUIRE(again);
    CHECK(again->note().empty());
}
