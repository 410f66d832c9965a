// OutboundSa and InboundSa as a pair: round trips for every transform, the
// sequence counter's end, and what open() does with everything that is not a
// packet its peer sealed (changed bits, cut packets, another key, bad padding).

#include "tunnel/esp_crypto.hpp"
#include "tunnel/esp_sa.hpp"

#include <botan/block_cipher.h>
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

using namespace mesh::tunnel;

namespace {

using Bytes = std::vector<std::uint8_t>;

struct Suite {
    EspCipher cipher;
    EspIntegrity integrity;
};

constexpr Suite suites[] = {
    {EspCipher::aes128_gcm, EspIntegrity::none},
    {EspCipher::aes256_gcm, EspIntegrity::none},
    {EspCipher::chacha20_poly1305, EspIntegrity::none},
    {EspCipher::aes128_cbc, EspIntegrity::hmac_sha256_128},
    {EspCipher::aes128_cbc, EspIntegrity::hmac_sha384_192},
    {EspCipher::aes128_cbc, EspIntegrity::hmac_sha512_256},
    {EspCipher::aes256_cbc, EspIntegrity::hmac_sha256_128},
    {EspCipher::aes256_cbc, EspIntegrity::hmac_sha384_192},
    {EspCipher::aes256_cbc, EspIntegrity::hmac_sha512_256},
};

SaParams make_params(Suite suite, bool esn, std::uint8_t key_seed = 1)
{
    SaParams params;
    params.spi = 0x00001001;
    params.cipher = suite.cipher;
    params.integrity = suite.integrity;
    params.esn = esn;
    for (std::size_t i = 0; i < info(suite.cipher).key_bytes; ++i)
        params.cipher_key.push_back(static_cast<std::uint8_t>(key_seed + i));
    for (std::size_t i = 0; i < info(suite.integrity).key_bytes; ++i)
        params.integrity_key.push_back(static_cast<std::uint8_t>(key_seed * 3 + i));
    return params;
}

std::string describe(Suite suite, bool esn)
{
    return std::string(info(suite.cipher).name) + "/" + std::string(info(suite.integrity).name) +
           (esn ? " esn" : " 32-bit");
}

Bytes payload_of(std::size_t size)
{
    Bytes payload(size);
    for (std::size_t i = 0; i < size; ++i)
        payload[i] = static_cast<std::uint8_t>(i * 7 + size);
    return payload;
}

void load(PacketBuffer& packet, const Bytes& bytes)
{
    packet.reset();
    std::copy(bytes.begin(), bytes.end(), packet.push_back(bytes.size()));
}

Bytes contents(const PacketBuffer& packet)
{
    return {packet.data().begin(), packet.data().end()};
}

// One sealed packet of `size` payload bytes, as it would cross the wire.
Bytes sealed_packet(OutboundSa& out, std::size_t size, std::uint8_t next_header = 47)
{
    auto packet = std::make_unique<PacketBuffer>();
    load(*packet, payload_of(size));
    REQUIRE(out.seal(*packet, next_header).has_value());
    return contents(*packet);
}

} // namespace

