// ZebraClient against FakeZebra (tests/routing/fake_zebra.hpp): the session
// (HELLO, CAPABILITIES, replay), apply()'s diff, notifications, every way the
// connection can break, and withdraw_all() with the io_context stopped.

#include "routing/zebra_client.hpp"
#include "tests/hex.hpp"
#include "tests/routing/fake_zebra.hpp"
#include "tests/routing/route_helpers.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <vector>

using namespace mesh::routing;
using namespace mesh::test;

namespace {

// A client and a zebra in a fresh folder; ready() runs until the client has
// said HELLO and had CAPABILITIES back.
struct Fixture {
    TempDir dir;
    boost::asio::io_context io;
    std::filesystem::path socket = dir.path() / "zserv.api";
    std::optional<FakeZebra> zebra{std::in_place, io, socket};
    ZebraClient client{io, socket};

    bool ready(std::size_t session = 1)
    {
        return run_until(io, [&] { return client.status()["session"] == "ready" && zebra->sessions.size() == session; });
    }
    // Runs until the current session has `n` frames.
    bool frames(std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds(5))
    {
        return run_until(io, [&] { return !zebra->sessions.empty() && zebra->current().size() >= n; }, limit);
    }
    std::int64_t counter(const char* name) { return client.status()["counters"][name].get<std::int64_t>(); }
};

} // namespace

TEST_CASE("HELLO first: type nhrp, instance 0, notifications on")
{
    Fixture f;
    REQUIRE(f.ready());
    REQUIRE(f.frames(1));
    const Received& hello = f.zebra->current()[0];
    CHECK(hello.command == zapi::Command::hello);
    CHECK(hello.route_type == static_cast<std::uint8_t>(zapi::RouteType::nhrp));
    CHECK(hello.instance == 0);
    CHECK(hello.receive_notify);
    const auto status = f.client.status();
    CHECK(status["backend"] == "zebra");
    CHECK(status["connected"] == true);
    CHECK(status["ecmp"] == 64);
    CHECK(f.counter("connects") == 1);
}

TEST_CASE("routes wanted before zebra is ready are announced once CAPABILITIES arrives")
{
    Fixture f;
    const std::vector routes{via("10.2.0.0/24", {7, 9}, 10, 5), blackhole("10.3.0.0/24")};
    f.client.apply(routes);
    CHECK(f.client.status()["routes"][0]["state"] == "not-announced");
    REQUIRE(f.ready());
    REQUIRE(f.frames(3));
    const auto& got = f.zebra->current();
    CHECK(got[1].command == zapi::Command::route_add);
    CHECK(got[1].prefix == prefix("10.2.0.0/24"));
    CHECK(got[1].ifindexes == std::vector{7, 9});
    CHECK(got[1].distance == 10);
    CHECK(got[1].metric == 5);
    CHECK(got[2].prefix == prefix("10.3.0.0/24"));
    CHECK(got[2].blackhole);
    CHECK(got[2].ifindexes.empty());
    CHECK(got[2].distance == leak_guard_distance);
    CHECK(got[2].tag == leak_guard_tag); // route-maps keep blackholes out of redistribution by it
    CHECK(got[1].tag == 0);
    CHECK(f.client.status()["routes"][0]["state"] == "sent");
}

TEST_CASE("apply() sends only the difference: ROUTE_ADD for new and changed, ROUTE_DELETE for gone")
{
    Fixture f;
    REQUIRE(f.ready());
    f.client.apply(std::vector{via("10.2.0.0/24", {7}), via("10.3.0.0/24", {7}), via("10.4.0.0/24", {7})});
    REQUIRE(f.frames(4));

    f.client.apply(std::vector{via("10.2.0.0/24", {7}), via("10.3.0.0/24", {8}), via("10.5.0.0/24", {7})});
    REQUIRE(f.frames(7));
    const std::vector<Received> diff(f.zebra->current().begin() + 4, f.zebra->current().end());
    REQUIRE(diff.size() == 3);
    CHECK(diff[0].command == zapi::Command::route_delete);
    CHECK(diff[0].prefix == prefix("10.4.0.0/24"));
    CHECK(diff[1].command == zapi::Command::route_add);
    CHECK(diff[1].prefix == prefix("10.3.0.0/24"));
    CHECK(diff[1].ifindexes == std::vector{8});
    CHECK(diff[2].command == zapi::Command::route_add);
    CHECK(diff[2].prefix == prefix("10.5.0.0/24"));

    f.client.apply(std::vector{via("10.2.0.0/24", {7}), via("10.3.0.0/24", {8}), via("10.5.0.0/24", {7})});
    CHECK_FALSE(f.frames(8, std::chrono::milliseconds(300))); // nothing changed, nothing sent
}

