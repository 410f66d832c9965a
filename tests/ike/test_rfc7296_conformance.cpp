// RFC 7296 rules a peer under test (libreswan's --impair) broke and the
// engine let pass: a zero SPIi (section 3.1), a response of another exchange
// type than its request (section 1.2), non-zero RESERVED bytes in an ID
// payload (section 2.15), an IKE_SA_INIT sent twice (section 2.1), an unknown
// critical payload inside SK (section 2.5). The misbehaving end is made by
// hand here, with the library's own codec and key derivation.

#include "pair_steps.hpp"
#include "pki_helpers.hpp"

#include "ike/certificates.hpp"
#include "ike/child_negotiation.hpp"
#include "ike/key_material.hpp"
#include "ike/proposal.hpp"
#include "ike/signature_auth.hpp"
#include "ike/sk_cipher.hpp"

#include <botan/data_src.h>
#include <botan/pkcs8.h>
#include <doctest/doctest.h>

#include <functional>
#include <optional>
#include <vector>

using namespace exchange_pair;
using namespace std::chrono_literals;

namespace {

const IkeSuite pair_suite{IkeCipher::aes256_gcm, PrfId::hmac_sha2_256, IntegId::none, DhGroup::ecp256};

// One end of an IKE SA keyed by hand from its IKE_SA_INIT.
struct HandMadeEnd {
    Prf prf = *Prf::create(PrfId::hmac_sha2_256);
    IkeSaKeys keys;
    std::optional<SkCipher> sk;

    void key(Pair& p, std::span<const std::uint8_t> g_ir, std::span<const std::uint8_t> ni,
             std::span<const std::uint8_t> nr, std::uint64_t spi_i, std::uint64_t spi_r, SkSide side)
    {
        auto derived = derive_ike_sa_keys(prf, pair_suite, skeyseed(prf, ni, nr, g_ir), ni, nr, spi_i, spi_r);
        REQUIRE(derived);
        keys = std::move(*derived);
        auto cipher = SkCipher::create(pair_suite, keys, side, p.rng);
        REQUIRE(cipher);
        sk.emplace(std::move(*cipher));
    }

    std::vector<std::uint8_t> seal(const Header& header, const std::vector<Payload>& inner)
    {
        Message message;
        message.header = header;
        const auto plaintext = serialize_payload_chain(inner);
        message.payloads.push_back(SkPayload{inner.empty() ? PayloadType::none : payload_type(inner.front()), {}});
        auto datagram = associated_data(message, sk->sealed_size(plaintext.size()));
        const auto body = sk->seal(datagram, plaintext);
        REQUIRE(body);
        datagram.insert(datagram.end(), body->begin(), body->end());
        return datagram;
    }

    std::vector<Payload> open(std::span<const std::uint8_t> datagram)
    {
        const auto message = parse(datagram);
        REQUIRE(message);
        const auto* body = message->find<SkPayload>();
        REQUIRE(body != nullptr);
        const auto plaintext = sk->open(associated_data(datagram, body->body.size()), body->body);
        REQUIRE(plaintext);
        auto inner = parse_payload_chain(body->first_payload, *plaintext);
        REQUIRE(inner);
        return std::move(*inner);
    }
};

AuthPayload psk_auth_payload(HandMadeEnd& end, const PeerConfig& config, std::span<const std::uint8_t> real_message,
                             std::span<const std::uint8_t> peer_nonce, std::span<const std::uint8_t> sk_p,
                             std::span<const std::uint8_t> id_body)
{
    const auto mac = psk_auth(end.prf, config.psk, signed_octets(end.prf, real_message, peer_nonce, sk_p, id_body));
    return AuthPayload{AuthMethod::shared_key_mic, {mac.begin(), mac.end()}};
}

} // namespace

TEST_CASE("IKE_SA_INIT with SPIi zero: counted as malformed, no state, no answer (section 3.1)")
{
    Pair p(a_to_b(), b_to_a());
    p.tick(1000ms);
    Datagram init = take_front(p);
    std::fill_n(init.bytes.begin(), 8, std::uint8_t{0});
    const auto malformed = p.b->counters().malformed;
    p.deliver(init);
    CHECK(p.b->counters().malformed == malformed + 1);
    CHECK(p.b->status(p.now).empty());
    CHECK(p.wire.empty());
}

