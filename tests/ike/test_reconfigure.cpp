// IkeEngine::reconfigure, a reload's new peers: a peer that stays keeps its
// IKE SA and CHILD SA (same SPIs, still rekeyed on the new configuration),
// a renewed one is deleted at the peer and negotiated again, a removed one
// is deleted and never initiated again. Two engines stepped in one process.

#include "pair_steps.hpp"

using namespace exchange_pair;
using namespace std::chrono_literals;

namespace {

PeerConfig quiet(PeerConfig p, bool passive = false)
{
    p.passive = passive;
    p.ike.dpd_interval = 0ms;
    p.ike.lifetime = 10'000s;
    p.children.front().policy.lifetime = 10'000s;
    return p;
}

std::uint64_t ike_spi(const Pair& p)
{
    const auto sas = p.a->status(p.now);
    REQUIRE(sas.size() == 1);
    return sas.front().spi_i ^ sas.front().spi_r;
}

} // namespace

TEST_CASE("reconfigure: an unchanged peer keeps its SAs, and rekeys on the new configuration")
{
    Pair p(quiet(a_to_b()), quiet(b_to_a()));
    establish(p);
    const auto before = ike_spi(p);
    const auto child = p.a->status(p.now).front().child_sas.front();

    p.a->reconfigure({quiet(a_to_b())}, {}, p.now);
    CHECK(p.wire.empty());
    CHECK(p.a_host.deleted.empty());
    run_until(p, [] { return false; }, 5s);
    CHECK(ike_spi(p) == before);
    CHECK(p.a->status(p.now).front().child_sas.front().spi_in == child.spi_in);
    check_one_sa_each(p);

    // The CHILD SA, now pointing at the new ChildConfig, is rekeyed as before.
    p.a->rekey_child(child.spi_in, p.now);
    run_until(p, [&] { return p.a->counters().child_rekeys == 1 && p.a_host.deleted.size() == 1; }, 10s);
    CHECK(p.a->counters().child_rekeys == 1);
    check_one_sa_each(p);
    CHECK(p.lost == 0);
}

TEST_CASE("reconfigure: a renewed peer is deleted at the peer and established again with the new key")
{
    Pair p(quiet(a_to_b()), quiet(b_to_a()));
    establish(p);
    const auto before = ike_spi(p);

    p.b->reconfigure({quiet(b_to_a("new-secret"), true)}, {"a"}, p.now);   // as the Pair made it: passive
    p.a->reconfigure({quiet(a_to_b("new-secret"))}, {"b"}, p.now);
    CHECK(p.a_host.deleted.size() == 1);
    CHECK(p.b_host.deleted.size() == 1);
    run_until(p, [&] { return p.a_host.installed.size() == 2 && p.b_host.installed.size() == 2; }, 10s);
    REQUIRE(p.a_host.installed.size() == 2);
    CHECK(ike_spi(p) != before);
    check_one_sa_each(p);
}

TEST_CASE("reconfigure: a removed peer gets a Delete and no new IKE SA")
{
    Pair p(quiet(a_to_b()), quiet(b_to_a()));
    establish(p);

    p.a->reconfigure({}, {}, p.now);
    CHECK(p.a_host.deleted.size() == 1);
    REQUIRE(p.wire.size() == 1);   // the Delete of the IKE SA
    p.deliver_all();
    CHECK(p.b->status(p.now).empty());
    CHECK(p.b_host.deleted.size() == 1);
    p.tick(60s);
    CHECK(p.wire.empty());
    CHECK(p.a->status(p.now).empty());
}
