// IKE_SA_INIT repeated, by the initiator's timer or after a COOKIE or
// INVALID_KE_PAYLOAD answer (RFC 7296 sections 1.2, 2.1, 2.6): the initiator
// sends the same message each time (with the cookie first once it has one, a
// new KE only for the group asked), so whichever copy the responder answered
// is the one the initiator signs in IKE_AUTH; the responder answers a repeat
// from its half-open SA, with no second DH and no second SA.
//
// A hub with many spokes sees these orders: each spoke's 0.5 s retransmission
// overtakes the COOKIE answer to its first request.

#include "pair_steps.hpp"

#include <doctest/doctest.h>

using namespace exchange_pair;
using namespace std::chrono_literals;

namespace {

// `request` as it is once the cookie of `answer` is echoed first (section 2.6).
std::vector<std::uint8_t> with_cookie_first(std::span<const std::uint8_t> request, const Datagram& answer)
{
    auto message = parse(request);
    REQUIRE(message);
    const auto reply = parse(answer.bytes);
    REQUIRE(reply);
    const auto* cookie = reply->find_notify(NotifyType::cookie);
    REQUIRE(cookie != nullptr);
    message->payloads.insert(message->payloads.begin(), *cookie);
    return serialize(*message);
}

// An IKE_SA_INIT answer to `request` that only carries the notification.
Datagram init_error_answer(const Datagram& request, NotifyType type, std::vector<std::uint8_t> data)
{
    const auto message = parse(request.bytes);
    REQUIRE(message);
    Message answer;
    answer.header = message->header;
    answer.header.response = true;
    answer.header.initiator = false;
    answer.payloads.push_back(NotifyPayload{ProtocolId::none, type, {}, std::move(data)});
    return {request.to, request.from, serialize(answer)};
}

void check_established(const Pair& p)
{
    CHECK(p.a->counters().authentication_failed == 0);
    CHECK(p.b->counters().authentication_failed == 0);
    CHECK(p.a_host.installed.size() == 1);
    CHECK(p.b_host.installed.size() == 1);
    const auto b = p.b->status(p.now);
    REQUIRE(b.size() == 1);
    CHECK(b.front().state == IkeState::established);
}

} // namespace

TEST_CASE("two COOKIE answers, the IKE_SA_INIT having been retransmitted, in the bad order: "
          "the same request each time, and IKE_AUTH succeeds")
{
    IkeLimits limits;
    limits.cookie_threshold = 0;          // every IKE_SA_INIT must bring a cookie
    Pair p(a_to_b(), b_to_a(), limits);   // encapsulation "udp": A's NAT-D source hash is made up
    p.tick(1000ms);
    const Datagram init = take_front(p);
    p.deliver(init);
    const Datagram cookie_1 = take_front(p);
    p.tick(500ms);                        // A retransmits before the COOKIE arrives
    const Datagram init_again = take_front(p);
    CHECK(init_again.bytes == init.bytes);
    p.deliver(init_again);
    const Datagram cookie_2 = take_front(p);

    //   HDR(A,0), N(COOKIE), SAi1, KEi, Ni, N(NAT_DETECTION_*)  -->
    p.deliver(cookie_1);
    const Datagram with_cookie = take_front(p);
    CHECK(with_cookie.bytes == with_cookie_first(init.bytes, cookie_1));
    //                             <--  HDR(A,B), SAr1, KEr, Nr, N(NAT_DETECTION_*)
    p.deliver(with_cookie);
    const Datagram answer = take_front(p);
    // The second COOKIE, late: the same request again, not a new one.
    p.deliver(cookie_2);
    const Datagram with_cookie_again = take_front(p);
    CHECK(with_cookie_again.bytes == with_cookie_first(init.bytes, cookie_2));
    CHECK(with_cookie_again.bytes == with_cookie.bytes);

    p.deliver(answer);                    // A signs its IKE_SA_INIT in IKE_AUTH
    p.deliver(with_cookie_again);         // B answers it from the half-open SA
    p.deliver_all();
    check_established(p);
    CHECK(p.b->counters().init_retransmits == 1);
}

TEST_CASE("INVALID_KE_PAYLOAD: the request again with a KE of the group asked, the rest as before; "
          "a second INVALID_KE_PAYLOAD for a retransmitted request changes nothing")
{
    auto a_side = a_to_b();
    a_side.ike.dh_groups = {DhGroup::modp2048, DhGroup::ecp256};
    Pair p(std::move(a_side), b_to_a());   // B takes ecp256 only
    p.tick(1000ms);
    const Datagram init = take_front(p);
    p.deliver(init);
    const Datagram invalid_ke_1 = take_front(p);
    p.tick(500ms);
    p.deliver(take_front(p));              // the retransmission: INVALID_KE_PAYLOAD again
    const Datagram invalid_ke_2 = take_front(p);

    p.deliver(invalid_ke_1);
    const Datagram again = take_front(p);
    const auto first = parse(init.bytes);
    const auto second = parse(again.bytes);
    REQUIRE(first);
    REQUIRE(second);
    CHECK(second->header.spi_i == first->header.spi_i);
    REQUIRE(second->payloads.size() == first->payloads.size());
    for (std::size_t i = 0; i < first->payloads.size(); ++i) {
        const auto* ke = std::get_if<KePayload>(&second->payloads[i]);
        if (ke == nullptr) {
            CHECK(second->payloads[i] == first->payloads[i]);
            continue;
        }
        CHECK(ke->dh_group == DhGroup::ecp256);
        CHECK(std::get<KePayload>(first->payloads[i]).dh_group == DhGroup::modp2048);
    }

    p.deliver(invalid_ke_2);               // answers the request A replaced: ignored
    CHECK(p.wire.empty());
    CHECK_FALSE(p.a->failures().contains("b"));
    p.deliver(again);
    p.deliver_all();
    check_established(p);
}

