// Real IKEv2 messages, captured on the wire: the IKE_SA_INIT exchange and an
// encrypted INFORMATIONAL request of Wireshark's test capture
// test/captures/ikev2-decrypt-aes128ccm12.pcap (UDP payloads, port 500).
// Each field is checked against RFC 7296 section 3, and the parsed message
// serializes back to the very same bytes.

#include "ike/message.hpp"

#include "codec_helpers.hpp"

#include <doctest/doctest.h>

using namespace mesh::ike;
using ike_test::Bytes;
using ike_test::hex;

namespace {

// HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
// N(SIGNATURE_HASH_ALGORITHMS)
const Bytes ike_sa_init_request = hex(
    "ea684d21597afd360000000000000000"
    "2120220800000000000000f822000028"
    "00000024010100030300000c0100000f"
    "800e0080030000080200000500000008"
    "04000013280000480013000032c6dffe"
    "5c43b0d5811f7eaaa84c9f78bf99b906"
    "9c2b072e0b82f46bf6f66dd45f97ef89"
    "ee285fd5df527a44776b529fc9d8a909"
    "d842a6fb59b96a095395617229000024"
    "b655462d6f4b66f872ccd7f0f4b48577"
    "32921339cbaa5237edba244f262b6823"
    "2900001c00004004949c9db5739d75a9"
    "74a49c184618369b34b7f9422900001c"
    "000040053e721b46be07d53111425d7f"
    "80d2c6e220c6072e000000100000402f"
    "0001000200030004");

// HDR, SAr1, KEr, Nr, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
// N(MULTIPLE_AUTH_SUPPORTED)
const Bytes ike_sa_init_response = hex(
    "ea684d21597afd36d9fe2ab22dac23ac"
    "2120222000000000000000f022000028"
    "00000024010100030300000c0100000f"
    "800e0080030000080200000500000008"
    "0400001328000048001300002c66bead"
    "b6ce8535d6218cb401aa5a1eb4035b97"
    "caddaf36374a979c0446b8800506bf9d"
    "6f950952326bf3011913da93bb8e40f8"
    "15376be1a06801c0a63e3b5429000024"
    "9e5d267379e681e7d38d81c710d38340"
    "1de7e3607b926d90a9958adcb52831aa"
    "2900001c000040047a0785273d592038"
    "29a697550f31cbb94eb72b432900001c"
    "00004005c3e58a8cc9933ce0b78f2a50"
    "e8de80134e12ce310000000800004014");

// HDR, SK {D}: an INFORMATIONAL request, AES-CCM with a 12-byte ICV.
const Bytes informational_request = hex(
    "ea684d21597afd36d9fe2ab22dac23ac"
    "2e202508000000020000003d2a000021"
    "cca0b35de5abc51c9987cbf1f5ecff21"
    "0eb767cdb85179383b964d78e2");

} // namespace

TEST_CASE("capture: the IKE_SA_INIT request's header")
{
    const auto m = parse(ike_sa_init_request);
    REQUIRE(m.has_value());
    CHECK(m->header.spi_i == 0xea684d21597afd36ull);
    CHECK(m->header.spi_r == 0);
    CHECK(m->header.major_version == 2);
    CHECK(m->header.minor_version == 0);
    CHECK(m->header.exchange_type == ExchangeType::ike_sa_init);
    CHECK(m->header.initiator);
    CHECK_FALSE(m->header.response);
    CHECK_FALSE(m->header.version);
    CHECK(m->header.message_id == 0);
    REQUIRE(m->payloads.size() == 6);
    CHECK(payload_type(m->payloads[0]) == PayloadType::sa);
    CHECK(payload_type(m->payloads[1]) == PayloadType::ke);
    CHECK(payload_type(m->payloads[2]) == PayloadType::nonce);
    CHECK(payload_type(m->payloads[3]) == PayloadType::notify);
    CHECK(payload_type(m->payloads[4]) == PayloadType::notify);
    CHECK(payload_type(m->payloads[5]) == PayloadType::notify);
}

TEST_CASE("capture: the IKE_SA_INIT request's SA offers AES-CCM-12/128, PRF SHA-256, ECP-256")
{
    const auto m = parse(ike_sa_init_request);
    REQUIRE(m.has_value());
    const SaPayload* sa = m->find<SaPayload>();
    REQUIRE(sa != nullptr);
    REQUIRE(sa->proposals.size() == 1);
    const Proposal& p = sa->proposals[0];
    CHECK(p.number == 1);
    CHECK(p.protocol_id == ProtocolId::ike);
    CHECK(p.spi.empty());
    REQUIRE(p.transforms.size() == 3);
    CHECK(p.transforms[0].type == TransformType::encr);
    CHECK(p.transforms[0].id == 15);   // ENCR_AES_CCM_12
    CHECK(p.transforms[0].key_length() == 128);
    CHECK(p.transforms[1].type == TransformType::prf);
    CHECK(p.transforms[1].id == static_cast<std::uint16_t>(PrfId::hmac_sha2_256));
    CHECK(p.transforms[2].type == TransformType::dh);
    CHECK(p.transforms[2].id == static_cast<std::uint16_t>(DhGroup::ecp256));
}

