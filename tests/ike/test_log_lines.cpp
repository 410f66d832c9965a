// What the IKE engine tells the operator about datagrams it refuses: the
// lines an operator needs are there, at a level they see (RFC 7296's words),
// and no line can be made to repeat faster than about once a second, however
// many datagrams arrive (net/log_rate_limit.hpp). The engine's clock is the
// test's, so "a second" is stepped, not waited for.

#include "exchange_pair.hpp"
#include "ike/proposal.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <string>
#include <vector>

using namespace exchange_pair;

namespace {

// The "ike" topic, captured for the test's lifetime as "LEVEL text" lines.
struct CapturedLog {
    CapturedLog()
    {
        auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(text);
        sink->set_pattern("%l %v");
        auto logger = std::make_shared<spdlog::logger>("ike", sink);
        logger->set_level(spdlog::level::trace);
        spdlog::drop("ike");
        spdlog::register_logger(logger);
    }
    ~CapturedLog() { spdlog::drop("ike"); }
    CapturedLog(const CapturedLog&) = delete;
    CapturedLog& operator=(const CapturedLog&) = delete;

    std::vector<std::string> lines() const
    {
        std::vector<std::string> out;
        std::istringstream in(text.str());
        for (std::string line; std::getline(in, line);)
            out.push_back(line);
        return out;
    }
    // Lines at info or above that contain `words`.
    std::vector<std::string> seen(const std::string& words) const
    {
        std::vector<std::string> out;
        for (const auto& line : lines())
            if (!line.starts_with("debug") && !line.starts_with("trace") && line.find(words) != std::string::npos)
                out.push_back(line);
        return out;
    }

    std::ostringstream text;
};

Message init_request(std::uint64_t spi_i)
{
    Message request;
    request.header.spi_i = spi_i;
    request.header.exchange_type = ExchangeType::ike_sa_init;
    request.header.initiator = true;
    return request;
}

} // namespace

TEST_CASE("an IKE_SA_INIT without a KE payload is logged, counted and answered INVALID_SYNTAX")
{
    CapturedLog log;
    Pair p(a_to_b(), b_to_a());
    Message request = init_request(0x1122334455667788);
    request.payloads.push_back(ike_proposals(a_to_b().ike));
    request.payloads.push_back(NoncePayload{std::vector<std::uint8_t>(32, 7)});
    p.b->on_datagram(p.b_ike, p.a_ike, serialize(request), p.now);

    REQUIRE(p.wire.size() == 1);
    const auto answer = parse(p.wire.front().bytes);
    REQUIRE(answer);
    CHECK(answer->find_notify(NotifyType::invalid_syntax) != nullptr);
    CHECK(p.b->counters().malformed == 1);
    const auto lines = log.seen("IKE_SA_INIT from 192.0.2.1:500 refused: no KE payload");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].starts_with("warning"));
}

TEST_CASE("an unknown critical payload is logged as a warning in RFC 7296's words")
{
    CapturedLog log;
    Pair p(a_to_b(), b_to_a());
    Message request = init_request(0x1122334455667788);
    request.payloads.push_back(UnknownPayload{static_cast<PayloadType>(200), true, {1, 2, 3, 4}});
    p.b->on_datagram(p.b_ike, p.a_ike, serialize(request), p.now);

    const auto lines = log.seen("unsupported critical payload (type 200)");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].starts_with("warning"));
    CHECK(lines[0].find("answered UNSUPPORTED_CRITICAL_PAYLOAD") != std::string::npos);
}

TEST_CASE("an IKE_SA_INIT with SPIi zero is logged as a warning naming section 3.1")
{
    CapturedLog log;
    Pair p(a_to_b(), b_to_a());
    Message request = init_request(0);
    request.payloads.push_back(ike_proposals(a_to_b().ike));
    p.b->on_datagram(p.b_ike, p.a_ike, serialize(request), p.now);

    CHECK(p.wire.empty());
    CHECK(p.b->counters().malformed == 1);
    const auto lines = log.seen("IKE_SA_INIT from 192.0.2.1:500 refused: SPIi is zero (RFC 7296 section 3.1)");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].starts_with("warning"));
}

TEST_CASE("an unsupported major version is logged as a warning naming INVALID_MAJOR_VERSION")
{
    CapturedLog log;
    Pair p(a_to_b(), b_to_a());
    Message request = init_request(0x1122334455667788);
    request.header.major_version = 3;
    request.payloads.push_back(NoncePayload{std::vector<std::uint8_t>(32, 7)});
    p.b->on_datagram(p.b_ike, p.a_ike, serialize(request), p.now);

    REQUIRE(p.wire.size() == 1);
    const auto lines = log.seen("INVALID_MAJOR_VERSION");
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].starts_with("warning"));
    CHECK(lines[0].find("major version 3") != std::string::npos);
}

TEST_CASE("10,000 IKE_SA_INIT from addresses with no peer over 10 s give one line a second, with the count")
{
    CapturedLog log;
    Pair p(a_to_b(), b_to_a());
    Message request = init_request(0);
    request.payloads.push_back(ike_proposals(a_to_b().ike));
    for (int i = 0; i < 10'000; ++i) {
        request.header.spi_i = 0x1000 + static_cast<std::uint64_t>(i);
        const Endpoint spoofed{*IpAddress::parse("198.51.100." + std::to_string(1 + i % 254)), 500};
        p.b->on_datagram(p.b_ike, spoofed, serialize(request), p.now);
        p.now += std::chrono::milliseconds(1);
    }
    CHECK(p.b->counters().init_no_peer == 10'000);
    CHECK(p.b->counters().messages_in == 10'000);
    const auto lines = log.seen("ignored: no peer is configured for this address");
    CHECK(lines.size() == 10);
    CHECK(log.lines().size() == 10);
    REQUIRE(lines.size() >= 2);
    CHECK(lines[1].ends_with("(999 more suppressed in the last 1.0 s)"));
}

TEST_CASE("malformed datagrams and unknown SPIs: counted each, logged about once a second")
{
    CapturedLog log;
    Pair p(a_to_b(), b_to_a());
    Message informational;
    informational.header.spi_i = 0x55;
    informational.header.spi_r = 0x66;
    informational.header.exchange_type = ExchangeType::informational;
    informational.header.initiator = true;
    const auto unknown = serialize(informational);
    const std::vector<std::uint8_t> garbage(40, 0xee);
    for (int i = 0; i < 3000; ++i) {
        p.b->on_datagram(p.b_ike, p.a_ike, i % 2 == 0 ? garbage : unknown, p.now);
        p.now += std::chrono::milliseconds(1);
    }
    CHECK(p.b->counters().malformed == 1500);
    CHECK(p.b->counters().unknown_spi == 1500);
    CHECK(log.lines().size() <= 6);
}
