#pragma once
// The IKEv2 transforms mesh-site negotiates, with their IANA numbers and sizes
// in one place, and the names the configuration gives them.
//
//   Transform IDs:  RFC 7296 section 3.3.2 and IANA's "Internet Key Exchange
//                   Version 2 (IKEv2) Parameters" registry
//   AEAD in IKE:    RFC 5282 (AES-GCM), RFC 7634 (ChaCha20-Poly1305)
//   HMAC-SHA-2:     RFC 4868 (PRF and integrity)
//   DH groups:      RFC 3526 (MODP), RFC 5903 (ECP), RFC 8031 (Curve25519)
//
// Everything here is constexpr and allocation-free: the proposal code and the
// configuration checker both use it.

#include "tunnel/esp_algorithm.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mesh::ike {

// What the crypto wrappers of ike/ return instead of throwing.
enum class CryptoError : std::uint8_t {
    invalid_length = 1,   // KE data, key or SK payload body of a length the algorithm does not take
    invalid_public_value, // KE data out of range (MODP) or not a point of the curve (ECP)
    degenerate_secret,    // the agreed value is all zero (X25519 with a low-order point)
    too_long,             // prf+ asked for more than 255 blocks (RFC 7296 section 2.13)
    truncated,            // SK payload body shorter than IV + ICV, or CBC text not whole blocks
    auth_failed,          // ICV mismatch
    bad_padding,          // Pad Length points before the start of the plaintext
    invalid_suite,        // AEAD with an integrity transform, CBC without one, unknown value
    unsupported,          // the crypto library lacks the algorithm, or refused the key
};

// RFC 7296 section 3.3.2, Transform Type values.
enum class TransformType : std::uint8_t { encr = 1, prf = 2, integ = 3, dh = 4, esn = 5 };

// Transform IDs of the types above (IANA registry). Only the ones mesh-site
// implements have enumerators; a peer's others arrive as plain numbers.
enum class EncrId : std::uint16_t { aes_cbc = 12, aes_gcm_16 = 20, chacha20_poly1305 = 28 };
enum class PrfId : std::uint16_t { hmac_sha2_256 = 5, hmac_sha2_384 = 6, hmac_sha2_512 = 7 };
enum class IntegId : std::uint16_t { none = 0, hmac_sha2_256_128 = 12, hmac_sha2_384_192 = 13, hmac_sha2_512_256 = 14 };
enum class DhGroup : std::uint16_t {
    none = 0,
    modp2048 = 14,
    modp3072 = 15,
    modp4096 = 16,
    ecp256 = 19,
    ecp384 = 20,
    ecp521 = 21,
    curve25519 = 31,
};
enum class EsnId : std::uint16_t { no_esn = 0, esn = 1 };

// RFC 7296 section 3.3.5: the Key Length attribute (type 14, TV format).
inline constexpr std::uint16_t key_length_attribute = 14;
// "No Key Length attribute": ChaCha20-Poly1305 has a fixed key (RFC 7634 section 3).
inline constexpr std::uint16_t no_key_length = 0;

// ---------------------------------------------------------------------------
// IKE SA encryption (the profile's enc-algorithm)

enum class IkeCipher : std::uint8_t { aes256_gcm, aes128_gcm, aes256_cbc, aes128_cbc, chacha20_poly1305 };

struct IkeCipherInfo {
    std::string_view name;    // configuration and log name: "aes-256-gcm", "aes-256"
    EncrId id;
    std::uint16_t key_bits;   // Key Length attribute, or no_key_length
    std::size_t key_bytes;    // SK_ei / SK_er: with the salt for the AEADs (RFC 5282 section 7.1, RFC 7634 section 4)
    std::size_t salt_bytes;   // the last bytes of SK_e: the implicit part of the nonce
    std::size_t iv_bytes;     // explicit IV in the SK payload (RFC 7296 section 3.14, RFC 5282 section 3.1)
    std::size_t block_bytes;  // Padding + Pad Length align the plaintext to this; 1: no alignment (RFC 5282 section 3)
    std::size_t icv_bytes;    // AEAD tag (RFC 5282 section 3.2); 0 for CBC, whose ICV comes from the IntegId
    bool aead;
};

