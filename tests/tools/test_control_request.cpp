// The control socket's request parser and answer (tools/daemon/control_request.hpp):
// every line is a request or a refusal, and every answer is valid UTF-8 JSON.

#include "tools/daemon/control_request.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace mesh::daemon;
using namespace std::string_literals;

namespace {

// Valid JSON of valid UTF-8: nlohmann's strict dump (the one that ended the
// daemon with type_error 316) accepts it.
bool strict_utf8(const std::string& text)
{
    try {
        (void)nlohmann::json(text).dump();
        return true;
    } catch (const nlohmann::json::type_error&) {
        return false;
    }
}

nlohmann::json echo(const Request& request)
{
    return {{"line", request_line(request)}};
}

} // namespace

TEST_CASE("the daemon's requests parse, with one trailing carriage return ignored")
{
    struct Case {
        int number;
        std::string line;
        Request request;
    };
    const Case cases[] = {
        {1, "status", StatusRequest{}},
        {2, "keys", KeysRequest{}},
        {3, "status\r", StatusRequest{}},
        {4, "rekey ike site-b", RekeyRequest{RekeyRequest::Sa::ike, "site-b"}},
        {5, "rekey child site-b", RekeyRequest{RekeyRequest::Sa::child, "site-b"}},
        {6, "rekey child site-b\r", RekeyRequest{RekeyRequest::Sa::child, "site-b"}},
        // A TOML key may hold spaces and any Unicode letter.
        {7, "rekey ike branch office", RekeyRequest{RekeyRequest::Sa::ike, "branch office"}},
        {8, "rekey ike caf\xc3\xa9", RekeyRequest{RekeyRequest::Sa::ike, "caf\xc3\xa9"}},
        {9, "status branches", StatusRequest{"branches"}},
        {9, "rekey ike \xf0\x9f\x8c\x8d", RekeyRequest{RekeyRequest::Sa::ike, "\xf0\x9f\x8c\x8d"}},
        {10, "rekey ike " + std::string(max_peer_name, 'p'), RekeyRequest{RekeyRequest::Sa::ike, std::string(max_peer_name, 'p')}},
        {11, "log", LogRequest{}},
        {12, "log ike=debug", LogRequest{{{"ike", spdlog::level::debug}}}},
        {13, "log debug,esp=info\r", LogRequest{{{"", spdlog::level::debug}, {"esp", spdlog::level::info}}}},
        {14, "reload", ReloadRequest{}},
    };
    for (const auto& c : cases) {
        CAPTURE(c.number);
        const auto parsed = parse_request(c.line);
        REQUIRE(parsed.has_value());
        CHECK(*parsed == c.request);
    }
}

TEST_CASE("anything else is refused with a message that is valid UTF-8 and names the fault")
{
    struct Case {
        int number;
        std::string line;
        std::string says;
    };
    const Case cases[] = {
        {1, "", "empty request"},
        {2, "\r", "empty request"},
        {3, "\xff", "byte 0xff at offset 0"},
        {4, "status\0"s, "byte 0x00 at offset 6"},
        {5, "\0\0\0\0"s, "byte 0x00 at offset 0"},
        {6, "rekey ike caf\xe9", "byte 0xe9 at offset 13"},
        {7, "\xc0\xaf", "byte 0xc0"},                  // overlong '/'
        {8, "\xed\xa0\x80", "byte 0xed"},              // a UTF-16 surrogate
        {9, "\xf4\x90\x80\x80", "byte 0xf4"},          // above U+10FFFF
        {10, "a\xe2\x82", "byte 0xe2 at offset 1"},    // cut short
        {11, "\xc2\x85status", "byte 0xc2"},           // C1 control NEL
        {12, "status\r\r", "byte 0x0d at offset 6"},
        {13, "sta\ttus", "byte 0x09"},
        {14, "\x7f", "byte 0x7f"},
        {15, "Status", "unknown request \"Status\""},
        {16, "status ", "status: no peer name"},
        {17, "keys ", "keys takes no argument"},
        {18, "rekey", "rekey what? \"\""},
        {19, "rekey ike", "rekey ike: no peer name"},
        {20, "rekey ike ", "rekey ike: no peer name"},
        {21, "rekey both site-b", "rekey what? \"both\""},
        {22, "rekey ike " + std::string(max_peer_name + 1, 'p'), "a peer name of 256 bytes"},
        {23, std::string(max_request_line + 1, 's'), "more than 267 bytes"},
        {24, std::string(1 << 20, '\xff'), "more than 267 bytes"},
        {25, "{\"command\":\"status\"}", "unknown request"},
        {26, "log bogus=1", "log: unknown log topic \"bogus\": the topics are ike, esp, gre, routing, config, daemon"},
        {27, "log ike=loud", "log: unknown log level \"loud\" for ike: the levels are trace, debug, info, warn, error, off"},
        {28, "log ", "log: no log levels"},
        {29, "log ike=\xc3\xa9", "log: unknown log level \"\\xc3\\xa9\""},
        {30, "reload now", "reload takes no argument"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.number);
        const auto parsed = parse_request(c.line);
        REQUIRE_FALSE(parsed.has_value());
        CHECK(parsed.error().find(c.says) != std::string::npos);
        CHECK(strict_utf8(parsed.error()));
        CHECK(parsed.error().size() < 300);
    }
}

