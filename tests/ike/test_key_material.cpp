// IKE SA and CHILD SA keys, and the AUTH inputs (RFC 7296 sections 2.14,
// 2.15, 2.17, 2.18).
//
// No RFC publishes IKEv2 key-derivation vectors, so the expected values were
// computed independently with Python 3's hmac/hashlib from the formulas of
// those sections (prf = hmac.new(K, S, H).digest(), prf+ as in test_prf.cpp):
//   Ni = 0x11 * 32, Nr = 0x22 * 32, g^ir = 0x33 * 32,
//   SPIi = 0102030405060708, SPIr = a1a2a3a4a5a6a7a8,
//   SK_d (old) = 0x44 * 32 for the rekey, SK_d = 0x55 * 32 for the CHILD SAs.

#include "ike/key_material.hpp"

#include "tests/hex.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

using namespace mesh::ike;
using mesh::tunnel::EspCipher;
using mesh::tunnel::EspIntegrity;

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

const Bytes ni(32, 0x11);
const Bytes nr(32, 0x22);
const Bytes g_ir(32, 0x33);
constexpr std::uint64_t spi_i = 0x0102030405060708;
constexpr std::uint64_t spi_r = 0xa1a2a3a4a5a6a7a8;

IkeSaKeys derive(const IkeSuite& suite)
{
    Prf prf = make(suite.prf);
    const auto seed = skeyseed(prf, ni, nr, g_ir);
    auto keys = derive_ike_sa_keys(prf, suite, seed, ni, nr, spi_i, spi_r);
    REQUIRE(keys);
    return std::move(*keys);
}

} // namespace

TEST_CASE("IKE SA: SKEYSEED and the seven keys, AES-128-CBC with HMAC-SHA-256")
{
    Prf prf = make(PrfId::hmac_sha2_256);
    CHECK(bytes(skeyseed(prf, ni, nr, g_ir)) ==
          hex("27d5c053aba7808dccba40fc66bfa0094129483e592db687e7345ec0550da58e"));

    const IkeSaKeys keys = derive({IkeCipher::aes128_cbc, PrfId::hmac_sha2_256, IntegId::hmac_sha2_256_128});
    CHECK(bytes(keys.sk_d) == hex("478d3a985db0613d43caeaed7a61fe3731a760fc7a59d1d0a179f063e3478659"));
    CHECK(bytes(keys.sk_ai) == hex("a41081a7c360667797ed2d30ff22cea341933d7e3b4fc4e157d9b7c1cb214ead"));
    CHECK(bytes(keys.sk_ar) == hex("2ab087af5b5a69ed1a451b12b79cb116b5ff5f036e9ab6888844446734720e53"));
    CHECK(bytes(keys.sk_ei) == hex("8160c50eeb0cf3b57d67fd38bdc3fb86"));
    CHECK(bytes(keys.sk_er) == hex("10a5937bb9b68a92cd5602cc68ed6421"));
    CHECK(bytes(keys.sk_pi) == hex("60fccb9026fbb7c43eea05e7c667fa70b8701eb696aebf33dcb2819f29bcf1bd"));
    CHECK(bytes(keys.sk_pr) == hex("bbd9fe2bb1d5fe2cf8569a7e77aae0ea232b370be771e9c0491a358b0e008626"));
}

TEST_CASE("IKE SA: AES-256-GCM with PRF-HMAC-SHA-384 has no SK_a and a salted SK_e")
{
    const IkeSaKeys keys = derive({IkeCipher::aes256_gcm, PrfId::hmac_sha2_384, IntegId::none});
    CHECK(bytes(keys.sk_d) == hex("53540d3a38ec019922c79d1fb90a63b3dcf473670cecec88ca4e4fbe61670958"
                                  "363433930129f22747b38643ec318dcb"));
    CHECK(keys.sk_ai.empty());  // RFC 5282 section 7.1
    CHECK(keys.sk_ar.empty());
    CHECK(bytes(keys.sk_ei) == hex("54bbc7321b65d621717dce12e43a88acb774eceb44d85bb3ad9be74dfa732481"
                                   "78361571"));  // 32-byte key, 4-byte salt
    CHECK(bytes(keys.sk_er) == hex("89a1c7c4b3145dc6701aabf963fd3e2db5d5dc71bf9bb04e86b1c526c87d861f"
                                   "c9bd21cc"));
    CHECK(bytes(keys.sk_pi) == hex("124257effd591be1503f4fa8bb1f244d6f90a2f71fe7729036a6ae5d9a159172"
                                   "4e0f0bb85a9e235cc1bdac13cfdb6c10"));
    CHECK(bytes(keys.sk_pr) == hex("c5e96df6e4e723d9c848df03ba05a88ac222e6bf4684eebd4532dad630f78005"
                                   "a2c55bdf10748232bce530d03c4e61d8"));
}

