#pragma once
// Signature AUTH payloads: RFC 7427 "Digital Signature" (method 14), and the
// RFC 7296 / RFC 4754 methods that fix the algorithm in the method number.
//
//   method 14 Authentication Data (RFC 7427 section 3):
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    | ASN.1 Length  | AlgorithmIdentifier ASN.1 object              |
//    +-+-+-+-+-+-+-+-+                                               |
//    ~        AlgorithmIdentifier ASN.1 object continuing            ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    ~                         Signature Value                       ~
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ASN.1 Length: the length of the DER AlgorithmIdentifier that follows.
//   ECDSA signatures are the DER Ecdsa-Sig-Value (RFC 7427 section 3).
//
//   method 1  RSA PKCS#1 v1.5 with SHA-1 (RFC 7296 section 3.8)
//   method 9  ECDSA with SHA-256 on P-256, r | s, 32 bytes each (RFC 4754)
//   method 10 ECDSA with SHA-384 on P-384, 48 bytes each
//   method 11 ECDSA with SHA-512 on P-521, 66 bytes each
//
// Which one we sign with: method 14 when the peer sent SIGNATURE_HASH_ALGORITHMS
// naming a hash we support (RFC 7427 section 4), otherwise the key's classic
// method. What we accept: method 14 with SHA-256/384/512 (RSA PKCS#1 v1.5,
// RSASSA-PSS or ECDSA, fitting the key), and methods 1, 9, 10 and 11.
// SHA-1 under method 14 is refused: we never announce it.
//
// Nothing here throws: Botan's exceptions become errors.

#include "ike/constants.hpp"
#include "ike/payloads.hpp"

#include <botan/pk_keys.h>
#include <botan/rng.h>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace mesh::ike {

// RFC 7427 section 7 (IANA "IKEv2 Hash Algorithms").
enum class SignatureHash : std::uint16_t {
    sha1 = 1,
    sha256 = 2,
    sha384 = 3,
    sha512 = 4,
    identity = 5,   // RFC 8420, for EdDSA
};

// Weakest key accepted to sign an AUTH payload or a certificate, in Botan's
// estimated bits of strength: 110 is RSA-2048, 128 is P-256.
inline constexpr std::size_t min_key_strength = 110;

// ---------------------------------------------------------------------------
// SIGNATURE_HASH_ALGORITHMS (RFC 7427 section 4)

// Our notify's data: sha256, sha384, sha512 as 16-bit identifiers.
[[nodiscard]] std::vector<std::uint8_t> signature_hash_algorithms_data();

// The hash to sign with among those the peer's notify lists: SHA-256 if
// listed (every implementation has it, RFC 8247 section 3.2, and it is as
// strong as a P-256 or RSA-3072 key), else SHA-384, else SHA-512. nullopt
// when we share none, or the data is not a whole number of 16-bit values.
[[nodiscard]] std::optional<SignatureHash> choose_signature_hash(std::span<const std::uint8_t> peer_notify_data);

// As above, but first the hash that matches the key's strength (as strongSwan
// does): SHA-256 up to 128 bits (P-256, RSA-3072), SHA-384 up to 192
// (P-384, RSA-4096 and 7680), SHA-512 beyond (P-521); then stronger ones,
// then weaker ones.
[[nodiscard]] std::optional<SignatureHash> choose_signature_hash(std::span<const std::uint8_t> peer_notify_data,
                                                                 const Botan::Public_Key& key);

// ---------------------------------------------------------------------------
// Signing

// Method 14 Authentication Data: the length, the AlgorithmIdentifier of
// RFC 7427 Appendix A (sha*WithRSAEncryption for RSA, ecdsa-with-SHA* for
// ECDSA), the signature. An error for another key type or hash.
[[nodiscard]] std::expected<std::vector<std::uint8_t>, std::string>
sign_auth(const Botan::Private_Key& key, std::span<const std::uint8_t> octets, SignatureHash hash,
          Botan::RandomNumberGenerator& rng);

// The RFC 7296 / RFC 4754 method of a key: 1 for RSA, 9/10/11 for ECDSA on
// P-256/P-384/P-521; an error for other curves and key types (those need the
// peer to speak RFC 7427).
[[nodiscard]] std::expected<AuthMethod, std::string> classic_auth_method(const Botan::Public_Key& key);

// The Authentication Data of the key's classic method.
[[nodiscard]] std::expected<std::vector<std::uint8_t>, std::string>
sign_auth_classic(const Botan::Private_Key& key, std::span<const std::uint8_t> octets,
                  Botan::RandomNumberGenerator& rng);

// Our AUTH payload. peer_hash_algorithms: the data of the peer's
// SIGNATURE_HASH_ALGORITHMS notify, nullopt if it sent none. Method 14 with
// choose_signature_hash(data, key) when that finds one, else classic.
[[nodiscard]] std::expected<AuthPayload, std::string>
make_signature_auth(const Botan::Private_Key& key,
                    std::optional<std::span<const std::uint8_t>> peer_hash_algorithms,
                    std::span<const std::uint8_t> octets, Botan::RandomNumberGenerator& rng);

// ---------------------------------------------------------------------------
// Verifying

// Whether auth_data is the signature of octets by key under method; on
// failure, why (for the log line of an AUTHENTICATION_FAILED).
[[nodiscard]] std::expected<void, std::string> check_auth(const Botan::Public_Key& key, AuthMethod method,
                                                          std::span<const std::uint8_t> auth_data,
                                                          std::span<const std::uint8_t> octets);

[[nodiscard]] bool verify_auth(const Botan::Public_Key& key, AuthMethod method,
                               std::span<const std::uint8_t> auth_data, std::span<const std::uint8_t> octets);

// ---------------------------------------------------------------------------
// AlgorithmIdentifiers (RFC 7427 Appendix A)

// The DER AlgorithmIdentifier method 14 carries for the key type and hash
// (without the length byte); empty if there is none.
[[nodiscard]] std::span<const std::uint8_t> signature_algorithm_identifier(const Botan::Public_Key& key,
                                                                         SignatureHash hash);

} // namespace mesh::ike