TEST_CASE("an INFORMATIONAL response to our IKE_AUTH request: dropped and counted, the request retransmitted")
{
    Pair p(a_to_b(), b_to_a());
    p.tick(1000ms);
    p.deliver(take_front(p));                   // A's IKE_SA_INIT at B
    p.deliver(take_front(p));                   // B's answer at A
    p.deliver(take_front(p));                   // A's IKE_AUTH at B: B is up
    const Datagram b_answer = take_front(p);    // held
    REQUIRE(p.wire.empty());

    // B's keys seal an INFORMATIONAL response with the IKE_AUTH's message ID.
    const auto keys = p.b->keys();
    REQUIRE(keys.size() == 1);
    auto sk = SkCipher::create(keys.front().suite, *keys.front().keys, SkSide::original_responder, p.rng);
    REQUIRE(sk);
    Message forged;
    forged.header.spi_i = keys.front().spi_i;
    forged.header.spi_r = keys.front().spi_r;
    forged.header.exchange_type = ExchangeType::informational;
    forged.header.response = true;
    forged.header.message_id = 1;
    forged.payloads.push_back(SkPayload{PayloadType::none, {}});
    auto datagram = associated_data(forged, sk->sealed_size(0));
    const auto body = sk->seal(datagram, {});
    REQUIRE(body);
    datagram.insert(datagram.end(), body->begin(), body->end());

    const auto malformed = p.a->counters().malformed;
    const auto retransmits = p.a->counters().retransmits;
    p.deliver({b_answer.from, b_answer.to, datagram});
    CHECK(p.a->counters().malformed == malformed + 1);
    REQUIRE(p.a->status(p.now).size() == 1);
    CHECK(p.a->status(p.now).front().state == IkeState::auth_sent);
    CHECK(p.a->failures().empty());
    CHECK(p.a_host.installed.empty());

    p.tick(600ms);                              // the IKE_AUTH request again
    CHECK(p.a->counters().retransmits == retransmits + 1);
    REQUIRE(p.wire.size() == 1);
    p.wire.clear();
    p.deliver(b_answer);                        // the real answer still completes it
    CHECK(p.a->status(p.now).front().state == IkeState::established);
    CHECK(p.a_host.installed.size() == 1);
}

