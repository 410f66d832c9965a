// Two IKE engines in one process, their datagrams carried by a fake host, so
// each exchange can be stepped, dropped or repeated deterministically.
//
//   A (initiator) 192.0.2.1                      B (responder) 192.0.2.2
//   IKE_SA_INIT  HDR, SAi1, KEi, Ni, N(NAT-D)  -->
//                                              <--  HDR, SAr1, KEr, Nr, N(NAT-D)
//   IKE_AUTH     HDR, SK{IDi, AUTH, SAi2, TSi, TSr, N(USE_TRANSPORT_MODE)}  -->
//                                              <--  HDR, SK{IDr, AUTH, SAr2, TSi, TSr, N(USE_TRANSPORT_MODE)}

#include "exchange_pair.hpp"

#include <doctest/doctest.h>

using namespace exchange_pair;

TEST_CASE("PSK: IKE_SA_INIT and IKE_AUTH establish the IKE SA and one CHILD SA with mirrored keys")
{
    Pair p(a_to_b(), b_to_a());
    p.tick(std::chrono::milliseconds(1000));   // A initiates after its start jitter
    p.deliver_all();

    REQUIRE(p.a_host.installed.size() == 1);
    REQUIRE(p.b_host.installed.size() == 1);
    const auto& a = p.a_host.installed.front();
    const auto& b = p.b_host.installed.front();
    CHECK(a.inbound.spi == b.outbound.spi);
    CHECK(a.outbound.spi == b.inbound.spi);
    CHECK(a.inbound.cipher_key == b.outbound.cipher_key);
    CHECK(a.outbound.cipher_key == b.inbound.cipher_key);
    CHECK(a.inbound.cipher_key != a.outbound.cipher_key);
    CHECK(a.inbound.cipher == mesh::tunnel::EspCipher::aes128_gcm);
    // encapsulation "udp": both moved to the NAT-T port.
    CHECK(a.remote.port == 4500);
    CHECK(b.remote.port == 4500);
    const auto status = p.a->status(p.now);
    REQUIRE(status.size() == 1);
    CHECK(status.front().state == IkeState::established);
    CHECK(status.front().children == 1);
}

TEST_CASE("PSK: a wrong pre-shared key is refused with AUTHENTICATION_FAILED and installs nothing")
{
    Pair p(a_to_b("one-secret"), b_to_a("another-secret"));
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    CHECK(p.a_host.installed.empty());
    CHECK(p.b_host.installed.empty());
    CHECK(p.b->counters().authentication_failed == 1);
    CHECK(p.a->counters().authentication_failed == 1);
}

TEST_CASE("an identity the responder does not expect: no matching identity, nothing installed")
{
    auto b_side = b_to_a();
    b_side.remote_id = *parse_identity("fqdn:someone-else.lab");
    Pair p(a_to_b(), std::move(b_side));
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    CHECK(p.b_host.installed.empty());
    CHECK(p.b->counters().authentication_failed == 1);
}

TEST_CASE("ESP proposals that do not meet: IKE SA up, CHILD SA refused with NO_PROPOSAL_CHOSEN")
{
    auto b_side = b_to_a();
    b_side.children.front().policy.ciphers = {mesh::tunnel::EspCipher::aes256_cbc};
    Pair p(a_to_b(), std::move(b_side));
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    CHECK(p.a_host.installed.empty());
    CHECK(p.b_host.installed.empty());
    CHECK(p.b->counters().no_proposal_chosen == 1);
    CHECK(p.a->counters().no_proposal_chosen == 1);
}

TEST_CASE("IKE proposals that do not meet: NO_PROPOSAL_CHOSEN in IKE_SA_INIT")
{
    auto b_side = b_to_a();
    b_side.ike.ciphers = {IkeCipher::aes128_cbc};
    Pair p(a_to_b(), std::move(b_side));
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    CHECK(p.b->counters().no_proposal_chosen == 1);
    CHECK(p.a->counters().no_proposal_chosen == 1);
    CHECK(p.a->status(p.now).empty());
}

TEST_CASE("INVALID_KE_PAYLOAD: the initiator retries with the group the responder asks for")
{
    auto a_side = a_to_b();
    a_side.ike.dh_groups = {DhGroup::modp2048, DhGroup::ecp256};
    auto b_side = b_to_a();
    b_side.ike.dh_groups = {DhGroup::ecp256};
    Pair p(std::move(a_side), std::move(b_side));
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    REQUIRE(p.a_host.installed.size() == 1);
    CHECK(p.a->status(p.now).front().suite.find("ecp256") != std::string::npos);
}

