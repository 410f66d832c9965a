// Rekeying CHILD SAs with CREATE_CHILD_SA (RFC 7296 sections 1.3.3, 2.8, 2.8.1), two engines stepped in one process.
//
//   X (rekeying end)                                       Y
//   HDR, SK {N(REKEY_SA, old X-in), SA, Ni, [KEi], TSi, TSr, N(USE_TRANSPORT_MODE)}  -->
//                                  Y installs the new inbound SA, keeps sending on the old one
//                 <--  HDR, SK {SA, Nr, [KEr], TSi, TSr, N(USE_TRANSPORT_MODE)}
//   X installs the new SA and sends on it
//   HDR, SK {D(ESP, old X-in)}  -->
//                                  Y sends on the new SA, then removes the old one
//                 <--  HDR, SK {D(ESP, old Y-in)}
//   X removes the old SA

#include "exchange_pair.hpp"
#include "pair_steps.hpp"
#include "speaking_for_a.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>

using namespace exchange_pair;
using namespace std::chrono_literals;

namespace {

// One CHILD SA with this lifetime and PFS; no liveness checks, so the wire
// holds nothing but what the test is about.
PeerConfig child_lifetime(PeerConfig p, std::chrono::seconds lifetime, std::vector<DhGroup> pfs = {})
{
    p.ike.dpd_interval = 0ms;
    p.children.front().policy.lifetime = lifetime;
    p.children.front().policy.pfs_groups = std::move(pfs);
    return p;
}

std::size_t position(const Pair& p, HostEvent::Kind kind, char host, std::uint32_t spi)
{
    const auto it = std::find_if(p.events.begin(), p.events.end(), [&](const HostEvent& e) {
        return e.kind == kind && e.host == host && e.spi == spi;
    });
    return static_cast<std::size_t>(it - p.events.begin());   // events.size() when it never happened
}

// The keys of the SA `x` installed last mirror what `y` sends and receives
// with, and differ from those of the SA before.
void check_new_keys_mirrored(const FakeHost& x, const FakeHost& y)
{
    const auto& x_new = x.installed.back();
    const auto& y_new = y.installed.back();
    const auto& x_old = x.installed.front();
    const auto& y_out = y_new.use_outbound ? y_new.outbound : y.outbound_used.back();
    const auto& x_out = x_new.use_outbound ? x_new.outbound : x.outbound_used.back();
    CHECK(x_new.inbound.spi == y_out.spi);
    CHECK(x_new.inbound.cipher_key == y_out.cipher_key);
    CHECK(x_out.spi == y_new.inbound.spi);
    CHECK(x_out.cipher_key == y_new.inbound.cipher_key);
    CHECK(x_new.inbound.cipher_key != x_out.cipher_key);
    CHECK(x_new.inbound.cipher_key != x_old.inbound.cipher_key);
    CHECK(x_new.outbound.cipher_key != x_old.outbound.cipher_key);
}

// Runs until the end with host `x` rekeyed the CHILD SA and both ends
// deleted the old one, and checks the result.
void check_rekeyed_by(Pair& p, const FakeHost& x, const FakeHost& y)
{
    const std::uint32_t x_old = x.installed.front().inbound.spi;
    const std::uint32_t y_old = y.installed.front().inbound.spi;
    run_until(p, [&] { return x.deleted.size() == 1 && y.deleted.size() == 1; }, 100s);
    REQUIRE(x.installed.size() == 2);
    REQUIRE(y.installed.size() == 2);
    CHECK(x.installed.back().use_outbound);
    CHECK_FALSE(y.installed.back().use_outbound);   // y sends on it once x deleted the old SA
    check_new_keys_mirrored(x, y);
    CHECK(x.deleted == std::vector{x_old});
    CHECK(y.deleted == std::vector{y_old});
    check_one_sa_each(p);
    CHECK(p.lost == 0);
}

} // namespace

