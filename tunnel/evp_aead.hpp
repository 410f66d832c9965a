#pragma once
// One OpenSSL EVP AEAD context (AES-GCM or ChaCha20-Poly1305) for one SA
// direction: the cipher is fetched and the key scheduled once, at install;
// per packet only the nonce is set, so nothing allocates, locks or throws.
//
// Why OpenSSL beside Botan: on this machine (AES-NI, VAES, VPCLMULQDQ)
// OpenSSL 3.0's AES-GCM seals 1400-byte packets about twice as fast as
// Botan 2.19's (tools/bench/esp_crypto_bench prints both), and the ESP hot
// loop is where a gateway spends its CPU. Everything else stays with Botan.
//
//   seal: nonce -> AAD -> text encrypted in place -> tag written
//   open: nonce -> AAD -> text decrypted in place -> tag checked (constant time
//         inside OpenSSL); a bad tag is a false return, never an exception

#include "tunnel/esp_algorithm.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

struct evp_cipher_ctx_st;

namespace mesh::tunnel {

class EvpAead {
public:
    static constexpr std::size_t nonce_bytes = 12;  // salt || explicit IV (RFC 4106 section 4, RFC 7634 section 2)
    static constexpr std::size_t tag_bytes = 16;

    // key: the cipher key without the salt. Throws std::invalid_argument for a
    // CBC cipher or a key of the wrong length, std::runtime_error if OpenSSL
    // lacks the algorithm.
    EvpAead(EspCipher cipher, std::span<const std::uint8_t> key, EspDirection direction);
    ~EvpAead();
    EvpAead(const EvpAead&) = delete;
    EvpAead& operator=(const EvpAead&) = delete;

    // Encrypts text in place and writes its tag. False only if OpenSSL refused,
    // which a context made by the constructor never does.
    [[nodiscard]] bool seal(std::span<const std::uint8_t, nonce_bytes> nonce, std::span<const std::uint8_t> aad,
                            std::span<std::uint8_t> text, std::span<std::uint8_t, tag_bytes> tag) noexcept;
    // Decrypts text in place; false when the tag does not verify, and then
    // text holds garbage the caller must drop.
    [[nodiscard]] bool open(std::span<const std::uint8_t, nonce_bytes> nonce, std::span<const std::uint8_t> aad,
                            std::span<std::uint8_t> text, std::span<const std::uint8_t, tag_bytes> tag) noexcept;

private:
    struct Free {
        void operator()(evp_cipher_ctx_st* ctx) const noexcept;
    };
    bool start(std::span<const std::uint8_t, nonce_bytes> nonce, std::span<const std::uint8_t> aad) noexcept;

    std::unique_ptr<evp_cipher_ctx_st, Free> ctx_;
};

} // namespace mesh::tunnel
