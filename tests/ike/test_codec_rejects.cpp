// What parse() refuses, and with which error: every length, count and size
// field broken one at a time in datagrams assembled from the RFC 7296
// diagrams, every prefix of valid messages, and the caps of limits.hpp.

#include "ike/limits.hpp"
#include "ike/message.hpp"

#include "codec_helpers.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using namespace mesh::ike;
using ike_test::Bytes;
using ike_test::concat;
using ike_test::datagram;
using ike_test::hex;
using ike_test::nonce;
using ike_test::payload;

namespace {

ParseErrc error_of(const Bytes& bytes)
{
    const auto m = parse(bytes);
    REQUIRE_FALSE(m.has_value());
    return m.error().code;
}

bool parses(const Bytes& bytes) { return parse(bytes).has_value(); }

// A valid IKE_SA_INIT-like message: SA (one IKE proposal), KE, Ni, N, V.
Message sample_message()
{
    Message m;
    m.header.spi_i = 0x1122334455667788;
    m.header.initiator = true;
    SaPayload sa;
    sa.proposals.push_back(Proposal{1, ProtocolId::ike, {},
                                    {Transform::with_key_length(TransformType::encr, 20, 256),
                                     Transform{TransformType::prf, 5, {}}, Transform{TransformType::dh, 19, {}}}});
    m.payloads = {sa, KePayload{DhGroup::ecp256, Bytes(64, 1)}, NoncePayload{Bytes(32, 2)},
                  NotifyPayload{ProtocolId::none, NotifyType::nat_detection_source_ip, {}, Bytes(20, 3)},
                  VendorIdPayload{{4, 5, 6}},
                  TsiPayload{{TrafficSelector{}}},
                  CpPayload{CfgType::request, {ConfigAttribute{}}},
                  DeletePayload{ProtocolId::esp, {1}},
                  SkPayload{PayloadType::id_i, Bytes(40, 7)}};
    return m;
}

// SA body: one proposal with the given bytes after the Last Substruc word.
Bytes sa_with_proposal(const Bytes& proposal_rest, std::uint8_t last = 0)
{
    Bytes p{last, 0, 0, 0};
    ike_test::put16(p, 2, 4 + proposal_rest.size());
    return payload(PayloadType::none, concat({p, proposal_rest}));
}

const Bytes ike_proposal_one_transform = hex("01 01 00 01  00000008 02 00 0005");

} // namespace

TEST_CASE("rejects: fewer than 28 bytes is truncated")
{
    CHECK(error_of({}) == ParseErrc::truncated);
    CHECK(error_of(Bytes(27, 0)) == ParseErrc::truncated);
    CHECK_FALSE(parse_header(Bytes(27, 0)).has_value());
}

