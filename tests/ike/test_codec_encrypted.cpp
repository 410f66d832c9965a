// Encrypted messages as the codec sees them (RFC 7296 section 3.14, RFC 7383
// section 2.5): the inner payload chain built and parsed on its own, and the
// associated data that authenticates the header with the SK or SKF payload.
//
//   send:     inner = serialize_payload_chain(payloads)
//             aad   = associated_data(message, iv + padded(inner) + icv)
//             body  = IV || AEAD-seal(aad, inner) || ICV      (elsewhere)
//             datagram = serialize(message with SK{first, body}) == aad || body
//   receive:  message = parse(datagram); aad = associated_data(datagram, sk.body.size())
//             inner = AEAD-open(aad, sk.body)                   (elsewhere)
//             payloads = parse_payload_chain(sk.first_payload, inner)

#include "ike/message.hpp"

#include "codec_helpers.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

using namespace mesh::ike;
using ike_test::Bytes;
using ike_test::hex;
using mesh::net::IpAddress;

namespace {

// What an initiator encrypts in its IKE_AUTH request (RFC 7296 section 1.2):
// IDi, AUTH, SAi2, TSi, TSr, with N(USE_TRANSPORT_MODE) as mode gre wants.
std::vector<Payload> ike_auth_inner()
{
    SaPayload sa;
    sa.proposals.push_back(Proposal{1, ProtocolId::esp, {0, 0, 0x10, 0x01},
                                    {Transform::with_key_length(TransformType::encr, 20, 128),
                                     Transform{TransformType::esn, 1, {}}}});
    const TrafficSelector host{TsType::ipv4_addr_range, 47, 0, 65535, *IpAddress::parse("203.0.1.1"),
                               *IpAddress::parse("203.0.1.1")};
    TrafficSelector peer = host;
    peer.start_address = peer.end_address = *IpAddress::parse("203.0.2.1");
    return {IdiPayload{IdType::fqdn, {'a'}},
            AuthPayload{AuthMethod::shared_key_mic, Bytes(32, 0xa5)},
            NotifyPayload{ProtocolId::none, NotifyType::use_transport_mode, {}, {}},
            sa,
            TsiPayload{{host}},
            TsrPayload{{peer}}};
}

Message ike_auth_request(Bytes body)
{
    Message m;
    m.header.spi_i = 1;
    m.header.spi_r = 2;
    m.header.exchange_type = ExchangeType::ike_auth;
    m.header.initiator = true;
    m.header.message_id = 1;
    m.payloads = {SkPayload{PayloadType::id_i, std::move(body)}};
    return m;
}

} // namespace

TEST_CASE("encrypted: an inner payload chain round-trips through serialize_payload_chain")
{
    const auto inner = ike_auth_inner();
    const Bytes plaintext = serialize_payload_chain(inner);
    REQUIRE_FALSE(plaintext.empty());
    CHECK(plaintext[0] == static_cast<std::uint8_t>(PayloadType::auth));   // IDi's Next Payload
    const auto parsed = parse_payload_chain(payload_type(inner.front()), plaintext);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == inner);
    CHECK(find<TsrPayload>(*parsed) != nullptr);
    CHECK(find_notify(*parsed, NotifyType::use_transport_mode) != nullptr);
}

TEST_CASE("encrypted: an empty inner chain (a liveness check) is Next Payload none and no bytes")
{
    CHECK(serialize_payload_chain({}).empty());
    const auto parsed = parse_payload_chain(PayloadType::none, {});
    REQUIRE(parsed.has_value());
    CHECK(parsed->empty());
}

TEST_CASE("encrypted: an inner chain refuses SK and SKF inside it")
{
    const Bytes nested = ike_test::payload(PayloadType::none, hex("aabbcc"));
    const auto sk = parse_payload_chain(PayloadType::sk, nested);
    REQUIRE_FALSE(sk.has_value());
    CHECK(sk.error().code == ParseErrc::invalid_syntax);
    const auto skf = parse_payload_chain(PayloadType::skf, ike_test::payload(PayloadType::none, hex("00010001aa")));
    REQUIRE_FALSE(skf.has_value());
    CHECK(skf.error().code == ParseErrc::invalid_syntax);
    const std::vector<Payload> with_sk{SkPayload{}};
    CHECK(serialize_payload_chain(with_sk).empty());
}

