// Diffie-Hellman groups of IKEv2:
//   ECP:    RFC 5903 section 8 (the 256-, 384- and 521-bit test vectors: i, g^i, r, g^r, g^ir)
//   X25519: RFC 7748 section 6.1 (Alice's and Bob's keys and their shared secret)
//   MODP:   RFC 3526 group 14 agreement between two generated keys, and the
//           range check of RFC 6989 section 2.1 (0, 1, p-1, p refused)

#include "ike/dh_group.hpp"

#include "test_rng.hpp"
#include <botan/bigint.h>
#include <botan/dl_group.h>
#include <botan/numthry.h>

#include "tests/hex.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

using namespace mesh::ike;

namespace {

using Bytes = std::vector<std::uint8_t>;

using mesh::test::hex;

Bytes bytes(const Botan::secure_vector<std::uint8_t>& v)
{
    return Bytes(v.begin(), v.end());
}

struct EcpVector {
    DhGroup group;
    const char* i;
    const char* gi;   // g^i as x || y
    const char* r;
    const char* gr;
    const char* gir;  // the x-coordinate of g^ir
};

// RFC 5903 section 8.1, 8.2 and 8.3.
const EcpVector ecp_vectors[] = {
    {DhGroup::ecp256, "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
     "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
     "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
     "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53",
     "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
     "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
     "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE"},
    {DhGroup::ecp384,
     "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655E35B538041E649EE3FAEF896783AB194",
     "667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6DE3AC808ACB4BDB4C88732AEE95F41AA"
     "9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38EEB9FCFF3C2C947DAE69B4C634573A81C",
     "41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942E0308312916B8ED2960E4BD55A7448FC",
     "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D0D1AC43A0336DEF96FDA41D0774A3571"
     "DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F0C68759DD1FFF83FA40142209DFF5EAAD96DB9E6386C",
     "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4D603135569B9E9D09CF5D4A270F59746"},
    {DhGroup::ecp521,
     "0037ADE9319A89F4DABDB3EF411AACCCA5123C61ACAB57B5393DCE47608172A095AA85A30FE1C2952C6771D937BA9777"
     "F5957B2639BAB072462F68C27A57382D4A52",
     "0015417E84DBF28C0AD3C278713349DC7DF153C897A1891BD98BAB4357C9ECBEE1E3BF42E00B8E380AEAE57C2D107564"
     "941885942AF5A7F4601723C4195D176CED3E"
     "017CAE20B6641D2EEB695786D8C946146239D099E18E1D5A514C739D7CB4A10AD8A788015AC405D7799DC75E7B7D5B6C"
     "F2261A6A7F1507438BF01BEB6CA3926F9582",
     "0145BA99A847AF43793FDD0E872E7CDFA16BE30FDC780F97BCCC3F078380201E9C677D600B343757A3BDBF2A3163E4C2"
     "F869CCA7458AA4A4EFFC311F5CB151685EB9",
     "00D0B3975AC4B799F5BEA16D5E13E9AF971D5E9B984C9F39728B5E5739735A219B97C356436ADC6E95BB0352F6BE64A6"
     "C2912D4EF2D0433CED2B6171640012D9460F"
     "015C68226383956E3BD066E797B623C27CE0EAC2F551A10C2C724D9852077B87220B6536C5C408A1D2AEBB8E86D678AE"
     "49CB57091F4732296579AB44FCD17F0FC56A",
     "01144C7D79AE6956BC8EDB8E7C787C4521CB086FA64407F97894E5E6B2D79B04D1427E73CA4BAA240A34786859810C06"
     "B3C715A3A8CC3151F2BEE417996D19F3DDEA"},
};

} // namespace

TEST_CASE("ECP groups: RFC 5903 section 8 known answers, both sides")
{
    for (const EcpVector& v : ecp_vectors) {
        CAPTURE(info(v.group)->name);
        auto initiator = DhKeyExchange::from_private_key(v.group, hex(v.i));
        auto responder = DhKeyExchange::from_private_key(v.group, hex(v.r));
        REQUIRE(initiator);
        REQUIRE(responder);
        // RFC 5903 section 7: x || y, no 0x04 prefix.
        CHECK(initiator->public_value() == hex(v.gi));
        CHECK(responder->public_value() == hex(v.gr));

        const auto at_initiator = initiator->shared_secret(responder->public_value());
        const auto at_responder = responder->shared_secret(initiator->public_value());
        REQUIRE(at_initiator);
        REQUIRE(at_responder);
        CHECK(bytes(*at_initiator) == hex(v.gir));  // the x-coordinate only
        CHECK(bytes(*at_responder) == hex(v.gir));
    }
}

