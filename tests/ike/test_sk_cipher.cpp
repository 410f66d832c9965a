// The Encrypted payload (SK, RFC 7296 section 3.14):
//   AES-GCM-16 (RFC 5282), ChaCha20-Poly1305 (RFC 7634 section 4),
//   AES-CBC with HMAC-SHA-256-128 (RFC 7296 section 3.14, RFC 4868).
//
// Neither RFC publishes an SK payload vector, so the sealed bodies were
// computed independently with Python 3's 'cryptography' package (AESGCM,
// ChaCha20Poly1305, AES-CBC) and hmac module from the layouts those RFCs give:
//   AEAD: body = IV | AEAD(key, nonce = salt | IV, plaintext | 0x00, aad)
//   CBC:  body = IV | CBC(key, IV, plaintext | 00 00 | 0x02) | HMAC(aad | IV | ciphertext)[:16]
// with the inputs below. The IVs come from a counting test RNG.

#include "ike/sk_cipher.hpp"

#include "test_rng.hpp"
#include <botan/rng.h>

#include "tests/hex.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

using namespace mesh::ike;

namespace {

using Bytes = std::vector<std::uint8_t>;

using mesh::test::hex;

Bytes range(std::uint8_t first, std::size_t count)
{
    Bytes out(count);
    for (std::size_t i = 0; i < count; ++i)
        out[i] = static_cast<std::uint8_t>(first + i);
    return out;
}

Bytes bytes(const Botan::secure_vector<std::uint8_t>& v)
{
    return Bytes(v.begin(), v.end());
}

Bytes concat(Bytes a, const Bytes& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

// Hands out first, first + 1, first + 2, ...: the IVs become predictable.
class CountingRng final : public Botan::RandomNumberGenerator {
public:
    explicit CountingRng(std::uint8_t first) : next_(first) {}
    void randomize(std::uint8_t output[], std::size_t length) override
    {
        for (std::size_t i = 0; i < length; ++i)
            output[i] = next_++;
    }
    bool accepts_input() const override { return false; }
    void add_entropy(const std::uint8_t[], std::size_t) override {}
    std::string name() const override { return "counting"; }
    void clear() override {}
    bool is_seeded() const override { return true; }

private:
    std::uint8_t next_;
};

// An IKE header (SPIs, Next Payload SK, version 2.0, IKE_AUTH, Initiator,
// Message ID 1, a Length) and an SK generic header. The lengths do not match
// every body below: the cipher covers these bytes, it does not read them.
const Bytes aad = hex("0102030405060708a1a2a3a4a5a6a7a8 2e202308 00000001 00000050 29000034");
const Bytes plaintext = [] {
    const std::string_view s = "inner payloads of an IKE_AUTH";  // 29 bytes
    return Bytes(s.begin(), s.end());
}();
const Bytes salt = hex("c0c1c2c3");

struct AeadCase {
    IkeCipher cipher;
    std::size_t key_bytes;
    const char* body;
};

const AeadCase aead_cases[] = {
    {IkeCipher::aes128_gcm, 16,
     "0001020304050607"
     "1570e8f09815d28af86c34678f80464b722d0d7659a18bf8a6cb55cb5b13"
     "74b63f37f671599364437c1fe4c2a8df"},
    {IkeCipher::aes256_gcm, 32,
     "0001020304050607"
     "9f730e5565fe685b5d08fa30b3b28617bfb87c305e1b98010368fb74cfe4"
     "79828649037e61246d88a6610997613d"},
    {IkeCipher::chacha20_poly1305, 32,
     "0001020304050607"
     "5cc41daee9aac09ab42524a353c9dfe328598a241fb33608874a06ba4c09"
     "23a79e90a938ea76827eddef1066c91f"},
};

// Both ends of one IKE SA, with the test's key on both directions.
struct Pair {
    SkCipher sender;
    SkCipher receiver;
};

Pair aead_pair(IkeCipher cipher, const Bytes& key, Botan::RandomNumberGenerator& rng)
{
    auto sender = SkCipher::create(cipher, IntegId::none, key, {}, key, {}, rng);
    auto receiver = SkCipher::create(cipher, IntegId::none, key, {}, key, {}, rng);
    REQUIRE(sender);
    REQUIRE(receiver);
    return {std::move(*sender), std::move(*receiver)};
}

} // namespace

TEST_CASE("AEAD SK payload: sealed body matches the independent computation, and opens")
{
    for (const AeadCase& c : aead_cases) {
        CAPTURE(info(c.cipher).name);
        CountingRng rng(0x00);  // the IV counter starts at 0001020304050607
        const Bytes key = concat(range(0x40, c.key_bytes), salt);
        Pair pair = aead_pair(c.cipher, key, rng);

        REQUIRE(pair.sender.sealed_size(plaintext.size()) == 8 + 29 + 1 + 16);  // no alignment: just Pad Length
        const auto body = pair.sender.seal(aad, plaintext);
        REQUIRE(body);
        CHECK(*body == hex(c.body));

        const auto opened = pair.receiver.open(aad, *body);
        REQUIRE(opened);
        CHECK(bytes(*opened) == plaintext);
    }
}

TEST_CASE("AEAD SK payload: each message gets the next IV")
{
    CountingRng rng(0x00);
    const Bytes key = concat(range(0x40, 16), salt);
    Pair pair = aead_pair(IkeCipher::aes128_gcm, key, rng);
    const auto first = pair.sender.seal(aad, plaintext);
    const auto second = pair.sender.seal(aad, plaintext);
    REQUIRE(first);
    REQUIRE(second);
    CHECK(Bytes(first->begin(), first->begin() + 8) == hex("0001020304050607"));
    CHECK(Bytes(second->begin(), second->begin() + 8) == hex("0001020304050608"));
    CHECK(*first != *second);
    CHECK(pair.receiver.open(aad, *second));
}

TEST_CASE("AEAD SK payload: a changed IV, ciphertext, tag or header is an authentication failure")
{
    for (const AeadCase& c : aead_cases) {
        CAPTURE(info(c.cipher).name);
        test_rng::TestRng rng{"test_sk_cipher"};
        const Bytes key = concat(range(0x40, c.key_bytes), salt);
        Pair pair = aead_pair(c.cipher, key, rng);
        const auto body = pair.sender.seal(aad, plaintext);
        REQUIRE(body);

        for (const std::size_t at : {std::size_t{0}, std::size_t{8}, body->size() - 1}) {
            Bytes tampered = *body;
            tampered[at] ^= 0x80;
            CHECK(pair.receiver.open(aad, tampered).error() == CryptoError::auth_failed);
        }
        Bytes other_header = aad;
        other_header[19] ^= 0x01;  // the exchange type
        CHECK(pair.receiver.open(other_header, *body).error() == CryptoError::auth_failed);

        // The same object still opens a good message after the failures.
        const auto opened = pair.receiver.open(aad, *body);
        REQUIRE(opened);
        CHECK(bytes(*opened) == plaintext);
    }
}

TEST_CASE("AEAD SK payload: keys of the other direction do not open it")
{
    test_rng::TestRng rng{"test_sk_cipher"};
    const Bytes key_i = concat(range(0x40, 32), salt);
    const Bytes key_r = concat(range(0x50, 32), salt);
    auto initiator = SkCipher::create(IkeCipher::aes256_gcm, IntegId::none, key_i, {}, key_r, {}, rng);
    auto responder = SkCipher::create(IkeCipher::aes256_gcm, IntegId::none, key_r, {}, key_i, {}, rng);
    REQUIRE(initiator);
    REQUIRE(responder);

    const auto request = initiator->seal(aad, plaintext);
    REQUIRE(request);
    CHECK(responder->open(aad, *request));
    CHECK(initiator->open(aad, *request).error() == CryptoError::auth_failed);  // its own message, wrong key
}

TEST_CASE("SK payload: bodies too short are truncated, not decrypted")
{
    test_rng::TestRng rng{"test_sk_cipher"};
    const Bytes key = concat(range(0x40, 16), salt);
    Pair pair = aead_pair(IkeCipher::aes128_gcm, key, rng);
    CHECK(pair.receiver.open(aad, {}).error() == CryptoError::truncated);
    CHECK(pair.receiver.open(aad, Bytes(8 + 16, 0)).error() == CryptoError::truncated);  // no Pad Length octet
    CHECK(pair.receiver.open(aad, Bytes(8 + 1 + 16, 0)).error() == CryptoError::auth_failed);

    const Bytes cbc_key = range(0x40, 16);
    const Bytes integ_key = range(0x60, 32);
    auto cbc = SkCipher::create(IkeCipher::aes128_cbc, IntegId::hmac_sha2_256_128, cbc_key, integ_key, cbc_key,
                                integ_key, rng);
    REQUIRE(cbc);
    CHECK(cbc->open(aad, Bytes(16 + 16, 0)).error() == CryptoError::truncated);          // no ciphertext
    CHECK(cbc->open(aad, Bytes(16 + 17 + 16, 0)).error() == CryptoError::truncated);     // not whole blocks
    CHECK(cbc->open(aad, Bytes(16 + 16 + 16, 0)).error() == CryptoError::auth_failed);
}

TEST_CASE("SK payload: a Pad Length past the start of the text is bad padding; any padding value is accepted")
{
    // Bodies a peer could send with valid ICVs (computed with Python as above).
    test_rng::TestRng rng{"test_sk_cipher"};
    const Bytes gcm_key = concat(range(0x40, 16), salt);
    Pair pair = aead_pair(IkeCipher::aes128_gcm, gcm_key, rng);
    // plaintext aa 05: Pad Length 5 on 2 octets.
    CHECK(pair.receiver.open(aad, hex("0001020304050607d61b50121caf9890723614bcc69472222230")).error() ==
          CryptoError::bad_padding);

    const Bytes key = range(0x40, 16);
    const Bytes integ_key = range(0x60, 32);
    auto cbc = SkCipher::create(IkeCipher::aes128_cbc, IntegId::hmac_sha2_256_128, key, integ_key, key, integ_key, rng);
    REQUIRE(cbc);
    // aa * 15 | 10: Pad Length 16 in a 16-octet text.
    CHECK(cbc->open(aad, hex("808182838485868788898a8b8c8d8e8fab5793cc1c54adb3c158c8ce975d8064"
                             "e2c763eaa7fe5d233e808ee939ca2066"))
              .error() == CryptoError::bad_padding);
    // aa * 15 | 0f: 15 octets of padding that are not zeros, nothing else (RFC 7296 section 3.14: any value).
    const auto empty = cbc->open(aad, hex("808182838485868788898a8b8c8d8e8f20b206156b8322b6a075166b632980bd"
                                          "ded9900101dde05b79c4bd8e56b0f9b5"));
    REQUIRE(empty);
    CHECK(empty->empty());
}

TEST_CASE("CBC SK payload: AES-128-CBC + HMAC-SHA-256-128 body matches the independent computation")
{
    CountingRng rng(0x80);  // the IV is 808182...8f
    const Bytes key = range(0x40, 16);
    const Bytes integ_key = range(0x60, 32);
    auto sender =
        SkCipher::create(IkeCipher::aes128_cbc, IntegId::hmac_sha2_256_128, key, integ_key, key, integ_key, rng);
    auto receiver =
        SkCipher::create(IkeCipher::aes128_cbc, IntegId::hmac_sha2_256_128, key, integ_key, key, integ_key, rng);
    REQUIRE(sender);
    REQUIRE(receiver);

    REQUIRE(sender->sealed_size(plaintext.size()) == 16 + 32 + 16);  // 29 + 2 padding + Pad Length
    const auto body = sender->seal(aad, plaintext);
    REQUIRE(body);
    CHECK(*body == hex("808182838485868788898a8b8c8d8e8f"
                       "33ef5d1ab6df99de66b744477f81affa1a27290c0a08823e4554eb66ebc8ed67"
                       "9342661227d42e60b9d7d1925fa86915"));

    const auto opened = receiver->open(aad, *body);
    REQUIRE(opened);
    CHECK(bytes(*opened) == plaintext);
}

TEST_CASE("CBC SK payload: tampering anywhere from the IKE header to the ICV fails the ICV")
{
    test_rng::TestRng rng{"test_sk_cipher"};
    const Bytes key = range(0x40, 32);
    const Bytes integ_key = range(0x60, 64);
    auto sk = SkCipher::create(IkeCipher::aes256_cbc, IntegId::hmac_sha2_512_256, key, integ_key, key, integ_key, rng);
    REQUIRE(sk);
    CHECK(sk->icv_bytes() == 32);

    const auto body = sk->seal(aad, plaintext);
    REQUIRE(body);
    REQUIRE(body->size() == sk->sealed_size(plaintext.size()));
    for (const std::size_t at : {std::size_t{0}, std::size_t{16}, body->size() - 33, body->size() - 1}) {
        Bytes tampered = *body;
        tampered[at] ^= 0x01;
        CHECK(sk->open(aad, tampered).error() == CryptoError::auth_failed);
    }
    Bytes other_header = aad;
    other_header[0] ^= 0x01;
    CHECK(sk->open(other_header, *body).error() == CryptoError::auth_failed);
    CHECK(sk->open(aad, *body));
}

TEST_CASE("SK payload: sizes for every cipher and plaintext length, round trip through a pair")
{
    struct Suite {
        IkeCipher cipher;
        IntegId integ;
    };
    const Suite suites[] = {
        {IkeCipher::aes128_gcm, IntegId::none},
        {IkeCipher::aes256_gcm, IntegId::none},
        {IkeCipher::chacha20_poly1305, IntegId::none},
        {IkeCipher::aes128_cbc, IntegId::hmac_sha2_256_128},
        {IkeCipher::aes256_cbc, IntegId::hmac_sha2_384_192},
        {IkeCipher::aes256_cbc, IntegId::hmac_sha2_512_256},
    };
    test_rng::TestRng rng{"test_sk_cipher"};
    for (const Suite& s : suites) {
        CAPTURE(info(s.cipher).name);
        const Bytes key = range(0x10, info(s.cipher).key_bytes);
        const Bytes integ_key = range(0x90, info(s.integ)->key_bytes);
        auto sk = SkCipher::create(s.cipher, s.integ, key, integ_key, key, integ_key, rng);
        REQUIRE(sk);
        for (const std::size_t n : {0, 1, 14, 15, 16, 17, 100, 1000}) {
            CAPTURE(n);
            const Bytes text = range(0x21, n);
            const auto body = sk->seal(aad, text);
            REQUIRE(body);
            CHECK(body->size() == sk->sealed_size(n));
            if (!info(s.cipher).aead)
                CHECK((body->size() - 16 - sk->icv_bytes()) % 16 == 0);
            const auto opened = sk->open(aad, *body);
            REQUIRE(opened);
            CHECK(bytes(*opened) == text);
        }
    }
}

TEST_CASE("SK cipher: made from IkeSaKeys, the original initiator and responder understand each other")
{
    test_rng::TestRng rng{"test_sk_cipher"};
    const IkeSuite suite{IkeCipher::aes256_cbc, PrfId::hmac_sha2_256, IntegId::hmac_sha2_256_128};
    IkeSaKeys keys;
    keys.sk_ei = Botan::secure_vector<std::uint8_t>(32, 0x01);
    keys.sk_er = Botan::secure_vector<std::uint8_t>(32, 0x02);
    keys.sk_ai = Botan::secure_vector<std::uint8_t>(32, 0x03);
    keys.sk_ar = Botan::secure_vector<std::uint8_t>(32, 0x04);
    auto initiator = SkCipher::create(suite, keys, SkSide::original_initiator, rng);
    auto responder = SkCipher::create(suite, keys, SkSide::original_responder, rng);
    REQUIRE(initiator);
    REQUIRE(responder);

    const auto request = initiator->seal(aad, plaintext);
    REQUIRE(request);
    CHECK(responder->open(aad, *request));
    const auto response = responder->seal(aad, plaintext);
    REQUIRE(response);
    CHECK(initiator->open(aad, *response));
    CHECK(initiator->open(aad, *request).error() == CryptoError::auth_failed);
}

TEST_CASE("SK cipher: wrong key sizes and mismatched suites are refused")
{
    test_rng::TestRng rng{"test_sk_cipher"};
    const Bytes k16(16, 1), k20(20, 1), k32(32, 1);
    CHECK(SkCipher::create(IkeCipher::aes128_gcm, IntegId::none, k16, {}, k16, {}, rng).error() ==
          CryptoError::invalid_length);  // the salt is missing
    CHECK(SkCipher::create(IkeCipher::aes128_gcm, IntegId::hmac_sha2_256_128, k20, k32, k20, k32, rng).error() ==
          CryptoError::invalid_suite);
    CHECK(SkCipher::create(IkeCipher::aes128_cbc, IntegId::none, k16, {}, k16, {}, rng).error() ==
          CryptoError::invalid_suite);
    CHECK(SkCipher::create(IkeCipher::aes128_cbc, IntegId::hmac_sha2_256_128, k16, k16, k16, k32, rng).error() ==
          CryptoError::invalid_length);
}