namespace {

// AUTH (and CERTs) of a hand-made initiator over its signed octets.
using MakeAuth = std::function<std::vector<Payload>(HandMadeEnd&, std::span<const std::uint8_t> octets)>;

// A hand-made initiator whose IDi carries non-zero RESERVED bytes brings B's
// IKE SA up, B answering with its AUTH.
void initiate_with_reserved_idi(Pair& p, const PeerConfig& a, const MakeAuth& make_auth)
{
    auto dh = DhKeyExchange::generate(DhGroup::ecp256, p.rng);
    REQUIRE(dh);
    const std::vector<std::uint8_t> ni(32, 0x11);
    Message init;
    init.header.spi_i = 0x1122334455667788;
    init.header.exchange_type = ExchangeType::ike_sa_init;
    init.header.initiator = true;
    init.payloads = {ike_proposals(a.ike), KePayload{DhGroup::ecp256, dh->public_value()}, NoncePayload{ni}};
    const auto init_request = serialize(init);
    p.deliver({p.a_ike, p.b_ike, init_request});
    const Datagram init_answer = take_front(p);
    const auto answer = parse(init_answer.bytes);
    REQUIRE(answer);
    REQUIRE(answer->find<KePayload>() != nullptr);
    REQUIRE(answer->find<NoncePayload>() != nullptr);
    const auto& nr = answer->find<NoncePayload>()->data;
    const auto g_ir = dh->shared_secret(answer->find<KePayload>()->data);
    REQUIRE(g_ir);
    HandMadeEnd initiator;
    initiator.key(p, *g_ir, ni, nr, init.header.spi_i, answer->header.spi_r, SkSide::original_initiator);

    IdiPayload idi = to_payload<IdiPayload>(*a.my_id);
    idi.reserved = {0x01, 0x02, 0x03};
    std::vector<Payload> inner{idi};
    const auto auth = make_auth(initiator, signed_octets(initiator.prf, init_request, nr, initiator.keys.sk_pi,
                                                         id_body(idi)));
    inner.insert(inner.end(), auth.begin(), auth.end());
    append_child_offer(inner, a.children.front(), 0x4242, false, p.a_ike.address, p.b_ike.address);
    Header header = answer->header;
    header.exchange_type = ExchangeType::ike_auth;
    header.response = false;
    header.initiator = true;
    header.message_id = 1;
    p.deliver({p.a_ike, p.b_ike, initiator.seal(header, inner)});

    CHECK(p.b->counters().authentication_failed == 0);
    CHECK(p.b->failures().empty());
    REQUIRE(p.b->status(p.now).size() == 1);
    CHECK(p.b->status(p.now).front().state == IkeState::established);
    const auto reply = initiator.open(take_front(p).bytes);
    CHECK(find<AuthPayload>(reply) != nullptr);
    CHECK(p.b_host.installed.size() == 1);
}

PeerConfig signing_peer(const char* name, const char* address, const char* local, const test_pki::Issued& ours,
                        const char* my_id, const char* remote_id)
{
    PeerConfig p = peer(name, address, local, my_id, remote_id, "");
    p.psk.clear();
    p.auth = PeerAuth::digital_signature;
    p.credentials = std::make_shared<const LocalCredentials>(
        LocalCredentials{ours.cert, Botan::PKCS8::load_key(*std::make_unique<Botan::DataSource_Memory>(
                                        Botan::PKCS8::BER_encode(*ours.key))),
                         {}});
    const auto& lab = test_pki::lab();
    p.trust = std::make_shared<const TrustAnchor>(std::vector{lab.root.cert}, lab.crl);
    return p;
}

} // namespace

TEST_CASE("IDi with non-zero RESERVED bytes: the responder checks a PSK AUTH over the ID payload body as received")
{
    Pair p(a_to_b(), b_to_a());   // A is never ticked: the test initiates in its place
    const PeerConfig a = a_to_b();
    initiate_with_reserved_idi(p, a, [&](HandMadeEnd& end, std::span<const std::uint8_t> octets) {
        const auto mac = psk_auth(end.prf, a.psk, octets);
        return std::vector<Payload>{AuthPayload{AuthMethod::shared_key_mic, {mac.begin(), mac.end()}}};
    });
}

TEST_CASE("IDi with non-zero RESERVED bytes: the responder checks a signature AUTH over the ID payload body as received")
{
    const auto& lab = test_pki::lab();
    const PeerConfig a =
        signing_peer("b", "192.0.2.2", "192.0.2.1", lab.ecdsa_leaf, "fqdn:site-a.lab", "fqdn:site-b.lab");
    Pair p(a_to_b(), signing_peer("a", "192.0.2.1", "192.0.2.2", lab.rsa_leaf, "fqdn:site-b.lab", "fqdn:site-a.lab"));
    initiate_with_reserved_idi(p, a, [&](HandMadeEnd&, std::span<const std::uint8_t> octets) {
        std::vector<Payload> payloads;
        for (auto& cert : cert_payloads(*a.credentials))
            payloads.push_back(std::move(cert));
        auto auth = make_signature_auth(*a.credentials->key, std::nullopt, octets, p.rng);
        REQUIRE(auth);
        payloads.push_back(std::move(*auth));
        return payloads;
    });
}