TEST_CASE("IKE SA: ChaCha20-Poly1305 with PRF-HMAC-SHA-512")
{
    const IkeSaKeys keys = derive({IkeCipher::chacha20_poly1305, PrfId::hmac_sha2_512, IntegId::none});
    CHECK(keys.sk_d.size() == 64);
    CHECK(keys.sk_ai.empty());
    CHECK(bytes(keys.sk_ei) == hex("e1bbbd574ee3f65aaa291c0bf3aee992a0b41f438ac3d1b6fd6424f7aff6a2ee"
                                   "85d65761"));  // RFC 7634 section 4: 32 + 4
    CHECK(bytes(keys.sk_er) == hex("34360fc933babb074014f252c3e5e745170ed279ed0be93feb428696b3c6f385"
                                   "60864231"));
    CHECK(bytes(keys.sk_pr) == hex("543bc90002789cf1b512c1ac83e891ffac7c0e7e0d1aac806738366ef2ac73ad"
                                   "424d5c2d0bff8a78a341d884d0a18f6e84cb158ad6d0131c9858da666c072703"));
}

TEST_CASE("IKE SA: key lengths per suite")
{
    struct Row {
        IkeCipher cipher;
        PrfId prf;
        std::size_t prf_bytes, integ_bytes, encr_bytes;
    };
    const Row rows[] = {
        {IkeCipher::aes128_gcm, PrfId::hmac_sha2_256, 32, 0, 16 + 4},
        {IkeCipher::aes256_gcm, PrfId::hmac_sha2_256, 32, 0, 32 + 4},
        {IkeCipher::chacha20_poly1305, PrfId::hmac_sha2_384, 48, 0, 32 + 4},
        {IkeCipher::aes128_cbc, PrfId::hmac_sha2_256, 32, 32, 16},
        {IkeCipher::aes256_cbc, PrfId::hmac_sha2_384, 48, 48, 32},
        {IkeCipher::aes256_cbc, PrfId::hmac_sha2_512, 64, 64, 32},
    };
    for (const Row& row : rows) {
        const IkeSuite suite{row.cipher, row.prf, integ_for(row.cipher, row.prf)};
        CAPTURE(info(suite.cipher).name);
        CAPTURE(info(suite.prf)->name);
        const auto lengths = ike_key_lengths(suite);
        REQUIRE(lengths);
        CHECK(lengths->prf == row.prf_bytes);
        CHECK(lengths->integ == row.integ_bytes);
        CHECK(lengths->encr == row.encr_bytes);

        const IkeSaKeys keys = derive(suite);
        CHECK(keys.sk_d.size() == row.prf_bytes);
        CHECK(keys.sk_ai.size() == row.integ_bytes);
        CHECK(keys.sk_ar.size() == row.integ_bytes);
        CHECK(keys.sk_ei.size() == row.encr_bytes);
        CHECK(keys.sk_er.size() == row.encr_bytes);
        CHECK(keys.sk_pi.size() == row.prf_bytes);
        CHECK(keys.sk_pr.size() == row.prf_bytes);
    }
}