TEST_CASE("ESP SA: seal then open returns the payload for every transform, ESN or not, and sizes 0..300, 1400, 65000")
{
    std::vector<std::size_t> sizes;
    for (std::size_t size = 0; size <= 300; ++size)
        sizes.push_back(size);
    sizes.push_back(1400);
    sizes.push_back(65000);

    auto packet = std::make_unique<PacketBuffer>();
    for (const Suite suite : suites) {
        for (const bool esn : {false, true}) {
            CAPTURE(describe(suite, esn));
            OutboundSa out(make_params(suite, esn));
            InboundSa in(make_params(suite, esn));
            std::uint64_t bytes = 0;
            for (const std::size_t size : sizes) {
                CAPTURE(size);
                const Bytes payload = payload_of(size);
                const std::uint64_t seq = out.next_sequence();
                const auto next_header = static_cast<std::uint8_t>(size % 256);
                load(*packet, payload);
                REQUIRE(out.seal(*packet, next_header).has_value());
                REQUIRE(packet->size() == size + out.overhead(size));
                REQUIRE(packet->size() - size <= out.max_overhead());
                const auto wire = packet->data();
                REQUIRE((wire[0] << 24 | wire[1] << 16 | wire[2] << 8 | wire[3]) == 0x00001001);
                REQUIRE(std::uint32_t(wire[4] << 24 | wire[5] << 16 | wire[6] << 8 | wire[7]) ==
                        static_cast<std::uint32_t>(seq));

                const auto opened = in.open(*packet);
                REQUIRE(opened.has_value());
                REQUIRE(*opened == next_header);
                REQUIRE(contents(*packet) == payload);
                REQUIRE(in.highest_sequence() == seq);
                bytes += size;
            }
            CHECK(out.counters().packets.get() == sizes.size());
            CHECK(out.counters().bytes.get() == bytes);
            CHECK(in.counters().packets.get() == sizes.size());
            CHECK(in.counters().bytes.get() == bytes);
            CHECK(in.counters().auth_drops.get() + in.counters().replay_drops.get() +
                      in.counters().malformed_drops.get() ==
                  0);
        }
    }
}

TEST_CASE("ESP SA: sequence numbers start at 1 and count up by one per packet")
{
    OutboundSa out(make_params(suites[0], true));
    CHECK(out.next_sequence() == 1);
    for (std::uint32_t expected = 1; expected <= 3; ++expected) {
        const Bytes wire = sealed_packet(out, 10);
        CHECK(std::uint32_t(wire[4] << 24 | wire[5] << 16 | wire[6] << 8 | wire[7]) == expected);
    }
    CHECK(out.next_sequence() == 4);
}

TEST_CASE("ESP SA: CBC IVs are the sequence number encrypted under the SA's key, AEAD IVs the number itself")
{
    for (const Suite suite : {suites[0], suites[3], suites[8]}) {
        CAPTURE(describe(suite, true));
        const SaParams params = make_params(suite, true);
        OutboundSa out(params);
        const bool aes256 = suite.cipher == EspCipher::aes256_cbc;
        const auto aes = Botan::BlockCipher::create_or_throw(aes256 ? "AES-256" : "AES-128");
        if (!info(suite.cipher).aead)
            aes->set_key(params.cipher_key.data(), aes256 ? 32 : 16);
        for (std::uint8_t seq = 1; seq <= 3; ++seq) {
            const Bytes wire = sealed_packet(out, 30);
            const Bytes iv(wire.begin() + 8, wire.begin() + 8 + static_cast<std::ptrdiff_t>(info(suite.cipher).iv_bytes));
            Bytes counter(16, 0);
            counter[7] = seq;
            if (info(suite.cipher).aead) {
                CHECK(iv == Bytes(counter.begin(), counter.begin() + 8));
            } else {
                aes->encrypt(counter);
                CHECK(iv == counter);
            }
        }
    }
}

TEST_CASE("ESP SA: payload, padding and trailer end on the block size: 4 for AEADs, 16 for CBC")
{
    for (const Suite suite : suites) {
        CAPTURE(describe(suite, true));
        OutboundSa out(make_params(suite, true));
        const EspCipherInfo& cipher = info(suite.cipher);
        for (std::size_t size = 0; size < 40; ++size) {
            const std::size_t encrypted = size + out.overhead(size) - EspCrypto::header_bytes - cipher.iv_bytes -
                                          (cipher.aead ? cipher.icv_bytes : info(suite.integrity).icv_bytes);
            CHECK(encrypted % cipher.block_bytes == 0);
            CHECK(encrypted - size - 2 < cipher.block_bytes);
        }
    }
}

