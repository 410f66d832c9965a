// Following a peer to a new address or port (RFC 7296 section 2.23): only a
// real change of the peer's address or port is a move, and ESP on one
// CHILD SA moves only the IKE SA that holds it.

#include "exchange_pair.hpp"

#include <doctest/doctest.h>

using namespace exchange_pair;

namespace {

// B with a liveness check every second, so that it sends A requests.
PeerConfig b_checking_liveness()
{
    auto b_side = b_to_a();
    b_side.ike.dpd_interval = std::chrono::milliseconds(1000);
    return b_side;
}

// A and B established, IKE on port 4500 (encapsulation "udp").
void establish(Pair& p)
{
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    REQUIRE(p.a_host.installed.size() == 1);
}

// B's next request to A (a liveness check), taken off the wire.
Datagram request_from_b(Pair& p)
{
    for (int i = 0; i < 30 && p.wire.empty(); ++i)
        p.tick(std::chrono::milliseconds(100));
    REQUIRE(p.wire.size() == 1);
    Datagram d = std::move(p.wire.front());
    p.wire.pop_front();
    REQUIRE(d.from == p.b_natt);
    REQUIRE(d.to == p.a_natt);
    return d;
}

} // namespace

TEST_CASE("a request from the same address and port, sent to another address of ours, is not a move")
{
    Pair p(a_to_b(), b_checking_liveness());
    establish(p);
    Datagram d = request_from_b(p);
    const Endpoint other_local{*IpAddress::parse("192.0.2.11"), 4500};
    p.a->on_datagram(other_local, d.from, d.bytes, p.now);
    CHECK(p.a->counters().peers_moved == 0);
    CHECK(p.a_host.moved_to.empty());
    CHECK(p.a->status(p.now).front().remote == p.b_natt);
    // Answered from where it was sent (section 2.11).
    REQUIRE(p.wire.size() == 1);
    CHECK(p.wire.front().from == other_local);
    CHECK(p.wire.front().to == p.b_natt);
}

TEST_CASE("a request from a new port moves the IKE SA and its CHILD SA's ESP there, counted once")
{
    Pair p(a_to_b(), b_checking_liveness());
    establish(p);
    Datagram d = request_from_b(p);
    const Endpoint moved{p.b_natt.address, 4501};
    p.a->on_datagram(d.to, moved, d.bytes, p.now);
    CHECK(p.a->counters().peers_moved == 1);
    CHECK(p.a_host.moved_to == std::vector<Endpoint>{moved});
    CHECK(p.a->status(p.now).front().remote == moved);
    // ESP from where the IKE SA already is moves nothing more.
    p.a->follow_peer(p.a_host.installed.front().inbound.spi, moved);
    CHECK(p.a->counters().peers_moved == 1);
    CHECK(p.a_host.moved_to.size() == 1);
}

TEST_CASE("ESP from a new port on a CHILD SA moves its IKE SA; on an unknown SPI nothing moves")
{
    Pair p(a_to_b(), b_checking_liveness());
    establish(p);
    const Endpoint moved{p.b_natt.address, 4999};
    p.a->follow_peer(0xdead, moved);
    CHECK(p.a->counters().peers_moved == 0);
    p.a->follow_peer(p.a_host.installed.front().inbound.spi, moved);
    CHECK(p.a->counters().peers_moved == 1);
    CHECK(p.a_host.moved_to == std::vector<Endpoint>{moved});
    CHECK(p.a->status(p.now).front().remote == moved);
}