TEST_CASE("a lost IKE_AUTH response: the initiator retransmits, the responder answers from its cache")
{
    Pair p(a_to_b(), b_to_a());
    p.tick(std::chrono::milliseconds(1000));
    p.deliver(p.wire.front());             // IKE_SA_INIT request to B
    p.wire.pop_front();
    p.deliver(p.wire.front());             // its response to A, which sends IKE_AUTH
    p.wire.pop_front();
    p.deliver(p.wire.front());             // IKE_AUTH to B: B installs and answers
    p.wire.pop_front();
    REQUIRE(p.wire.size() == 1);
    p.wire.clear();                        // the answer is lost
    CHECK(p.a_host.installed.empty());
    p.tick(std::chrono::milliseconds(600));   // A retransmits
    p.deliver_all();
    CHECK(p.a_host.installed.size() == 1);
    CHECK(p.b_host.installed.size() == 1);     // B did not redo the exchange
    CHECK(p.b->counters().retransmits == 1);
}

TEST_CASE("shutdown deletes the IKE SA at the peer, and the peer removes its CHILD SA")
{
    Pair p(a_to_b(), b_to_a());
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    REQUIRE(p.b_host.installed.size() == 1);
    p.a->shutdown();
    CHECK(p.a_host.deleted.size() == 1);
    p.deliver_all();
    REQUIRE(p.b_host.deleted.size() == 1);
    CHECK(p.b_host.deleted.front() == p.b_host.installed.front().inbound.spi);
    p.tick(std::chrono::milliseconds(100));
    CHECK(p.b->status(p.now).empty());
}

TEST_CASE("an unanswered IKE_SA_INIT is given up after the retransmissions and tried again later")
{
    Pair p(a_to_b(), b_to_a());
    p.tick(std::chrono::milliseconds(1000));
    int sent = 0;
    for (int i = 0; i < 400; ++i) {
        sent += static_cast<int>(p.wire.size());
        p.wire.clear();                    // B is unreachable
        p.tick(std::chrono::milliseconds(100));
    }
    CHECK(sent >= 6);                      // the first try and its retransmissions, then a new attempt
    CHECK(p.a->counters().retransmits >= 5);
}

TEST_CASE("encapsulation auto without a NAT: IKE stays on port 500 and the CHILD SA is plain ESP")
{
    auto a_side = a_to_b();
    a_side.always_encapsulate = false;
    auto b_side = b_to_a();
    b_side.always_encapsulate = false;
    Pair p(std::move(a_side), std::move(b_side));
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    REQUIRE(p.a_host.installed.size() == 1);
    REQUIRE(p.b_host.installed.size() == 1);
    CHECK_FALSE(p.a_host.installed.front().udp_encapsulation);
    CHECK_FALSE(p.b_host.installed.front().udp_encapsulation);
    CHECK(p.a_host.installed.front().remote.port == 500);
}

TEST_CASE("encapsulation udp on one side only: both use ESP-in-UDP on port 4500")
{
    auto b_side = b_to_a();
    b_side.always_encapsulate = false;
    Pair p(a_to_b(), std::move(b_side));
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    REQUIRE(p.b_host.installed.size() == 1);
    CHECK(p.a_host.installed.front().udp_encapsulation);
    CHECK(p.b_host.installed.front().udp_encapsulation);
    CHECK(p.b_host.installed.front().remote.port == 4500);
}

TEST_CASE("an IKE_SA_INIT with an unknown critical payload is answered with UNSUPPORTED_CRITICAL_PAYLOAD")
{
    Pair p(a_to_b(), b_to_a());
    Message request;
    request.header.spi_i = 0x1122334455667788;
    request.header.exchange_type = ExchangeType::ike_sa_init;
    request.header.initiator = true;
    request.payloads.push_back(UnknownPayload{static_cast<PayloadType>(200), true, {1, 2, 3, 4}});
    const auto bytes = serialize(request);
    REQUIRE_FALSE(bytes.empty());
    p.b->on_datagram(p.b_ike, p.a_ike, bytes, p.now);
    REQUIRE(p.wire.size() == 1);
    const auto answer = parse(p.wire.front().bytes);
    REQUIRE(answer);
    CHECK(answer->header.response);
    CHECK(answer->header.spi_i == 0x1122334455667788);
    const auto* n = answer->find_notify(NotifyType::unsupported_critical_payload);
    REQUIRE(n != nullptr);
    CHECK(n->data == std::vector<std::uint8_t>{200});
    CHECK(p.b->status(p.now).empty());   // no state kept
}

