// Rekeying the IKE SA with CREATE_CHILD_SA (RFC 7296 sections 1.3.2, 2.18,
// 2.8.1) and INITIAL_CONTACT (section 2.4), two engines stepped in one process.
//
//   X (rekeying end)                                       Y
//   HDR(old), SK {SA(IKE, new SPIi), Ni, KEi}  -->
//                                  Y makes the new IKE SA, its CHILD SAs move there
//                 <--  HDR(old), SK {SA(IKE, new SPIr), Nr, KEr}
//   X makes the new IKE SA, its CHILD SAs move there
//   HDR(old), SK {D(IKE)}  -->
//                                  Y drops the old IKE SA, keeps the CHILD SAs
//                 <--  HDR(old), SK {}
//   X drops the old IKE SA

#include "exchange_pair.hpp"
#include "pair_steps.hpp"
#include "speaking_for_a.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <functional>

using namespace exchange_pair;
using namespace std::chrono_literals;

namespace {

// This IKE lifetime, CHILD SAs that outlive every test and, unless asked
// for, no liveness checks: the wire holds nothing but what the test is about.
PeerConfig ike_lifetime(PeerConfig p, std::chrono::seconds lifetime, std::chrono::milliseconds dpd = 0ms)
{
    p.ike.lifetime = lifetime;
    p.ike.dpd_interval = dpd;
    p.children.front().policy.lifetime = 10'000s;
    return p;
}

struct Spis {
    std::uint64_t i, r;
    friend bool operator==(const Spis&, const Spis&) = default;
};

Spis spis_of(const IkeSaStatus& sa)
{
    return {sa.spi_i, sa.spi_r};
}

// Each end holds exactly one IKE SA, established, and both the same one.
Spis one_ike_sa_each(const Pair& p)
{
    const auto a = p.a->status(p.now);
    const auto b = p.b->status(p.now);
    REQUIRE(a.size() == 1);
    REQUIRE(b.size() == 1);
    CHECK(a.front().state == IkeState::established);
    CHECK(b.front().state == IkeState::established);
    CHECK(spis_of(a.front()) == spis_of(b.front()));
    CHECK(a.front().initiator != b.front().initiator);
    return spis_of(a.front());
}

// Both ends completed a rekey of the IKE SA with these SPIs: one IKE SA
// left each, a new one.
bool rekeyed_from(const Pair& p, const Spis& old)
{
    const auto a = p.a->status(p.now);
    const auto b = p.b->status(p.now);
    return a.size() == 1 && b.size() == 1 && spis_of(a.front()) != old && spis_of(b.front()) != old &&
           spis_of(a.front()) == spis_of(b.front());
}

// The CHILD SA of IKE_AUTH is still the one each end has, never touched in
// the data plane, and each end sends on the SA the other receives on.
void check_child_untouched(const Pair& p)
{
    CHECK(p.a_host.installed.size() == 1);
    CHECK(p.b_host.installed.size() == 1);
    CHECK(p.a_host.deleted.empty());
    CHECK(p.b_host.deleted.empty());
    check_one_sa_each(p);
    CHECK(p.a->status(p.now).front().child_sas.front().spi_in == p.a_host.installed.front().inbound.spi);
    CHECK(p.lost == 0);
}

// The new IKE SA carries exchanges: a CHILD SA rekeyed on it (its keys from
// the new SK_d at both ends, then the INFORMATIONAL Delete of the old one).
void check_new_ike_sa_works(Pair& p)
{
    p.a->rekey_child(p.a_host.installed.front().inbound.spi, p.now);
    run_until(p, [&] { return p.a_host.deleted.size() == 1 && p.b_host.deleted.size() == 1; }, 10s);
    REQUIRE(p.a_host.installed.size() == 2);
    REQUIRE(p.b_host.installed.size() == 2);
    CHECK(p.a_host.installed.back().outbound.cipher_key == p.b_host.installed.back().inbound.cipher_key);
    CHECK(p.a_host.installed.back().inbound.cipher_key == p.b_host.outbound_used.back().cipher_key);
    CHECK(p.a_host.outbound == p.b_host.installed.back().inbound.spi);
    CHECK(p.b_host.outbound == p.a_host.installed.back().inbound.spi);
    CHECK(p.lost == 0);
}

// A rekey of the IKE SA by the end whose engine is `x`, run to its end.
void check_rekeyed_by(Pair& p, IkeEngine& x, IkeEngine& y)
{
    const Spis old = one_ike_sa_each(p);
    const auto rekey_in = x.status(p.now).front().rekey_in_s;
    REQUIRE(rekey_in);
    CHECK(*rekey_in >= 79);   // 80 to 90 % of the lifetime, less the second establish() took
    CHECK(*rekey_in <= 90);
    run_until(p, [&] { return rekeyed_from(p, old); }, 100s);
    const Spis fresh = one_ike_sa_each(p);
    CHECK(fresh.i != old.i);
    CHECK(fresh.r != old.r);
    CHECK(x.status(p.now).front().initiator);   // section 2.18: the rekey's initiator
    CHECK_FALSE(y.status(p.now).front().initiator);
    check_child_untouched(p);
    CHECK(x.counters().ike_rekeys == 1);
    CHECK(y.counters().ike_rekeys == 1);
    CHECK(x.counters().ike_rekey_collisions == 0);
    CHECK(x.failures().empty());
    CHECK(y.failures().empty());
    // The new SA has its own lifetime again.
    const auto next = x.status(p.now).front().rekey_in_s;
    REQUIRE(next);
    CHECK(*next >= 79);
}

// Established, then both ends start rekeying the IKE SA at the same tick:
// the two CREATE_CHILD_SA requests are on the wire. The SPIs rekeyed.
// The 32-byte draws an ecp256 key takes (its scalar, the blinding of its public value).
int ecp256_key_draws()
{
    test_rng::TestRng counting{"count"};
    REQUIRE(DhKeyExchange::generate(DhGroup::ecp256, counting));
    return counting.draws_of_32;
}

// `lowest`: the end whose rekey holds the lowest nonce (its new IKE SA is the redundant one).
Spis both_rekey(Pair& p, std::optional<char> lowest = std::nullopt)
{
    establish(p);
    const Spis old = one_ike_sa_each(p);
    if (lowest)
        p.lowest_nonce_at(*lowest, ecp256_key_draws());   // its ecp256 key is drawn before its Ni
    p.a->rekey_ike("b", p.now);
    p.b->rekey_ike("a", p.now);
    p.tick(100ms);
    REQUIRE(p.wire.size() == 2);
    return old;
}

} // namespace

