#pragma once
// Steps that drive an exchange_pair::Pair through time: the first IKE SA,
// ticks with delivery, and a lossy wire. Shared by the rekeying tests.

#include "exchange_pair.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <set>
#include <string>

namespace exchange_pair {

// A initiates, both ends hold the CHILD SA of IKE_AUTH.
inline void establish(Pair& p)
{
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    REQUIRE(p.a_host.installed.size() == 1);
    REQUIRE(p.b_host.installed.size() == 1);
}

// The datagram first in flight, taken off the wire.
inline Datagram take_front(Pair& p)
{
    REQUIRE_FALSE(p.wire.empty());
    Datagram d = std::move(p.wire.front());
    p.wire.pop_front();
    return d;
}

using Drop = std::function<bool(const Datagram&)>;

// Every datagram in flight, except those `drop` says are lost.
inline void deliver_all_except(Pair& p, const Drop& drop)
{
    for (int guard = 0; !p.wire.empty() && guard < 100; ++guard) {
        Datagram d = std::move(p.wire.front());
        p.wire.pop_front();
        if (!drop(d))
            p.deliver(d);
    }
}

// Ticks of 100 ms, what is in flight delivered (but what `drop` loses), until `done` or `limit` passed.
inline void run_until(Pair& p, const std::function<bool()>& done, std::chrono::seconds limit,
                      const Drop& drop = [](const Datagram&) { return false; })
{
    const auto until = p.now + limit;
    while (!done() && p.now < until) {
        p.tick(std::chrono::milliseconds(100));
        deliver_all_except(p, drop);
    }
}

// Both ends hold exactly one CHILD SA, active, and the same one.
inline void check_one_sa_each(const Pair& p)
{
    const auto a = p.a->status(p.now);
    const auto b = p.b->status(p.now);
    REQUIRE(a.size() == 1);
    REQUIRE(b.size() == 1);
    REQUIRE(a.front().child_sas.size() == 1);
    REQUIRE(b.front().child_sas.size() == 1);
    const auto& a_child = a.front().child_sas.front();
    const auto& b_child = b.front().child_sas.front();
    CHECK(a_child.state == ChildState::active);
    CHECK(b_child.state == ChildState::active);
    CHECK(a_child.spi_in == b_child.spi_out);
    CHECK(a_child.spi_out == b_child.spi_in);
    // What the data planes do: each sends on the SA the other receives on.
    CHECK(p.a_host.outbound == b_child.spi_in);
    CHECK(p.b_host.outbound == a_child.spi_in);
    CHECK(p.a_host.inbound == std::set<std::uint32_t>{a_child.spi_in});
    CHECK(p.b_host.inbound == std::set<std::uint32_t>{b_child.spi_in});
}

// Both ends sent a rekey request of the same SA, on the wire in that order.
// A's is answered and A completes its rekey (deleting the old SA) before
// B's request arrives: A answers it TEMPORARY_FAILURE. Then all in flight.
inline void deliver_a_answer_first(Pair& p)
{
    REQUIRE(p.wire.size() == 2);
    const Datagram a_request = p.wire.front(), b_request = p.wire.back();
    p.wire.clear();
    p.deliver(a_request);                       // B answers A's rekey while its own is out
    REQUIRE(p.wire.size() == 1);
    const Datagram b_answer = p.wire.front();
    p.wire.clear();
    p.deliver(b_answer);                        // A completes first and deletes the old SA
    p.deliver(b_request);                       // then hears B's: TEMPORARY_FAILURE
    p.deliver_all();
}

// B falls silent for good just after A established (a 10 s lifetime): A
// deletes the SA at that hard lifetime and takes the tunnel down, with
// "<what> ... hard lifetime" in its failure. Then B is heard again and A
// starts over, until A has installed a second CHILD SA.
inline void expire_while_b_silent(Pair& p, const std::string& what)
{
    using namespace std::chrono_literals;
    const auto since = p.now;
    run_until(p, [&] { return !p.a_host.deleted.empty(); }, 20s,
              [&](const Datagram& d) { return d.from.address == p.b_ike.address; });
    REQUIRE(p.a_host.deleted.size() == 1);
    CHECK(p.now - since >= 10s);
    CHECK(p.now - since < 10s + 200ms);
    REQUIRE(p.a->failures().contains("b"));
    CHECK(p.a->failures().at("b").text.find("hard lifetime") != std::string::npos);
    CHECK(p.a->failures().at("b").text.starts_with(what));
    CHECK(p.a_host.inbound.empty());
    CHECK(p.a_host.outbound == 0);              // the tunnel is down
    p.wire.clear();
    run_until(p, [&] { return p.a_host.installed.size() == 2; }, 10s);
    REQUIRE(p.a_host.installed.size() == 2);
    p.tick(100ms);                              // the old IKE SAs are gone at both ends
}

} // namespace exchange_pair