TEST_CASE("the initiator refusing the responder's identity tells it, and the responder keeps no SA")
{
    auto a_side = a_to_b();
    a_side.remote_id = *parse_identity("fqdn:not-b.lab");
    Pair p(std::move(a_side), b_to_a());
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    CHECK(p.a->counters().authentication_failed == 1);
    CHECK(p.b->counters().authentication_failed == 1);
    REQUIRE(p.b_host.installed.size() == 1);   // B installed before it heard
    CHECK(p.b_host.deleted.size() == 1);
    p.tick(std::chrono::milliseconds(100));
    CHECK(p.b->status(p.now).empty());
}

TEST_CASE("COOKIE: the initiator sends IKE_SA_INIT again with the cookie first, then establishes")
{
    Pair p(a_to_b(), b_to_a());
    p.tick(std::chrono::milliseconds(1000));
    REQUIRE(p.wire.size() == 1);
    const auto first = parse(p.wire.front().bytes);
    REQUIRE(first);
    p.wire.clear();

    // A responder under load answers statelessly with a cookie (section 2.6).
    Message answer;
    answer.header = first->header;
    answer.header.response = true;
    answer.header.initiator = false;
    NotifyPayload cookie;
    cookie.notify_type = NotifyType::cookie;
    cookie.data = {0xc0, 0x0c, 0x1e, 0x5e, 1, 2, 3, 4};
    answer.payloads.push_back(cookie);
    p.a->on_datagram(p.a_ike, p.b_ike, serialize(answer), p.now);

    REQUIRE(p.wire.size() == 1);
    const auto again = parse(p.wire.front().bytes);
    REQUIRE(again);
    CHECK(again->header.spi_i == first->header.spi_i);
    REQUIRE_FALSE(again->payloads.empty());
    const auto* echoed = std::get_if<NotifyPayload>(&again->payloads.front());
    REQUIRE(echoed != nullptr);
    CHECK(echoed->notify_type == NotifyType::cookie);
    CHECK(echoed->data == cookie.data);
    p.deliver_all();
    CHECK(p.a_host.installed.size() == 1);
}

namespace {
PeerConfig with_dpd(PeerConfig p, std::chrono::milliseconds interval, std::uint32_t failures)
{
    p.ike.dpd_interval = interval;
    p.ike.dpd_maximum_failures = failures;
    return p;
}
} // namespace

TEST_CASE("DPD: after a quiet dpd-interval a liveness check goes out, and its answer keeps the SA")
{
    Pair p(with_dpd(a_to_b(), std::chrono::seconds(1), 3), with_dpd(b_to_a(), std::chrono::seconds(1), 3));
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    REQUIRE(p.a_host.installed.size() == 1);
    for (int i = 0; i < 50; ++i) {
        p.tick(std::chrono::milliseconds(100));
        p.deliver_all();
    }
    CHECK(p.a->counters().liveness_checks >= 4);
    CHECK(p.a->counters().peers_dead == 0);
    CHECK(p.a_host.deleted.empty());
    CHECK(p.b_host.deleted.empty());
    CHECK(p.a->status(p.now).front().state == IkeState::established);
}

TEST_CASE("DPD: a peer that stops answering is dead after dpd-maximum-failures intervals, then re-initiated")
{
    Pair p(with_dpd(a_to_b(), std::chrono::milliseconds(200), 3), b_to_a());
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    REQUIRE(p.a_host.installed.size() == 1);
    const auto silent_since = p.now;
    while (p.a_host.deleted.empty() && p.now - silent_since < std::chrono::seconds(5)) {
        p.wire.clear();   // the path to B is cut
        p.tick(std::chrono::milliseconds(50));
    }
    REQUIRE(p.a_host.deleted.size() == 1);
    CHECK(p.a_host.deleted.front() == p.a_host.installed.front().inbound.spi);
    // A check after 200 ms of silence, then three unanswered intervals.
    const auto detected = p.now - silent_since;
    CHECK(detected >= std::chrono::milliseconds(800));
    CHECK(detected <= std::chrono::milliseconds(900));
    CHECK(p.a->counters().peers_dead == 1);
    REQUIRE(p.a->failures().contains("b"));
    CHECK(p.a->failures().at("b").text.find("peer dead") != std::string::npos);
    // The path is back: A's next attempt (1 s backoff plus jitter) restores the CHILD SA.
    for (int i = 0; i < 30 && p.a_host.installed.size() < 2; ++i) {
        p.tick(std::chrono::milliseconds(100));
        p.deliver_all();
    }
    CHECK(p.a_host.installed.size() == 2);
}