TEST_CASE("IKE rekey by the IKE SA's initiator: new SPIs, the CHILD SAs stay installed, the old IKE SA gone")
{
    Pair p(ike_lifetime(a_to_b(), 100s), ike_lifetime(b_to_a(), 1000s));
    establish(p);
    check_rekeyed_by(p, *p.a, *p.b);
    check_new_ike_sa_works(p);
}

TEST_CASE("IKE rekey by the IKE SA's responder: it becomes the original initiator of the new IKE SA")
{
    Pair p(ike_lifetime(a_to_b(), 1000s), ike_lifetime(b_to_a(), 100s));
    establish(p);
    check_rekeyed_by(p, *p.b, *p.a);
    check_new_ike_sa_works(p);
}

TEST_CASE("IKE rekey keys the new IKE SA apart from the old one, with the suite in use")
{
    Pair p(ike_lifetime(a_to_b(), 100s), ike_lifetime(b_to_a(), 1000s));
    establish(p);
    const auto before = p.a->keys();
    REQUIRE(before.size() == 1);
    const auto old_sk_d = before.front().keys->sk_d;
    const auto old_suite = p.a->status(p.now).front().suite;
    const Spis old = one_ike_sa_each(p);
    run_until(p, [&] { return rekeyed_from(p, old); }, 100s);
    const auto a_keys = p.a->keys();
    const auto b_keys = p.b->keys();
    REQUIRE(a_keys.size() == 1);
    REQUIRE(b_keys.size() == 1);
    CHECK(a_keys.front().keys->sk_d != old_sk_d);
    CHECK(a_keys.front().keys->sk_d == b_keys.front().keys->sk_d);
    CHECK(a_keys.front().keys->sk_ei == b_keys.front().keys->sk_ei);
    CHECK(p.a->status(p.now).front().suite == old_suite);
}

