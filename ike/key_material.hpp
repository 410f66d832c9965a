#pragma once
// The keys of an IKE SA and of its CHILD SAs, and the AUTH payload's inputs.
//
//   IKE SA (RFC 7296 section 2.14)
//     SKEYSEED = prf(Ni | Nr, g^ir)
//     {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
//     SK_d, SK_pi, SK_pr: the PRF's key size; SK_a: the integrity key, none
//     with an AEAD (RFC 5282 section 7.1); SK_e: the cipher key, with its
//     4-byte salt for AES-GCM and ChaCha20-Poly1305 (RFC 5282 section 7.1,
//     RFC 7634 section 4).
//   IKE SA rekeyed (section 2.18), with the old IKE SA's PRF
//     SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
//   CHILD SA (section 2.17)
//     KEYMAT = prf+(SK_d, Ni | Nr)                 or, with PFS,
//     KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr)
//     taken in the order encr_i | integ_i | encr_r | integ_r; "_i" keys
//     protect initiator-to-responder traffic.
//   AUTH (section 2.15)
//     InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload)
//     ResponderSignedOctets = RealMessage2 | NonceIData | prf(SK_pr, RestOfRespIDPayload)
//     PSK: AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)

#include "ike/crypto_suite.hpp"
#include "ike/prf.hpp"
#include "tunnel/esp_algorithm.hpp"
#include "tunnel/esp_sa.hpp"

#include <botan/secmem.h>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <vector>

namespace mesh::ike {

struct IkeKeyLengths {
    std::size_t prf;    // SK_d, SK_pi, SK_pr
    std::size_t integ;  // SK_ai, SK_ar (0 with an AEAD)
    std::size_t encr;   // SK_ei, SK_er (with the salt for an AEAD)

    [[nodiscard]] constexpr std::size_t total() const noexcept { return 3 * prf + 2 * integ + 2 * encr; }
};

// invalid_suite if the cipher and integrity do not go together (see is_consistent).
[[nodiscard]] std::expected<IkeKeyLengths, CryptoError> ike_key_lengths(const IkeSuite& suite) noexcept;

struct IkeSaKeys {
    Botan::secure_vector<std::uint8_t> sk_d;
    Botan::secure_vector<std::uint8_t> sk_ai;
    Botan::secure_vector<std::uint8_t> sk_ar;
    Botan::secure_vector<std::uint8_t> sk_ei;
    Botan::secure_vector<std::uint8_t> sk_er;
    Botan::secure_vector<std::uint8_t> sk_pi;
    Botan::secure_vector<std::uint8_t> sk_pr;
};

// SKEYSEED of a new IKE SA from IKE_SA_INIT.
[[nodiscard]] Botan::secure_vector<std::uint8_t> skeyseed(Prf& prf, std::span<const std::uint8_t> ni,
                                                          std::span<const std::uint8_t> nr,
                                                          std::span<const std::uint8_t> g_ir);

// SKEYSEED of the IKE SA that a CREATE_CHILD_SA replaces the current one
// with. old_prf is the current IKE SA's PRF: the exchange belongs to it
// (section 2.18); the new SA's PRF then expands it in derive_ike_sa_keys.
[[nodiscard]] Botan::secure_vector<std::uint8_t> rekey_skeyseed(Prf& old_prf, std::span<const std::uint8_t> old_sk_d,
                                                                std::span<const std::uint8_t> g_ir,
                                                                std::span<const std::uint8_t> ni,
                                                                std::span<const std::uint8_t> nr);

// The seven SK_ keys. prf must be suite.prf's (invalid_suite otherwise). The
// SPIs are written big-endian, as the IKE header carries them.
[[nodiscard]] std::expected<IkeSaKeys, CryptoError> derive_ike_sa_keys(Prf& prf, const IkeSuite& suite,
                                                                       std::span<const std::uint8_t> skeyseed,
                                                                       std::span<const std::uint8_t> ni,
                                                                       std::span<const std::uint8_t> nr,
                                                                       std::uint64_t spi_i, std::uint64_t spi_r);

// ---------------------------------------------------------------------------
// CHILD SA

struct ChildSaKeys {
    tunnel::EspCipher cipher = tunnel::EspCipher::aes128_gcm;
    tunnel::EspIntegrity integrity = tunnel::EspIntegrity::none;
    Botan::secure_vector<std::uint8_t> encr_i;   // with the 4-byte salt for the AEADs
    Botan::secure_vector<std::uint8_t> integ_i;  // empty for the AEADs
    Botan::secure_vector<std::uint8_t> encr_r;
    Botan::secure_vector<std::uint8_t> integ_r;
};

// g_ir: the CREATE_CHILD_SA's new shared secret with PFS, empty without (and
// for the CHILD SA that IKE_AUTH creates). sk_d: the IKE SA's. invalid_suite
// for an AEAD with an integrity algorithm or CBC without one.
[[nodiscard]] std::expected<ChildSaKeys, CryptoError> derive_child_sa_keys(Prf& prf,
                                                                           std::span<const std::uint8_t> sk_d,
                                                                           tunnel::EspCipher cipher,
                                                                           tunnel::EspIntegrity integrity,
                                                                           std::span<const std::uint8_t> g_ir,
                                                                           std::span<const std::uint8_t> ni,
                                                                           std::span<const std::uint8_t> nr);

enum class ChildSaDirection : std::uint8_t { initiator_to_responder, responder_to_initiator };

// The tunnel::SaParams of one direction of a CHILD SA. spi: the SPI the
// receiving end chose (the responder's for initiator_to_responder).
[[nodiscard]] tunnel::SaParams child_sa_params(const ChildSaKeys& keys, ChildSaDirection direction,
                                               std::uint32_t spi, bool esn);

// ---------------------------------------------------------------------------
// AUTH

// The octets a peer signs or MACs. real_message: its first message of the
// exchange as sent (IKE_SA_INIT request for the initiator, response for the
// responder); peer_nonce: the other side's Nonce Data; sk_p: its own SK_pi or
// SK_pr; id_body: its ID payload without the 4-byte generic payload header
// (ID Type | RESERVED | Identification Data).
[[nodiscard]] std::vector<std::uint8_t> signed_octets(Prf& prf, std::span<const std::uint8_t> real_message,
                                                      std::span<const std::uint8_t> peer_nonce,
                                                      std::span<const std::uint8_t> sk_p,
                                                      std::span<const std::uint8_t> id_body);

// The Authentication Data of a shared-key AUTH payload (method 2).
[[nodiscard]] Botan::secure_vector<std::uint8_t> psk_auth(Prf& prf, std::span<const std::uint8_t> shared_secret,
                                                          std::span<const std::uint8_t> signed_octets);

// Compares in constant time; false for a length other than the PRF output's.
[[nodiscard]] bool verify_psk_auth(Prf& prf, std::span<const std::uint8_t> shared_secret,
                                   std::span<const std::uint8_t> signed_octets,
                                   std::span<const std::uint8_t> received_auth);

} // namespace mesh::ike