TEST_CASE("nexthops are clamped to CAPABILITIES' ECMP")
{
    Fixture f;
    f.zebra->ecmp = 2;
    REQUIRE(f.ready());
    f.client.apply(std::vector{via("10.2.0.0/24", {7, 8, 9})});
    REQUIRE(f.frames(2));
    CHECK(f.zebra->current()[1].ifindexes == std::vector{7, 8});
}

TEST_CASE("ROUTE_NOTIFY_OWNER sets each route's state; failures are counted")
{
    Fixture f;
    REQUIRE(f.ready());
    f.client.apply(std::vector{via("10.2.0.0/24", {7}), via("10.3.0.0/24", {7})});
    REQUIRE(f.frames(3));
    f.zebra->send(notify_frame(zapi::RouteNote::installed, prefix("10.2.0.0/24")));
    f.zebra->send(notify_frame(zapi::RouteNote::fail_install, prefix("10.3.0.0/24")));
    f.zebra->send(notify_frame(zapi::RouteNote::removed, prefix("10.9.0.0/24"))); // not ours: ignored
    REQUIRE(run_until(f.io, [&] { return f.counter("frames-in") == 4; }));
    const auto routes = f.client.status()["routes"];
    CHECK(routes[0]["state"] == "installed");
    CHECK(routes[1]["state"] == "install-failed");
    CHECK(f.counter("notify-failures") == 1);
    CHECK(f.counter("protocol-errors") == 0);

    f.zebra->send(notify_frame(zapi::RouteNote::better_admin_won, prefix("10.2.0.0/24")));
    REQUIRE(run_until(f.io, [&] { return f.counter("frames-in") == 5; }));
    CHECK(f.client.status()["routes"][0]["state"] == "better-admin-won");
}

TEST_CASE("zebra closing mid-frame: reconnect, HELLO again and replay every route")
{
    Fixture f;
    REQUIRE(f.ready());
    f.client.apply(std::vector{via("10.2.0.0/24", {7}), via("10.3.0.0/24", {8})});
    REQUIRE(f.frames(3));
    const auto notify = notify_frame(zapi::RouteNote::installed, prefix("10.2.0.0/24"));
    f.zebra->send(std::vector(notify.begin(), notify.begin() + 13));
    f.zebra->close_client();

    REQUIRE(f.ready(2));
    REQUIRE(f.frames(3));
    const auto& replay = f.zebra->current();
    CHECK(replay[0].command == zapi::Command::hello);
    CHECK(replay[1].prefix == prefix("10.2.0.0/24"));
    CHECK(replay[2].prefix == prefix("10.3.0.0/24"));
    CHECK(replay[2].ifindexes == std::vector{8});
    CHECK(f.counter("disconnects") == 1);
    CHECK(f.counter("protocol-errors") == 1);
    CHECK(f.counter("connects") == 2);
}

TEST_CASE("garbage from zebra: drop, reconnect, replay")
{
    Fixture f;
    REQUIRE(f.ready());
    f.client.apply(std::vector{via("10.2.0.0/24", {7})});
    REQUIRE(f.frames(2));

    SUBCASE("a frame of another ZAPI version")
    {
        f.zebra->send(hex("000afe05000000000013"));
    }
    SUBCASE("bytes that are no frame at all")
    {
        f.zebra->send(hex("474554202f20485454502f312e310d0a"));
    }
    SUBCASE("a length beyond ZEBRA_MAX_PACKET_SIZ")
    {
        f.zebra->send(hex("ffa0fe06000000000013"));
    }
    REQUIRE(f.ready(2));
    REQUIRE(f.frames(2));
    CHECK(f.zebra->current()[1].prefix == prefix("10.2.0.0/24"));
    CHECK(f.counter("protocol-errors") == 1);
    CHECK(f.client.status()["last-error"] == "");   // cleared once the new session is ready
}