TEST_CASE("IDr with non-zero RESERVED bytes: the initiator checks AUTH over the ID payload body as received")
{
    Pair p(a_to_b(), b_to_a());   // B is never used: the test answers in its place
    const PeerConfig b = b_to_a();
    p.tick(1000ms);
    const Datagram init_request = take_front(p);
    const auto request = parse(init_request.bytes);
    REQUIRE(request);
    REQUIRE(request->find<SaPayload>() != nullptr);
    REQUIRE(request->find<KePayload>() != nullptr);
    REQUIRE(request->find<NoncePayload>() != nullptr);
    const auto& ni = request->find<NoncePayload>()->data;
    auto chosen = choose_ike(*request->find<SaPayload>(), b.ike, DhGroup::ecp256);
    REQUIRE(chosen);
    auto dh = DhKeyExchange::generate(DhGroup::ecp256, p.rng);
    REQUIRE(dh);
    const std::vector<std::uint8_t> nr(32, 0x22);
    Message answer;
    answer.header = request->header;
    answer.header.spi_r = 0x8877665544332211;
    answer.header.response = true;
    answer.header.initiator = false;
    answer.payloads = {chosen->reply, KePayload{DhGroup::ecp256, dh->public_value()}, NoncePayload{nr}};
    const auto init_answer = serialize(answer);
    p.deliver({init_request.to, init_request.from, init_answer});
    const auto g_ir = dh->shared_secret(request->find<KePayload>()->data);
    REQUIRE(g_ir);
    HandMadeEnd responder;
    responder.key(p, *g_ir, ni, nr, answer.header.spi_i, answer.header.spi_r, SkSide::original_responder);

    const Datagram auth_request = take_front(p);
    const auto inner = responder.open(auth_request.bytes);
    IdrPayload idr = to_payload<IdrPayload>(*b.my_id);
    idr.reserved = {0xff, 0x00, 0x7f};
    std::vector<Payload> reply{idr, psk_auth_payload(responder, b, init_answer, ni, responder.keys.sk_pr, id_body(idr))};
    auto child = choose_child_sa(inner, b.children.front(), false, 0x4343, DhGroup::none, p.b_ike.address,
                                 p.a_ike.address);
    REQUIRE(child);
    append_child_answer(reply, b.children.front(), std::move(*child));
    Header header = parse(auth_request.bytes)->header;
    header.response = true;
    header.initiator = false;
    p.deliver({auth_request.to, auth_request.from, responder.seal(header, reply)});

    CHECK(p.a->counters().authentication_failed == 0);
    CHECK(p.a->failures().empty());
    REQUIRE(p.a->status(p.now).size() == 1);
    CHECK(p.a->status(p.now).front().state == IkeState::established);
    CHECK(p.a_host.installed.size() == 1);
}

namespace {

// A message of `keys`' IKE SA sealed as `side` sends it: an end that puts
// what it likes inside SK.
std::vector<std::uint8_t> seal_as(Pair& p, const IkeSaKeysExport& keys, SkSide side, Header header,
                                  const std::vector<Payload>& inner)
{
    auto sk = SkCipher::create(keys.suite, *keys.keys, side, p.rng);
    REQUIRE(sk);
    Message message;
    message.header = header;
    const auto plaintext = serialize_payload_chain(inner);
    message.payloads.push_back(SkPayload{inner.empty() ? PayloadType::none : payload_type(inner.front()), {}});
    auto datagram = associated_data(message, sk->sealed_size(plaintext.size()));
    const auto body = sk->seal(datagram, plaintext);
    REQUIRE(body);
    datagram.insert(datagram.end(), body->begin(), body->end());
    return datagram;
}

const UnknownPayload unknown_critical{static_cast<PayloadType>(200), true, {1, 2, 3, 4}};

} // namespace

TEST_CASE("IKE_SA_INIT sent twice (section 2.1): the copy is answered from the cache, one IKE SA")
{
    Pair p(a_to_b(), b_to_a());
    p.tick(1000ms);
    const Datagram init = take_front(p);
    p.deliver(init);
    const Datagram first = take_front(p);
    p.deliver(init);                            // the retransmission
    const Datagram second = take_front(p);
    CHECK(second.bytes == first.bytes);
    CHECK(p.b->status(p.now).size() == 1);

    Datagram elsewhere = init;                  // the same SPIi from another port is another initiator
    elsewhere.from.port = 4500;
    p.deliver(elsewhere);
    CHECK(p.b->status(p.now).size() == 2);
    p.wire.clear();

    p.deliver(first);
    p.deliver_all();
    p.tick(31s);                                // the other one's half-open SA times out
    REQUIRE(p.b->status(p.now).size() == 1);
    CHECK(p.b->status(p.now).front().state == IkeState::established);
    CHECK(p.b_host.installed.size() == 1);
}