TEST_CASE("ECP groups: a point off the curve, a coordinate past p and a wrong length are refused")
{
    const EcpVector& v = ecp_vectors[0];
    auto initiator = DhKeyExchange::from_private_key(v.group, hex(v.i));
    REQUIRE(initiator);

    Bytes off_curve = hex(v.gr);
    off_curve.back() ^= 0x01;
    CHECK(initiator->shared_secret(off_curve).error() == CryptoError::invalid_public_value);

    const Bytes all_ones(64, 0xff);  // x = y = 2^256 - 1 > p
    CHECK(initiator->shared_secret(all_ones).error() == CryptoError::invalid_public_value);

    const Bytes zeros(64, 0);  // (0, 0): not a point of P-256
    CHECK(initiator->shared_secret(zeros).error() == CryptoError::invalid_public_value);

    Bytes with_prefix = hex(v.gr);
    with_prefix.insert(with_prefix.begin(), 0x04);  // SEC1 form: not what the KE payload carries
    CHECK(initiator->shared_secret(with_prefix).error() == CryptoError::invalid_length);
    const Bytes gr = hex(v.gr);
    CHECK(initiator->shared_secret(std::span(gr).first(gr.size() - 1)).error() == CryptoError::invalid_length);
}

TEST_CASE("Curve25519: RFC 7748 section 6.1 known answer")
{
    auto alice = DhKeyExchange::from_private_key(
        DhGroup::curve25519, hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
    auto bob = DhKeyExchange::from_private_key(
        DhGroup::curve25519, hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
    REQUIRE(alice);
    REQUIRE(bob);
    CHECK(alice->public_value() == hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
    CHECK(bob->public_value() == hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));

    const Bytes k = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    const auto at_alice = alice->shared_secret(bob->public_value());
    const auto at_bob = bob->shared_secret(alice->public_value());
    REQUIRE(at_alice);
    REQUIRE(at_bob);
    CHECK(bytes(*at_alice) == k);
    CHECK(bytes(*at_bob) == k);
}

TEST_CASE("Curve25519: low-order points give an all-zero secret, which is refused")
{
    test_rng::TestRng rng{"test_dh_group"};
    auto ours = DhKeyExchange::generate(DhGroup::curve25519, rng);
    REQUIRE(ours);
    CHECK(ours->public_value().size() == 32);

    Bytes u0(32, 0);        // u = 0
    Bytes u1(32, 0);        // u = 1
    u1[0] = 1;
    CHECK(ours->shared_secret(u0).error() == CryptoError::degenerate_secret);
    CHECK(ours->shared_secret(u1).error() == CryptoError::degenerate_secret);
    CHECK(ours->shared_secret(Bytes(31, 9)).error() == CryptoError::invalid_length);
}

TEST_CASE("MODP 2048: two generated keys agree on a secret as long as the prime")
{
    test_rng::TestRng rng{"test_dh_group"};
    auto a = DhKeyExchange::generate(DhGroup::modp2048, rng);
    auto b = DhKeyExchange::generate(DhGroup::modp2048, rng);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->public_value().size() == 256);
    CHECK(b->public_value().size() == 256);
    CHECK(a->public_value() != b->public_value());

    const auto at_a = a->shared_secret(b->public_value());
    const auto at_b = b->shared_secret(a->public_value());
    REQUIRE(at_a);
    REQUIRE(at_b);
    CHECK(at_a->size() == 256);
    CHECK(*at_a == *at_b);
}

TEST_CASE("MODP 2048: 0, 1, p-1, p and a wrong length are refused")
{
    test_rng::TestRng rng{"test_dh_group"};
    auto ours = DhKeyExchange::generate(DhGroup::modp2048, rng);
    REQUIRE(ours);

    const Botan::BigInt p = Botan::DL_Group("modp/ietf/2048").get_p();
    const auto encode = [](const Botan::BigInt& value) { return bytes(Botan::BigInt::encode_1363(value, 256)); };

    CHECK(ours->shared_secret(encode(0)).error() == CryptoError::invalid_public_value);
    CHECK(ours->shared_secret(encode(1)).error() == CryptoError::invalid_public_value);
    CHECK(ours->shared_secret(encode(p - 1)).error() == CryptoError::invalid_public_value);
    CHECK(ours->shared_secret(encode(p)).error() == CryptoError::invalid_public_value);
    CHECK(ours->shared_secret(Bytes(256, 0xff)).error() == CryptoError::invalid_public_value);
    CHECK(ours->shared_secret(encode(2))); // the smallest value in range
    // RFC 7296 section 3.4: exactly the prime's length, leading zeros included.
    CHECK(ours->shared_secret(Bytes{2}).error() == CryptoError::invalid_length);
}

TEST_CASE("Every configured group makes a public value of its KE length and agrees with itself")
{
    test_rng::TestRng rng{"test_dh_group"};
    for (const DhGroup group : {DhGroup::modp3072, DhGroup::modp4096, DhGroup::ecp256, DhGroup::ecp384,
                                DhGroup::ecp521, DhGroup::curve25519}) {
        CAPTURE(info(group)->name);
        auto a = DhKeyExchange::generate(group, rng);
        auto b = DhKeyExchange::generate(group, rng);
        REQUIRE(a);
        REQUIRE(b);
        CHECK(a->group() == group);
        CHECK(a->public_value().size() == info(group)->ke_bytes);
        const auto at_a = a->shared_secret(b->public_value());
        const auto at_b = b->shared_secret(a->public_value());
        REQUIRE(at_a);
        REQUIRE(at_b);
        CHECK(at_a->size() == info(group)->secret_bytes);
        CHECK(*at_a == *at_b);
    }
}

TEST_CASE("MODP 2048: our public value is 2^x mod p, as Botan computes it")
{
    const Bytes x = hex("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    auto ours = DhKeyExchange::from_private_key(DhGroup::modp2048, x);
    REQUIRE(ours);
    const Botan::DL_Group group("modp/ietf/2048");
    const Botan::BigInt y = Botan::power_mod(2, Botan::BigInt::decode(x.data(), x.size()), group.get_p());
    CHECK(ours->public_value() == bytes(Botan::BigInt::encode_1363(y, 256)));
}

TEST_CASE("ECP groups: a scalar of zero or not below the order is refused")
{
    // P-256's order n (SEC 2 section 2.4.2).
    const Bytes order = hex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
    CHECK(DhKeyExchange::from_private_key(DhGroup::ecp256, order).error() == CryptoError::unsupported);
    CHECK(DhKeyExchange::from_private_key(DhGroup::ecp256, Bytes(32, 0xff)).error() == CryptoError::unsupported);
    CHECK(DhKeyExchange::from_private_key(DhGroup::ecp256, Bytes(32, 0)).error() == CryptoError::invalid_length);
    Bytes below = order;
    below.back() -= 1;
    CHECK(DhKeyExchange::from_private_key(DhGroup::ecp256, below));
}

TEST_CASE("The private value comes from the caller's RNG: the same seed, the same key")
{
    for (const DhGroup group : {DhGroup::modp2048, DhGroup::ecp256, DhGroup::ecp521, DhGroup::curve25519}) {
        CAPTURE(info(group)->name);
        test_rng::TestRng first{"test_dh_group"};
        test_rng::TestRng second{"test_dh_group"};
        auto a = DhKeyExchange::generate(group, first);
        auto b = DhKeyExchange::generate(group, second);
        REQUIRE(a);
        REQUIRE(b);
        CHECK(a->public_value() == b->public_value());
    }
}

TEST_CASE("No key exchange for DhGroup::none or an unknown number")
{
    test_rng::TestRng rng{"test_dh_group"};
    CHECK(DhKeyExchange::generate(DhGroup::none, rng).error() == CryptoError::invalid_suite);
    CHECK(DhKeyExchange::generate(static_cast<DhGroup>(2), rng).error() == CryptoError::invalid_suite);
    CHECK(DhKeyExchange::from_private_key(DhGroup::curve25519, Bytes(31, 1)).error() ==
          CryptoError::invalid_length);
}