TEST_CASE("IKE SA: an AEAD with integrity, CBC without, or the wrong PRF object is refused")
{
    Prf prf = make(PrfId::hmac_sha2_256);
    const auto seed = skeyseed(prf, ni, nr, g_ir);
    CHECK(derive_ike_sa_keys(prf, {IkeCipher::aes128_gcm, PrfId::hmac_sha2_256, IntegId::hmac_sha2_256_128}, seed,
                             ni, nr, spi_i, spi_r)
              .error() == CryptoError::invalid_suite);
    CHECK(derive_ike_sa_keys(prf, {IkeCipher::aes128_cbc, PrfId::hmac_sha2_256, IntegId::none}, seed, ni, nr, spi_i,
                             spi_r)
              .error() == CryptoError::invalid_suite);
    CHECK(derive_ike_sa_keys(prf, {IkeCipher::aes128_gcm, PrfId::hmac_sha2_384, IntegId::none}, seed, ni, nr, spi_i,
                             spi_r)
              .error() == CryptoError::invalid_suite);
}

TEST_CASE("IKE SA rekey: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)")
{
    Prf prf = make(PrfId::hmac_sha2_256);
    const Bytes old_sk_d(32, 0x44);
    CHECK(bytes(rekey_skeyseed(prf, old_sk_d, g_ir, ni, nr)) ==
          hex("0f4513968d6af45050436dcdc783abad1f1c670cd6b3bce13dc9f5784b04fa36"));
}

TEST_CASE("CHILD SA: KEYMAT split encr_i | integ_i | encr_r | integ_r, AES-128-CBC + HMAC-SHA-256-128, no PFS")
{
    Prf prf = make(PrfId::hmac_sha2_256);
    const Bytes sk_d(32, 0x55);
    const auto keys = derive_child_sa_keys(prf, sk_d, EspCipher::aes128_cbc, EspIntegrity::hmac_sha256_128, {}, ni, nr);
    REQUIRE(keys);
    CHECK(bytes(keys->encr_i) == hex("c430a7fd8b4e1724bdc1657bb06031e8"));
    CHECK(bytes(keys->integ_i) == hex("b3b973fc515200e6a15345a6826407c41dca5b89f419aa0d27015b4dc3332a2b"));
    CHECK(bytes(keys->encr_r) == hex("1eddf2c69ccb2acbf131c7c0848058bb"));
    CHECK(bytes(keys->integ_r) == hex("1bf3d85c195513e638fe93a6cf12610be9ea487cb742b7aca6f27d45777ec5a1"));
}

TEST_CASE("CHILD SA: with PFS g^ir (new) leads the seed; AES-256-GCM keys carry the salt")
{
    Prf prf = make(PrfId::hmac_sha2_256);
    const Bytes sk_d(32, 0x55);
    const auto keys = derive_child_sa_keys(prf, sk_d, EspCipher::aes256_gcm, EspIntegrity::none, g_ir, ni, nr);
    REQUIRE(keys);
    CHECK(bytes(keys->encr_i) == hex("85126126f890e4e34e307a06f6608e939603000ec145dc2e063db57401079181c007d776"));
    CHECK(keys->integ_i.empty());
    CHECK(bytes(keys->encr_r) == hex("7499dc7f437b10ede6d30204e7dd2b6768cd472c3ec025f3c145fb1bd31955cb542e31cf"));
    CHECK(keys->integ_r.empty());
}

TEST_CASE("CHILD SA: key lengths per ESP suite, and suites that do not go together")
{
    struct Row {
        EspCipher cipher;
        EspIntegrity integrity;
        std::size_t encr_bytes, integ_bytes;
    };
    const Row rows[] = {
        {EspCipher::aes128_gcm, EspIntegrity::none, 20, 0},
        {EspCipher::aes256_gcm, EspIntegrity::none, 36, 0},
        {EspCipher::chacha20_poly1305, EspIntegrity::none, 36, 0},
        {EspCipher::aes128_cbc, EspIntegrity::hmac_sha256_128, 16, 32},
        {EspCipher::aes256_cbc, EspIntegrity::hmac_sha384_192, 32, 48},
        {EspCipher::aes256_cbc, EspIntegrity::hmac_sha512_256, 32, 64},
    };
    Prf prf = make(PrfId::hmac_sha2_512);
    const Bytes sk_d(64, 0x55);
    for (const Row& row : rows) {
        CAPTURE(mesh::tunnel::info(row.cipher).name);
        const auto keys = derive_child_sa_keys(prf, sk_d, row.cipher, row.integrity, {}, ni, nr);
        REQUIRE(keys);
        CHECK(keys->encr_i.size() == row.encr_bytes);
        CHECK(keys->encr_r.size() == row.encr_bytes);
        CHECK(keys->integ_i.size() == row.integ_bytes);
        CHECK(keys->integ_r.size() == row.integ_bytes);
        CHECK(keys->encr_i != keys->encr_r);
    }
    CHECK(derive_child_sa_keys(prf, sk_d, EspCipher::aes128_gcm, EspIntegrity::hmac_sha256_128, {}, ni, nr).error() ==
          CryptoError::invalid_suite);
    CHECK(derive_child_sa_keys(prf, sk_d, EspCipher::aes128_cbc, EspIntegrity::none, {}, ni, nr).error() ==
          CryptoError::invalid_suite);
}

