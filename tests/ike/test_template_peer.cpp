// A template peer (PeerConfig::per_branch): one passive hub engine, several
// branch engines, every IKE SA the hub's own, every CHILD SA naming its
// branch so the host can give it its own tunnel instance.
//
//   branch I (192.0.2.(10+I), fqdn:sI.branch.example.net, its own key)
//       IKE_SA_INIT, IKE_AUTH  -->  hub 192.0.2.1: [peer.branches] 0.0.0.0/0,
//                                   remote-id fqdn:*.branch.example.net, a key per branch

#include "exchange_pair.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

namespace {

using namespace exchange_pair;

std::string branch_id(int i)
{
    return "fqdn:s" + std::to_string(i) + ".branch.example.net";
}
std::string branch_key(int i)
{
    return "branch-key-" + std::to_string(i);
}

PeerConfig hub_template(int branches)
{
    PeerConfig p = peer("branches", "0.0.0.0/0", "192.0.2.1", "fqdn:hub.example.net", "fqdn:*.branch.example.net",
                        "unused");
    p.passive = true;
    p.per_branch = true;
    p.psk.clear();
    for (int i = 1; i <= branches; ++i) {
        const std::string key = branch_key(i);
        p.branch_secrets.push_back({*parse_identity(branch_id(i)), {key.begin(), key.end()}});
    }
    return p;
}

PeerConfig branch_to_hub(int i, const std::string& my_id, const std::string& key)
{
    const std::string local = "192.0.2." + std::to_string(10 + i);
    return peer("hub", "192.0.2.1", local.c_str(), my_id.c_str(), "fqdn:hub.example.net", key.c_str());
}

// The hub and its branches, the wire between them, one clock.
struct Hub {
    explicit Hub(int keyed) : hub_rng("hub")
    {
        hub_host.wire = &wire;
        hub_host.name = 'h';
        hub_host.next_spi = 0x10000;
        hub = std::make_unique<IkeEngine>(hub_host, std::vector{hub_template(keyed)}, hub_ike, hub_natt, hub_rng);
        hub->start(now);
    }
    // Branch i, started now; its identity and key may be another's.
    void add_branch(int i, std::string my_id = {}, std::string key = {})
    {
        Branch& b = branches[i];
        b.rng = std::make_unique<test_rng::TestRng>("branch-" + std::to_string(i) + "-" + std::to_string(++starts));
        b.host = std::make_unique<FakeHost>();
        b.host->wire = &wire;
        b.host->next_spi = 0x1000U * static_cast<std::uint32_t>(i + 1);
        const auto address = *IpAddress::parse("192.0.2." + std::to_string(10 + i));
        b.engine = std::make_unique<IkeEngine>(
            *b.host, std::vector{branch_to_hub(i, my_id.empty() ? branch_id(i) : my_id, key.empty() ? branch_key(i) : key)},
            Endpoint{address, 500}, Endpoint{address, 4500}, *b.rng);
        b.engine->start(now);
    }
    // Two seconds in 50 ms ticks, everything delivered after each: the
    // branches initiate after their start's jitter (under 0.5 s).
    void settle()
    {
        for (int step = 0; step < 40; ++step) {
            now += std::chrono::milliseconds(50);
            hub->on_tick(now);
            for (auto& [i, b] : branches)
                b.engine->on_tick(now);
            deliver_all();
        }
    }
    void deliver_all()
    {
        for (int guard = 0; !wire.empty() && guard < 1000; ++guard) {
            Datagram d = std::move(wire.front());
            wire.pop_front();
            if (d.to.address == hub_ike.address) {
                hub->on_datagram(d.to, d.from, d.bytes, now);
                continue;
            }
            for (auto& [i, b] : branches)
                if (d.to.address == *IpAddress::parse("192.0.2." + std::to_string(10 + i)) && b.engine)
                    b.engine->on_datagram(d.to, d.from, d.bytes, now);
        }
    }
    [[nodiscard]] std::size_t established() const
    {
        const auto all = hub->status(now);
        return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [](const IkeSaStatus& s) {
            return s.state == IkeState::established;
        }));
    }
    // The hub's CHILD SAs installed for branch i (by inbound SPI).
    [[nodiscard]] std::vector<std::uint32_t> installed_for(int i) const
    {
        std::vector<std::uint32_t> spis;
        for (const auto& c : hub_host.installed)
            if (c.branch && to_string(*c.branch) == branch_id(i))
                spis.push_back(c.inbound.spi);
        return spis;
    }

    struct Branch {
        std::unique_ptr<test_rng::TestRng> rng;
        std::unique_ptr<FakeHost> host;
        std::unique_ptr<IkeEngine> engine;
    };
    Clock::time_point now{};
    std::deque<Datagram> wire;
    test_rng::TestRng hub_rng;
    FakeHost hub_host;
    Endpoint hub_ike{*IpAddress::parse("192.0.2.1"), 500}, hub_natt{*IpAddress::parse("192.0.2.1"), 4500};
    std::unique_ptr<IkeEngine> hub;
    std::map<int, Branch> branches;
    int starts = 0;
};

} // namespace