TEST_CASE("encrypted: an inner chain that ends early or runs on is refused")
{
    const Bytes plaintext = serialize_payload_chain(ike_auth_inner());
    const Bytes cut(plaintext.begin(), plaintext.end() - 1);
    CHECK_FALSE(parse_payload_chain(PayloadType::id_i, cut).has_value());
    Bytes longer = plaintext;
    longer.push_back(0);
    CHECK(parse_payload_chain(PayloadType::id_i, longer).error().code == ParseErrc::bad_length);
}

TEST_CASE("encrypted: associated data || body is the serialized message, for any body it is computed for")
{
    const std::size_t body_length = 8 + 200 + 16;   // IV, padded ciphertext, ICV
    const Message placeholder = ike_auth_request({});
    const Bytes aad = associated_data(placeholder, body_length);
    REQUIRE(aad.size() == 28 + 4);
    Bytes body(body_length);
    std::generate(body.begin(), body.end(), [n = 0]() mutable { return static_cast<std::uint8_t>(n++); });
    const Bytes datagram = serialize(ike_auth_request(body));
    CHECK_BYTES(ike_test::concat({aad, body}), datagram);
    // The Length fields in it already count the body.
    CHECK(aad[24] == 0);
    CHECK(((aad[26] << 8) | aad[27]) == 28 + 4 + body_length);
    CHECK(((aad[30] << 8) | aad[31]) == 4 + body_length);
    CHECK(aad[28] == static_cast<std::uint8_t>(PayloadType::id_i));
}

TEST_CASE("encrypted: on receipt the associated data is the datagram without the SK body")
{
    const Bytes body(40, 0x77);
    const Bytes datagram = serialize(ike_auth_request(body));
    const auto m = parse(datagram);
    REQUIRE(m.has_value());
    const auto aad = associated_data(datagram, m->find<SkPayload>()->body.size());
    CHECK(aad.size() == datagram.size() - body.size());
    CHECK_BYTES(Bytes(aad.begin(), aad.end()), associated_data(*m, body.size()));
    CHECK(associated_data(datagram, datagram.size() + 1).empty());
}

TEST_CASE("encrypted: the SKF associated data includes Fragment Number and Total Fragments")
{
    Message m = ike_auth_request({});
    m.payloads = {SkfPayload{PayloadType::none, 2, 3, {}}};
    const Bytes aad = associated_data(m, 50);
    REQUIRE(aad.size() == 28 + 8);
    CHECK_BYTES(Bytes(aad.begin() + 28, aad.end()), hex("0000003a 0002 0003"));
    m.payloads = {SkfPayload{PayloadType::none, 2, 3, Bytes(50, 1)}};
    CHECK_BYTES(ike_test::concat({aad, Bytes(50, 1)}), serialize(m));
}

TEST_CASE("encrypted: payloads in front of SK are part of the associated data")
{
    Message m = ike_auth_request({});
    m.payloads.insert(m.payloads.begin(), VendorIdPayload{{1, 2, 3}});
    const Bytes aad = associated_data(m, 20);
    CHECK(aad.size() == 28 + 7 + 4);
    m.find<SkPayload>()->body = Bytes(20, 9);
    CHECK_BYTES(ike_test::concat({aad, Bytes(20, 9)}), serialize(m));
}

TEST_CASE("encrypted: no associated data without a final SK or SKF, or for a body too long")
{
    Message m = ike_auth_request({});
    m.payloads = {NoncePayload{Bytes(16, 1)}};
    CHECK(associated_data(m, 10).empty());
    m.payloads.clear();
    CHECK(associated_data(m, 10).empty());
    CHECK(associated_data(ike_auth_request({}), 65532).empty());
    CHECK(associated_data(ike_auth_request({}), 65531).size() == 32);
}