TEST_CASE("ESP SA: the outbound counter ends at 2^64 - 1 with ESN: one more seal, then sequence_exhausted")
{
    SaParams params = make_params(suites[0], true);
    params.initial_sequence = UINT64_MAX;
    OutboundSa out(params);
    const Bytes last = sealed_packet(out, 20);
    CHECK(std::uint32_t(last[4] << 24 | last[5] << 16 | last[6] << 8 | last[7]) == UINT32_MAX);
    CHECK(out.next_sequence() == 0);

    auto packet = std::make_unique<PacketBuffer>();
    load(*packet, payload_of(20));
    const auto refused = out.seal(*packet, 47);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error() == EspError::sequence_exhausted);
    CHECK(contents(*packet) == payload_of(20));  // nothing was written
    CHECK(out.counters().packets.get() == 1);
}

TEST_CASE("ESP SA: the outbound counter ends at 2^32 - 1 without ESN")
{
    SaParams params = make_params(suites[3], false);
    params.initial_sequence = UINT32_MAX;
    OutboundSa out(params);
    InboundSa in(make_params(suites[3], false));
    auto packet = std::make_unique<PacketBuffer>();
    load(*packet, payload_of(20));
    REQUIRE(out.seal(*packet, 4).has_value());
    REQUIRE(in.open(*packet).has_value());
    CHECK(in.highest_sequence() == UINT32_MAX);

    load(*packet, payload_of(20));
    const auto refused = out.seal(*packet, 4);
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error() == EspError::sequence_exhausted);
    CHECK(out.next_sequence() == std::uint64_t{1} << 32);
}

TEST_CASE("ESP SA: seal refuses a buffer without room for the header or the trailer")
{
    OutboundSa out(make_params(suites[3], true));
    auto packet = std::make_unique<PacketBuffer>();
    packet->reset(EspCrypto::header_bytes + 16 - 1);
    packet->push_back(10);
    const auto front = out.seal(*packet, 4);
    REQUIRE_FALSE(front.has_value());
    CHECK(front.error() == EspError::no_room);

    packet->reset();
    packet->set_size(packet->writable().size() - 10);
    const auto back = out.seal(*packet, 4);
    REQUIRE_FALSE(back.has_value());
    CHECK(back.error() == EspError::no_room);
    CHECK(out.next_sequence() == 1);  // no number spent
}

TEST_CASE("ESP SA: keys of the wrong length and cipher/integrity mismatches are refused at install")
{
    SaParams short_key = make_params(suites[0], true);
    short_key.cipher_key.pop_back();  // the salt is missing a byte
    CHECK_THROWS_AS(OutboundSa{short_key}, std::invalid_argument);

    SaParams aead_with_mac = make_params(suites[0], true);
    aead_with_mac.integrity = EspIntegrity::hmac_sha256_128;
    aead_with_mac.integrity_key.assign(32, 1);
    CHECK_THROWS_AS(InboundSa{aead_with_mac}, std::invalid_argument);

    SaParams cbc_without_mac = make_params(suites[3], true);
    cbc_without_mac.integrity = EspIntegrity::none;
    cbc_without_mac.integrity_key.clear();
    CHECK_THROWS_AS(OutboundSa{cbc_without_mac}, std::invalid_argument);

    SaParams short_mac_key = make_params(suites[5], true);
    short_mac_key.integrity_key.resize(32);
    CHECK_THROWS_AS(InboundSa{short_mac_key}, std::invalid_argument);
}