TEST_CASE("rekey: the initiator of the IKE SA rekeys at its soft lifetime, and both ends end up on the new SA")
{
    Pair p(child_lifetime(a_to_b(), 100s), child_lifetime(b_to_a(), 1000s));
    establish(p);
    const auto rekey_in = p.a->status(p.now).front().child_sas.front().rekey_in_s;
    REQUIRE(rekey_in);
    CHECK(*rekey_in >= 79);   // 80 to 90 % of the lifetime, less the second establish() took
    CHECK(*rekey_in <= 90);

    check_rekeyed_by(p, p.a_host, p.b_host);
    CHECK(p.a->counters().child_rekeys == 1);
    CHECK(p.b->counters().child_rekeys_answered == 1);
    // Each end tells its host which SA the new one replaces: the daemon counts rekeys by it.
    for (const FakeHost* host : {&p.a_host, &p.b_host}) {
        REQUIRE(host->installed.size() == 2);
        CHECK(host->installed.front().rekeys_spi_in == 0);
        CHECK(host->installed.back().rekeys_spi_in == host->installed.front().inbound.spi);
    }
    CHECK(p.a->counters().rekey_collisions == 0);
    // The new SA has its own lifetime again.
    const auto next = p.a->status(p.now).front().child_sas.front();
    CHECK(next.age_s <= 3);   // the old SA's inbound half retired 2 s after the rekey
    REQUIRE(next.rekey_in_s);
    CHECK(*next.rekey_in_s >= 80 - next.age_s - 1);   // 80 to 90 % of 100 s, less its age
}

TEST_CASE("rekey with PFS by the responder of the IKE SA: a new DH, keys mirrored, the old SA gone at both ends")
{
    Pair p(child_lifetime(a_to_b(), 1000s, {DhGroup::ecp256}), child_lifetime(b_to_a(), 100s, {DhGroup::ecp256}));
    establish(p);
    check_rekeyed_by(p, p.b_host, p.a_host);
    CHECK(p.b->counters().child_rekeys == 1);
    CHECK(p.a->counters().child_rekeys_answered == 1);
    CHECK(p.a->status(p.now).front().child_sas.front().suite.find("ecp256") != std::string::npos);
    CHECK(p.b->status(p.now).front().child_sas.front().suite.find("ecp256") != std::string::npos);
}

TEST_CASE("rekey is make-before-break: each new inbound SA exists before the peer sends on it, each old one goes after")
{
    Pair p(child_lifetime(a_to_b(), 100s), child_lifetime(b_to_a(), 1000s));
    establish(p);
    const std::uint32_t a_old = p.a_host.installed.front().inbound.spi;
    const std::uint32_t b_old = p.b_host.installed.front().inbound.spi;
    run_until(p, [&] { return p.b_host.deleted.size() == 1 && p.a_host.deleted.size() == 1; }, 100s);
    const std::uint32_t a_new = p.a_host.installed.back().inbound.spi;
    const std::uint32_t b_new = p.b_host.installed.back().inbound.spi;
    const auto never = p.events.size();

    // B installs its new inbound SA before A sends on it...
    CHECK(position(p, HostEvent::install_inbound, 'b', b_new) < position(p, HostEvent::use_outbound, 'a', b_new));
    // ...and sends on A's new one only after A installed it.
    CHECK(position(p, HostEvent::install_inbound, 'a', a_new) < position(p, HostEvent::use_outbound, 'b', a_new));
    CHECK(position(p, HostEvent::use_outbound, 'b', a_new) != never);
    // Each old inbound SA goes only once the other end sends on the new one.
    CHECK(position(p, HostEvent::use_outbound, 'a', b_new) < position(p, HostEvent::delete_inbound, 'b', b_old));
    CHECK(position(p, HostEvent::use_outbound, 'b', a_new) < position(p, HostEvent::delete_inbound, 'a', a_old));
    CHECK(position(p, HostEvent::delete_inbound, 'a', a_old) != never);
    CHECK(p.lost == 0);
}

