// [site] metrics-listen: off by default, ADDRESS:PORT with IPv6 in brackets.

#include "tools/config/config.hpp"
#include "tests/tools/config_error.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace mesh::config;
using mesh::config::test::error_of;

TEST_CASE("metrics-listen: unset by default; an IPv4 address or a bracketed IPv6 one, and a port")
{
    CHECK_FALSE(parse("[site]\nname = \"a\"\n", "a.toml").site.metrics_listen);
    const auto v4 = parse("[site]\nname = \"a\"\nmetrics-listen = \"127.0.0.1:9721\"\n", "a.toml").site.metrics_listen;
    REQUIRE(v4);
    CHECK(v4->to_string() == "127.0.0.1:9721");
    const auto v6 = parse("[site]\nname = \"a\"\nmetrics-listen = \"[::1]:9721\"\n", "a.toml").site.metrics_listen;
    REQUIRE(v6);
    CHECK(v6->to_string() == "[::1]:9721");
}

TEST_CASE("metrics-listen: what is not ADDRESS:PORT is refused where it is written")
{
    const std::string fix = "'metrics-listen' must be ADDRESS:PORT, e.g. \"127.0.0.1:9721\" or \"[::1]:9721\"";
    for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:97x", ":9721",
                            "::1:9721", "[127.0.0.1]:9721", "[::1]", "localhost:9721", "[::1]:-1"}) {
        CAPTURE(bad);
        CHECK(error_of(std::string("[site]\nname = \"a\"\nmetrics-listen = \"") + bad + "\"\n") ==
              "a.toml:3:18: " + fix);
    }
    CHECK(error_of("[site]\nname = \"a\"\nmetrics-listen = 9721\n").starts_with("a.toml:3:18: "));
}