TEST_CASE("DPD: inbound ESP proves the peer alive: a busy tunnel sends no checks and is never declared dead")
{
    Pair p(with_dpd(a_to_b(), std::chrono::milliseconds(200), 3), b_to_a());
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    REQUIRE(p.a_host.installed.size() == 1);
    const std::uint32_t spi_in = p.a_host.installed.front().inbound.spi;
    for (int i = 0; i < 200; ++i) {
        ++p.a_host.esp_packets[spi_in];
        p.wire.clear();   // IKE is lost (a full socket buffer), ESP flows
        p.tick(std::chrono::milliseconds(50));
    }
    CHECK(p.a->counters().liveness_checks == 0);
    CHECK(p.a_host.deleted.empty());
    // A check that went out just before ESP resumed is not counted as a failure either.
    for (int i = 0; i < 6; ++i) {
        p.wire.clear();
        p.tick(std::chrono::milliseconds(50));
    }
    REQUIRE(p.a->counters().liveness_checks == 1);
    for (int i = 0; i < 100; ++i) {
        ++p.a_host.esp_packets[spi_in];
        p.wire.clear();
        p.tick(std::chrono::milliseconds(50));
    }
    CHECK(p.a_host.deleted.empty());
    CHECK(p.a->counters().peers_dead == 0);
}

TEST_CASE("cookies: with enough IKE SAs half open the responder answers statelessly, and the cookie gets through")
{
    IkeLimits limits;
    limits.cookie_threshold = 0;   // every IKE_SA_INIT must bring a cookie
    Pair p(a_to_b(), b_to_a(), limits);
    p.tick(std::chrono::milliseconds(1000));
    REQUIRE(p.wire.size() == 1);
    p.deliver(p.wire.front());     // the first IKE_SA_INIT: B answers N(COOKIE) and keeps nothing
    p.wire.pop_front();
    CHECK(p.b->counters().cookies_sent == 1);
    CHECK(p.b->status(p.now).empty());
    p.deliver_all();               // A sends it again with the cookie first
    CHECK(p.a_host.installed.size() == 1);
    CHECK(p.b_host.installed.size() == 1);
    CHECK(p.b->counters().cookies_sent == 1);
}

TEST_CASE("cookies: a forged cookie gets a fresh one; beyond the bound per address IKE_SA_INIT is dropped")
{
    IkeLimits limits;
    limits.cookie_threshold = 0;
    limits.max_ike_sas_per_address = 1;
    Pair p(a_to_b(), b_to_a(), limits);
    p.tick(std::chrono::milliseconds(1000));
    p.deliver(p.wire.front());
    p.wire.pop_front();
    REQUIRE(p.wire.size() == 1);
    const auto answer = parse(p.wire.front().bytes);
    REQUIRE(answer);
    const auto* cookie = answer->find_notify(NotifyType::cookie);
    REQUIRE(cookie != nullptr);
    CHECK(cookie->data.size() == CookieSecrets::cookie_size);
    auto forged = p.wire.front();
    p.deliver_all();
    REQUIRE(p.b_host.installed.size() == 1);

    // A second initiator at the same address: B holds one IKE SA with it already.
    FakeHost other_host;
    other_host.wire = &p.wire;
    IkeEngine other(other_host, std::vector{a_to_b()}, p.a_ike, p.a_natt, p.rng);
    other.start(p.now);
    p.now += std::chrono::milliseconds(1000);
    other.on_tick(p.now);
    REQUIRE(p.wire.size() == 1);
    p.deliver(p.wire.front());
    p.wire.pop_front();
    CHECK(p.wire.empty());
    CHECK(p.b->counters().init_refused == 1);
    (void)forged;
}
