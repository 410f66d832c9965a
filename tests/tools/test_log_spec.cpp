// Per-topic log levels (tools/log/log_spec.hpp), as `run --log`, `[site] log`
// and the control socket's `log` request read them, and what applying them
// does to the topics (tools/log/log.hpp).

#include "tools/config/config.hpp"
#include "tools/log/log.hpp"
#include "tools/log/log_spec.hpp"
#include "tests/tools/config_error.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace mesh::log;
using spdlog::level::level_enum;

TEST_CASE("a log spec sets topics by name, and a bare level sets every topic, left to right")
{
    struct Case {
        int number;
        std::string text;
        LogSpec spec;
    };
    const Case cases[] = {
        {1, "debug", {{"", level_enum::debug}}},
        {2, "ike=debug", {{"ike", level_enum::debug}}},
        {3, "ike=debug,esp=info", {{"ike", level_enum::debug}, {"esp", level_enum::info}}},
        {4, "warn,ike=trace", {{"", level_enum::warn}, {"ike", level_enum::trace}}},
        {5, "ike=debug,routing=off", {{"ike", level_enum::debug}, {"routing", level_enum::off}}},
        {6, "error", {{"", level_enum::err}}},
        {7, "daemon=warn,config=error,gre=info",
         {{"daemon", level_enum::warn}, {"config", level_enum::err}, {"gre", level_enum::info}}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.number);
        const auto parsed = parse_log_spec(c.text);
        REQUIRE(parsed.has_value());
        CHECK(*parsed == c.spec);
        CHECK(format_log_spec(*parsed) == c.text);
    }
}

TEST_CASE("a log spec with an unknown topic or level is refused with the valid ones listed")
{
    struct Case {
        int number;
        std::string text;
        std::string says;
    };
    const Case cases[] = {
        {1, "bogus=1", "unknown log topic \"bogus\": the topics are ike, esp, gre, routing, config, daemon"},
        {2, "ike=1", "unknown log level \"1\" for ike: the levels are trace, debug, info, warn, error, off"},
        {3, "loud", "unknown log level \"loud\": the levels are trace"},
        {4, "", "no log levels"},
        {5, "ike=debug,", "unknown log level \"\""},
        {6, "ike=", "unknown log level \"\" for ike"},
        {7, "=debug", "unknown log topic \"\""},
        {8, "IKE=debug", "unknown log topic \"IKE\""},
        {9, "ike=debug=info", "unknown log level \"debug=info\" for ike"},
        {10, "ike=warning", "unknown log level \"warning\""},
        {11, "ike=\x01", "unknown log level \"\\x01\""},
        {12, "ike=debug, esp=info", "unknown log topic \" esp\""},
        {13, "ike =debug", "unknown log topic \"ike \""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.number);
        const auto parsed = parse_log_spec(c.text);
        REQUIRE_FALSE(parsed.has_value());
        CHECK(parsed.error().find(c.says) != std::string::npos);
    }
}

TEST_CASE("applying a spec changes only the topics it names; current_levels shows every topic in order")
{
    init(level_enum::info);
    apply(*parse_log_spec("warn,ike=debug"));
    apply(*parse_log_spec("esp=trace"));
    const auto levels = current_levels();
    REQUIRE(levels.size() == topics.size());
    CHECK(levels[0] == std::pair{std::string_view("ike"), level_enum::debug});
    CHECK(levels[1] == std::pair{std::string_view("esp"), level_enum::trace});
    CHECK(levels[2] == std::pair{std::string_view("gre"), level_enum::warn});
    CHECK(levels[5] == std::pair{std::string_view("daemon"), level_enum::warn});
    CHECK(ike()->level() == level_enum::debug);
    init(level_enum::info);
}

TEST_CASE("[site] log is read as a log spec, and a wrong one is located with the valid topics")
{
    const auto config = mesh::config::parse(R"([site]
name = "a"
log = "ike=debug,esp=info"
)",
                                            "a.toml");
    CHECK(config.site.log_levels == LogSpec{{"ike", level_enum::debug}, {"esp", level_enum::info}});
    CHECK(mesh::config::parse("[site]\nname = \"a\"\n", "a.toml").site.log_levels.empty());

    CHECK(mesh::config::test::error_of(R"([site]
name = "a"
log = "ike=debug,bogus=info"
)") == "a.toml:3:7: 'log': unknown log topic \"bogus\": the topics are ike, esp, gre, routing, config, daemon "
       "(e.g. \"ike=debug,esp=info\")");
}
