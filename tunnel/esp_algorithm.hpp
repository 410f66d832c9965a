#pragma once
// The ESP transforms mesh-site implements, with their wire sizes in one place.
//   AES-GCM with a 16-byte ICV (RFC 4106), ChaCha20-Poly1305 (RFC 7634),
//   AES-CBC (RFC 3602) with HMAC-SHA-256-128 / -384-192 / -512-256 (RFC 4868).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mesh::tunnel {

enum class EspCipher : std::uint8_t { aes128_gcm, aes256_gcm, chacha20_poly1305, aes128_cbc, aes256_cbc };
enum class EspIntegrity : std::uint8_t { none, hmac_sha256_128, hmac_sha384_192, hmac_sha512_256 };
// Each cipher object serves one direction of one SA.
enum class EspDirection : std::uint8_t { seal, open };

struct EspCipherInfo {
    std::string_view name;        // configuration and status name: "aes-128-gcm"
    std::size_t key_bytes;        // cipher key, with the 4-byte salt included for AEADs
    std::size_t salt_bytes;       // 4 for GCM and ChaCha20-Poly1305 (RFC 4106 section 8.1, RFC 7634 section 2)
    std::size_t iv_bytes;         // explicit IV on the wire
    std::size_t block_bytes;      // the payload is padded to a multiple of this (at least 4)
    std::size_t icv_bytes;        // 16 for the AEADs, 0 for CBC (its ICV comes from EspIntegrity)
    bool aead;
};

struct EspIntegrityInfo {
    std::string_view name;        // "sha256", "sha384", "sha512"
    std::size_t key_bytes;
    std::size_t icv_bytes;
};

[[nodiscard]] const EspCipherInfo& info(EspCipher cipher) noexcept;
[[nodiscard]] const EspIntegrityInfo& info(EspIntegrity integrity) noexcept;
[[nodiscard]] std::optional<EspCipher> parse_esp_cipher(std::string_view name) noexcept;
[[nodiscard]] std::optional<EspIntegrity> parse_esp_integrity(std::string_view name) noexcept;

} // namespace mesh::tunnel