TEST_CASE("IKE rekey: liveness checks after it run on the new IKE SA and are answered")
{
    Pair p(ike_lifetime(a_to_b(), 100s, 5s), ike_lifetime(b_to_a(), 1000s, 5s));
    establish(p);
    const Spis old = one_ike_sa_each(p);
    run_until(p, [&] { return rekeyed_from(p, old); }, 100s);
    const Spis fresh = one_ike_sa_each(p);
    const auto checks_a = p.a->counters().liveness_checks;
    const auto checks_b = p.b->counters().liveness_checks;
    run_until(p, [] { return false; }, 30s);   // silence: no ESP, so liveness checks
    CHECK(p.a->counters().liveness_checks > checks_a);
    CHECK(p.b->counters().liveness_checks > checks_b);
    CHECK(p.a->counters().peers_dead == 0);
    CHECK(p.b->counters().peers_dead == 0);
    CHECK(one_ike_sa_each(p) == fresh);
    check_child_untouched(p);
}

TEST_CASE("IKE rekey by both ends at the same tick: the lowest nonce decides, both keep the same one IKE SA")
{
    // Each end once holds the lowest nonce (section 2.8.1), once not.
    for (const char lowest : {'a', 'b'}) {
        CAPTURE(lowest);
        Pair p(ike_lifetime(a_to_b(), 1000s), ike_lifetime(b_to_a(), 1000s));
        const Spis old = both_rekey(p, lowest);
        p.deliver_all();
        run_until(p, [&] { return rekeyed_from(p, old); }, 10s);
        one_ike_sa_each(p);
        CHECK(rekeyed_from(p, old));
        CHECK(p.a->status(p.now).front().initiator == (lowest == 'b'));   // the other end's rekey stayed
        check_child_untouched(p);
        CHECK(p.a->counters().ike_rekey_collisions == 1);
        CHECK(p.b->counters().ike_rekey_collisions == 1);
        CHECK(p.a->failures().empty());
        CHECK(p.b->failures().empty());
        check_new_ike_sa_works(p);
    }
}

TEST_CASE("IKE rekey by both ends, one answer arriving before the other request: TEMPORARY_FAILURE, one IKE SA")
{
    Pair p(ike_lifetime(a_to_b(), 1000s), ike_lifetime(b_to_a(), 1000s));
    const Spis old = both_rekey(p);
    deliver_a_answer_first(p);
    run_until(p, [&] { return rekeyed_from(p, old); }, 10s);
    const Spis fresh = one_ike_sa_each(p);
    CHECK(p.a->status(p.now).front().initiator);   // A's rekey made it
    CHECK(fresh != old);
    check_child_untouched(p);
    CHECK(p.a->failures().empty());
    CHECK(p.b->failures().empty());
    check_new_ike_sa_works(p);
}