namespace detail {
// Indexed by IkeCipher.
inline constexpr std::array<IkeCipherInfo, 5> ike_ciphers{{
    {.name = "aes-256-gcm", .id = EncrId::aes_gcm_16, .key_bits = 256, .key_bytes = 32 + 4, .salt_bytes = 4,
     .iv_bytes = 8, .block_bytes = 1, .icv_bytes = 16, .aead = true},
    {.name = "aes-128-gcm", .id = EncrId::aes_gcm_16, .key_bits = 128, .key_bytes = 16 + 4, .salt_bytes = 4,
     .iv_bytes = 8, .block_bytes = 1, .icv_bytes = 16, .aead = true},
    {.name = "aes-256", .id = EncrId::aes_cbc, .key_bits = 256, .key_bytes = 32, .salt_bytes = 0,
     .iv_bytes = 16, .block_bytes = 16, .icv_bytes = 0, .aead = false},
    {.name = "aes-128", .id = EncrId::aes_cbc, .key_bits = 128, .key_bytes = 16, .salt_bytes = 0,
     .iv_bytes = 16, .block_bytes = 16, .icv_bytes = 0, .aead = false},
    {.name = "chacha20-poly1305", .id = EncrId::chacha20_poly1305, .key_bits = no_key_length, .key_bytes = 32 + 4,
     .salt_bytes = 4, .iv_bytes = 8, .block_bytes = 1, .icv_bytes = 16, .aead = true},
}};
} // namespace detail

[[nodiscard]] constexpr const IkeCipherInfo& info(IkeCipher cipher) noexcept
{
    return detail::ike_ciphers[static_cast<std::size_t>(cipher)];
}

static_assert(info(IkeCipher::aes128_gcm).key_bits == 128 && info(IkeCipher::aes256_cbc).key_bits == 256 &&
                  info(IkeCipher::chacha20_poly1305).id == EncrId::chacha20_poly1305,
              "ike_ciphers is indexed by IkeCipher");

[[nodiscard]] constexpr std::optional<IkeCipher> parse_ike_cipher(std::string_view name) noexcept
{
    for (std::size_t i = 0; i < detail::ike_ciphers.size(); ++i)
        if (detail::ike_ciphers[i].name == name)
            return static_cast<IkeCipher>(i);
    return std::nullopt;
}

