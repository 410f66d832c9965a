#pragma once
// The cipher objects of one SA and direction, made once when the SA is
// installed and reused for every packet: keys are scheduled once, and nothing
// here allocates, locks or throws per packet. AES-GCM runs on OpenSSL
// (tunnel/evp_aead.hpp: it is measured faster here), ChaCha20-Poly1305 and
// AES-CBC with HMAC on Botan.
//
// Both directions work in place on a whole ESP packet, SPI to ICV:
//
//   AEAD (AES-GCM, RFC 4106; ChaCha20-Poly1305, RFC 7634)
//     nonce = salt || IV                       (RFC 4106 section 4, RFC 7634 section 2)
//     AAD   = SPI || seq low                   (RFC 4106 section 5, without ESN)
//           = SPI || seq high || seq low       (with ESN)
//     [SPI|seq|IV][payload|pad|pad len|nh]->ciphertext[ICV = tag]
//
//   AES-CBC (RFC 3602) with HMAC-SHA-2 (RFC 4868)
//     ICV = HMAC(SPI || seq low || IV || ciphertext [|| seq high with ESN]),
//           truncated (RFC 4303 sections 2.2.1 and 3.3.2.1: seq high is
//           authenticated, never sent)
//     encrypt, then MAC; the receiver checks the ICV before it decrypts.

#include "tunnel/esp_sa.hpp"

#include <botan/secmem.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

namespace Botan {
class AEAD_Mode;
class BlockCipher;
class Cipher_Mode;
class MessageAuthenticationCode;
} // namespace Botan

namespace mesh::tunnel {

class EvpAead;

class EspCrypto {
public:
    // The fixed ESP header in front of the IV: SPI and low 32 bits of the sequence number.
    static constexpr std::size_t header_bytes = 8;

    // Throws std::invalid_argument for a key of the wrong length or a
    // cipher/integrity mismatch, and Botan's exceptions or std::runtime_error
    // (OpenSSL) if a library lacks an algorithm.
    EspCrypto(const SaParams& params, EspDirection direction);
    ~EspCrypto();
    EspCrypto(const EspCrypto&) = delete;
    EspCrypto& operator=(const EspCrypto&) = delete;

    [[nodiscard]] std::size_t iv_bytes() const noexcept { return iv_bytes_; }
    [[nodiscard]] std::size_t icv_bytes() const noexcept { return icv_bytes_; }

    // The explicit IV of the packet with sequence number seq. AEAD: seq itself,
    // unique per key as RFC 4106 section 3.1 and RFC 7634 section 2 require.
    // CBC: AES_K(seq), unpredictable as RFC 3602 section 3 requires (NIST SP
    // 800-38A Appendix C, first method), with no random number per packet.
    void write_iv(std::uint64_t seq, std::span<std::uint8_t> iv) noexcept;

    // packet: header and IV written, then the plaintext (payload, padding, pad
    // length, next header; whole blocks for CBC), then icv_bytes() of room.
    // Encrypts in place and writes the ICV. False only if the cipher refused,
    // which a valid SA never does.
    [[nodiscard]] bool seal(std::span<std::uint8_t> packet, std::uint64_t seq) noexcept;
    // packet: as received, of at least header + IV + ICV bytes (CBC: whole
    // blocks of ciphertext). Verifies the ICV and decrypts in place; false on a
    // bad ICV. seq is the full sequence number the replay window inferred.
    [[nodiscard]] bool open(std::span<std::uint8_t> packet, std::uint64_t seq) noexcept;

    // The truncated HMAC over covered || esn_high into icv (icv_bytes() long;
    // CBC SAs only). Public so the RFC 4868 known answers can reach it.
    void compute_icv(std::span<const std::uint8_t> covered, std::span<const std::uint8_t> esn_high,
                     std::span<std::uint8_t> icv);

private:
    // An AEAD packet split for the cipher: AAD and nonce built, the text
    // (payload to next header) and the ICV located.
    struct AeadParts {
        std::span<const std::uint8_t> aad;
        std::span<std::uint8_t> text;
        std::span<std::uint8_t> icv;
    };
    // Shared start of seal and open, the AAD written into aad_storage;
    // nullopt when the packet cannot hold the ICV.
    std::optional<AeadParts> split_aead(std::span<std::uint8_t> packet, std::uint64_t seq,
                                        std::array<std::uint8_t, 12>& aad_storage) noexcept;
    // Botan: the AAD and nonce set, the granularity-aligned bulk processed in
    // place; returns how many text bytes that was.
    std::size_t start_botan(const AeadParts& parts);
    bool seal_aead(std::span<std::uint8_t> packet, std::uint64_t seq);
    bool open_aead(std::span<std::uint8_t> packet, std::uint64_t seq);
    bool seal_cbc(std::span<std::uint8_t> packet, std::uint64_t seq);
    bool open_cbc(std::span<std::uint8_t> packet, std::uint64_t seq);

    bool esn_;
    bool aead_mode_;
    std::size_t iv_bytes_;
    std::size_t icv_bytes_;

    // AEAD: AES-GCM on OpenSSL (evp_), ChaCha20-Poly1305 on Botan (aead_)
    std::array<std::uint8_t, 12> nonce_{};        // salt || IV; the salt is set once
    std::unique_ptr<EvpAead> evp_;
    std::unique_ptr<Botan::AEAD_Mode> aead_;
    std::size_t granularity_ = 0;                // process() takes multiples of this; the rest goes to finish()
    Botan::secure_vector<std::uint8_t> tail_;     // the finish() buffer, capacity reserved at construction

    // CBC + HMAC
    std::unique_ptr<Botan::Cipher_Mode> cbc_;
    std::unique_ptr<Botan::BlockCipher> iv_cipher_;  // seal only
    std::unique_ptr<Botan::MessageAuthenticationCode> mac_;
};

} // namespace mesh::tunnel