TEST_CASE("ESP SA: every single flipped bit fails the ICV, is counted, and leaves the window where it was")
{
    auto packet = std::make_unique<PacketBuffer>();
    for (const Suite suite : suites) {
        for (const bool esn : {false, true}) {
            CAPTURE(describe(suite, esn));
            // Sequence number 3: no single flip in it reaches 0, so each one
            // reaches the ICV check instead of the replay check.
            SaParams params = make_params(suite, esn);
            params.initial_sequence = 3;
            OutboundSa out(params);
            InboundSa in(make_params(suite, esn));
            const Bytes wire = sealed_packet(out, 100);
            std::uint64_t flips = 0;
            for (std::size_t bit = 0; bit < wire.size() * 8; ++bit) {
                Bytes bad = wire;
                bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
                load(*packet, bad);
                const auto opened = in.open(*packet);
                CAPTURE(bit);
                REQUIRE_FALSE(opened.has_value());
                REQUIRE(opened.error() == EspError::auth_failed);
                ++flips;
            }
            CHECK(in.counters().auth_drops.get() == flips);
            CHECK(in.counters().packets.get() == 0);
            CHECK(in.highest_sequence() == 0);
            load(*packet, wire);
            CHECK(in.open(*packet).has_value());
            CHECK(in.highest_sequence() == 3);
        }
    }
}

TEST_CASE("ESP SA: a packet cut to any shorter length is dropped and counted, never a crash")
{
    auto packet = std::make_unique<PacketBuffer>();
    for (const Suite suite : suites) {
        CAPTURE(describe(suite, true));
        OutboundSa out(make_params(suite, true));
        InboundSa in(make_params(suite, true));
        const Bytes wire = sealed_packet(out, 61);
        for (std::size_t length = 0; length < wire.size(); ++length) {
            CAPTURE(length);
            load(*packet, Bytes(wire.begin(), wire.begin() + static_cast<std::ptrdiff_t>(length)));
            const auto opened = in.open(*packet);
            REQUIRE_FALSE(opened.has_value());
            REQUIRE((opened.error() == EspError::truncated || opened.error() == EspError::auth_failed));
        }
        CHECK(in.counters().malformed_drops.get() + in.counters().auth_drops.get() == wire.size());
        CHECK(in.counters().malformed_drops.get() > 0);
        load(*packet, wire);
        CHECK(in.open(*packet).has_value());
    }
}

TEST_CASE("ESP SA: a packet sealed under another key fails the ICV")
{
    auto packet = std::make_unique<PacketBuffer>();
    for (const Suite suite : suites) {
        CAPTURE(describe(suite, true));
        OutboundSa out(make_params(suite, true, 1));
        InboundSa in(make_params(suite, true, 2));
        load(*packet, sealed_packet(out, 200));
        const auto opened = in.open(*packet);
        REQUIRE_FALSE(opened.has_value());
        CHECK(opened.error() == EspError::auth_failed);
        CHECK(in.counters().auth_drops.get() == 1);
    }
}

TEST_CASE("ESP SA: duplicates are replay drops, counted before any crypto")
{
    auto packet = std::make_unique<PacketBuffer>();
    OutboundSa out(make_params(suites[0], true));
    InboundSa in(make_params(suites[0], true));
    const Bytes first = sealed_packet(out, 30);
    load(*packet, first);
    REQUIRE(in.open(*packet).has_value());
    load(*packet, first);
    const auto again = in.open(*packet);
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error() == EspError::replay);
    CHECK(in.counters().replay_drops.get() == 1);
    CHECK(in.counters().packets.get() == 1);
}