TEST_CASE("IKE rekey by both ends, the answer to one end lost: its CHILD SAs wait for the outcome, none is lost")
{
    // Both requests cross and are answered; the answer to A is lost. B
    // settles the collision alone: when B's SA holds the lowest nonce B
    // deletes it, else B deletes the old SA; either Delete may reach A before
    // A's retransmission is answered. Both outcomes, by who holds the lowest nonce.
    for (const char lowest : {'a', 'b'}) {
        CAPTURE(lowest);
        Pair p(ike_lifetime(a_to_b(), 1000s), ike_lifetime(b_to_a(), 1000s));
        const Spis old = both_rekey(p, lowest);
        bool dropped = false;
        const Drop first_answer_to_a = [&](const Datagram& d) {
            const bool answer = d.bytes.size() > 19 && (d.bytes[19] & 0x20) != 0;   // the R flag
            return !dropped && answer && d.to.address == p.a_ike.address && (dropped = true);
        };
        deliver_all_except(p, first_answer_to_a);
        REQUIRE(dropped);
        // When the answer to A is lost, B deletes A's redundant SA itself, which A never made: B gives
        // that Delete up after its retransmissions.
        run_until(p, [&] { return rekeyed_from(p, old); }, 60s, first_answer_to_a);
        CHECK(rekeyed_from(p, old));
        check_child_untouched(p);
        CHECK(p.a->failures().empty());
        CHECK(p.b->failures().empty());
        check_new_ike_sa_works(p);
    }
}

TEST_CASE("IKE rekey is refused with TEMPORARY_FAILURE while a CHILD SA rekey of the responder is out")
{
    Pair p(ike_lifetime(a_to_b(), 1000s), ike_lifetime(b_to_a(), 1000s));
    establish(p);
    const Spis old = one_ike_sa_each(p);
    p.a->rekey_ike("b", p.now);
    p.b->rekey_child(p.b_host.installed.front().inbound.spi, p.now);
    p.tick(100ms);
    REQUIRE(p.wire.size() == 2);                // the IKE rekey and the CHILD rekey cross
    p.deliver_all();
    // A answers B's CHILD rekey; B refuses A's IKE rekey and A tries again later.
    run_until(p, [&] { return p.a_host.deleted.size() == 1 && p.b_host.deleted.size() == 1; }, 5s);
    CHECK(one_ike_sa_each(p) == old);
    CHECK(p.a->counters().rekey_failures == 1);
    REQUIRE(p.a->failures().contains("b"));
    CHECK(p.a->failures().at("b").text.find("TEMPORARY_FAILURE") != std::string::npos);
    run_until(p, [&] { return rekeyed_from(p, old); }, 20s);
    one_ike_sa_each(p);
    CHECK(p.a->status(p.now).front().child_sas.size() == 1);
    CHECK(p.b->status(p.now).front().child_sas.size() == 1);
    CHECK(p.lost == 0);
}

TEST_CASE("IKE rekey: without an answer the IKE SA is deleted at its hard lifetime, and started over")
{
    Pair p(ike_lifetime(a_to_b(), 10s), ike_lifetime(b_to_a(), 1000s));
    establish(p);
    expire_while_b_silent(p, "IKE SA");   // B, back, replaces what it kept (INITIAL_CONTACT)
    one_ike_sa_each(p);
    check_one_sa_each(p);
}