TEST_CASE("an unknown critical payload inside SK of IKE_AUTH: the responder answers UNSUPPORTED_CRITICAL_PAYLOAD, "
          "logs it and drops the half-open IKE SA (section 2.5)")
{
    Pair p(a_to_b(), b_to_a());   // A is never ticked: the test initiates in its place
    auto dh = DhKeyExchange::generate(DhGroup::ecp256, p.rng);
    REQUIRE(dh);
    const std::vector<std::uint8_t> ni(32, 0x11);
    Message init;
    init.header.spi_i = 0x1122334455667788;
    init.header.exchange_type = ExchangeType::ike_sa_init;
    init.header.initiator = true;
    init.payloads = {ike_proposals(a_to_b().ike), KePayload{DhGroup::ecp256, dh->public_value()}, NoncePayload{ni}};
    p.deliver({p.a_ike, p.b_ike, serialize(init)});
    const auto answer = parse(take_front(p).bytes);
    REQUIRE(answer);
    REQUIRE(answer->find<KePayload>() != nullptr);
    REQUIRE(answer->find<NoncePayload>() != nullptr);
    const auto g_ir = dh->shared_secret(answer->find<KePayload>()->data);
    REQUIRE(g_ir);
    HandMadeEnd initiator;
    initiator.key(p, *g_ir, ni, answer->find<NoncePayload>()->data, init.header.spi_i, answer->header.spi_r,
                  SkSide::original_initiator);
    REQUIRE(p.b->status(p.now).size() == 1);

    Header header = answer->header;
    header.exchange_type = ExchangeType::ike_auth;
    header.response = false;
    header.initiator = true;
    header.message_id = 1;
    const Endpoint a_nat_t{p.a_ike.address, 4500}, b_nat_t{p.b_ike.address, 4500};
    p.deliver({a_nat_t, b_nat_t, initiator.seal(header, {unknown_critical})});

    const Datagram reply = take_front(p);
    CHECK(reply.to == a_nat_t);                 // where IKE_AUTH came from (section 2.11)
    CHECK(parse(reply.bytes)->header.response);
    const auto inner = initiator.open(reply.bytes);
    const auto* refusal = find_notify(inner, NotifyType::unsupported_critical_payload);
    REQUIRE(refusal != nullptr);
    CHECK(refusal->data == std::vector<std::uint8_t>{200});

    CHECK(p.b->status(p.now).empty());
    REQUIRE(p.b->failures().size() == 1);
    CHECK(p.b->failures().begin()->second.text.find(
              "IKE_AUTH from 192.0.2.1:4500 refused: unsupported critical payload (type 200)") != std::string::npos);
}

TEST_CASE("an unknown critical payload inside SK of the IKE_AUTH response: the initiator logs it, deletes the IKE "
          "SA and starts over (section 2.5)")
{
    Pair p(a_to_b(), b_to_a());
    p.tick(1000ms);
    p.deliver(take_front(p));                   // A's IKE_SA_INIT at B
    p.deliver(take_front(p));                   // B's answer at A
    p.deliver(take_front(p));                   // A's IKE_AUTH at B: B is up
    const Datagram b_answer = take_front(p);    // replaced
    const auto keys = p.b->keys();
    REQUIRE(keys.size() == 1);
    const auto header = parse(b_answer.bytes)->header;
    p.deliver({b_answer.from, b_answer.to,
               seal_as(p, keys.front(), SkSide::original_responder, header, {unknown_critical})});

    CHECK(p.a->status(p.now).empty());
    REQUIRE(p.a->failures().size() == 1);
    CHECK(p.a->failures().begin()->second.text.find(
              "IKE_AUTH response from 192.0.2.2:4500 refused: unsupported critical payload (type 200)") !=
          std::string::npos);
    p.deliver(take_front(p));                   // A's Delete: B's IKE SA goes too
    CHECK(p.b->status(p.now).empty());
    CHECK(p.a_host.installed.empty());

    p.deliver_all();
    p.tick(3s);                                 // the retry brings the tunnel up
    p.deliver_all();
    CHECK(p.a->status(p.now).size() == 1);
    CHECK(p.a_host.installed.size() == 1);
}