// A received ENCR transform: its ID and Key Length attribute (no_key_length if absent).
[[nodiscard]] constexpr std::optional<IkeCipher> find_ike_cipher(std::uint16_t id, std::uint16_t key_bits) noexcept
{
    for (std::size_t i = 0; i < detail::ike_ciphers.size(); ++i)
        if (static_cast<std::uint16_t>(detail::ike_ciphers[i].id) == id && detail::ike_ciphers[i].key_bits == key_bits)
            return static_cast<IkeCipher>(i);
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// PRF and integrity (the profile's hash-algorithm: the PRF, and the integrity
// transform when the cipher is CBC)

struct PrfInfo {
    std::string_view name;       // "sha256"
    PrfId id;
    std::string_view botan_hash; // "SHA-256"
    std::size_t output_bytes;    // also the key size SK_d, SK_pi, SK_pr take (RFC 7296 section 2.13, RFC 4868 section 2.1.2)
};

struct IntegInfo {
    std::string_view name;       // "sha256"
    IntegId id;
    std::string_view botan_hash;
    std::size_t key_bytes;       // SK_ai / SK_ar: the hash output length (RFC 4868 section 2.1.1)
    std::size_t icv_bytes;       // half of it, the truncated HMAC
};

namespace detail {
inline constexpr std::array<PrfInfo, 3> prfs{{
    {"sha256", PrfId::hmac_sha2_256, "SHA-256", 32},
    {"sha384", PrfId::hmac_sha2_384, "SHA-384", 48},
    {"sha512", PrfId::hmac_sha2_512, "SHA-512", 64},
}};
inline constexpr std::array<IntegInfo, 4> integs{{
    {"none", IntegId::none, "", 0, 0},
    {"sha256", IntegId::hmac_sha2_256_128, "SHA-256", 32, 16},
    {"sha384", IntegId::hmac_sha2_384_192, "SHA-384", 48, 24},
    {"sha512", IntegId::hmac_sha2_512_256, "SHA-512", 64, 32},
}};
} // namespace detail

// nullptr for a value outside the enumerators (a cast from a peer's number).
[[nodiscard]] constexpr const PrfInfo* info(PrfId prf) noexcept
{
    for (const PrfInfo& p : detail::prfs)
        if (p.id == prf)
            return &p;
    return nullptr;
}

[[nodiscard]] constexpr const IntegInfo* info(IntegId integ) noexcept
{
    for (const IntegInfo& i : detail::integs)
        if (i.id == integ)
            return &i;
    return nullptr;
}

[[nodiscard]] constexpr std::optional<PrfId> parse_prf(std::string_view hash_name) noexcept
{
    for (const PrfInfo& p : detail::prfs)
        if (p.name == hash_name)
            return p.id;
    return std::nullopt;
}

// "none" is not a configuration name: it is what an AEAD implies.
[[nodiscard]] constexpr std::optional<IntegId> parse_integ(std::string_view hash_name) noexcept
{
    for (std::size_t i = 1; i < detail::integs.size(); ++i)
        if (detail::integs[i].name == hash_name)
            return detail::integs[i].id;
    return std::nullopt;
}

[[nodiscard]] constexpr std::optional<PrfId> find_prf(std::uint16_t id) noexcept
{
    for (const PrfInfo& p : detail::prfs)
        if (static_cast<std::uint16_t>(p.id) == id)
            return p.id;
    return std::nullopt;
}

[[nodiscard]] constexpr std::optional<IntegId> find_integ(std::uint16_t id) noexcept
{
    for (const IntegInfo& i : detail::integs)
        if (static_cast<std::uint16_t>(i.id) == id)
            return i.id;
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// Diffie-Hellman groups (the profile's dh-group, the proposal's pfs-group)

enum class DhKind : std::uint8_t { modp, ecp, x25519 };

struct DhGroupInfo {
    std::string_view name;        // "ecp256"
    DhGroup id;
    DhKind kind;
    const char* openssl_group;    // OpenSSL's name: "modp_2048", "P-256", "X25519"
    std::size_t private_bytes;    // our private value: the field for ECP and X25519; for MODP
                                  // twice the group's strength, rounded up (NIST SP 800-57)
    std::size_t ke_bytes;         // Key Exchange Data length (RFC 7296 section 3.4, RFC 5903 section 7, RFC 8031 section 2)
    std::size_t secret_bytes;     // g^ir length: the prime, the field (x only), or 32
};

namespace detail {
inline constexpr std::array<DhGroupInfo, 7> dh_groups{{
    {"modp2048", DhGroup::modp2048, DhKind::modp, "modp_2048", 32, 256, 256},
    {"modp3072", DhGroup::modp3072, DhKind::modp, "modp_3072", 32, 384, 384},
    {"modp4096", DhGroup::modp4096, DhKind::modp, "modp_4096", 40, 512, 512},
    {"ecp256", DhGroup::ecp256, DhKind::ecp, "P-256", 32, 2 * 32, 32},
    {"ecp384", DhGroup::ecp384, DhKind::ecp, "P-384", 48, 2 * 48, 48},
    {"ecp521", DhGroup::ecp521, DhKind::ecp, "P-521", 66, 2 * 66, 66},
    {"curve25519", DhGroup::curve25519, DhKind::x25519, "X25519", 32, 32, 32},
}};
} // namespace detail

[[nodiscard]] constexpr const DhGroupInfo* info(DhGroup group) noexcept
{
    for (const DhGroupInfo& g : detail::dh_groups)
        if (g.id == group)
            return &g;
    return nullptr;
}

// "none" (a pfs-group without PFS) is DhGroup::none.
[[nodiscard]] constexpr std::optional<DhGroup> parse_dh_group(std::string_view name) noexcept
{
    if (name == "none")
        return DhGroup::none;
    for (const DhGroupInfo& g : detail::dh_groups)
        if (g.name == name)
            return g.id;
    return std::nullopt;
}

[[nodiscard]] constexpr std::optional<DhGroup> find_dh_group(std::uint16_t id) noexcept
{
    for (const DhGroupInfo& g : detail::dh_groups)
        if (static_cast<std::uint16_t>(g.id) == id)
            return g.id;
    return std::nullopt;
}

// ---------------------------------------------------------------------------
// A negotiated IKE SA suite. integ is IntegId::none exactly when the cipher is
// an AEAD (RFC 5282 section 8).

struct IkeSuite {
    IkeCipher cipher = IkeCipher::aes256_gcm;
    PrfId prf = PrfId::hmac_sha2_256;
    IntegId integ = IntegId::none;
    DhGroup dh = DhGroup::ecp256;

    friend constexpr bool operator==(const IkeSuite&, const IkeSuite&) = default;
};

[[nodiscard]] constexpr bool is_consistent(IkeCipher cipher, IntegId integ) noexcept
{
    return info(integ) != nullptr && info(cipher).aead == (integ == IntegId::none);
}

// The profile's hash-algorithm gives the integrity transform of the CBC ciphers.
[[nodiscard]] constexpr IntegId integ_for(IkeCipher cipher, PrfId prf) noexcept
{
    if (info(cipher).aead)
        return IntegId::none;
    switch (prf) {
    case PrfId::hmac_sha2_256: return IntegId::hmac_sha2_256_128;
    case PrfId::hmac_sha2_384: return IntegId::hmac_sha2_384_192;
    case PrfId::hmac_sha2_512: return IntegId::hmac_sha2_512_256;
    }
    return IntegId::none;
}

// ---------------------------------------------------------------------------
// CHILD SA (ESP) transforms: the same registry numbers, tunnel/'s enums.

struct EncrTransform {
    EncrId id;
    std::uint16_t key_bits;  // Key Length attribute, or no_key_length
};

[[nodiscard]] constexpr EncrTransform esp_transform(tunnel::EspCipher cipher) noexcept
{
    switch (cipher) {
    case tunnel::EspCipher::aes128_gcm: return {EncrId::aes_gcm_16, 128};
    case tunnel::EspCipher::aes256_gcm: return {EncrId::aes_gcm_16, 256};
    case tunnel::EspCipher::chacha20_poly1305: return {EncrId::chacha20_poly1305, no_key_length};
    case tunnel::EspCipher::aes128_cbc: return {EncrId::aes_cbc, 128};
    case tunnel::EspCipher::aes256_cbc: return {EncrId::aes_cbc, 256};
    }
    return {EncrId::aes_gcm_16, 0};
}

[[nodiscard]] constexpr std::optional<tunnel::EspCipher> find_esp_cipher(std::uint16_t id, std::uint16_t key_bits) noexcept
{
    constexpr std::array all{tunnel::EspCipher::aes128_gcm, tunnel::EspCipher::aes256_gcm,
                             tunnel::EspCipher::chacha20_poly1305, tunnel::EspCipher::aes128_cbc,
                             tunnel::EspCipher::aes256_cbc};
    for (const tunnel::EspCipher c : all) {
        const EncrTransform t = esp_transform(c);
        if (static_cast<std::uint16_t>(t.id) == id && t.key_bits == key_bits)
            return c;
    }
    return std::nullopt;
}

[[nodiscard]] constexpr IntegId esp_integ(tunnel::EspIntegrity integrity) noexcept
{
    switch (integrity) {
    case tunnel::EspIntegrity::none: return IntegId::none;
    case tunnel::EspIntegrity::hmac_sha256_128: return IntegId::hmac_sha2_256_128;
    case tunnel::EspIntegrity::hmac_sha384_192: return IntegId::hmac_sha2_384_192;
    case tunnel::EspIntegrity::hmac_sha512_256: return IntegId::hmac_sha2_512_256;
    }
    return IntegId::none;
}

[[nodiscard]] constexpr std::optional<tunnel::EspIntegrity> find_esp_integrity(std::uint16_t id) noexcept
{
    switch (id) {
    case static_cast<std::uint16_t>(IntegId::none): return tunnel::EspIntegrity::none;
    case static_cast<std::uint16_t>(IntegId::hmac_sha2_256_128): return tunnel::EspIntegrity::hmac_sha256_128;
    case static_cast<std::uint16_t>(IntegId::hmac_sha2_384_192): return tunnel::EspIntegrity::hmac_sha384_192;
    case static_cast<std::uint16_t>(IntegId::hmac_sha2_512_256): return tunnel::EspIntegrity::hmac_sha512_256;
    default: return std::nullopt;
    }
}

// ---------------------------------------------------------------------------
// Log names of a transform as it came off the wire, ours or not:
// "aes-256-gcm", "aes-128-cbc" (ESP) / "aes-128" (IKE), "sha256", "ecp256",
// "esn", or "ENCR_12/192" and "DH_2" for the ones mesh-site does not know.

enum class SuiteFor : std::uint8_t { ike, esp };

[[nodiscard]] inline std::string transform_name(TransformType type, std::uint16_t id, std::uint16_t key_bits,
                                                SuiteFor suite)
{
    std::string_view known;
    switch (type) {
    case TransformType::encr:
        if (suite == SuiteFor::esp) {
            if (const auto c = find_esp_cipher(id, key_bits))
                known = tunnel::info(*c).name;
        } else if (const auto c = find_ike_cipher(id, key_bits)) {
            known = info(*c).name;
        }
        break;
    case TransformType::prf:
        if (const auto p = find_prf(id))
            known = info(*p)->name;
        break;
    case TransformType::integ:
        if (const auto i = find_integ(id))
            known = info(*i)->name;
        break;
    case TransformType::dh:
        if (id == 0)
            known = "none";
        else if (const auto g = find_dh_group(id))
            known = info(*g)->name;
        break;
    case TransformType::esn:
        if (id == static_cast<std::uint16_t>(EsnId::no_esn))
            known = "no-esn";
        else if (id == static_cast<std::uint16_t>(EsnId::esn))
            known = "esn";
        break;
    }
    if (!known.empty())
        return std::string(known);

    std::string out = "TRANSFORM" + std::to_string(static_cast<unsigned>(type)) + "_";
    switch (type) {
    case TransformType::encr: out = "ENCR_"; break;
    case TransformType::prf: out = "PRF_"; break;
    case TransformType::integ: out = "INTEG_"; break;
    case TransformType::dh: out = "DH_"; break;
    case TransformType::esn: out = "ESN_"; break;
    }
    out += std::to_string(id);
    if (key_bits != no_key_length)
        out += "/" + std::to_string(key_bits);
    return out;
}

} // namespace mesh::ike
