#include "tunnel/esp_algorithm.hpp"

#include <array>

namespace mesh::tunnel {

namespace {

// Indexed by EspCipher. AEAD payloads only need the 4-byte alignment of RFC 4303
// section 2.4; CBC needs whole AES blocks (RFC 3602 section 2.4).
constexpr std::array<EspCipherInfo, 5> ciphers{{
    {.name = "aes-128-gcm", .key_bytes = 16 + 4, .salt_bytes = 4, .iv_bytes = 8, .block_bytes = 4, .icv_bytes = 16, .aead = true},
    {.name = "aes-256-gcm", .key_bytes = 32 + 4, .salt_bytes = 4, .iv_bytes = 8, .block_bytes = 4, .icv_bytes = 16, .aead = true},
    {.name = "chacha20-poly1305", .key_bytes = 32 + 4, .salt_bytes = 4, .iv_bytes = 8, .block_bytes = 4, .icv_bytes = 16, .aead = true},
    {.name = "aes-128-cbc", .key_bytes = 16, .salt_bytes = 0, .iv_bytes = 16, .block_bytes = 16, .icv_bytes = 0, .aead = false},
    {.name = "aes-256-cbc", .key_bytes = 32, .salt_bytes = 0, .iv_bytes = 16, .block_bytes = 16, .icv_bytes = 0, .aead = false},
}};

// Indexed by EspIntegrity. RFC 4868 section 2.1: the key is as long as the hash
// output, the ICV is half of it.
constexpr std::array<EspIntegrityInfo, 4> integrities{{
    {.name = "none", .key_bytes = 0, .icv_bytes = 0},
    {.name = "sha256", .key_bytes = 32, .icv_bytes = 16},
    {.name = "sha384", .key_bytes = 48, .icv_bytes = 24},
    {.name = "sha512", .key_bytes = 64, .icv_bytes = 32},
}};

} // namespace

const EspCipherInfo& info(EspCipher cipher) noexcept
{
    return ciphers[static_cast<std::size_t>(cipher)];
}

const EspIntegrityInfo& info(EspIntegrity integrity) noexcept
{
    return integrities[static_cast<std::size_t>(integrity)];
}

std::optional<EspCipher> parse_esp_cipher(std::string_view name) noexcept
{
    for (std::size_t i = 0; i < ciphers.size(); ++i)
        if (ciphers[i].name == name)
            return static_cast<EspCipher>(i);
    return std::nullopt;
}

// "none" is not a name a configuration may give: it is what an AEAD implies.
std::optional<EspIntegrity> parse_esp_integrity(std::string_view name) noexcept
{
    for (std::size_t i = 1; i < integrities.size(); ++i)
        if (integrities[i].name == name)
            return static_cast<EspIntegrity>(i);
    return std::nullopt;
}

} // namespace mesh::tunnel
