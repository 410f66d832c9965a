// Every payload type through serialize() and parse(): the bytes it gives are
// checked field by field against the RFC 7296 diagrams, and parsing them
// gives back the same value.

#include "ike/message.hpp"

#include "codec_helpers.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using namespace mesh::ike;
using ike_test::Bytes;
using ike_test::hex;
using mesh::net::IpAddress;

namespace {

Message with(std::vector<Payload> payloads)
{
    Message m;
    m.header.spi_i = 0x0102030405060708;
    m.header.spi_r = 0x1112131415161718;
    m.header.exchange_type = ExchangeType::ike_auth;
    m.header.initiator = true;
    m.header.message_id = 1;
    m.payloads = std::move(payloads);
    return m;
}

// Serializes, parses back, checks equality and a stable encoding; returns the
// bytes after the IKE header.
Bytes round_trip(const Message& m)
{
    const Bytes bytes = serialize(m);
    REQUIRE(bytes.size() >= 28);
    const auto parsed = parse(bytes);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == m);
    CHECK(serialize(*parsed) == bytes);
    return {bytes.begin() + 28, bytes.end()};
}

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

} // namespace

TEST_CASE("header: SPIs, version 2.0, exchange, flags, message ID and length")
{
    Message m = with({});
    m.header.response = true;
    m.header.version = true;
    m.header.initiator = false;
    m.header.message_id = 0x0a0b0c0d;
    m.header.exchange_type = ExchangeType::informational;
    const Bytes bytes = serialize(m);
    CHECK_BYTES(bytes, hex("0102030405060708 1112131415161718"
                       "00"          // Next Payload: none
                       "20"          // MjVer 2, MnVer 0
                       "25"          // INFORMATIONAL
                       "30"          // R and V
                       "0a0b0c0d"    // Message ID
                       "0000001c")); // Length 28
    const auto parsed = parse(bytes);
    REQUIRE(parsed);
    CHECK(*parsed == m);
}

TEST_CASE("header: the initiator flag is bit 3")
{
    const Bytes bytes = serialize(with({}));
    CHECK(bytes[19] == 0x08);
}

TEST_CASE("SA payload: proposals, transforms, SPI and a TV Key Length attribute")
{
    SaPayload sa;
    sa.proposals.push_back(Proposal{1, ProtocolId::esp, {0xc0, 0xff, 0xee, 0x01},
                                    {Transform::with_key_length(TransformType::encr, 20, 256),
                                     Transform{TransformType::esn, 0, {}}}});
    sa.proposals.push_back(Proposal{2, ProtocolId::esp, {0xc0, 0xff, 0xee, 0x02},
                                    {Transform{TransformType::encr, 28, {}}, Transform{TransformType::esn, 1, {}}}});
    const Bytes body = round_trip(with({sa}));
    CHECK_BYTES(body, hex("00000040"                  // generic header: last, length 64
                      "02000020 01 03 04 02 c0ffee01"   // more proposals, length 32: #1 ESP, SPI size 4, 2 transforms
                      "0300000c 01 00 0014 800e0100"    // ENCR 20 (AES-GCM-16), Key Length (TV) 256
                      "00000008 05 00 0000"             // last transform: ESN 0
                      "0000001c 02 03 04 02 c0ffee02"   // last proposal, length 28: #2
                      "03000008 01 00 001c"             // ENCR 28 (ChaCha20-Poly1305)
                      "00000008 05 00 0001"));          // ESN 1
}

TEST_CASE("SA payload: key_length() reads the TV attribute")
{
    CHECK(Transform::with_key_length(TransformType::encr, 12, 128).key_length() == 128);
    CHECK_FALSE(Transform{TransformType::prf, 5, {}}.key_length().has_value());
}

TEST_CASE("SA payload: an IKE rekey proposal with an 8-byte SPI and a TLV attribute")
{
    SaPayload sa;
    Transform odd{TransformType::prf, 5, {TransformAttribute{0x1234, false, 0, {1, 2, 3}}}};
    sa.proposals.push_back(Proposal{1, ProtocolId::ike, Bytes(8, 0x55), {odd}});
    const Bytes body = round_trip(with({sa}));
    CHECK_BYTES(body, hex("00000023"
                      "0000001f 01 01 08 01 5555555555555555"
                      "0000000f 02 00 0005 1234 0003 010203"));
}

TEST_CASE("KE payload: group and key exchange data")
{
    const Bytes body = round_trip(with({KePayload{DhGroup::curve25519, Bytes(32, 0x25)}}));
    CHECK_BYTES(body, ike_test::concat({hex("00000028 001f 0000"), Bytes(32, 0x25)}));
}