TEST_CASE("COOKIE and INVALID_KE_PAYLOAD arriving after the IKE_SA_INIT response are ignored")
{
    Pair p(a_to_b(), b_to_a());
    p.tick(1000ms);
    const Datagram init = take_front(p);
    p.deliver(init);
    p.deliver(take_front(p));              // B's answer: A sends IKE_AUTH
    REQUIRE(p.wire.size() == 1);
    p.deliver(init_error_answer(init, NotifyType::cookie, std::vector<std::uint8_t>(36, 0xc0)));
    p.deliver(init_error_answer(init, NotifyType::invalid_ke_payload, {0, 14}));   // modp2048
    CHECK(p.wire.size() == 1);
    CHECK_FALSE(p.a->failures().contains("b"));
    p.deliver_all();
    check_established(p);
}

TEST_CASE("a retransmitted IKE_SA_INIT is answered from the half-open SA, also once the cookie threshold is "
          "crossed, and so is one that brings a cookie")
{
    IkeLimits limits;
    limits.cookie_threshold = 1;
    Pair p(a_to_b(), b_to_a(), limits);
    p.tick(1000ms);
    const Datagram init = take_front(p);
    p.deliver(init);                       // none half open: B keeps a half-open SA
    const Datagram answer = take_front(p);
    p.deliver(init);                       // one half open now, but this is the same initiator
    CHECK(take_front(p).bytes == answer.bytes);
    CHECK(p.b->counters().cookies_sent == 0);
    CHECK(p.b->counters().init_retransmits == 1);
    CHECK(p.b->status(p.now).size() == 1);

    SUBCASE("and IKE_AUTH follows")
    {
        p.deliver(answer);
        p.deliver_all();
        check_established(p);
    }
    SUBCASE("a second initiator must bring a cookie, and its retransmission too is answered from its SA")
    {
        FakeHost other_host;
        other_host.wire = &p.wire;
        test_rng::TestRng other_rng{"other"};
        const Endpoint other_ike{p.a_ike.address, 1500};
        IkeEngine other(other_host, std::vector{a_to_b()}, other_ike, p.a_natt, other_rng);
        other.start(p.now);
        p.now += 1000ms;
        other.on_tick(p.now);
        const Datagram other_init = take_front(p);
        p.deliver(other_init);
        const Datagram cookie = take_front(p);
        CHECK(p.b->counters().cookies_sent == 1);
        other.on_datagram(cookie.to, cookie.from, cookie.bytes, p.now);
        const Datagram other_with_cookie = take_front(p);
        CHECK(other_with_cookie.bytes == with_cookie_first(other_init.bytes, cookie));
        p.deliver(other_with_cookie);
        const Datagram other_answer = take_front(p);
        p.deliver(other_with_cookie);
        CHECK(take_front(p).bytes == other_answer.bytes);
        CHECK(p.b->counters().init_retransmits == 2);
        CHECK(p.b->counters().cookies_sent == 1);
        CHECK(p.b->status(p.now).size() == 2);
    }
}

TEST_CASE("the cookie threshold crossed the other way between a COOKIE and the retransmission: the half-open SA "
          "made from the request without the cookie serves the one with it, and IKE_AUTH succeeds")
{
    IkeLimits limits;
    limits.cookie_threshold = 1;
    Pair p(a_to_b(), b_to_a(), limits);
    // B's clock runs ahead of A's by the half-open timeout, so a stranger's half-open SA goes meanwhile.
    auto b_now = p.now;
    const auto deliver_to_b = [&](const Datagram& d) { p.b->on_datagram(d.to, d.from, d.bytes, b_now); };

    FakeHost other_host;
    other_host.wire = &p.wire;
    test_rng::TestRng other_rng{"other"};
    IkeEngine other(other_host, std::vector{a_to_b()}, {p.a_ike.address, 1500}, p.a_natt, other_rng);
    other.start(p.now);
    other.on_tick(p.now + 1000ms);
    deliver_to_b(take_front(p));           // the stranger's half-open SA: B is at its threshold
    p.wire.clear();

    p.now += 1000ms;
    p.a->on_tick(p.now);
    const Datagram init = take_front(p);
    deliver_to_b(init);
    const Datagram cookie = take_front(p);
    REQUIRE(p.b->counters().cookies_sent == 1);

    b_now += 31s;
    p.b->on_tick(b_now);                   // the stranger's half-open SA times out
    p.now += 500ms;
    p.a->on_tick(p.now);                   // A retransmits the request without the cookie
    deliver_to_b(take_front(p));           // below the threshold again: B keeps a half-open SA
    const Datagram answer = take_front(p);

    p.deliver(cookie);                     // the COOKIE reaches A only now
    const Datagram with_cookie = take_front(p);
    deliver_to_b(with_cookie);             // answered from the half-open SA
    CHECK(take_front(p).bytes == answer.bytes);
    CHECK(p.b->counters().init_retransmits == 1);

    p.deliver(answer);                     // A signs the request with the cookie
    for (int guard = 0; !p.wire.empty() && guard < 10; ++guard) {
        const Datagram d = take_front(p);
        if (d.to.address == p.a_ike.address)
            p.deliver(d);
        else
            deliver_to_b(d);
    }
    CHECK(p.b->counters().authentication_failed == 0);
    CHECK(p.a_host.installed.size() == 1);
    CHECK(p.b_host.installed.size() == 1);
}