TEST_CASE("rekey: a lost CREATE_CHILD_SA response is retransmitted and answered from the cache")
{
    Pair p(child_lifetime(a_to_b(), 100s), child_lifetime(b_to_a(), 1000s));
    establish(p);
    while (p.wire.empty() && p.now < Clock::time_point{} + 200s)
        p.tick(100ms);                          // until A sends its CREATE_CHILD_SA
    REQUIRE(p.wire.size() == 1);
    p.deliver(p.wire.front());                  // B installs the new SA and answers...
    p.wire.pop_front();
    REQUIRE(p.wire.size() == 1);
    p.wire.clear();                             // ...but the answer is lost
    CHECK(p.b_host.installed.size() == 2);
    CHECK(p.a_host.installed.size() == 1);
    p.tick(600ms);                              // A retransmits
    p.deliver_all();
    CHECK(p.b->counters().retransmits == 1);
    CHECK(p.b_host.installed.size() == 2);      // no second SA from the repeated request
    REQUIRE(p.a_host.installed.size() == 2);
    check_new_keys_mirrored(p.a_host, p.b_host);
    run_until(p, [&] { return p.a_host.deleted.size() == 1 && p.b_host.deleted.size() == 1; }, 5s);   // retired
    check_one_sa_each(p);
    CHECK(p.lost == 0);
}

TEST_CASE("rekey: INVALID_KE_PAYLOAD makes the rekeying end retry with the PFS group asked for")
{
    Pair p(child_lifetime(a_to_b(), 100s, {DhGroup::ecp384, DhGroup::ecp256}),
           child_lifetime(b_to_a(), 1000s, {DhGroup::ecp256}));
    establish(p);
    check_rekeyed_by(p, p.a_host, p.b_host);
    CHECK(p.a->counters().rekey_failures == 0);
    CHECK(p.a->status(p.now).front().child_sas.front().suite.find("ecp256") != std::string::npos);
}

TEST_CASE("rekey by both ends at the same tick: the lowest nonce decides, and both keep the same one new SA")
{
    // Each end once holds the lowest nonce (section 2.8.1), once not.
    for (const char lowest : {'a', 'b'}) {
        CAPTURE(lowest);
        Pair p(child_lifetime(a_to_b(), 1000s), child_lifetime(b_to_a(), 1000s));
        establish(p);
        p.lowest_nonce_at(lowest);
        // As if both ends ran out of sequence numbers at once.
        p.a->rekey_child(p.a_host.installed.front().inbound.spi, p.now);
        p.b->rekey_child(p.b_host.installed.front().inbound.spi, p.now);
        p.tick(100ms);
        REQUIRE(p.wire.size() == 2);            // the two CREATE_CHILD_SA requests cross
        p.deliver_all();
        run_until(p, [&] { return p.a->status(p.now).front().child_sas.size() == 1 &&
                                  p.b->status(p.now).front().child_sas.size() == 1; }, 10s);
        CHECK(p.a_host.installed.size() == 3);  // the old SA and both new ones
        CHECK(p.b_host.installed.size() == 3);
        check_one_sa_each(p);
        CHECK(p.lost == 0);
        CHECK(p.a->counters().rekey_collisions == 1);
        CHECK(p.b->counters().rekey_collisions == 1);
        CHECK(p.a->failures().empty());
        CHECK(p.b->failures().empty());
    }
}

TEST_CASE("rekey by both ends, one answer arriving before the other request: TEMPORARY_FAILURE, one new SA")
{
    Pair p(child_lifetime(a_to_b(), 1000s), child_lifetime(b_to_a(), 1000s));
    establish(p);
    p.a->rekey_child(p.a_host.installed.front().inbound.spi, p.now);
    p.b->rekey_child(p.b_host.installed.front().inbound.spi, p.now);
    p.tick(100ms);
    REQUIRE(p.wire.size() == 2);
    deliver_a_answer_first(p);
    run_until(p, [&] { return p.b->status(p.now).front().child_sas.size() == 1; }, 10s);
    check_one_sa_each(p);
    CHECK(p.a_host.installed.size() == 2);
    CHECK(p.b_host.installed.size() == 2);
    CHECK(p.lost == 0);
    CHECK(p.b->failures().empty());
}

TEST_CASE("byte lifetime: the CHILD SA is rekeyed once 80 to 90 % of its bytes went by, not before")
{
    PeerConfig a_side = child_lifetime(a_to_b(), 1000s);
    a_side.children.front().policy.lifetime_bytes = 1'000'000;
    Pair p(std::move(a_side), child_lifetime(b_to_a(), 1000s));
    establish(p);
    const std::uint32_t spi = p.a_host.installed.front().inbound.spi;
    p.a_host.esp_bytes[spi] = 790'000;
    run_until(p, [] { return false; }, 2s);
    CHECK(p.a_host.installed.size() == 1);         // below the soft limit: nothing
    p.a_host.esp_bytes[spi] = 900'000;
    run_until(p, [&] { return p.a_host.deleted.size() == 1 && p.b_host.deleted.size() == 1; }, 5s);
    REQUIRE(p.a_host.installed.size() == 2);       // rekeyed within a few ticks, long before its time
    CHECK(p.a->counters().child_rekeys == 1);
    CHECK(p.a_host.deleted.front() == spi);
    check_one_sa_each(p);
    CHECK(p.lost == 0);
}

