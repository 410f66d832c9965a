// Known answers for whole ESP packets and for the integrity path:
//   AES-GCM:           draft-mcgrew-gcm-test-01 section 4 (the ESP packet test cases)
//   ChaCha20-Poly1305: RFC 7634 Appendix A
//   AES-CBC:           RFC 3602 section 4, cases #5 and #7 (no ICV there; ours is added)
//   HMAC-SHA-2:        RFC 4868 section 2.7.2 (AUTH256, AUTH384, AUTH512 test cases 1 and 2)
// The IV in a vector is not the one OutboundSa would pick (the sequence
// number), so the sealing direction goes through EspCrypto with the vector's IV.

#include "tunnel/esp_crypto.hpp"
#include "tunnel/esp_sa.hpp"

#include "tests/hex.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

using namespace mesh::tunnel;

namespace {

using Bytes = std::vector<std::uint8_t>;

using mesh::test::hex;

Bytes concat(std::initializer_list<Bytes> parts)
{
    Bytes out;
    for (const Bytes& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

struct PacketVector {
    const char* name;
    EspCipher cipher;
    bool esn;
    std::uint64_t seq;
    Bytes key;        // with the salt appended
    Bytes header;     // SPI || low 32 bits of seq
    Bytes iv;
    Bytes plaintext;  // payload || padding || pad length || next header
    Bytes sealed;     // ciphertext || ICV
    std::uint8_t next_header;
};

std::vector<PacketVector> aead_vectors()
{
    return {
        {"draft-mcgrew-gcm-test-01 case 1: AES-128-GCM, ESN", EspCipher::aes128_gcm, true, 0x87654321'00000000,
         hex("4c80cdefbb5d10da906ac73c3613a634 2e443b68"), hex("00004321 00000000"), hex("4956ed7e3b244cfe"),
         hex("45000048699a000080114db7c0a80102c0a801010a9bf15638d301000001000000000000045f7369"
             "70045f756470037369700963796265726369747902646b000021000101020201"),
         hex("fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34cfa2436f14a3f3cf"
             "65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce61bc17d768fd9732"
             "459018148f6cbe722fd04796562dfdb4"),
         1},
        {"draft-mcgrew-gcm-test-01 case 4: AES-128-GCM, 32-bit seq", EspCipher::aes128_gcm, false, 1,
         hex("00000000000000000000000000000000 00000000"), hex("00000000 00000001"), hex("0000000000000000"),
         hex("4500003c99c500008001cb7a40679318010101010800075c020044006162636465666768696a6b6c"
             "6d6e6f707172737475767761626364656667686901020201"),
         hex("4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284456476492719ffb6"
             "4de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3"
             "f821d496eeb096e98ad2b69e4799c71d"),
         1},
        {"draft-mcgrew-gcm-test-01 case 3: AES-256-GCM, 32-bit seq", EspCipher::aes256_gcm, false, 2,
         hex("abbccddef00112233445566778899aababbccddef00112233445566778899aab 11223344"), hex("4a2cbfe3 00000002"),
         hex("0102030405060708"),
         hex("4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf0000"
             "020405b40101040201020201"),
         hex("ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d34"
             "7f0545659f14e99def842d8e"
             "b335f4eecfdbf831824b4c4915956c96"),
         1},
        {"RFC 7634 Appendix A: ChaCha20-Poly1305", EspCipher::chacha20_poly1305, false, 5,
         hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f a0a1a2a3"), hex("01020304 00000005"),
         hex("1011121314151617"),
         hex("45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec100007362708090a0b"
             "0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30313233"
             "3435363701020204"),
         hex("24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c614ee8099d52844eb"
             "61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3cbec163fac469b502773f6fb94e664da"
             "9165b82829f641e0"
             "76aaa8266b7fb0f7b11b369907e1ad43"),
         4},
    };
}

SaParams aead_params(const PacketVector& v)
{
    SaParams params;
    params.spi = static_cast<std::uint32_t>(v.header[0] << 24 | v.header[1] << 16 | v.header[2] << 8 | v.header[3]);
    params.cipher = v.cipher;
    params.cipher_key.assign(v.key.begin(), v.key.end());
    params.esn = v.esn;
    return params;
}

// RFC 3602 section 4 with an HMAC-SHA-256-128 ICV of our own behind it.
struct CbcVector {
    const char* name;
    Bytes key;
    std::uint64_t seq;
    Bytes payload;
    std::uint8_t next_header;
    Bytes packet;  // SPI .. ciphertext, as the RFC prints it
};

std::vector<CbcVector> cbc_vectors()
{
    return {
        {"RFC 3602 case #5", hex("90d382b410eeba7ad938c46cec1a82bf"), 1,
         hex("08000ebda70a00008e9c083db95b070008090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
             "202122232425262728292a2b2c2d2e2f3031323334353637"),
         1,
         hex("0000432100000001e96e8c08ab465763fd098d45dd3ff893f663c25d325c18c6a9453e194e120849"
             "a4870b66cc6b9965330013b4898dc856a4699e523a55db080b59ec3a8e4b7e52775b07d1db34ed9c"
             "538ab50c551b874aa269add047ad2d5913ac19b7cfbad4a6")},
        {"RFC 3602 case #7", hex("0123456789abcdef0123456789abcdef"), 2,
         hex("45000054090400004001f988c0a87b03c0a87bc808009f76a90a0100b49c083d02a2040008090a0b"
             "0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30313233"
             "34353637"),
         4,
         hex("0000876500000002f4e765244f6407adf13dc1380f673f37773b5241a4c449225e4f3ce5ed611b0c"
             "237ca96cf74a93013c1b0ea1a0cf70f8e4ecaec78ac53aad7a0f022b859243c647752e94a859352b"
             "8a4d4d2decd136e5c177f132ad3fbfb2201ac9904c74ee0a109e0ca1e4dfe9d5a100b842f1c22f0d")},
    };
}

SaParams cbc_params(const CbcVector& v)
{
    SaParams params;
    params.spi = static_cast<std::uint32_t>(v.packet[0] << 24 | v.packet[1] << 16 | v.packet[2] << 8 | v.packet[3]);
    params.cipher = EspCipher::aes128_cbc;
    params.integrity = EspIntegrity::hmac_sha256_128;
    params.cipher_key.assign(v.key.begin(), v.key.end());
    params.integrity_key.assign(32, 0x5a);
    params.esn = false;
    return params;
}

std::unique_ptr<PacketBuffer> buffer_with(const Bytes& bytes)
{
    auto packet = std::make_unique<PacketBuffer>();
    packet->reset();
    std::copy(bytes.begin(), bytes.end(), packet->push_back(bytes.size()));
    return packet;
}

} // namespace

TEST_CASE("ESP known answers: AEAD sealing matches the published packets")
{
    for (const PacketVector& v : aead_vectors()) {
        CAPTURE(v.name);
        EspCrypto crypto(aead_params(v), EspDirection::seal);
        Bytes packet = concat({v.header, v.iv, v.plaintext, Bytes(16)});
        REQUIRE(crypto.seal(packet, v.seq));
        CHECK(packet == concat({v.header, v.iv, v.sealed}));
    }
}

TEST_CASE("ESP known answers: AEAD opening recovers the published plaintexts")
{
    for (const PacketVector& v : aead_vectors()) {
        CAPTURE(v.name);
        EspCrypto crypto(aead_params(v), EspDirection::open);
        Bytes packet = concat({v.header, v.iv, v.sealed});
        REQUIRE(crypto.open(packet, v.seq));
        CHECK(Bytes(packet.begin() + 16, packet.end() - 16) == v.plaintext);
    }
}

TEST_CASE("ESP known answers: InboundSa opens the published 32-bit-sequence packets")
{
    for (const PacketVector& v : aead_vectors()) {
        if (v.esn)
            continue;  // its high half (0x87654321) lies beyond what a fresh window infers
        CAPTURE(v.name);
        InboundSa sa(aead_params(v));
        auto packet = buffer_with(concat({v.header, v.iv, v.sealed}));
        const auto opened = sa.open(*packet);
        REQUIRE(opened.has_value());
        CHECK(*opened == v.next_header);
        const std::size_t pad = v.plaintext[v.plaintext.size() - 2];
        const Bytes payload(v.plaintext.begin(), v.plaintext.end() - static_cast<std::ptrdiff_t>(pad + 2));
        CHECK(Bytes(packet->data().begin(), packet->data().end()) == payload);
        CHECK(sa.highest_sequence() == v.seq);
        CHECK(sa.counters().bytes.get() == payload.size());
    }
}

TEST_CASE("ESP known answers: an AEAD vector with one bit changed fails its ICV")
{
    for (const PacketVector& v : aead_vectors()) {
        CAPTURE(v.name);
        EspCrypto crypto(aead_params(v), EspDirection::open);
        Bytes packet = concat({v.header, v.iv, v.sealed});
        packet.back() ^= 0x01;
        CHECK_FALSE(crypto.open(packet, v.seq));
        // The wrapper is usable again afterwards.
        packet = concat({v.header, v.iv, v.sealed});
        CHECK(crypto.open(packet, v.seq));
    }
}

TEST_CASE("ESP known answers: AES-CBC ciphertext matches RFC 3602 and opens through InboundSa")
{
    for (const CbcVector& v : cbc_vectors()) {
        CAPTURE(v.name);
        const SaParams params = cbc_params(v);
        EspCrypto crypto(params, EspDirection::seal);
        const std::size_t pad = 16 - (v.payload.size() + 2) % 16;
        Bytes trailer;
        for (std::size_t i = 1; i <= pad; ++i)
            trailer.push_back(static_cast<std::uint8_t>(i));
        trailer.push_back(static_cast<std::uint8_t>(pad));
        trailer.push_back(v.next_header);
        const Bytes header_iv(v.packet.begin(), v.packet.begin() + 24);
        Bytes packet = concat({header_iv, v.payload, trailer, Bytes(16)});
        REQUIRE(crypto.seal(packet, v.seq));
        CHECK(Bytes(packet.begin(), packet.end() - 16) == v.packet);

        InboundSa sa(params);
        auto buffer = buffer_with(packet);
        const auto opened = sa.open(*buffer);
        REQUIRE(opened.has_value());
        CHECK(*opened == v.next_header);
        CHECK(Bytes(buffer->data().begin(), buffer->data().end()) == v.payload);
    }
}

TEST_CASE("ESP known answers: the integrity path gives RFC 4868's truncated HMAC-SHA-2 outputs")
{
    struct Auth {
        EspIntegrity integrity;
        Bytes key;
        Bytes data;
        Bytes icv;
    };
    const Bytes hi_there = hex("4869205468657265");
    const Bytes what_do_ya = hex("7768617420646f2079612077616e7420666f72206e6f7468696e673f");
    const auto jefe = [](std::size_t n) {
        Bytes key;
        while (key.size() < n)
            key.insert(key.end(), {'J', 'e', 'f', 'e'});
        return key;
    };
    const std::vector<Auth> cases{
        {EspIntegrity::hmac_sha256_128, Bytes(32, 0x0b), hi_there, hex("198a607eb44bfbc69903a0f1cf2bbdc5")},
        {EspIntegrity::hmac_sha256_128, jefe(32), what_do_ya, hex("167f928588c5cc2eef8e3093caa0e87c")},
        {EspIntegrity::hmac_sha384_192, Bytes(48, 0x0b), hi_there,
         hex("b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973")},
        {EspIntegrity::hmac_sha384_192, jefe(48), what_do_ya, hex("2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d")},
        {EspIntegrity::hmac_sha512_256, Bytes(64, 0x0b), hi_there,
         hex("637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8")},
        {EspIntegrity::hmac_sha512_256, jefe(64), what_do_ya,
         hex("cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454")},
    };
    for (const Auth& a : cases) {
        CAPTURE(info(a.integrity).name);
        SaParams params;
        params.cipher = EspCipher::aes256_cbc;
        params.cipher_key.assign(32, 0x01);
        params.integrity = a.integrity;
        params.integrity_key.assign(a.key.begin(), a.key.end());
        for (const EspDirection direction : {EspDirection::seal, EspDirection::open}) {
            EspCrypto crypto(params, direction);
            Bytes icv(crypto.icv_bytes());
            crypto.compute_icv(a.data, {}, icv);
            CHECK(icv == a.icv);
            // Twice in a row: the MAC is ready for the next packet after each.
            crypto.compute_icv(a.data, {}, icv);
            CHECK(icv == a.icv);
        }
    }
}
