// Both ends start at once (RFC 7296 leaves it open; duplicate_sas.cpp): the
// IKE_SA_INITs cross, both IKE SAs complete, and the nonce rule of section
// 2.8.1 leaves one IKE SA and one CHILD SA at each end, with no packet lost
// once the tunnel is up. Two engines stepped in one process.

#include "pair_steps.hpp"

#include <random>

using namespace exchange_pair;
using namespace std::chrono_literals;

namespace {

// Ticks without delivering until both ends' IKE_SA_INIT requests are on the wire.
void both_start(Pair& p)
{
    for (int i = 0; i < 100 && p.wire.size() < 2; ++i)
        p.tick(10ms);
    REQUIRE(p.wire.size() == 2);
}

bool up(const Pair& p)
{
    return p.a_host.outbound != 0 && p.b_host.outbound != 0 && p.b_host.inbound.contains(p.a_host.outbound) &&
           p.a_host.inbound.contains(p.b_host.outbound);
}

// Which end initiated the IKE SA that stayed: 'a' or 'b'.
char kept_initiator(const Pair& p)
{
    const auto a = p.a->status(p.now);
    REQUIRE(a.size() == 1);
    return a.front().initiator ? 'a' : 'b';
}

} // namespace

TEST_CASE("both ends start at once, datagrams in any order: one IKE SA and one CHILD SA stay, no packet lost once up")
{
    // Forty delivery orders, each end's IKE SA kept in half of them: the
    // other end's Ni is made the lowest nonce (section 2.8.1).
    for (int round = 0; round < 40; ++round) {
        const char winner = round % 2 == 0 ? 'a' : 'b';
        CAPTURE(round);
        CAPTURE(winner);
        std::mt19937_64 order(test_rng::seed() + static_cast<std::uint64_t>(round));
        Pair p(a_to_b(), b_to_a(), {}, true);
        p.lowest_nonce_at(winner == 'a' ? 'b' : 'a');
        both_start(p);
        std::optional<int> lost_when_up;
        for (int guard = 0; guard < 200 && !p.wire.empty(); ++guard) {
            const auto pick = std::uniform_int_distribution<std::size_t>(0, p.wire.size() - 1)(order);
            Datagram d = std::move(p.wire[pick]);
            p.wire.erase(p.wire.begin() + static_cast<std::ptrdiff_t>(pick));
            p.deliver(d);
            if (!lost_when_up && up(p))
                lost_when_up = p.lost;
        }
        run_until(p, [&] { return p.a->status(p.now).size() == 1 && p.b->status(p.now).size() == 1; }, 5s);
        check_one_sa_each(p);
        REQUIRE(lost_when_up);
        CHECK(p.lost == *lost_when_up);
        CHECK(p.a->counters().duplicate_ike_sas + p.b->counters().duplicate_ike_sas >= 1);
        CHECK(p.a->counters().peers_dead + p.b->counters().peers_dead == 0);
        CHECK(kept_initiator(p) == winner);

        run_until(p, [] { return false; }, 30s);   // nothing more happens: no new IKE SA, no loss
        check_one_sa_each(p);
        CHECK(p.lost == *lost_when_up);
    }
}

TEST_CASE("INITIAL_CONTACT sent before the peer's crossing IKE_SA_INIT arrived replaces nothing the peer holds")
{
    // Whichever end holds the lowest nonce (section 2.8.1).
    for (const char lowest : {'a', 'b'}) {
        CAPTURE(lowest);
        Pair p(a_to_b(), b_to_a(), {}, true);
        p.lowest_nonce_at(lowest);
        both_start(p);
        // Hold B's IKE_SA_INIT: A's exchange runs first, and A, holding no
        // other IKE SA, sends N(INITIAL_CONTACT) in its IKE_AUTH.
        Datagram b_init = p.wire.front().from.address == p.b_ike.address ? take_front(p) : std::move(p.wire.back());
        if (p.wire.size() == 2)
            p.wire.pop_back();
        p.deliver(take_front(p));                 // A's IKE_SA_INIT at B
        p.deliver(take_front(p));                 // B's answer at A
        const Datagram a_auth = take_front(p);    // A's IKE_AUTH, held
        REQUIRE(p.wire.empty());
        p.deliver(b_init);                        // now B's exchange runs to its end
        p.deliver_all();
        REQUIRE(p.b->status(p.now).size() == 2);  // B's own IKE SA established, A's waiting for IKE_AUTH
        p.deliver(a_auth);
        p.deliver_all();
        run_until(p, [&] { return p.a->status(p.now).size() == 1 && p.b->status(p.now).size() == 1; }, 5s);
        check_one_sa_each(p);
        CHECK(p.b->counters().initial_contacts == 0);   // B's own IKE SA is no stale one
        CHECK(p.a->counters().duplicate_ike_sas == 1);
        CHECK(p.b->counters().duplicate_ike_sas == 1);
        CHECK(p.lost == 0);
    }
}