TEST_CASE("template peer: every branch gets its own IKE SA and a CHILD SA naming it")
{
    Hub h(3);
    for (int i = 1; i <= 3; ++i)
        h.add_branch(i);
    h.settle();
    CHECK(h.established() == 3);
    REQUIRE(h.hub_host.installed.size() == 3);
    for (int i = 1; i <= 3; ++i) {
        CHECK(h.installed_for(i).size() == 1);
        CHECK(h.branches[i].host->installed.size() == 1);
        CHECK(!h.branches[i].host->installed.front().branch);   // a branch's own peer is no template
    }
    for (const auto& c : h.hub_host.installed)
        CHECK(c.tunnel == "to-branches");
    CHECK(h.hub->failures().empty());
    CHECK(h.hub->counters().ike_sas_replaced == 0);
}

TEST_CASE("template peer: a branch that restarts replaces only its own IKE SA and CHILD SA")
{
    Hub h(3);
    for (int i = 1; i <= 3; ++i)
        h.add_branch(i);
    h.settle();
    REQUIRE(h.established() == 3);
    const auto old_spi = h.installed_for(2).front();

    h.add_branch(2);   // a new engine: branch 2 lost its state (kill -9) and comes back with INITIAL_CONTACT
    h.settle();
    CHECK(h.established() == 3);
    CHECK(h.hub->counters().initial_contacts == 1);
    REQUIRE(h.installed_for(2).size() == 2);
    CHECK(h.hub_host.deleted == std::vector<std::uint32_t>{old_spi});
    for (int i : {1, 3})
        CHECK(h.installed_for(i).size() == 1);
}

TEST_CASE("template peer: a wrong key, an identity without a key, one outside the pattern are refused")
{
    Hub h(3);
    SUBCASE("the key of another branch")
    {
        h.add_branch(1, branch_id(1), branch_key(2));
        h.settle();
        REQUIRE(h.hub->failures().contains("branches"));
        CHECK(h.hub->failures().at("branches").text.starts_with("authentication failed for " + branch_id(1)));
        CHECK(h.hub->failures().at("branches").text.ends_with("the pre-shared keys differ"));
    }
    SUBCASE("an identity the secrets do not list, with another branch's key")
    {
        h.add_branch(1, "fqdn:s9.branch.example.net", branch_key(1));
        h.settle();
        REQUIRE(h.hub->failures().contains("branches"));
        CHECK(h.hub->failures().at("branches").text.starts_with(
            "no matching identity found for fqdn:s9.branch.example.net from 192.0.2.11"));
    }
    SUBCASE("an identity outside remote-id's pattern")
    {
        h.add_branch(1, "fqdn:s1.other.example.net", branch_key(1));
        h.settle();
        REQUIRE(h.hub->failures().contains("branches"));
        CHECK(h.hub->failures().at("branches").text.starts_with("no matching identity found for fqdn:s1.other"));
    }
    CHECK(h.established() == 0);
    CHECK(h.hub_host.installed.empty());
    CHECK(h.hub->counters().authentication_failed >= 1);   // the branch tries again within the two seconds
}

TEST_CASE("template peer: a host peer for one branch's address wins over the template")
{
    PeerConfig own = peer("s1", "192.0.2.11", "192.0.2.1", "fqdn:hub.example.net", "fqdn:s1.branch.example.net",
                          "own-key");
    own.passive = true;
    Hub h(2);
    h.hub = std::make_unique<IkeEngine>(h.hub_host, std::vector{own, hub_template(2)}, h.hub_ike, h.hub_natt,
                                        h.hub_rng);
    h.hub->start(h.now);
    h.add_branch(1, branch_id(1), "own-key");
    h.add_branch(2);
    h.settle();
    CHECK(h.established() == 2);
    REQUIRE(h.hub_host.installed.size() == 2);
    const auto& first = h.hub_host.installed[0].peer == "s1" ? h.hub_host.installed[0] : h.hub_host.installed[1];
    const auto& second = h.hub_host.installed[0].peer == "s1" ? h.hub_host.installed[1] : h.hub_host.installed[0];
    CHECK(first.peer == "s1");
    CHECK(!first.branch);
    CHECK(second.peer == "branches");
    REQUIRE(second.branch);
    CHECK(to_string(*second.branch) == branch_id(2));
}
