// tunnel/evp_aead: OpenSSL's AEAD agrees with Botan's byte for byte, and a
// context stays usable after a bad tag without leaving OpenSSL errors behind
// (the data plane reuses one context per SA for its whole life).

#include "tunnel/evp_aead.hpp"

#include <botan/aead.h>
#include <doctest/doctest.h>
#include <openssl/err.h>

#include <array>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <vector>

using namespace mesh::tunnel;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes pattern(std::size_t n, std::uint8_t seed)
{
    Bytes out(n);
    for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<std::uint8_t>(seed + 7 * i);
    return out;
}

struct Case {
    EspCipher cipher;
    const char* botan_name;
    std::size_t key_bytes;
};

constexpr std::array<Case, 3> cases{{
    {EspCipher::aes128_gcm, "AES-128/GCM", 16},
    {EspCipher::aes256_gcm, "AES-256/GCM", 32},
    {EspCipher::chacha20_poly1305, "ChaCha20Poly1305", 32},
}};

} // namespace

TEST_CASE("EvpAead: sealing matches Botan's AEAD for every size 0..300 and 1400, 12-byte AAD")
{
    for (const Case& c : cases) {
        CAPTURE(c.botan_name);
        const Bytes key = pattern(c.key_bytes, 1);
        EvpAead seal(c.cipher, key, EspDirection::seal);
        EvpAead open(c.cipher, key, EspDirection::open);
        auto botan = Botan::AEAD_Mode::create_or_throw(c.botan_name, Botan::ENCRYPTION);
        botan->set_key(key);
        std::array<std::uint8_t, EvpAead::nonce_bytes> nonce{0xca, 0xfe, 0xba, 0xbe};
        const Bytes aad = pattern(12, 3);
        std::vector<std::size_t> sizes(301);
        std::iota(sizes.begin(), sizes.end(), std::size_t{0});
        sizes.push_back(1400);
        for (const std::size_t size : sizes) {
            CAPTURE(size);
            nonce[11] = static_cast<std::uint8_t>(size);
            const Bytes plain = pattern(size, static_cast<std::uint8_t>(size));
            Botan::secure_vector<std::uint8_t> expected(plain.begin(), plain.end());
            botan->set_associated_data(aad.data(), aad.size());
            botan->start(nonce.data(), nonce.size());
            botan->finish(expected);

            Bytes packet = plain;
            packet.resize(size + EvpAead::tag_bytes);
            const auto text = std::span(packet).first(size);
            const auto tag = std::span(packet).subspan(size).first<EvpAead::tag_bytes>();
            REQUIRE(seal.seal(nonce, aad, text, tag));
            CHECK(Bytes(expected.begin(), expected.end()) == packet);
            REQUIRE(open.open(nonce, aad, text, tag));
            CHECK(Bytes(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(size)) == plain);
        }
    }
}

TEST_CASE("EvpAead: a bad tag is a false return, leaves no OpenSSL error, and the next packet opens")
{
    for (const Case& c : cases) {
        CAPTURE(c.botan_name);
        const Bytes key = pattern(c.key_bytes, 9);
        EvpAead seal(c.cipher, key, EspDirection::seal);
        EvpAead open(c.cipher, key, EspDirection::open);
        const std::array<std::uint8_t, EvpAead::nonce_bytes> nonce{1, 2, 3};
        const Bytes aad = pattern(8, 5);
        const Bytes plain = pattern(100, 11);
        Bytes packet = plain;
        packet.resize(plain.size() + EvpAead::tag_bytes);
        const auto text = std::span(packet).first(plain.size());
        const auto tag = std::span(packet).subspan(plain.size()).first<EvpAead::tag_bytes>();
        REQUIRE(seal.seal(nonce, aad, text, tag));
        const Bytes sealed = packet;

        ERR_clear_error();
        packet.back() ^= 1;
        CHECK_FALSE(open.open(nonce, aad, text, tag));
        CHECK(ERR_peek_error() == 0);

        packet = sealed;
        REQUIRE(open.open(nonce, aad, text, tag));
        CHECK(Bytes(packet.begin(), packet.begin() + 100) == plain);
    }
}

TEST_CASE("EvpAead: CBC ciphers and keys of the wrong length are refused at install")
{
    const Bytes key16 = pattern(16, 0);
    CHECK_THROWS_AS(EvpAead(EspCipher::aes128_cbc, key16, EspDirection::seal), std::invalid_argument);
    CHECK_THROWS_AS(EvpAead(EspCipher::aes256_gcm, key16, EspDirection::seal), std::invalid_argument);
    CHECK_THROWS_AS(EvpAead(EspCipher::aes128_gcm, pattern(20, 0), EspDirection::open), std::invalid_argument);
}
