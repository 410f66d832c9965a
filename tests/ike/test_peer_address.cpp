// A peer named by DNS (PeerConfig::resolve_first): the engine asks its host
// for the address before it initiates, waits for it without sending a
// thing, and when the name gives a new address under a running IKE SA,
// closes that one and initiates to the new address (ike/peer_address.cpp).
// Two engines stepped in one process; B answers at any address but A's.

#include "exchange_pair.hpp"

#include <doctest/doctest.h>

using namespace exchange_pair;
using namespace std::chrono_literals;

namespace {

PeerConfig named_b()
{
    PeerConfig p = a_to_b();
    p.address = *IpPrefix::parse("0.0.0.0/32");
    p.local_address.reset();
    p.resolve_first = true;
    p.ike.dpd_interval = 0ms;
    return p;
}

const IpAddress a_address = *IpAddress::parse("192.0.2.1");
const IpAddress b_address = *IpAddress::parse("192.0.2.2");
const IpAddress b_moved = *IpAddress::parse("192.0.2.102");

std::vector<IkeSaStatus> established(const IkeEngine& engine, Clock::time_point now)
{
    std::vector<IkeSaStatus> up;
    for (auto& sa : engine.status(now))
        if (sa.state == IkeState::established)
            up.push_back(sa);
    return up;
}

} // namespace

TEST_CASE("a named peer: nothing is sent until the host gives its address, then IKE initiates there")
{
    Pair pair(named_b(), b_to_a());
    for (int i = 0; i < 20; ++i)
        pair.tick(100ms);
    CHECK(pair.wire.empty());
    CHECK(pair.a_host.resolve_asked == std::vector<std::string>{"b"});   // asked once, then waiting

    pair.a->set_peer_address("b", b_address, a_address, pair.now);
    pair.tick(100ms);
    REQUIRE_FALSE(pair.wire.empty());
    CHECK(pair.wire.front().to.address == b_address);
    CHECK(pair.wire.front().from.address == a_address);
    pair.deliver_all();
    REQUIRE(established(*pair.a, pair.now).size() == 1);
    CHECK(established(*pair.a, pair.now).front().remote.address == b_address);
    CHECK(pair.a_host.installed.size() == 1);
}

TEST_CASE("a named peer: the same address again changes nothing; a new one closes the IKE SA and initiates there")
{
    Pair pair(named_b(), b_to_a());
    pair.tick(600ms);
    pair.a->set_peer_address("b", b_address, a_address, pair.now);
    pair.tick(100ms);
    pair.deliver_all();
    REQUIRE(established(*pair.a, pair.now).size() == 1);
    const auto first_spi = established(*pair.a, pair.now).front().spi_i;
    const auto first_child = pair.a_host.installed.front().inbound.spi;

    pair.a->set_peer_address("b", b_address, a_address, pair.now);   // the periodic lookup, unchanged
    pair.tick(100ms);
    CHECK(pair.wire.empty());
    CHECK(pair.a_host.deleted.empty());

    pair.a->set_peer_address("b", b_moved, a_address, pair.now);
    CHECK(pair.a_host.deleted == std::vector<std::uint32_t>{first_child});   // the old CHILD SA goes at once
    pair.wire.clear();   // the Delete to the old address: the peer is not there any more
    pair.tick(100ms);
    REQUIRE_FALSE(pair.wire.empty());
    CHECK(pair.wire.front().to.address == b_moved);
    pair.deliver_all();
    const auto up = established(*pair.a, pair.now);
    REQUIRE(up.size() == 1);
    CHECK(up.front().remote.address == b_moved);
    CHECK(up.front().spi_i != first_spi);
    CHECK(pair.a_host.installed.size() == 2);
    CHECK(pair.a_host.outbound == pair.a_host.installed.back().outbound.spi);
    // B took the new IKE SA as A re-authenticating: the old one is replaced.
    CHECK(established(*pair.b, pair.now).size() == 1);
}

TEST_CASE("a named peer that fails is looked up at once; a new address is initiated to without the backoff")
{
    Pair pair(named_b(), b_to_a());
    pair.tick(600ms);
    pair.a->set_peer_address("b", b_address, a_address, pair.now);
    pair.tick(100ms);
    REQUIRE_FALSE(pair.wire.empty());
    // B never answers: A gives up after its retransmissions and asks for the address again.
    for (int i = 0; i < 600 && pair.a_host.resolve_asked.size() < 2; ++i) {
        pair.wire.clear();
        pair.tick(100ms);
    }
    pair.wire.clear();
    REQUIRE(pair.a_host.resolve_asked == std::vector<std::string>{"b", "b"});
    CHECK(established(*pair.a, pair.now).empty());

    pair.a->set_peer_address("b", b_moved, a_address, pair.now);
    pair.tick(100ms);
    REQUIRE_FALSE(pair.wire.empty());
    CHECK(pair.wire.front().to.address == b_moved);
    pair.deliver_all();
    REQUIRE(established(*pair.a, pair.now).size() == 1);
    CHECK(established(*pair.a, pair.now).front().remote.address == b_moved);
}

TEST_CASE("a passive named peer: its IKE_SA_INIT is taken from the address its name gives, not before")
{
    PeerConfig a_side = named_b();
    a_side.passive = true;
    Pair pair(std::move(a_side), b_to_a(), {}, true);
    pair.tick(600ms);
    CHECK(pair.a_host.resolve_asked.empty());   // passive: never initiates, so never asks
    REQUIRE_FALSE(pair.wire.empty());
    pair.deliver_all();                         // B's IKE_SA_INIT: no peer of A at 192.0.2.2 yet
    CHECK(pair.a->counters().init_no_peer == 1);
    CHECK(established(*pair.a, pair.now).empty());

    pair.a->set_peer_address("b", b_address, a_address, pair.now);
    CHECK(pair.wire.empty());                   // passive: nothing initiated
    for (int i = 0; i < 40 && established(*pair.a, pair.now).empty(); ++i) {
        pair.tick(500ms);                       // B tries again after its retransmission or backoff
        pair.deliver_all();
    }
    REQUIRE(established(*pair.a, pair.now).size() == 1);
    CHECK(established(*pair.a, pair.now).front().remote.address == b_address);
}