TEST_CASE("rejects: every prefix of a valid message is an error, never a crash")
{
    const Bytes whole = serialize(sample_message());
    REQUIRE(parses(whole));
    for (std::size_t n = 0; n < whole.size(); ++n) {
        CAPTURE(n);
        const Bytes prefix(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
        CHECK_FALSE(parses(prefix));
    }
}

TEST_CASE("rejects: every prefix with its Length field made to agree is still an error")
{
    const Bytes whole = serialize(sample_message());
    for (std::size_t n = 28; n < whole.size(); ++n) {
        CAPTURE(n);
        Bytes prefix(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
        ike_test::put32(prefix, 24, n);
        const auto m = parse(prefix);
        REQUIRE_FALSE(m.has_value());
        CHECK((m.error().code == ParseErrc::truncated || m.error().code == ParseErrc::bad_length));
    }
}

TEST_CASE("rejects: a Length field other than the datagram's size is bad_length")
{
    Bytes bytes = serialize(sample_message());
    ike_test::put32(bytes, 24, bytes.size() + 1);
    CHECK(error_of(bytes) == ParseErrc::bad_length);
    ike_test::put32(bytes, 24, bytes.size() - 1);
    CHECK(error_of(bytes) == ParseErrc::bad_length);
    bytes.push_back(0);   // a byte after the message the Length does not count
    ike_test::put32(bytes, 24, bytes.size() - 1);
    CHECK(error_of(bytes) == ParseErrc::bad_length);
}

TEST_CASE("rejects: major version 1 or 3 is bad_version with the version, the header still readable")
{
    for (std::uint8_t version : {std::uint8_t{0x10}, std::uint8_t{0x30}}) {
        const Bytes bytes = datagram(PayloadType::nonce, payload(PayloadType::none, nonce(16)), version);
        const auto m = parse(bytes);
        REQUIRE_FALSE(m.has_value());
        CHECK(m.error().code == ParseErrc::bad_version);
        CHECK(m.error().value == version >> 4);
        const auto header = parse_header(bytes);
        REQUIRE(header.has_value());
        CHECK(header->spi_i == 0x0102030405060708);
        CHECK(header->major_version == version >> 4);
    }
}

TEST_CASE("rejects: a minor version is ignored")
{
    CHECK(parses(datagram(PayloadType::nonce, payload(PayloadType::none, nonce(16)), 0x21)));
}

TEST_CASE("rejects: a payload length under 4 is bad_length")
{
    for (std::size_t length : {0u, 1u, 3u}) {
        Bytes chain = payload(PayloadType::none, nonce(16));
        ike_test::put16(chain, 2, length);
        CHECK(error_of(datagram(PayloadType::nonce, chain)) == ParseErrc::bad_length);
    }
}

TEST_CASE("rejects: a payload length past the end is bad_length")
{
    Bytes chain = payload(PayloadType::none, nonce(16));
    ike_test::put16(chain, 2, chain.size() + 1);
    CHECK(error_of(datagram(PayloadType::nonce, chain)) == ParseErrc::bad_length);
}

TEST_CASE("rejects: a Next Payload pointing past the last byte is truncated")
{
    const Bytes chain = payload(PayloadType::nonce, nonce(16));
    CHECK(error_of(datagram(PayloadType::nonce, chain)) == ParseErrc::truncated);
}

TEST_CASE("rejects: bytes after the last payload are bad_length")
{
    const Bytes chain = concat({payload(PayloadType::none, nonce(16)), hex("00")});
    CHECK(error_of(datagram(PayloadType::nonce, chain)) == ParseErrc::bad_length);
}

TEST_CASE("rejects: an unknown critical payload is unsupported_critical with its type")
{
    const Bytes chain = concat({payload(static_cast<PayloadType>(200), nonce(16)),
                                payload(PayloadType::none, hex("0102"), true)});
    const auto m = parse(datagram(PayloadType::nonce, chain));
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error().code == ParseErrc::unsupported_critical);
    CHECK(m.error().value == 200);
}

TEST_CASE("rejects: EAP is not implemented, so a critical EAP payload is unsupported_critical")
{
    const auto m = parse(datagram(PayloadType::eap, payload(PayloadType::none, hex("01020004"), true)));
    REQUIRE_FALSE(m.has_value());
    CHECK(m.error() == ParseError{ParseErrc::unsupported_critical, 48});
}

TEST_CASE("rejects: an unknown non-critical payload is kept and the chain goes on")
{
    const Bytes chain = concat({payload(PayloadType::nonce, hex("0102"), false), payload(PayloadType::none, nonce(16))});
    const auto m = parse(datagram(static_cast<PayloadType>(77), chain));
    REQUIRE(m.has_value());
    REQUIRE(m->payloads.size() == 2);
    const auto* unknown = std::get_if<UnknownPayload>(&m->payloads[0]);
    REQUIRE(unknown != nullptr);
    CHECK(unknown->type == static_cast<PayloadType>(77));
    CHECK_FALSE(unknown->critical);
    CHECK_BYTES(unknown->body, hex("0102"));
    CHECK(m->find<NoncePayload>() != nullptr);
}

TEST_CASE("rejects: the critical bit of a known payload is ignored")
{
    const auto m = parse(datagram(PayloadType::nonce, payload(PayloadType::none, nonce(16), true)));
    REQUIRE(m.has_value());
    CHECK(m->find<NoncePayload>() != nullptr);
}

TEST_CASE("rejects: 64 payloads parse, 65 are too_many")
{
    const auto chain_of = [](std::size_t n) {
        Bytes chain;
        for (std::size_t i = 0; i < n; ++i)
            chain = concat({chain, payload(i + 1 < n ? PayloadType::vendor_id : PayloadType::none, hex("aa"))});
        return datagram(PayloadType::vendor_id, chain);
    };
    CHECK(parses(chain_of(limits::max_payloads)));
    CHECK(error_of(chain_of(limits::max_payloads + 1)) == ParseErrc::too_many);
}

TEST_CASE("rejects: a nonce of 15 or 257 bytes is invalid_syntax")
{
    CHECK(error_of(datagram(PayloadType::nonce, payload(PayloadType::none, nonce(15)))) == ParseErrc::invalid_syntax);
    CHECK(error_of(datagram(PayloadType::nonce, payload(PayloadType::none, nonce(257)))) == ParseErrc::invalid_syntax);
}

TEST_CASE("rejects: an SA payload without proposals, or a proposal without transforms, is invalid_syntax")
{
    CHECK(error_of(datagram(PayloadType::sa, payload(PayloadType::none, {}))) == ParseErrc::invalid_syntax);
    CHECK(error_of(datagram(PayloadType::sa, sa_with_proposal(hex("01 01 00 00")))) == ParseErrc::invalid_syntax);
}

TEST_CASE("rejects: a well-formed minimal SA parses")
{
    CHECK(parses(datagram(PayloadType::sa, sa_with_proposal(ike_proposal_one_transform))));
}

TEST_CASE("rejects: Num Transforms other than the transforms present is bad_length")
{
    CHECK(error_of(datagram(PayloadType::sa, sa_with_proposal(hex("01 01 00 02  00000008 02 00 0005")))) ==
          ParseErrc::bad_length);
}

TEST_CASE("rejects: a proposal or transform length that disagrees with its contents is bad_length")
{
    // Transform Length 12 with 8 bytes present.
    CHECK(error_of(datagram(PayloadType::sa, sa_with_proposal(hex("01 01 00 01  0000000c 02 00 0005")))) ==
          ParseErrc::bad_length);
    // Transform Length 3.
    CHECK(error_of(datagram(PayloadType::sa, sa_with_proposal(hex("01 01 00 01  00000003 02 00 0005")))) ==
          ParseErrc::bad_length);
    // Proposal Length one byte short of its transform.
    Bytes sa = sa_with_proposal(ike_proposal_one_transform);
    ike_test::put16(sa, 6, 4 + ike_proposal_one_transform.size() - 1);
    CHECK(error_of(datagram(PayloadType::sa, sa)) == ParseErrc::bad_length);
}

TEST_CASE("rejects: a Last Substruc of neither 0 nor the type's 'more' value is invalid_syntax")
{
    CHECK(error_of(datagram(PayloadType::sa, sa_with_proposal(ike_proposal_one_transform, 3))) ==
          ParseErrc::invalid_syntax);
    CHECK(error_of(datagram(PayloadType::sa, sa_with_proposal(hex("01 01 00 01  02000008 02 00 0005")))) ==
          ParseErrc::invalid_syntax);
}

TEST_CASE("rejects: a 'more' Last Substruc on the final proposal is truncated")
{
    CHECK(error_of(datagram(PayloadType::sa, sa_with_proposal(ike_proposal_one_transform, 2))) ==
          ParseErrc::truncated);
}

TEST_CASE("rejects: an SPI size the protocol does not allow is invalid_syntax")
{
    // IKE with 4 bytes; ESP with 8 bytes.
    CHECK(error_of(datagram(PayloadType::sa, sa_with_proposal(hex("01 01 04 01 aabbccdd 00000008 02 00 0005")))) ==
          ParseErrc::invalid_syntax);
    CHECK(error_of(datagram(PayloadType::sa,
                            sa_with_proposal(hex("01 03 08 01 aabbccddeeff0011 00000008 01 00 0014")))) ==
          ParseErrc::invalid_syntax);
}

TEST_CASE("rejects: an SPI size past the proposal's end is truncated")
{
    CHECK(error_of(datagram(PayloadType::sa, sa_with_proposal(hex("01 03 04 01 aabb")))) == ParseErrc::truncated);
}

TEST_CASE("rejects: proposals not numbered 1, 2, 3... are invalid_syntax")
{
    const Bytes p1 = hex("02000010 01 01 00 01 00000008 02 00 0005");
    const Bytes p3 = hex("00000010 03 01 00 01 00000008 02 00 0005");
    CHECK(error_of(datagram(PayloadType::sa, payload(PayloadType::none, concat({p1, p3})))) ==
          ParseErrc::invalid_syntax);
    const Bytes p2 = hex("00000010 02 01 00 01 00000008 02 00 0005");
    CHECK(parses(datagram(PayloadType::sa, payload(PayloadType::none, concat({p1, p2})))));
    // A single proposal (an answer) may carry any number but 0.
    CHECK(parses(datagram(PayloadType::sa, payload(PayloadType::none, hex("00000010 07 01 00 01 00000008 02 00 0005")))));
    CHECK(error_of(datagram(PayloadType::sa, payload(PayloadType::none, hex("00000010 00 01 00 01 00000008 02 00 0005")))) ==
          ParseErrc::invalid_syntax);
}

TEST_CASE("rejects: more proposals than the cap are too_many")
{
    Bytes body;
    for (std::size_t i = 0; i <= limits::max_proposals; ++i) {
        Bytes p = hex("02000010 00 01 00 01 00000008 02 00 0005");
        p[4] = static_cast<std::uint8_t>(i + 1);
        if (i == limits::max_proposals)
            p[0] = 0;
        body = concat({body, p});
    }
    CHECK(error_of(datagram(PayloadType::sa, payload(PayloadType::none, body))) == ParseErrc::too_many);
}

TEST_CASE("rejects: more transforms in a proposal than the cap are too_many")
{
    const std::size_t n = limits::max_transforms + 1;
    Bytes rest{1, 1, 0, static_cast<std::uint8_t>(n)};
    for (std::size_t i = 0; i < n; ++i)
        rest = concat({rest, hex(i + 1 < n ? "03000008 02 00 0005" : "00000008 02 00 0005")});
    CHECK(error_of(datagram(PayloadType::sa, sa_with_proposal(rest))) == ParseErrc::too_many);
}

TEST_CASE("rejects: more transform attributes than the cap are too_many")
{
    Bytes transform = hex("00000000 01 00 000c");
    for (std::size_t i = 0; i <= limits::max_transform_attributes; ++i)
        transform = concat({transform, hex("800e0080")});
    ike_test::put16(transform, 2, transform.size());
    CHECK(error_of(datagram(PayloadType::sa, sa_with_proposal(concat({hex("01 01 00 01"), transform})))) ==
          ParseErrc::too_many);
}

TEST_CASE("rejects: Key Length in the TLV format is invalid_syntax, a TLV length past the end truncated")
{
    CHECK(error_of(datagram(PayloadType::sa, sa_with_proposal(hex("01 01 00 01 0000000e 01 00 000c 000e 0002 0080")))) ==
          ParseErrc::invalid_syntax);
    CHECK(error_of(datagram(PayloadType::sa, sa_with_proposal(hex("01 01 00 01 0000000e 01 00 000c 0011 0003 0080")))) ==
          ParseErrc::truncated);
}

TEST_CASE("rejects: a Notify SPI size of 3, or one past the end")
{
    CHECK(error_of(datagram(PayloadType::notify, payload(PayloadType::none, hex("03 03 4009 aabbcc")))) ==
          ParseErrc::invalid_syntax);
    CHECK(error_of(datagram(PayloadType::notify, payload(PayloadType::none, hex("03 04 4009 aabbcc")))) ==
          ParseErrc::truncated);
    CHECK(error_of(datagram(PayloadType::notify, payload(PayloadType::none, hex("03 04")))) == ParseErrc::truncated);
}

TEST_CASE("rejects: Delete SPI sizes other than 0 and 4, and counts that disagree")
{
    CHECK(error_of(datagram(PayloadType::delete_, payload(PayloadType::none, hex("03 08 0001 0000000000000001")))) ==
          ParseErrc::invalid_syntax);
    CHECK(error_of(datagram(PayloadType::delete_, payload(PayloadType::none, hex("03 00 0003")))) ==
          ParseErrc::invalid_syntax);
    CHECK(error_of(datagram(PayloadType::delete_, payload(PayloadType::none, hex("03 04 0002 00000001")))) ==
          ParseErrc::bad_length);
    CHECK(error_of(datagram(PayloadType::delete_, payload(PayloadType::none, hex("03 04 0001 00000001 00000002")))) ==
          ParseErrc::bad_length);
    CHECK(error_of(datagram(PayloadType::delete_, payload(PayloadType::none, hex("03 04 ffff 00000001")))) ==
          ParseErrc::too_many);
    CHECK(error_of(datagram(PayloadType::delete_, payload(PayloadType::none, hex("01 04 0001 00000001")))) ==
          ParseErrc::invalid_syntax);   // IKE has no SPIs to delete
}

TEST_CASE("rejects: a traffic selector length other than 16 (IPv4) or 40 (IPv6) is bad_length")
{
    CHECK(error_of(datagram(PayloadType::ts_i,
                            payload(PayloadType::none, hex("01000000 07 00 0011 0000 ffff 0a000000 0a0000ff 00")))) ==
          ParseErrc::bad_length);
    CHECK(error_of(datagram(PayloadType::ts_i,
                            payload(PayloadType::none, hex("01000000 08 00 0010 0000 ffff 0a000000 0a0000ff")))) ==
          ParseErrc::bad_length);
}

TEST_CASE("rejects: an unknown traffic selector type is invalid_syntax")
{
    CHECK(error_of(datagram(PayloadType::ts_r,
                            payload(PayloadType::none, hex("01000000 09 00 0010 0000 ffff 0a000000 0a0000ff")))) ==
          ParseErrc::invalid_syntax);
}

TEST_CASE("rejects: Number of TSs that the bytes cannot hold, or that leaves bytes over")
{
    CHECK(error_of(datagram(PayloadType::ts_i,
                            payload(PayloadType::none, hex("02000000 07 00 0010 0000 ffff 0a000000 0a0000ff")))) ==
          ParseErrc::bad_length);
    CHECK(error_of(datagram(PayloadType::ts_i,
                            payload(PayloadType::none, hex("00000000 07 00 0010 0000 ffff 0a000000 0a0000ff")))) ==
          ParseErrc::bad_length);
}

TEST_CASE("rejects: more traffic selectors than the cap are too_many")
{
    Bytes body{static_cast<std::uint8_t>(limits::max_traffic_selectors + 1), 0, 0, 0};
    for (std::size_t i = 0; i <= limits::max_traffic_selectors; ++i)
        body = concat({body, hex("07 00 0010 0000 ffff 0a000000 0a0000ff")});
    CHECK(error_of(datagram(PayloadType::ts_i, payload(PayloadType::none, body))) == ParseErrc::too_many);
}

TEST_CASE("rejects: a configuration attribute length past the end is truncated")
{
    CHECK(error_of(datagram(PayloadType::cp, payload(PayloadType::none, hex("01000000 0001 0004 0a00")))) ==
          ParseErrc::truncated);
}

TEST_CASE("rejects: an IPV4_ADDR identity that is not 4 bytes is invalid_syntax")
{
    CHECK(error_of(datagram(PayloadType::id_i, payload(PayloadType::none, hex("01000000 0a0000")))) ==
          ParseErrc::invalid_syntax);
}

TEST_CASE("rejects: fixed fields cut short are truncated")
{
    CHECK(error_of(datagram(PayloadType::ke, payload(PayloadType::none, hex("0013 00")))) == ParseErrc::truncated);
    CHECK(error_of(datagram(PayloadType::auth, payload(PayloadType::none, hex("02 0000")))) == ParseErrc::truncated);
    CHECK(error_of(datagram(PayloadType::skf, payload(PayloadType::none, hex("0001 00")))) == ParseErrc::truncated);
}

TEST_CASE("rejects: an SK payload that is not the last one is bad_length")
{
    const Bytes chain = concat({payload(PayloadType::id_i, hex("aabbccdd")), payload(PayloadType::none, nonce(16))});
    CHECK(error_of(datagram(PayloadType::sk, chain)) == ParseErrc::bad_length);
}

TEST_CASE("rejects: an SKF fragment number of 0 or above the total is invalid_syntax")
{
    CHECK(error_of(datagram(PayloadType::skf, payload(PayloadType::none, hex("0000 0002 aa")))) ==
          ParseErrc::invalid_syntax);
    CHECK(error_of(datagram(PayloadType::skf, payload(PayloadType::none, hex("0003 0002 aa")))) ==
          ParseErrc::invalid_syntax);
    CHECK(parses(datagram(PayloadType::skf, payload(PayloadType::none, hex("0002 0002 aa")))));
}

TEST_CASE("serialize: refuses what it cannot encode with an empty result")
{
    Message m;
    m.payloads = {SkPayload{PayloadType::none, {}}, NoncePayload{Bytes(16, 1)}};   // SK not last
    CHECK(serialize(m).empty());
    m.payloads = {UnknownPayload{PayloadType::nonce, false, {}}};   // a type the codec implements
    CHECK(serialize(m).empty());
    m.payloads = {UnknownPayload{PayloadType::none, false, {}}};
    CHECK(serialize(m).empty());
    m.payloads = {TsiPayload{{TrafficSelector{TsType::ipv6_addr_range, 0, 0, 65535, {}, {}}}}};   // v4 addresses
    CHECK(serialize(m).empty());
    m.payloads = {NotifyPayload{ProtocolId::esp, NotifyType::rekey_sa, Bytes(256, 1), {}}};   // SPI Size is one byte
    CHECK(serialize(m).empty());
    m.payloads = {VendorIdPayload{Bytes(65532, 1)}};   // Payload Length is 16 bits
    CHECK(serialize(m).empty());
    m.payloads = {VendorIdPayload{Bytes(65531, 1)}};
    CHECK(serialize(m).size() == 28 + 65535);
    m.payloads = {TsiPayload{std::vector<TrafficSelector>(limits::max_traffic_selectors + 1)}};
    CHECK(serialize(m).empty());
}