TEST_CASE("IDi and IDr payloads: ID type and data")
{
    const Bytes fqdn{'s', 'i', 't', 'e', '-', 'a'};
    const Bytes body = round_trip(with({IdiPayload{IdType::fqdn, fqdn}, IdrPayload{IdType::ipv4_addr, {203, 0, 2, 1}}}));
    CHECK_BYTES(body, hex("2400000e 02 000000 736974652d61"    // IDi, next IDr
                      "0000000c 01 000000 cb000201"));     // IDr IPV4_ADDR
}

TEST_CASE("IDi payload: every ID type round-trips")
{
    for (IdType type : {IdType::ipv4_addr, IdType::fqdn, IdType::rfc822_addr, IdType::ipv6_addr, IdType::der_asn1_dn,
                        IdType::key_id}) {
        CAPTURE(static_cast<int>(type));
        const Bytes data(type == IdType::ipv4_addr ? 4 : 16, 0x61);
        round_trip(with({IdiPayload{type, data}}));
    }
}

TEST_CASE("CERT and CERTREQ payloads: encoding and data")
{
    const Bytes body = round_trip(with({CertPayload{CertEncoding::x509_signature, {0x30, 0x82, 0x01}},
                                        CertreqPayload{CertEncoding::x509_signature, Bytes(20, 0xca)}}));
    CHECK_BYTES(body, ike_test::concat({hex("26000008 04 308201"), hex("00000019 04"), Bytes(20, 0xca)}));
}

TEST_CASE("AUTH payload: every method round-trips")
{
    for (AuthMethod method : {AuthMethod::rsa_signature, AuthMethod::shared_key_mic, AuthMethod::dss_signature,
                              AuthMethod::ecdsa_sha256_p256, AuthMethod::ecdsa_sha384_p384,
                              AuthMethod::ecdsa_sha512_p521, AuthMethod::digital_signature}) {
        CAPTURE(static_cast<int>(method));
        const Bytes body = round_trip(with({AuthPayload{method, {0xde, 0xad}}}));
        CHECK_BYTES(body, (Bytes{0, 0, 0, 10, static_cast<std::uint8_t>(method), 0, 0, 0, 0xde, 0xad}));
    }
}

TEST_CASE("Nonce payload: 16 and 256 bytes are the limits")
{
    CHECK(round_trip(with({NoncePayload{Bytes(16, 7)}})).size() == 20);
    CHECK(round_trip(with({NoncePayload{Bytes(256, 7)}})).size() == 260);
}

TEST_CASE("Notify payload: NAT detection, COOKIE and a REKEY_SA with a Child SA SPI")
{
    const Bytes body = round_trip(with({
        NotifyPayload{ProtocolId::none, NotifyType::nat_detection_source_ip, {}, Bytes(20, 0x11)},
        NotifyPayload{ProtocolId::none, NotifyType::cookie, {}, {1, 2, 3, 4}},
        NotifyPayload{ProtocolId::esp, NotifyType::rekey_sa, {0, 0, 0x10, 0x01}, {}},
    }));
    CHECK_BYTES(body, ike_test::concat({hex("2900001c 00 00 4004"), Bytes(20, 0x11),
                                    hex("2900000c 00 00 4006 01020304"),
                                    hex("0000000c 03 04 4009 00001001")}));
}

TEST_CASE("Notify payload: every RFC 7296 type and the extensions keep their numbers")
{
    const std::vector<std::pair<NotifyType, int>> numbers{
        {NotifyType::unsupported_critical_payload, 1}, {NotifyType::invalid_major_version, 5},
        {NotifyType::invalid_syntax, 7},               {NotifyType::invalid_spi, 11},
        {NotifyType::no_proposal_chosen, 14},          {NotifyType::invalid_ke_payload, 17},
        {NotifyType::authentication_failed, 24},       {NotifyType::ts_unacceptable, 38},
        {NotifyType::temporary_failure, 43},           {NotifyType::child_sa_not_found, 44},
        {NotifyType::initial_contact, 16384},          {NotifyType::nat_detection_source_ip, 16388},
        {NotifyType::nat_detection_destination_ip, 16389}, {NotifyType::cookie, 16390},
        {NotifyType::use_transport_mode, 16391},       {NotifyType::rekey_sa, 16393},
        {NotifyType::esp_tfc_padding_not_supported, 16394}, {NotifyType::non_first_fragments_also, 16395},
        {NotifyType::ikev2_fragmentation_supported, 16430}, {NotifyType::signature_hash_algorithms, 16431},
    };
    for (const auto& [type, number] : numbers) {
        CAPTURE(number);
        CHECK(static_cast<int>(type) == number);
        CHECK(is_error(type) == (number < 16384));
        const Message m = with({NotifyPayload{ProtocolId::none, type, {}, {}}});
        round_trip(m);
        CHECK(serialize(m)[28 + 6] == (number >> 8));
    }
}

TEST_CASE("Notify payload: an unnamed status type round-trips")
{
    round_trip(with({NotifyPayload{ProtocolId::none, static_cast<NotifyType>(40000), {}, {9}}}));
}