namespace {

// One hub with one peer configuration for every branch (a wildcard address,
// any identity) and two branches, each a separate engine and host.
struct Branches {
    Branches()
    {
        auto hub_peer = peer("branches", "0.0.0.0/0", "192.0.2.2", "fqdn:hub.lab", "fqdn:x.lab", "lab-secret");
        hub_peer.remote_id.reset();
        hub_peer.passive = true;
        for (auto* host : {&hub_host, &branch_hosts[0], &branch_hosts[1]})
            host->wire = &wire;
        hub_host.name = 'h';
        hub_host.next_spi = 0x2000;
        hub = std::make_unique<IkeEngine>(hub_host, std::vector{std::move(hub_peer)}, hub_ike, hub_natt, hub_rng);
        hub->start(now);
        for (int i = 0; i < 2; ++i) {
            const std::string id = "fqdn:b" + std::to_string(i + 1) + ".lab";
            const std::string address = "192.0.2." + std::to_string(i == 0 ? 1 : 3);
            branch_ike[i] = {*IpAddress::parse(address), 500};
            branch_natt[i] = {*IpAddress::parse(address), 4500};
            branches[i] = std::make_unique<IkeEngine>(
                branch_hosts[i],
                std::vector{peer("hub", "192.0.2.2", address.c_str(), id.c_str(), "fqdn:hub.lab", "lab-secret")},
                branch_ike[i], branch_natt[i], branch_rngs[i]);
            branches[i]->start(now);
        }
    }
    void run(std::chrono::milliseconds step)
    {
        now += step;
        hub->on_tick(now);
        for (auto& branch : branches)
            branch->on_tick(now);
        for (int guard = 0; !wire.empty() && guard < 100; ++guard) {
            const Datagram d = std::move(wire.front());
            wire.pop_front();
            IkeEngine& to = d.to.address == hub_ike.address         ? *hub
                            : d.to.address == branch_ike[0].address ? *branches[0]
                                                                    : *branches[1];
            to.on_datagram(d.to, d.from, d.bytes, now);
        }
    }
    // The hub's IKE SA with the branch at this address.
    IkeSaStatus hub_sa(const IpAddress& address) const
    {
        for (const auto& sa : hub->status(now))
            if (sa.remote.address == address)
                return sa;
        FAIL("the hub holds no IKE SA with " << address.to_string());
        return {};
    }
    // The hub's inbound SPI of the branch's CHILD SA.
    std::uint32_t hub_spi_in(int branch) const
    {
        const auto& install = branch_hosts[branch].installed;
        REQUIRE(install.size() == 1);
        for (const auto& child : hub_host.installed)
            if (child.inbound.spi == install.front().outbound.spi)
                return child.inbound.spi;
        FAIL("the hub has no inbound SA for branch " << branch);
        return 0;
    }

    test_rng::TestRng hub_rng{"hub"};
    std::array<test_rng::TestRng, 2> branch_rngs{test_rng::TestRng{"b1"}, test_rng::TestRng{"b2"}};
    std::deque<Datagram> wire;
    FakeHost hub_host;
    std::array<FakeHost, 2> branch_hosts;
    Endpoint hub_ike{*IpAddress::parse("192.0.2.2"), 500}, hub_natt{*IpAddress::parse("192.0.2.2"), 4500};
    std::array<Endpoint, 2> branch_ike, branch_natt;
    Clock::time_point now{};
    std::unique_ptr<IkeEngine> hub;
    std::array<std::unique_ptr<IkeEngine>, 2> branches;
};

} // namespace

TEST_CASE("one peer configuration for many branches: ESP from one branch never moves another's IKE SA")
{
    Branches b;
    b.run(std::chrono::milliseconds(1000));
    b.run(std::chrono::milliseconds(100));
    REQUIRE(b.hub->status(b.now).size() == 2);
    REQUIRE(b.hub_host.installed.size() == 2);
    // Every CHILD SA of the hub is of the one tunnel template.
    CHECK(b.hub_host.installed[0].tunnel == b.hub_host.installed[1].tunnel);

    // ESP from each branch where the hub already sees it: nothing moves.
    b.hub->follow_peer(b.hub_spi_in(0), b.branch_natt[0]);
    b.hub->follow_peer(b.hub_spi_in(1), b.branch_natt[1]);
    CHECK(b.hub->counters().peers_moved == 0);
    CHECK(b.hub_host.moved_to.empty());

    // Branch 1's NAT mapping moves: only its IKE SA follows.
    const Endpoint moved{b.branch_natt[0].address, 4999};
    b.hub->follow_peer(b.hub_spi_in(0), moved);
    CHECK(b.hub->counters().peers_moved == 1);
    CHECK(b.hub_host.moved_to == std::vector<Endpoint>{moved});
    CHECK(b.hub_sa(moved.address).remote == moved);
    CHECK(b.hub_sa(b.branch_natt[1].address).remote == b.branch_natt[1]);
}