TEST_CASE("a peer that never answers HELLO with CAPABILITIES is dropped after 5 s, then tried again")
{
    Fixture f;
    f.zebra->answer_hello = false;
    f.client.apply(std::vector{via("10.2.0.0/24", {7})});
    REQUIRE(run_until(f.io, [&] { return f.zebra->sessions.size() == 2; }, zebra_capabilities_timeout + std::chrono::seconds(2)));
    CHECK(f.zebra->sessions[0].size() == 1); // HELLO only: no route goes to a peer that is not ready
    CHECK(f.counter("disconnects") == 1);
    CHECK(f.client.status()["last-error"].get<std::string>().starts_with("no CAPABILITIES"));
}

TEST_CASE("an unreadable ROUTE_NOTIFY_OWNER is counted, the session stays")
{
    Fixture f;
    REQUIRE(f.ready());
    f.zebra->send(zapi_frame(zapi::Command::route_notify_owner, {0x02, 0x00}));
    REQUIRE(run_until(f.io, [&] { return f.counter("protocol-errors") == 1; }));
    CHECK(f.counter("disconnects") == 0);
    CHECK(f.client.status()["session"] == "ready");
}

TEST_CASE("zebra restarting: routes changed while it was away are what gets replayed")
{
    Fixture f;
    REQUIRE(f.ready());
    f.client.apply(std::vector{via("10.2.0.0/24", {7})});
    REQUIRE(f.frames(2));
    f.zebra.reset(); // zebra stops: its socket file goes stale
    std::filesystem::remove(f.socket);
    REQUIRE(run_until(f.io, [&] { return f.client.status()["connected"] == false; }));
    f.client.apply(std::vector{via("10.3.0.0/24", {8})});
    REQUIRE(run_until(f.io, [&] { return f.counter("connect-failures") >= 1; }));

    f.zebra.emplace(f.io, f.socket);
    REQUIRE(f.ready(1));
    REQUIRE(f.frames(2));
    CHECK(f.zebra->current().size() == 2);
    CHECK(f.zebra->current()[1].prefix == prefix("10.3.0.0/24"));
}

TEST_CASE("a zebra that is not there yet: the client keeps trying")
{
    TempDir dir;
    boost::asio::io_context io;
    const auto socket = dir.path() / "zserv.api";
    ZebraClient client{io, socket};
    client.apply(std::vector{via("10.2.0.0/24", {7})});
    REQUIRE(run_until(io, [&] { return client.status()["counters"]["connect-failures"] >= 2; }));
    CHECK(client.status()["connected"] == false);

    FakeZebra zebra(io, socket);
    REQUIRE(run_until(io, [&] { return !zebra.sessions.empty() && zebra.current().size() == 2; }));
    CHECK(zebra.current()[1].prefix == prefix("10.2.0.0/24"));
}

TEST_CASE("withdraw_all() writes a ROUTE_DELETE per route with the io_context stopped")
{
    Fixture f;
    REQUIRE(f.ready());
    f.client.apply(std::vector{via("10.2.0.0/24", {7}), blackhole("10.3.0.0/24")});
    REQUIRE(f.frames(3));

    f.io.stop();
    f.client.withdraw_all(); // nothing runs the io_context here, as at shutdown
    CHECK(f.client.status()["routes"].empty());

    REQUIRE(f.frames(5));
    const auto& got = f.zebra->current();
    CHECK(got[3].command == zapi::Command::route_delete);
    CHECK(got[3].prefix == prefix("10.2.0.0/24"));
    CHECK(got[4].command == zapi::Command::route_delete);
    CHECK(got[4].prefix == prefix("10.3.0.0/24"));
}

TEST_CASE("withdraw_all() while disconnected sends nothing and forgets the routes")
{
    TempDir dir;
    boost::asio::io_context io;
    ZebraClient client{io, dir.path() / "zserv.api"};
    client.apply(std::vector{via("10.2.0.0/24", {7})});
    client.withdraw_all();
    CHECK(client.status()["routes"].empty());
}

TEST_CASE("the client can be destroyed with operations pending and the io_context run afterwards")
{
    TempDir dir;
    boost::asio::io_context io;
    FakeZebra zebra(io, dir.path() / "zserv.api");
    {
        ZebraClient client{io, dir.path() / "zserv.api"};
        io.run_for(std::chrono::milliseconds(20));
    }
    io.restart();
    io.run_for(std::chrono::milliseconds(20)); // aborted handlers of the gone client must do nothing
    CHECK(zebra.sessions.size() == 1);
}