TEST_CASE("CHILD SA: SaParams per direction take the _i keys from initiator to responder")
{
    Prf prf = make(PrfId::hmac_sha2_256);
    const Bytes sk_d(32, 0x55);
    const auto keys = derive_child_sa_keys(prf, sk_d, EspCipher::aes256_cbc, EspIntegrity::hmac_sha256_128, {}, ni, nr);
    REQUIRE(keys);

    const auto to_responder = child_sa_params(*keys, ChildSaDirection::initiator_to_responder, 0x2001, true);
    CHECK(to_responder.spi == 0x2001);
    CHECK(to_responder.cipher == EspCipher::aes256_cbc);
    CHECK(to_responder.integrity == EspIntegrity::hmac_sha256_128);
    CHECK(to_responder.cipher_key == keys->encr_i);
    CHECK(to_responder.integrity_key == keys->integ_i);
    CHECK(to_responder.esn);

    const auto to_initiator = child_sa_params(*keys, ChildSaDirection::responder_to_initiator, 0x1001, false);
    CHECK(to_initiator.cipher_key == keys->encr_r);
    CHECK(to_initiator.integrity_key == keys->integ_r);
    CHECK_FALSE(to_initiator.esn);
}

TEST_CASE("AUTH: signed octets and the pre-shared-key AUTH value (RFC 7296 section 2.15)")
{
    Prf prf = make(PrfId::hmac_sha2_256);
    Bytes real_message(28, 0);
    const Bytes tail = text("RealMessage1");
    real_message.insert(real_message.end(), tail.begin(), tail.end());
    const Bytes sk_pi(32, 0x66);
    Bytes id_body{2, 0, 0, 0};  // ID_FQDN, RESERVED
    const Bytes fqdn = text("site-a.example");
    id_body.insert(id_body.end(), fqdn.begin(), fqdn.end());

    const Bytes octets = signed_octets(prf, real_message, nr, sk_pi, id_body);
    const Bytes maced_id = hex("0ae8a152a6f955dd82e90e81c2b7ec6f57f8a55d74073cb5a4667d79fa257541");
    REQUIRE(octets.size() == real_message.size() + nr.size() + maced_id.size());
    CHECK(Bytes(octets.begin(), octets.begin() + 40) == real_message);
    CHECK(Bytes(octets.begin() + 40, octets.begin() + 72) == nr);
    CHECK(Bytes(octets.begin() + 72, octets.end()) == maced_id);

    const Bytes secret = text("YourSecretKey123");
    const Bytes auth = hex("2c35af97d3101fe07677afd11eafbab48c16bfdf9342c41ca39fe16af8aa10ea");
    CHECK(bytes(psk_auth(prf, secret, octets)) == auth);
    CHECK(verify_psk_auth(prf, secret, octets, auth));

    Bytes wrong = auth;
    wrong[31] ^= 0x01;
    CHECK_FALSE(verify_psk_auth(prf, secret, octets, wrong));
    CHECK_FALSE(verify_psk_auth(prf, secret, octets, Bytes(auth.begin(), auth.end() - 1)));
    CHECK_FALSE(verify_psk_auth(prf, text("YourSecretKey124"), octets, auth));
}

