// The IKEv2 PRF and prf+:
//   HMAC-SHA-256/384/512: RFC 4231 section 4, test cases 1, 2 and 6
//   prf+ (RFC 7296 section 2.13): values computed independently with Python 3's
//   hmac module, by the straightforward loop
//       t = b""; out = b""; i = 1
//       while len(out) < n: t = hmac.new(K, t + S + bytes([i]), H).digest(); out += t; i += 1
//   with K = bytes(range(32)), S = b"mesh-site prf+ seed".

#include "ike/prf.hpp"

#include "tests/hex.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

using namespace mesh::ike;

namespace {

using Bytes = std::vector<std::uint8_t>;

using mesh::test::hex;

Bytes text(std::string_view s)
{
    return Bytes(s.begin(), s.end());
}

Bytes bytes(const Botan::secure_vector<std::uint8_t>& v)
{
    return Bytes(v.begin(), v.end());
}

Prf make(PrfId id)
{
    auto prf = Prf::create(id);
    REQUIRE(prf);
    return std::move(*prf);
}

struct HmacCase {
    const char* name;
    Bytes key;
    Bytes data;
    const char* sha256;
    const char* sha384;
    const char* sha512;
};

} // namespace

TEST_CASE("PRF_HMAC_SHA2_*: RFC 4231 test cases 1, 2 and 6")
{
    const HmacCase cases[] = {
        {"4.2 (case 1)", Bytes(20, 0x0b), text("Hi There"),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
         "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
         "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4"
         "be9d914eeb61f1702e696c203a126854"},
        {"4.3 (case 2)", text("Jefe"), text("what do ya want for nothing?"),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
         "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
         "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fd"
         "caeab1a34d4a6b4b636e070a38bce737"},
        {"4.7 (case 6)", Bytes(131, 0xaa), text("Test Using Larger Than Block-Size Key - Hash Key First"),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
         "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
         "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e52"
         "95e64f73f63f0aec8b915a985d786598"},
    };
    Prf sha256 = make(PrfId::hmac_sha2_256);
    Prf sha384 = make(PrfId::hmac_sha2_384);
    Prf sha512 = make(PrfId::hmac_sha2_512);
    CHECK(sha256.output_bytes() == 32);
    CHECK(sha384.output_bytes() == 48);
    CHECK(sha512.output_bytes() == 64);
    // The same objects for every case: re-keying must leave nothing behind.
    for (const HmacCase& c : cases) {
        CAPTURE(c.name);
        CHECK(bytes(sha256.compute(c.key, {c.data})) == hex(c.sha256));
        CHECK(bytes(sha384.compute(c.key, {c.data})) == hex(c.sha384));
        CHECK(bytes(sha512.compute(c.key, {c.data})) == hex(c.sha512));
    }
}

TEST_CASE("PRF: data given in parts is the data concatenated")
{
    Prf prf = make(PrfId::hmac_sha2_256);
    const Bytes a = text("what do ya "), b = text("want for "), c = text("nothing?");
    CHECK(bytes(prf.compute(text("Jefe"), {a, b, c})) ==
          hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
}

TEST_CASE("PRF: a key longer than Botan's HMAC takes gives HMAC's result")
{
    // Botan's HMAC refuses keys over 4096 bytes; a pre-shared key may be
    // longer. Expected value: Python's hmac.new(b"\x5a" * 5000, b"long pre-shared key", sha256).
    Prf prf = make(PrfId::hmac_sha2_256);
    const Bytes long_key(5000, 0x5a);
    CHECK(bytes(prf.compute(long_key, {text("long pre-shared key")})) ==
          hex("ad2c3a4ce604990dc656cffd1dd407b99173adc1fe9190ed01533913bf9f12a3"));
}

TEST_CASE("prf+: HMAC-SHA-256 and HMAC-SHA-512 against Python's hmac")
{
    Bytes key(32);
    for (std::size_t i = 0; i < key.size(); ++i)
        key[i] = static_cast<std::uint8_t>(i);
    const Bytes seed = text("mesh-site prf+ seed");

    Prf sha256 = make(PrfId::hmac_sha2_256);
    const auto out256 = sha256.plus(key, {seed}, 100);  // four blocks, the last one cut
    REQUIRE(out256);
    CHECK(bytes(*out256) == hex("36d2751958958c8368253d77fb095abb5ac27e970c0747a45cfc3de16047fbf8"
                                "7e4a8078575ce99674a33cffd455728c155f76e595f0ce93c6de406ae1689e33"
                                "ecc034dd85f0b87c83c9c8ca3712eab95ac57832cab52025a919e93f0848374d"
                                "72705066"));

    Prf sha512 = make(PrfId::hmac_sha2_512);
    const auto out512 = sha512.plus(key, {seed}, 200);
    REQUIRE(out512);
    CHECK(bytes(*out512) == hex("2cfa18d13206690c8454749aab6945dd96398e6338bb431567f82db30fadf577"
                                "b1d6605dff8afc1a39a5c77702b790a951294ab0b4f4d85fe5df918e6bd2ec05"
                                "c94f357577cd63286bac991c90ce845d174d82dc6209b84d8d825aa73aece7be"
                                "88360fc900eafb52bbbbdb72f0a0abcec6e346b02a889167a439a3aaf3a029a3"
                                "fea627fc4448a8dd96cd46fc41563f7840e84066b2b11ee7c6d6237ece0908b3"
                                "76625ffd058208611895d54faab76b206d92af94d62be28e34f926a094827b0e"
                                "ba0906aa8a2da810"));

    // The seed in parts is the seed concatenated.
    const Bytes s1 = text("mesh-site "), s2 = text("prf+ seed");
    const auto parts = sha256.plus(key, {s1, s2}, 100);
    REQUIRE(parts);
    CHECK(*parts == *out256);
}

TEST_CASE("prf+: 255 blocks at most (RFC 7296 section 2.13)")
{
    Bytes key(32);
    for (std::size_t i = 0; i < key.size(); ++i)
        key[i] = static_cast<std::uint8_t>(i);
    const Bytes seed = text("mesh-site prf+ seed");
    Prf prf = make(PrfId::hmac_sha2_256);

    const auto longest = prf.plus(key, {seed}, 255 * 32);
    REQUIRE(longest);
    CHECK(longest->size() == 255 * 32);
    CHECK(Bytes(longest->end() - 8, longest->end()) == hex("ee19686048a835a5"));  // Python: block 255's last 8

    CHECK(prf.plus(key, {seed}, 255 * 32 + 1).error() == CryptoError::too_long);
    const auto none = prf.plus(key, {seed}, 0);
    REQUIRE(none);
    CHECK(none->empty());
}

TEST_CASE("PRF: unknown transform IDs are refused")
{
    CHECK(Prf::create(static_cast<PrfId>(2)).error() == CryptoError::invalid_suite);  // PRF_HMAC_SHA1
}