TEST_CASE("ESP SA: authentic packets with bad padding are malformed drops and do not move the window")
{
    // Seal by hand so the ICV is right but the trailer is not.
    const auto seal_with_trailer = [](const SaParams& params, std::uint64_t seq, const Bytes& plaintext) {
        EspCrypto crypto(params, EspDirection::seal);
        Bytes packet(EspCrypto::header_bytes + crypto.iv_bytes());
        packet[3] = 0x01;
        packet[2] = 0x10;
        packet[7] = static_cast<std::uint8_t>(seq);
        crypto.write_iv(seq, std::span(packet).subspan(EspCrypto::header_bytes));
        packet.insert(packet.end(), plaintext.begin(), plaintext.end());
        packet.resize(packet.size() + crypto.icv_bytes());
        REQUIRE(crypto.seal(packet, seq));
        return packet;
    };
    auto packet = std::make_unique<PacketBuffer>();
    for (const Suite suite : {suites[0], suites[3]}) {
        CAPTURE(describe(suite, true));
        const SaParams params = make_params(suite, true);
        InboundSa in(params);
        // 16 bytes of plaintext: whole blocks for every cipher.
        // payload (11 bytes) || 1 2 9 || pad length 3 || next header 4
        Bytes wrong_bytes(11, 0xee);
        wrong_bytes.insert(wrong_bytes.end(), {1, 2, 9, 3, 4});
        // payload (14 bytes) || pad length 15, longer than what precedes it || next header 4
        Bytes too_long(14, 0xee);
        too_long.insert(too_long.end(), {15, 4});
        std::uint64_t seq = 1;
        for (const Bytes& plaintext : {wrong_bytes, too_long}) {
            load(*packet, seal_with_trailer(params, seq++, plaintext));
            const auto opened = in.open(*packet);
            REQUIRE_FALSE(opened.has_value());
            CHECK(opened.error() == EspError::bad_padding);
        }
        CHECK(in.counters().malformed_drops.get() == 2);
        CHECK(in.highest_sequence() == 0);

        Bytes good(11, 0xee);
        good.insert(good.end(), {1, 2, 3, 3, 4});
        load(*packet, seal_with_trailer(params, 1, good));
        const auto opened = in.open(*packet);
        REQUIRE(opened.has_value());
        CHECK(*opened == 4);
        CHECK(contents(*packet) == Bytes(11, 0xee));
    }
}

TEST_CASE("ESP SA: a packet that fails its ICV does not move the window; the genuine one still opens")
{
    auto packet = std::make_unique<PacketBuffer>();
    OutboundSa out(make_params(suites[2], true));
    InboundSa in(make_params(suites[2], true));
    const Bytes one = sealed_packet(out, 40);
    const Bytes two = sealed_packet(out, 40);
    load(*packet, one);
    REQUIRE(in.open(*packet).has_value());

    // A forgery claiming a far-future number would, if it moved the window,
    // push the genuine packet 2 out of it.
    Bytes forged = two;
    forged[4] = 0x00;
    forged[5] = 0x10;
    forged[6] = 0x00;
    forged[7] = 0x00;
    load(*packet, forged);
    REQUIRE_FALSE(in.open(*packet).has_value());
    CHECK(in.highest_sequence() == 1);

    load(*packet, two);
    CHECK(in.open(*packet).has_value());
    CHECK(in.highest_sequence() == 2);
}

TEST_CASE("ESP SA: with ESN the ICV covers the high half of the sequence number, which is never sent")
{
    // Two senders whose counters differ only above bit 32 put the same bytes in
    // the header; the receiver's inferred high half decides which one verifies.
    auto packet = std::make_unique<PacketBuffer>();
    for (const Suite suite : {suites[0], suites[3]}) {
        CAPTURE(describe(suite, true));
        SaParams high = make_params(suite, true);
        high.initial_sequence = (std::uint64_t{1} << 32) + 7;
        OutboundSa out_high(high);
        OutboundSa out_low(make_params(suite, true));
        InboundSa in(make_params(suite, true));
        // Receiver window at 7 (high half 0): packet 7 of the low sender verifies.
        for (int i = 0; i < 6; ++i)
            sealed_packet(out_low, 8);
        const Bytes low7 = sealed_packet(out_low, 8);
        const Bytes high7 = sealed_packet(out_high, 8);
        REQUIRE(Bytes(low7.begin(), low7.begin() + 8) == Bytes(high7.begin(), high7.begin() + 8));
        load(*packet, high7);
        const auto forged = in.open(*packet);
        REQUIRE_FALSE(forged.has_value());
        CHECK(forged.error() == EspError::auth_failed);
        load(*packet, low7);
        CHECK(in.open(*packet).has_value());
        CHECK(in.highest_sequence() == 7);
    }
}