TEST_CASE("capture: the IKE_SA_INIT request's KE, nonce and notifications")
{
    const auto m = parse(ike_sa_init_request);
    REQUIRE(m.has_value());
    const KePayload* ke = m->find<KePayload>();
    REQUIRE(ke != nullptr);
    CHECK(ke->dh_group == DhGroup::ecp256);
    CHECK(ke->data.size() == 64);   // x || y of P-256 (RFC 5903 section 7)
    CHECK(ke->data.front() == 0x32);
    CHECK(ke->data.back() == 0x72);
    const NoncePayload* nonce = m->find<NoncePayload>();
    REQUIRE(nonce != nullptr);
    CHECK(nonce->data.size() == 32);
    const NotifyPayload* source = m->find_notify(NotifyType::nat_detection_source_ip);
    REQUIRE(source != nullptr);
    CHECK(source->protocol_id == ProtocolId::none);
    CHECK(source->spi.empty());
    CHECK(source->data.size() == 20);   // SHA-1(SPIs | IP | port)
    REQUIRE(m->find_notify(NotifyType::nat_detection_destination_ip) != nullptr);
    const NotifyPayload* hashes = m->find_notify(NotifyType::signature_hash_algorithms);
    REQUIRE(hashes != nullptr);
    CHECK_BYTES(hashes->data, hex("0001 0002 0003 0004"));   // SHA1, SHA2-256, -384, -512 (RFC 7427)
}

TEST_CASE("capture: the IKE_SA_INIT request serializes back to the captured bytes")
{
    const auto m = parse(ike_sa_init_request);
    REQUIRE(m.has_value());
    CHECK_BYTES(serialize(*m), ike_sa_init_request);
}

TEST_CASE("capture: the IKE_SA_INIT response carries SPIr, the R flag and the chosen proposal")
{
    const auto m = parse(ike_sa_init_response);
    REQUIRE(m.has_value());
    CHECK(m->header.spi_i == 0xea684d21597afd36ull);
    CHECK(m->header.spi_r == 0xd9fe2ab22dac23acull);
    CHECK(m->header.response);
    CHECK_FALSE(m->header.initiator);
    CHECK(m->header.message_id == 0);
    const SaPayload* sa = m->find<SaPayload>();
    REQUIRE(sa != nullptr);
    REQUIRE(sa->proposals.size() == 1);
    CHECK(sa->proposals[0].transforms.size() == 3);
    const NotifyPayload* multi = m->find_notify(NotifyType::multiple_auth_supported);
    REQUIRE(multi != nullptr);
    CHECK(multi->data.empty());
    CHECK_BYTES(serialize(*m), ike_sa_init_response);
}

TEST_CASE("capture: the encrypted INFORMATIONAL request keeps its SK body and inner type")
{
    const auto m = parse(informational_request);
    REQUIRE(m.has_value());
    CHECK(m->header.exchange_type == ExchangeType::informational);
    CHECK(m->header.message_id == 2);
    REQUIRE(m->payloads.size() == 1);
    const SkPayload* sk = m->find<SkPayload>();
    REQUIRE(sk != nullptr);
    CHECK(sk->first_payload == PayloadType::delete_);
    CHECK(sk->body.size() == 29);   // 8-byte IV, 9 bytes of ciphertext, 12-byte ICV
    CHECK_BYTES(serialize(*m), informational_request);
}

TEST_CASE("capture: the associated data of the SK payload is the header and SK's generic header")
{
    const auto m = parse(informational_request);
    REQUIRE(m.has_value());
    const std::size_t body = m->find<SkPayload>()->body.size();
    const Bytes expected(informational_request.begin(), informational_request.begin() + 32);
    CHECK_BYTES(Bytes(associated_data(informational_request, body).begin(),
                      associated_data(informational_request, body).end()),
                expected);
    CHECK_BYTES(associated_data(*m, body), expected);
}

TEST_CASE("capture: every prefix of the captured messages is refused")
{
    for (const Bytes* whole : {&ike_sa_init_request, &ike_sa_init_response, &informational_request}) {
        for (std::size_t n = 0; n < whole->size(); ++n) {
            CAPTURE(n);
            const Bytes prefix(whole->begin(), whole->begin() + static_cast<std::ptrdiff_t>(n));
            CHECK_FALSE(parse(prefix).has_value());
        }
    }
}