TEST_CASE("INITIAL_CONTACT: a restarted peer's new IKE SA replaces the stale one at once, the tunnel staying up")
{
    Pair p(ike_lifetime(a_to_b(), 1000s, 30s), ike_lifetime(b_to_a(), 1000s, 30s));
    establish(p);
    const Spis stale = one_ike_sa_each(p);
    const std::uint32_t stale_in = p.b_host.installed.front().inbound.spi;
    const std::uint64_t b_out_before = p.b->counters().messages_out;

    // A is killed: a fresh engine, its data plane empty, B none the wiser.
    p.a = std::make_unique<IkeEngine>(p.a_host, std::vector{ike_lifetime(a_to_b(), 1000s, 30s)}, p.a_ike, p.a_natt,
                                      p.rng);
    p.a_host.inbound.clear();
    p.a_host.outbound = 0;
    p.a->start(p.now);
    p.tick(1000ms);
    REQUIRE(p.wire.size() == 1);                // A's IKE_SA_INIT
    p.deliver_all();                            // ... IKE_AUTH with N(INITIAL_CONTACT), answered

    const auto b = p.b->status(p.now);
    REQUIRE(b.size() == 1);                     // the stale IKE SA went at once
    CHECK(spis_of(b.front()) != stale);
    CHECK(p.b->counters().initial_contacts == 1);
    CHECK(p.b->counters().messages_out - b_out_before == 2);   // IKE_SA_INIT and IKE_AUTH answered, no Delete
    REQUIRE(b.front().child_sas.size() == 1);
    const std::uint32_t fresh_in = b.front().child_sas.front().spi_in;
    CHECK(fresh_in == p.b_host.installed.back().inbound.spi);
    CHECK(p.b_host.deleted == std::vector{stale_in});
    // Installed before the stale SA went: the tunnel always had an inbound SA.
    const auto at = [&](HostEvent::Kind kind, std::uint32_t spi) {
        return std::find_if(p.events.begin(), p.events.end(),
                            [&](const HostEvent& e) { return e.kind == kind && e.host == 'b' && e.spi == spi; });
    };
    CHECK(at(HostEvent::install_inbound, fresh_in) < at(HostEvent::delete_inbound, stale_in));
    CHECK(p.b_host.inbound == std::set<std::uint32_t>{fresh_in});
    CHECK(p.b_host.outbound == p.a_host.installed.back().inbound.spi);
    one_ike_sa_each(p);
}

TEST_CASE("INITIAL_CONTACT: the first IKE SA with a peer replaces nothing")
{
    Pair p(ike_lifetime(a_to_b(), 1000s), ike_lifetime(b_to_a(), 1000s));
    establish(p);
    one_ike_sa_each(p);
    CHECK(p.b->counters().initial_contacts == 0);
    CHECK(p.b_host.deleted.empty());
}

TEST_CASE("a CREATE_CHILD_SA rekeying the IKE SA that B cannot use is refused, and B's IKE SA stays")
{
    Pair p(ike_lifetime(a_to_b(), 1000s), ike_lifetime(b_to_a(), 1000s));
    establish(p);
    const Spis old = one_ike_sa_each(p);
    SpeakingForA a(p);
    const auto refusal = [&](std::vector<Payload> inner) {
        const auto answer = a.ask(std::move(inner));
        REQUIRE(answer.size() == 1);
        const auto* n = std::get_if<NotifyPayload>(&answer.front());
        REQUIRE(n != nullptr);
        return n->notify_type;
    };
    const IkePolicy& ours = p.a->peers().front().ike;
    IkePolicy cbc_only = ours;
    cbc_only.ciphers = {IkeCipher::aes128_cbc};
    const auto spi = ike_spi_bytes(0x1122334455667788);
    const NoncePayload nonce{std::vector<std::uint8_t>(32, 0x5a)};
    auto ecp256 = DhKeyExchange::generate(DhGroup::ecp256, p.rng);
    auto ecp384 = DhKeyExchange::generate(DhGroup::ecp384, p.rng);
    REQUIRE(ecp256);
    REQUIRE(ecp384);
    const KePayload ke{DhGroup::ecp256, ecp256->public_value()};

    CHECK(refusal({ike_proposals(ours, spi), nonce}) == NotifyType::invalid_syntax);   // no KE
    CHECK(refusal({ike_proposals(ours), nonce, ke}) == NotifyType::invalid_syntax);    // no SPI for the new SA
    CHECK(refusal({ike_proposals(cbc_only, spi), nonce, ke}) == NotifyType::no_proposal_chosen);
    CHECK(refusal({ike_proposals(ours, spi), nonce, KePayload{DhGroup::ecp384, ecp384->public_value()}}) ==
          NotifyType::invalid_ke_payload);
    CHECK(refusal({ike_proposals(ours, spi), nonce, KePayload{DhGroup::ecp256, {1, 2, 3}}}) ==
          NotifyType::invalid_syntax);                                                    // a point not on the curve
    CHECK(one_ike_sa_each(p) == old);
    check_child_untouched(p);
}