// The tables of crypto_suite.hpp that the key lengths above come from.
TEST_CASE("Suites: configuration names map to IANA transform IDs and back")
{
    struct CipherRow {
        std::string_view name;
        std::uint16_t id;
        std::uint16_t key_bits;
    };
    const CipherRow ciphers[] = {
        {"aes-256-gcm", 20, 256}, {"aes-128-gcm", 20, 128}, {"aes-256", 12, 256},
        {"aes-128", 12, 128},     {"chacha20-poly1305", 28, no_key_length},
    };
    for (const CipherRow& row : ciphers) {
        CAPTURE(row.name);
        const auto cipher = parse_ike_cipher(row.name);
        REQUIRE(cipher);
        CHECK(static_cast<std::uint16_t>(info(*cipher).id) == row.id);
        CHECK(info(*cipher).key_bits == row.key_bits);
        CHECK(find_ike_cipher(row.id, row.key_bits) == cipher);
        CHECK(transform_name(TransformType::encr, row.id, row.key_bits, SuiteFor::ike) == row.name);
    }
    CHECK_FALSE(find_ike_cipher(20, 192));       // AES-192: not offered
    CHECK_FALSE(find_ike_cipher(28, 256));       // RFC 7634: no Key Length attribute for ChaCha20-Poly1305
    CHECK_FALSE(parse_ike_cipher("aes-256-cbc")); // the IKE profile says "aes-256"

    CHECK(parse_prf("sha384") == PrfId::hmac_sha2_384);
    CHECK(static_cast<std::uint16_t>(*parse_prf("sha512")) == 7);
    CHECK(parse_integ("sha256") == IntegId::hmac_sha2_256_128);
    CHECK(static_cast<std::uint16_t>(IntegId::hmac_sha2_512_256) == 14);
    CHECK(integ_for(IkeCipher::aes128_cbc, PrfId::hmac_sha2_384) == IntegId::hmac_sha2_384_192);
    CHECK(integ_for(IkeCipher::aes128_gcm, PrfId::hmac_sha2_384) == IntegId::none);
    CHECK_FALSE(parse_integ("none"));

    struct GroupRow {
        std::string_view name;
        std::uint16_t id;
    };
    const GroupRow groups[] = {{"modp2048", 14}, {"modp3072", 15}, {"modp4096", 16},   {"ecp256", 19},
                               {"ecp384", 20},   {"ecp521", 21},   {"curve25519", 31}};
    for (const GroupRow& row : groups) {
        CAPTURE(row.name);
        const auto group = parse_dh_group(row.name);
        REQUIRE(group);
        CHECK(static_cast<std::uint16_t>(*group) == row.id);
        CHECK(find_dh_group(row.id) == group);
        CHECK(transform_name(TransformType::dh, row.id, no_key_length, SuiteFor::ike) == row.name);
    }
    CHECK(parse_dh_group("none") == DhGroup::none);
    CHECK_FALSE(find_dh_group(2));  // modp1024

    // ESP: the same registry, tunnel/'s names.
    CHECK(find_esp_cipher(20, 128) == EspCipher::aes128_gcm);
    CHECK(find_esp_cipher(12, 256) == EspCipher::aes256_cbc);
    CHECK(find_esp_cipher(28, no_key_length) == EspCipher::chacha20_poly1305);
    CHECK(esp_transform(EspCipher::aes256_gcm).key_bits == 256);
    CHECK(esp_integ(EspIntegrity::hmac_sha384_192) == IntegId::hmac_sha2_384_192);
    CHECK(find_esp_integrity(14) == EspIntegrity::hmac_sha512_256);
    CHECK(transform_name(TransformType::encr, 12, 128, SuiteFor::esp) == "aes-128-cbc");
    CHECK(transform_name(TransformType::esn, 1, no_key_length, SuiteFor::esp) == "esn");

    // A peer's transforms mesh-site does not know still have a log name.
    CHECK(transform_name(TransformType::encr, 3, no_key_length, SuiteFor::ike) == "ENCR_3");
    CHECK(transform_name(TransformType::encr, 20, 192, SuiteFor::esp) == "ENCR_20/192");
    CHECK(transform_name(TransformType::prf, 2, no_key_length, SuiteFor::ike) == "PRF_2");
    CHECK(transform_name(TransformType::dh, 2, no_key_length, SuiteFor::ike) == "DH_2");
    CHECK(transform_name(static_cast<TransformType>(9), 1, no_key_length, SuiteFor::ike) == "TRANSFORM9_1");
}