TEST_CASE("Delete payload: ESP SPIs, and IKE with none")
{
    const Bytes body = round_trip(with({DeletePayload{ProtocolId::esp, {0x1001, 0x1002}},
                                        DeletePayload{ProtocolId::ike, {}}}));
    CHECK_BYTES(body, hex("2a000010 03 04 0002 00001001 00001002"
                      "00000008 01 00 0000"));
}

TEST_CASE("Vendor ID payload: opaque bytes")
{
    const Bytes body = round_trip(with({VendorIdPayload{{'m', 'e', 's', 'h'}}}));
    CHECK_BYTES(body, hex("00000008 6d657368"));
}

TEST_CASE("TSi and TSr payloads: IPv4 and IPv6 address ranges with protocol and ports")
{
    TsiPayload tsi{{TrafficSelector{TsType::ipv4_addr_range, 47, 0, 65535, ip("10.1.0.0"), ip("10.1.0.255")}}};
    TsrPayload tsr{{TrafficSelector{TsType::ipv4_addr_range, 0, 0, 65535, ip("10.2.0.0"), ip("10.2.0.255")},
                    TrafficSelector{TsType::ipv6_addr_range, 6, 443, 443, ip("2001:db8::"), ip("2001:db8::ffff")}}};
    const Bytes body = round_trip(with({tsi, tsr}));
    CHECK_BYTES(body, hex("2d000018 01 000000"
                      "07 2f 0010 0000 ffff 0a010000 0a0100ff"
                      "00000040 02 000000"
                      "07 00 0010 0000 ffff 0a020000 0a0200ff"
                      "08 06 0028 01bb 01bb 20010db8000000000000000000000000 20010db800000000000000000000ffff"));
}

TEST_CASE("CP payload: a request with an empty attribute and a reply with a value")
{
    const Bytes body = round_trip(with({CpPayload{CfgType::request, {ConfigAttribute{cfg_attribute::internal_ip4_address, {}}}},
                                        CpPayload{CfgType::reply, {ConfigAttribute{cfg_attribute::internal_ip4_address, {10, 0, 0, 7}},
                                                                   ConfigAttribute{cfg_attribute::internal_ip4_dns, {10, 0, 0, 1}}}}}));
    CHECK_BYTES(body, hex("2f00000c 01 000000 0001 0000"
                      "00000018 02 000000 0001 0004 0a000007 0003 0004 0a000001"));
}

TEST_CASE("SK payload: Next Payload names the first inner payload, the body is kept raw")
{
    const Bytes body = round_trip(with({NotifyPayload{ProtocolId::none, NotifyType::initial_contact, {}, {}},
                                        SkPayload{PayloadType::id_i, {0xa1, 0xa2, 0xa3}}}));
    CHECK_BYTES(body, hex("2e000008 00 00 4000"     // N(INITIAL_CONTACT), next SK
                      "23000007 a1a2a3"));      // SK, next IDi
}

TEST_CASE("SKF payload: fragment number, total fragments and body")
{
    const Bytes body = round_trip(with({SkfPayload{PayloadType::id_i, 1, 3, {0xb1, 0xb2}}}));
    CHECK_BYTES(body, hex("2300000a 0001 0003 b1b2"));
    const Bytes second = round_trip(with({SkfPayload{PayloadType::none, 2, 3, {0xb3}}}));
    CHECK_BYTES(second, hex("00000009 0002 0003 b3"));
}

TEST_CASE("unknown payload: built with its type and critical bit, kept raw")
{
    const Message m = with({UnknownPayload{static_cast<PayloadType>(200), false, {1, 2}},
                            NoncePayload{Bytes(16, 3)}});
    const Bytes body = round_trip(m);
    CHECK_BYTES(body, ike_test::concat({hex("28000006 0102"), hex("00000014"), Bytes(16, 3)}));
}

TEST_CASE("message: find, find_all and find_notify look payloads up by type")
{
    const Message m = with({NoncePayload{Bytes(16, 1)},
                            NotifyPayload{ProtocolId::none, NotifyType::cookie, {}, {7}},
                            NotifyPayload{ProtocolId::none, NotifyType::nat_detection_source_ip, {}, {8}}});
    REQUIRE(m.find<NoncePayload>() != nullptr);
    CHECK(m.find<NoncePayload>()->data.size() == 16);
    CHECK(m.find<KePayload>() == nullptr);
    CHECK(m.find_all<NotifyPayload>().size() == 2);
    REQUIRE(m.find_notify(NotifyType::nat_detection_source_ip) != nullptr);
    CHECK(m.find_notify(NotifyType::nat_detection_source_ip)->data == Bytes{8});
    CHECK(m.find_notify(NotifyType::invalid_syntax) == nullptr);
    CHECK(payload_type(m.payloads[1]) == PayloadType::notify);
}
