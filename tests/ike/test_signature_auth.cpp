// Signature AUTH payloads: RFC 7427 method 14 and the RFC 7296 / RFC 4754
// classic methods, signed and verified with the test PKI's keys; the RFC 7427
// Appendix A AlgorithmIdentifiers; SIGNATURE_HASH_ALGORITHMS negotiation.

#include "ike/signature_auth.hpp"
#include "pki_helpers.hpp"

#include <doctest/doctest.h>

#include <botan/ber_dec.h>
#include <botan/pubkey.h>

#include <array>
#include <string>
#include <vector>

using namespace mesh::ike;
using namespace mesh::ike::test_pki;

namespace {

using Bytes = std::vector<std::uint8_t>;

// Stands in for the signed octets of RFC 7296 section 2.15.
Bytes octets()
{
    Bytes out;
    for (int i = 0; i < 300; ++i)
        out.push_back(static_cast<std::uint8_t>(i * 7 + 3));
    return out;
}

const Botan::Private_Key& p521_key()
{
    static const auto key = ecdsa_key("secp521r1");
    return *key;
}

Bytes sign14(const Botan::Private_Key& key, SignatureHash hash)
{
    auto data = sign_auth(key, octets(), hash, rng());
    REQUIRE(data.has_value());
    return *data;
}

Bytes sign_classic(const Botan::Private_Key& key)
{
    auto data = sign_auth_classic(key, octets(), rng());
    REQUIRE(data.has_value());
    return *data;
}

// Method 14 data built by hand: length, AlgorithmIdentifier, signature.
Bytes method14(std::span<const std::uint8_t> alg_id, std::span<const std::uint8_t> signature)
{
    Bytes out{static_cast<std::uint8_t>(alg_id.size())};
    out.insert(out.end(), alg_id.begin(), alg_id.end());
    out.insert(out.end(), signature.begin(), signature.end());
    return out;
}

Bytes botan_sign(const Botan::Private_Key& key, const std::string& emsa,
                 Botan::Signature_Format format = Botan::IEEE_1363)
{
    Botan::PK_Signer signer(key, rng(), emsa, format);
    const Bytes data = octets();
    return signer.sign_message(data, rng());
}

Bytes hashes(std::initializer_list<std::uint16_t> ids)
{
    Bytes out;
    for (const auto id : ids) {
        out.push_back(static_cast<std::uint8_t>(id >> 8));
        out.push_back(static_cast<std::uint8_t>(id & 0xff));
    }
    return out;
}

// RFC 7427 Appendix A, the DER of the AlgorithmIdentifiers:
//   A.1 sha256WithRSAEncryption (1.2.840.113549.1.1.11), parameters NULL, 15 bytes
constexpr std::array<std::uint8_t, 15> rfc7427_sha256_with_rsa{
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
//   A.3 ecdsa-with-SHA256 (1.2.840.10045.4.3.2), no parameters, 12 bytes
constexpr std::array<std::uint8_t, 12> rfc7427_ecdsa_with_sha256{
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
//   A.4.3 RSASSA-PSS with SHA-256: MGF1 with SHA-256, salt 32, trailer 1 written out
constexpr std::array<std::uint8_t, 72> rfc7427_rsassa_pss_sha256{
    0x30, 0x46, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x39, 0xa0, 0x0f, 0x30,
    0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a,
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48,
    0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x20, 0xa3, 0x03, 0x02, 0x01, 0x01};
// sha1WithRSAEncryption (1.2.840.113549.1.1.5)
constexpr std::array<std::uint8_t, 15> sha1_with_rsa{
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00};

bool same(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b)
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

} // namespace

// ---------------------------------------------------------------------------
// RFC 7427 Appendix A

TEST_CASE("the AlgorithmIdentifiers we send are RFC 7427 Appendix A's bytes")
{
    const auto& ecdsa = *lab().ecdsa_leaf.key;
    const auto& rsa = *lab().rsa_leaf.key;
    CHECK(same(signature_algorithm_identifier(ecdsa, SignatureHash::sha256), rfc7427_ecdsa_with_sha256));
    CHECK(same(signature_algorithm_identifier(rsa, SignatureHash::sha256), rfc7427_sha256_with_rsa));
    // SHA-384 and SHA-512 differ from SHA-256 in the OID's last arc only.
    auto ecdsa384 = Bytes(rfc7427_ecdsa_with_sha256.begin(), rfc7427_ecdsa_with_sha256.end());
    ecdsa384.back() = 0x03;
    CHECK(same(signature_algorithm_identifier(ecdsa, SignatureHash::sha384), ecdsa384));
    auto rsa512 = Bytes(rfc7427_sha256_with_rsa.begin(), rfc7427_sha256_with_rsa.end());
    rsa512[12] = 0x0d;
    CHECK(same(signature_algorithm_identifier(rsa, SignatureHash::sha512), rsa512));
    CHECK(signature_algorithm_identifier(rsa, SignatureHash::sha1).empty());
    CHECK(signature_algorithm_identifier(rsa, SignatureHash::identity).empty());

    // In the Authentication Data: the ASN.1 Length, the object, the signature.
    const Bytes data = sign14(ecdsa, SignatureHash::sha256);
    CHECK(data[0] == 12);
    CHECK(same(std::span(data).subspan(1, 12), rfc7427_ecdsa_with_sha256));
    const Bytes rsa_data = sign14(rsa, SignatureHash::sha256);
    CHECK(rsa_data[0] == 15);
    CHECK(same(std::span(rsa_data).subspan(1, 15), rfc7427_sha256_with_rsa));
    CHECK(rsa_data.size() == 1 + 15 + 256);   // RSA-2048
}

TEST_CASE("method 14 ECDSA signatures are DER Ecdsa-Sig-Value")
{
    const Bytes data = sign14(*lab().ecdsa_leaf.key, SignatureHash::sha256);
    const auto signature = std::span(data).subspan(1 + 12);
    REQUIRE_FALSE(signature.empty());
    CHECK(signature[0] == 0x30);
    Botan::BigInt r;
    Botan::BigInt s;
    Botan::BER_Decoder outer(signature.data(), signature.size());
    outer.start_cons(Botan::SEQUENCE).decode(r).decode(s).end_cons();
    outer.verify_end();
    CHECK(r > 0);
    CHECK(s > 0);
}

// ---------------------------------------------------------------------------
// Round trips

TEST_CASE("method 14 round trips for RSA and ECDSA keys with each hash")
{
    const Botan::Private_Key* keys[] = {lab().rsa_leaf.key.get(), lab().ecdsa_leaf.key.get(),
                                        lab().p384_leaf.key.get(), &p521_key()};
    for (const auto* key : keys) {
        for (const auto hash : {SignatureHash::sha256, SignatureHash::sha384, SignatureHash::sha512}) {
            INFO(key->algo_name() << " " << key->key_length() << " hash " << static_cast<int>(hash));
            const Bytes data = sign14(*key, hash);
            CHECK(verify_auth(*key, AuthMethod::digital_signature, data, octets()));
            // Verified with the public key of the certificate, as a peer does.
            if (key == lab().rsa_leaf.key.get())
                CHECK(verify_auth(*lab().rsa_leaf.cert.load_subject_public_key(), AuthMethod::digital_signature,
                                  data, octets()));
        }
    }
}

TEST_CASE("classic methods round trip: RSA 1, ECDSA 9, 10, 11")
{
    struct Case {
        const Botan::Private_Key* key;
        AuthMethod method;
        std::size_t length;
    };
    const Case cases[] = {
        {lab().rsa_leaf.key.get(), AuthMethod::rsa_signature, 256},
        {lab().ecdsa_leaf.key.get(), AuthMethod::ecdsa_sha256_p256, 64},
        {lab().p384_leaf.key.get(), AuthMethod::ecdsa_sha384_p384, 96},
        {&p521_key(), AuthMethod::ecdsa_sha512_p521, 132},
    };
    for (const Case& c : cases) {
        INFO("method " << static_cast<int>(c.method));
        const auto method = classic_auth_method(*c.key);
        REQUIRE(method.has_value());
        CHECK(*method == c.method);
        const Bytes data = sign_classic(*c.key);
        CHECK(data.size() == c.length);   // RFC 4754: r | s, each as long as the order
        CHECK(verify_auth(*c.key, c.method, data, octets()));
        // Another method number over the same bytes does not verify.
        CHECK_FALSE(verify_auth(*c.key, AuthMethod::digital_signature, data, octets()));
    }
}

TEST_CASE("method 1 is RSASSA-PKCS1-v1_5 with SHA-1")
{
    const auto& key = *lab().rsa_leaf.key;
    CHECK(verify_auth(key, AuthMethod::rsa_signature, botan_sign(key, "EMSA3(SHA-160)"), octets()));
    CHECK_FALSE(verify_auth(key, AuthMethod::rsa_signature, botan_sign(key, "EMSA3(SHA-256)"), octets()));
}

TEST_CASE("tampered octets, signatures or keys do not verify")
{
    const auto& rsa = *lab().rsa_leaf.key;
    const auto& ecdsa = *lab().ecdsa_leaf.key;
    struct Case {
        const Botan::Private_Key* key;
        AuthMethod method;
        Bytes data;
        const Botan::Private_Key* other;
    };
    const Case cases[] = {
        {&rsa, AuthMethod::digital_signature, sign14(rsa, SignatureHash::sha256), lab().rsa_leaf.key.get()},
        {&ecdsa, AuthMethod::digital_signature, sign14(ecdsa, SignatureHash::sha256), lab().revoked_leaf.key.get()},
        {&rsa, AuthMethod::rsa_signature, sign_classic(rsa), nullptr},
        {&ecdsa, AuthMethod::ecdsa_sha256_p256, sign_classic(ecdsa), lab().revoked_leaf.key.get()},
    };
    for (const Case& c : cases) {
        INFO("method " << static_cast<int>(c.method));
        REQUIRE(verify_auth(*c.key, c.method, c.data, octets()));

        Bytes changed = octets();
        changed[100] ^= 0x01;
        CHECK_FALSE(verify_auth(*c.key, c.method, c.data, changed));
        Bytes shorter = octets();
        shorter.pop_back();
        CHECK_FALSE(verify_auth(*c.key, c.method, c.data, shorter));

        Bytes bad = c.data;
        bad.back() ^= 0x40;
        CHECK_FALSE(verify_auth(*c.key, c.method, bad, octets()));
        Bytes cut = c.data;
        cut.pop_back();
        CHECK_FALSE(verify_auth(*c.key, c.method, cut, octets()));

        // Another key of the same type.
        if (c.other != nullptr && c.other != c.key)
            CHECK_FALSE(verify_auth(*c.other, c.method, c.data, octets()));
    }
}

// ---------------------------------------------------------------------------
// What is refused

TEST_CASE("the algorithm must fit the key and the method its curve")
{
    const auto& rsa = *lab().rsa_leaf.key;
    const auto& p256 = *lab().ecdsa_leaf.key;
    const auto& p384 = *lab().p384_leaf.key;

    // An ECDSA AlgorithmIdentifier with an RSA key, and the reverse.
    const Bytes ecdsa_sig = botan_sign(p256, "EMSA1(SHA-256)", Botan::DER_SEQUENCE);
    CHECK_FALSE(verify_auth(rsa, AuthMethod::digital_signature, method14(rfc7427_ecdsa_with_sha256, ecdsa_sig),
                            octets()));
    const auto why = check_auth(rsa, AuthMethod::digital_signature, method14(rfc7427_ecdsa_with_sha256, ecdsa_sig),
                                octets());
    REQUIRE_FALSE(why.has_value());
    CHECK(why.error().find("for ECDSA keys, but the key is RSA") != std::string::npos);
    const Bytes rsa_sig = botan_sign(rsa, "EMSA3(SHA-256)");
    CHECK(verify_auth(rsa, AuthMethod::digital_signature, method14(rfc7427_sha256_with_rsa, rsa_sig), octets()));
    CHECK_FALSE(verify_auth(p256, AuthMethod::digital_signature, method14(rfc7427_sha256_with_rsa, rsa_sig),
                            octets()));

    // RFC 4754 ties the method to the curve: a P-384 key under method 9.
    const Bytes p384_sig_sha256 = botan_sign(p384, "EMSA1(SHA-256)");
    CHECK_FALSE(verify_auth(p384, AuthMethod::ecdsa_sha256_p256, p384_sig_sha256, octets()));
    CHECK_FALSE(verify_auth(p256, AuthMethod::rsa_signature, sign_classic(p256), octets()));
    CHECK_FALSE(verify_auth(rsa, AuthMethod::ecdsa_sha256_p256, sign_classic(rsa), octets()));

    // Method 9 is r | s, not DER.
    CHECK_FALSE(verify_auth(p256, AuthMethod::ecdsa_sha256_p256, ecdsa_sig, octets()));

    // Not signature methods.
    for (const auto method : {AuthMethod::shared_key_mic, AuthMethod::dss_signature, AuthMethod{99}})
        CHECK_FALSE(verify_auth(rsa, method, rsa_sig, octets()));
}

TEST_CASE("SHA-1 under method 14 is refused")
{
    const auto& rsa = *lab().rsa_leaf.key;
    const Bytes sig = botan_sign(rsa, "EMSA3(SHA-160)");
    const auto why = check_auth(rsa, AuthMethod::digital_signature, method14(sha1_with_rsa, sig), octets());
    REQUIRE_FALSE(why.has_value());
    CHECK(why.error().find("not accepted") != std::string::npos);
}

TEST_CASE("RSASSA-PSS with RFC 7427 A.4.3's AlgorithmIdentifier verifies; other salts do not")
{
    const auto& rsa = *lab().rsa_leaf.key;
    CHECK(verify_auth(rsa, AuthMethod::digital_signature,
                      method14(rfc7427_rsassa_pss_sha256, botan_sign(rsa, "PSSR(SHA-256,MGF1,32)")), octets()));
    CHECK_FALSE(verify_auth(rsa, AuthMethod::digital_signature,
                            method14(rfc7427_rsassa_pss_sha256, botan_sign(rsa, "PSSR(SHA-256,MGF1,20)")), octets()));
    CHECK_FALSE(verify_auth(rsa, AuthMethod::digital_signature,
                            method14(rfc7427_sha256_with_rsa, botan_sign(rsa, "PSSR(SHA-256,MGF1,32)")), octets()));
    // RSASSA-PSS with the default (SHA-1) parameters: { OID } alone.
    const Bytes pss_defaults{0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
    CHECK_FALSE(verify_auth(rsa, AuthMethod::digital_signature,
                            method14(pss_defaults, botan_sign(rsa, "PSSR(SHA-160,MGF1,20)")), octets()));
}

TEST_CASE("malformed method 14 data is refused without an exception")
{
    const auto& key = *lab().ecdsa_leaf.key;
    const Bytes good = sign14(key, SignatureHash::sha256);
    const auto signature = std::span(good).subspan(13);
    Bytes trailing(rfc7427_ecdsa_with_sha256.begin(), rfc7427_ecdsa_with_sha256.end());
    trailing.push_back(0x00);
    Bytes with_null{0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x05, 0x00};
    Bytes with_params{0x30, 0x0d, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x02, 0x01, 0x01};
    Bytes lying_length = good;
    lying_length[0] = 11;

    const Bytes cases[] = {
        {},
        {0x00},
        {0x0c},
        Bytes(good.begin(), good.begin() + 13),          // no signature
        {0xff, 0x30, 0x0a},                              // length past the end
        method14(Bytes{0x04, 0x02, 0x00, 0x00}, signature),   // not a SEQUENCE
        method14(trailing, signature),                   // a byte after the SEQUENCE
        method14(with_params, signature),                // parameters where none belong
        lying_length,
        Bytes(good.size(), 0xff),
    };
    for (const Bytes& data : cases) {
        INFO("size " << data.size());
        CHECK_FALSE(verify_auth(key, AuthMethod::digital_signature, data, octets()));
    }
    // A NULL where the parameters are absent is tolerated.
    CHECK(verify_auth(key, AuthMethod::digital_signature, method14(with_null, signature), octets()));
}

TEST_CASE("a peer key weaker than RSA-2048 is refused")
{
    const auto weak = rsa_key(1024);
    const Bytes data = method14(rfc7427_sha256_with_rsa, botan_sign(*weak, "EMSA3(SHA-256)"));
    const auto why = check_auth(*weak, AuthMethod::digital_signature, data, octets());
    REQUIRE_FALSE(why.has_value());
    CHECK(why.error().find("too weak") != std::string::npos);
}

// ---------------------------------------------------------------------------
// Negotiation

TEST_CASE("SIGNATURE_HASH_ALGORITHMS lists sha256, sha384, sha512")
{
    CHECK(signature_hash_algorithms_data() == Bytes{0x00, 0x02, 0x00, 0x03, 0x00, 0x04});
}

TEST_CASE("choose_signature_hash prefers SHA-256, then SHA-384, then SHA-512")
{
    CHECK(choose_signature_hash(hashes({1, 2, 3, 4})) == SignatureHash::sha256);
    CHECK(choose_signature_hash(hashes({4, 3, 2})) == SignatureHash::sha256);
    CHECK(choose_signature_hash(hashes({4, 3})) == SignatureHash::sha384);
    CHECK(choose_signature_hash(hashes({5, 4, 1})) == SignatureHash::sha512);
    CHECK(choose_signature_hash(hashes({1})) == std::nullopt);
    CHECK(choose_signature_hash(hashes({5, 0x1234})) == std::nullopt);
    CHECK(choose_signature_hash(Bytes{}) == std::nullopt);
    CHECK(choose_signature_hash(Bytes{0x00, 0x02, 0x00}) == std::nullopt);   // not whole 16-bit values
}

TEST_CASE("choose_signature_hash with a key prefers the hash of the key's strength")
{
    const auto all = hashes({2, 3, 4});
    CHECK(choose_signature_hash(all, *lab().ecdsa_leaf.key) == SignatureHash::sha256);
    CHECK(choose_signature_hash(all, *lab().rsa_leaf.key) == SignatureHash::sha256);
    CHECK(choose_signature_hash(all, *lab().p384_leaf.key) == SignatureHash::sha384);
    CHECK(choose_signature_hash(all, p521_key()) == SignatureHash::sha512);
    // Then stronger ones, then weaker ones.
    CHECK(choose_signature_hash(hashes({2, 4}), *lab().p384_leaf.key) == SignatureHash::sha512);
    CHECK(choose_signature_hash(hashes({2}), *lab().p384_leaf.key) == SignatureHash::sha256);
    CHECK(choose_signature_hash(hashes({2, 3}), p521_key()) == SignatureHash::sha384);
    CHECK(choose_signature_hash(hashes({1}), p521_key()) == std::nullopt);
}

TEST_CASE("classic_auth_method has no method for curves RFC 4754 does not name")
{
    const auto brainpool = ecdsa_key("brainpool256r1");
    const auto method = classic_auth_method(*brainpool);
    REQUIRE_FALSE(method.has_value());
    CHECK(method.error().find("RFC 7427") != std::string::npos);
    // It still signs under method 14.
    const Bytes data = sign14(*brainpool, SignatureHash::sha256);
    CHECK(verify_auth(*brainpool, AuthMethod::digital_signature, data, octets()));
    const auto auth = make_signature_auth(*brainpool, std::nullopt, octets(), rng());
    CHECK_FALSE(auth.has_value());
}

TEST_CASE("make_signature_auth: method 14 when the peer sent the notify, else the classic method")
{
    const auto& rsa = *lab().rsa_leaf.key;
    const auto& p384 = *lab().p384_leaf.key;
    const Bytes peer = hashes({2, 3, 4});

    const auto rsa14 = make_signature_auth(rsa, peer, octets(), rng());
    REQUIRE(rsa14.has_value());
    CHECK(rsa14->method == AuthMethod::digital_signature);
    CHECK(same(std::span(rsa14->data).subspan(1, 15), rfc7427_sha256_with_rsa));
    CHECK(verify_auth(rsa, rsa14->method, rsa14->data, octets()));

    const auto p384_14 = make_signature_auth(p384, peer, octets(), rng());
    REQUIRE(p384_14.has_value());
    CHECK(p384_14->method == AuthMethod::digital_signature);
    CHECK(same(std::span(p384_14->data).subspan(1, 12), signature_algorithm_identifier(p384, SignatureHash::sha384)));
    CHECK(verify_auth(p384, p384_14->method, p384_14->data, octets()));

    // No notify, or one with nothing in common: RFC 7296 / RFC 4754.
    const auto rsa1 = make_signature_auth(rsa, std::nullopt, octets(), rng());
    REQUIRE(rsa1.has_value());
    CHECK(rsa1->method == AuthMethod::rsa_signature);
    CHECK(verify_auth(rsa, rsa1->method, rsa1->data, octets()));
    const Bytes sha1_only = hashes({1});
    const auto p384_10 = make_signature_auth(p384, sha1_only, octets(), rng());
    REQUIRE(p384_10.has_value());
    CHECK(p384_10->method == AuthMethod::ecdsa_sha384_p384);
    CHECK(verify_auth(p384, p384_10->method, p384_10->data, octets()));
}

TEST_CASE("sign_auth refuses hashes it does not announce")
{
    const auto& key = *lab().ecdsa_leaf.key;
    CHECK_FALSE(sign_auth(key, octets(), SignatureHash::sha1, rng()).has_value());
    CHECK_FALSE(sign_auth(key, octets(), SignatureHash::identity, rng()).has_value());
    CHECK_FALSE(sign_auth(key, octets(), SignatureHash{77}, rng()).has_value());
}
