// The Prometheus text exposition writer: HELP and TYPE before the samples,
// label values and help escaped as the format says, names checked.

#include "tools/metrics/exposition.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <stdexcept>
#include <string>

using namespace mesh::metrics;

TEST_CASE("exposition: a family is its HELP and TYPE lines, then its samples")
{
    Exposition out;
    out.family("mesh_site_tunnel_up", MetricType::gauge, "Whether the tunnel is up.");
    out.sample({{"tunnel", "a-b"}, {"peer", "site-b"}}, std::uint64_t{1});
    out.sample({{"tunnel", "a-c"}, {"peer", "site-c"}}, std::uint64_t{0});
    out.family("mesh_site_ike_cookies_sent_total", MetricType::counter, "Cookies.");
    out.sample({}, std::uint64_t{18446744073709551615ULL});
    CHECK(out.text() == "# HELP mesh_site_tunnel_up Whether the tunnel is up.\n"
                        "# TYPE mesh_site_tunnel_up gauge\n"
                        "mesh_site_tunnel_up{tunnel=\"a-b\",peer=\"site-b\"} 1\n"
                        "mesh_site_tunnel_up{tunnel=\"a-c\",peer=\"site-c\"} 0\n"
                        "# HELP mesh_site_ike_cookies_sent_total Cookies.\n"
                        "# TYPE mesh_site_ike_cookies_sent_total counter\n"
                        "mesh_site_ike_cookies_sent_total 18446744073709551615\n");
}

TEST_CASE("exposition: label values escape backslash, double quote and newline; nothing else")
{
    Exposition out;
    out.family("m", MetricType::gauge, "h");
    out.sample({{"branch", "fqdn:\"x\"\\y\nz ä{}="}}, std::uint64_t{2});
    CHECK(out.text().ends_with("m{branch=\"fqdn:\\\"x\\\"\\\\y\\nz ä{}=\"} 2\n"));
    CHECK(escape_label_value("") == "");
    CHECK(escape_label_value("CN=a, O=b") == "CN=a, O=b");
}

TEST_CASE("exposition: HELP escapes backslash and newline but not the double quote")
{
    Exposition out;
    out.family("m", MetricType::gauge, "a \"b\" \\ c\nd");
    CHECK(out.text() == "# HELP m a \"b\" \\\\ c\\nd\n# TYPE m gauge\n");
}

TEST_CASE("exposition: floating-point values, NaN and infinities as the format spells them")
{
    Exposition out;
    out.family("mesh_site_start_time_seconds", MetricType::gauge, "t");
    out.sample({}, 1765065600.25);
    out.sample({}, 0.0);
    out.sample({}, std::numeric_limits<double>::quiet_NaN());
    out.sample({}, std::numeric_limits<double>::infinity());
    out.sample({}, -std::numeric_limits<double>::infinity());
    CHECK(out.text().ends_with("mesh_site_start_time_seconds 1765065600.25\n"
                               "mesh_site_start_time_seconds 0\n"
                               "mesh_site_start_time_seconds NaN\n"
                               "mesh_site_start_time_seconds +Inf\n"
                               "mesh_site_start_time_seconds -Inf\n"));
}

TEST_CASE("exposition: counters, and only counters, end in _total")
{
    Exposition out;
    CHECK_THROWS_AS(out.family("mesh_site_rekeys", MetricType::counter, "h"), std::invalid_argument);
    CHECK_THROWS_AS(out.family("mesh_site_sas_total", MetricType::gauge, "h"), std::invalid_argument);
    CHECK_NOTHROW(out.family("mesh_site_rekeys_total", MetricType::counter, "h"));
}

TEST_CASE("exposition: metric and label names are checked")
{
    CHECK(valid_metric_name("mesh_site_tunnel_up"));
    CHECK(valid_metric_name("_x:y_1"));
    CHECK_FALSE(valid_metric_name(""));
    CHECK_FALSE(valid_metric_name("1abc"));
    CHECK_FALSE(valid_metric_name("mesh-site"));
    CHECK_FALSE(valid_metric_name("a b"));
    CHECK(valid_label_name("tunnel"));
    CHECK(valid_label_name("_a1"));
    CHECK_FALSE(valid_label_name("__name__"));
    CHECK_FALSE(valid_label_name("a:b"));
    CHECK_FALSE(valid_label_name("1a"));
    CHECK_FALSE(valid_label_name(""));

    Exposition out;
    CHECK_THROWS_AS(out.family("mesh-site_up", MetricType::gauge, "h"), std::invalid_argument);
    out.family("m", MetricType::gauge, "h");
    CHECK_THROWS_AS(out.sample({{"bad-label", "x"}}, std::uint64_t{1}), std::invalid_argument);
}

TEST_CASE("exposition: a sample before any family is a programming error")
{
    Exposition out;
    CHECK_THROWS_AS(out.sample({}, std::uint64_t{1}), std::logic_error);
}