TEST_CASE("byte lifetime: the CHILD SA that reaches it unrekeyed is deleted")
{
    PeerConfig a_side = child_lifetime(a_to_b(), 1000s);
    a_side.children.front().policy.lifetime_bytes = 1'000'000;
    Pair p(std::move(a_side), child_lifetime(b_to_a(), 1000s));
    establish(p);
    const std::uint32_t spi = p.a_host.installed.front().inbound.spi;
    p.a_host.esp_bytes[spi] = 1'000'000;           // the hard limit at once: no time to rekey
    p.tick(100ms);
    CHECK(p.a->counters().child_sas_expired == 1);
    CHECK(p.a_host.deleted.front() == spi);
}

TEST_CASE("rekey: with no answer the CHILD SA is deleted at its hard lifetime")
{
    Pair p(child_lifetime(a_to_b(), 10s), child_lifetime(b_to_a(), 1000s));
    establish(p);
    expire_while_b_silent(p, "CHILD SA");
    CHECK(p.a->counters().child_sas_expired == 1);
    check_one_sa_each(p);
}

TEST_CASE("rekey of a CHILD SA the peer does not have: CHILD_SA_NOT_FOUND, naming the SPI")
{
    Pair p(child_lifetime(a_to_b(), 1000s), child_lifetime(b_to_a(), 1000s));
    establish(p);
    const NotifyPayload n = SpeakingForA(p).offer_child(0xdeadbeef);
    CHECK(n.notify_type == NotifyType::child_sa_not_found);
    CHECK(n.protocol_id == ProtocolId::esp);
    CHECK(n.spi == spi_bytes(0xdeadbeef));
    CHECK(p.b_host.installed.size() == 1);      // B made no SA for it
}

TEST_CASE("a CREATE_CHILD_SA for another CHILD SA (no REKEY_SA) is answered NO_ADDITIONAL_SAS")
{
    Pair p(child_lifetime(a_to_b(), 1000s), child_lifetime(b_to_a(), 1000s));
    establish(p);
    CHECK(SpeakingForA(p).offer_child(std::nullopt).notify_type == NotifyType::no_additional_sas);
    CHECK(p.b_host.installed.size() == 1);
}

TEST_CASE("a CREATE_CHILD_SA without REKEY_SA gets a CHILD SA for a tunnel whose CHILD SA is gone")
{
    // strongSwan does this after a CHILD SA expired hard instead of being rekeyed.
    Pair p(child_lifetime(a_to_b(), 1000s), child_lifetime(b_to_a(), 1000s));
    establish(p);
    SpeakingForA a(p);
    a.ask({DeletePayload{ProtocolId::esp, {p.b_host.installed.front().outbound.spi}}}, ExchangeType::informational);
    REQUIRE(p.b_host.deleted.size() == 1);
    std::vector<Payload> inner;
    append_child_offer(inner, p.a->peers().front().children.front(), 0x7777, true, p.a_ike.address,
                       p.b_ike.address);
    inner.push_back(NoncePayload{std::vector<std::uint8_t>(32, 0x5a)});
    const auto answer = a.ask(std::move(inner));
    CHECK(find<SaPayload>(answer) != nullptr);
    CHECK(find<NoncePayload>(answer) != nullptr);
    REQUIRE(p.b_host.installed.size() == 2);
    CHECK(p.b_host.installed.back().outbound.spi == 0x7777);
    CHECK(p.b_host.installed.back().use_outbound);
    CHECK(p.b_host.installed.back().rekeys_spi_in == 0);
    CHECK(p.b->counters().child_sas_created == 1);
    // With its CHILD SA back, a second one for the same tunnel is refused.
    CHECK(a.offer_child(std::nullopt).notify_type == NotifyType::no_additional_sas);
}