TEST_CASE("request_line is what parse_request reads back")
{
    for (const Request& request : {Request{StatusRequest{}}, Request{KeysRequest{}}, Request{ReloadRequest{}},
                                   Request{RekeyRequest{RekeyRequest::Sa::ike, "site-b"}},
                                   Request{RekeyRequest{RekeyRequest::Sa::child, "caf\xc3\xa9 2"}},
                                   Request{LogRequest{}},
                                   Request{LogRequest{{{"", spdlog::level::warn}, {"ike", spdlog::level::off}}}}}) {
        const auto parsed = parse_request(request_line(request));
        REQUIRE(parsed.has_value());
        CHECK(*parsed == request);
    }
}

TEST_CASE("check_peer_name: the CLI refuses what the daemon would")
{
    CHECK(check_peer_name("site-b").empty());
    CHECK(check_peer_name("caf\xc3\xa9").empty());
    CHECK(check_peer_name("caf\xe9").find("is not text") != std::string::npos);
    CHECK(check_peer_name("").find("no peer name") != std::string::npos);
    CHECK(check_peer_name("a\nb").find("byte 0x0a at offset 1") != std::string::npos);
}

TEST_CASE("printable shows printable ASCII and escapes every other byte")
{
    CHECK(printable("site-b") == "\"site-b\"");
    CHECK(printable("a\"b\\c") == "\"a\\\"b\\\\c\"");
    CHECK(printable("caf\xe9\0"s) == "\"caf\\xe9\\x00\"");
    CHECK(printable("caf\xc3\xa9") == "\"caf\\xc3\\xa9\"");
    CHECK(printable(std::string(100, 'x'), 4) == "\"xxxx\"... (100 bytes)");
}

TEST_CASE("answer: a valid request goes to the handler, an invalid one never does")
{
    int calls = 0;
    const RequestHandler handler = [&](const Request& request) {
        ++calls;
        return echo(request);
    };
    const auto good = answer("rekey child site-b\r", handler);
    CHECK(nlohmann::json::parse(good.text) == nlohmann::json{{"line", "rekey child site-b"}});
    CHECK(good.failure.empty());
    CHECK(calls == 1);

    for (const std::string& line : {"\xff"s, "rekey ike caf\xe9"s, "\0"s, ""s, std::string(1 << 20, 'a')}) {
        const auto refused = answer(line, handler);
        const auto json = nlohmann::json::parse(refused.text);
        CHECK(json.contains("error"));
        CHECK(refused.failure.empty());
        CHECK(refused.text.find('\n') == std::string::npos);
    }
    CHECK(calls == 1);
}

TEST_CASE("answer: a handler that throws answers that request with an error object and reports the failure")
{
    const auto failed = answer("status", [](const Request&) -> nlohmann::json {
        throw std::runtime_error("no status today");
    });
    CHECK(failed.failure == "no status today");
    const auto json = nlohmann::json::parse(failed.text);
    CHECK(json["error"].get<std::string>().find("no status today") != std::string::npos);

    const auto odd = answer("keys", [](const Request&) -> nlohmann::json { throw 42; });
    CHECK_FALSE(odd.failure.empty());
    CHECK(nlohmann::json::parse(odd.text).contains("error"));
}

TEST_CASE("answer: bytes that are not UTF-8 in the handler's JSON (a peer's ID) come out as U+FFFD, not as an exception")
{
    const auto replaced = answer("status", [](const Request&) -> nlohmann::json {
        return {{"peers", {{{"remote-id", "fqdn:caf\xe9\xff"}}}}};
    });
    CHECK(replaced.failure.empty());
    const auto json = nlohmann::json::parse(replaced.text);
    CHECK(json["peers"][0]["remote-id"] == "fqdn:caf\xef\xbf\xbd\xef\xbf\xbd");
}
