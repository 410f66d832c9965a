#pragma once
// Protection of the Encrypted payload (SK, RFC 7296 section 3.14) of one IKE
// SA: both directions, with the Botan objects made once.
//
//                        1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   | Next Payload  |C|  RESERVED   |         Payload Length        |  <- end of aad_prefix
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                     Initialization Vector                     |  <- body
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                    Encrypted IKE Payloads                     ~
//   +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |               |             Padding (0-255 octets)            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |                                               |  Pad Length   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   ~                    Integrity Checksum Data                    ~
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// aad_prefix is the message from the first octet of the IKE header through
// the SK payload's generic header, with every length already final.
//
//   AES-CBC + HMAC-SHA2 (RFC 7296 section 3.14, RFC 4868)
//     IV: 16 random octets. Plaintext padded to whole AES blocks.
//     ICV = HMAC(SK_a, aad_prefix | IV | ciphertext), truncated; checked
//     before anything is decrypted.
//   AES-GCM-16 (RFC 5282), ChaCha20-Poly1305 (RFC 7634 section 4)
//     IV: 8 octets, used once per key (RFC 5282 section 3.1): a counter that
//     starts at a random value. nonce = salt (last 4 octets of SK_e) | IV
//     (section 4). AAD = aad_prefix (section 5.1). ICV: the 16-octet tag.
//     No alignment: just the Pad Length octet (section 3).

#include "ike/crypto_suite.hpp"
#include "ike/key_material.hpp"

#include <botan/secmem.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <span>
#include <vector>

namespace Botan {
class AEAD_Mode;
class Cipher_Mode;
class MessageAuthenticationCode;
class RandomNumberGenerator;
} // namespace Botan

namespace mesh::ike {

// Which end of the IKE SA this is: the original initiator sends with SK_ei and
// SK_ai and receives with SK_er and SK_ar (RFC 7296 section 2.14). After an
// IKE SA rekey, the original initiator is whoever initiated the rekey.
enum class SkSide : std::uint8_t { original_initiator, original_responder };

class SkCipher {
public:
    // Keys of the two directions: seal_* for what this end sends. Integrity
    // keys are empty for an AEAD. invalid_suite for a cipher and integrity that
    // do not go together, invalid_length for a key of the wrong size,
    // unsupported if Botan refuses. rng must outlive the object.
    [[nodiscard]] static std::expected<SkCipher, CryptoError> create(
        IkeCipher cipher, IntegId integ, std::span<const std::uint8_t> seal_encr_key,
        std::span<const std::uint8_t> seal_integ_key, std::span<const std::uint8_t> open_encr_key,
        std::span<const std::uint8_t> open_integ_key, Botan::RandomNumberGenerator& rng) noexcept;

    // The same from an IKE SA's keys.
    [[nodiscard]] static std::expected<SkCipher, CryptoError> create(const IkeSuite& suite, const IkeSaKeys& keys,
                                                                     SkSide side,
                                                                     Botan::RandomNumberGenerator& rng) noexcept;

    SkCipher(SkCipher&&) noexcept;
    SkCipher& operator=(SkCipher&&) noexcept;
    ~SkCipher();

    // Length of the body (IV | ciphertext | ICV) seal() makes of
    // plaintext_bytes of inner payloads, so the caller can write the SK
    // Payload Length and the IKE header's Length before sealing.
    [[nodiscard]] std::size_t sealed_size(std::size_t plaintext_bytes) const noexcept;

    // Encrypts the inner payloads and returns the SK payload body. The body is
    // sealed_size(plaintext.size()) long. Fails only if Botan or the RNG does.
    [[nodiscard]] std::expected<std::vector<std::uint8_t>, CryptoError> seal(
        std::span<const std::uint8_t> aad_prefix, std::span<const std::uint8_t> plaintext) noexcept;

    // Verifies and decrypts a received SK payload body; returns the inner
    // payloads with the padding removed.
    //   truncated    shorter than IV + Pad Length + ICV, or CBC text not whole blocks
    //   auth_failed  the ICV does not verify
    //   bad_padding  Pad Length larger than the decrypted text
    [[nodiscard]] std::expected<Botan::secure_vector<std::uint8_t>, CryptoError> open(
        std::span<const std::uint8_t> aad_prefix, std::span<const std::uint8_t> body) noexcept;

    [[nodiscard]] IkeCipher cipher() const noexcept { return cipher_; }
    [[nodiscard]] IntegId integ() const noexcept { return integ_; }
    [[nodiscard]] std::size_t iv_bytes() const noexcept { return iv_bytes_; }
    [[nodiscard]] std::size_t icv_bytes() const noexcept { return icv_bytes_; }

private:
    SkCipher(IkeCipher cipher, IntegId integ);

    std::vector<std::uint8_t> seal_aead(std::span<const std::uint8_t> aad_prefix,
                                        std::span<const std::uint8_t> plaintext);
    std::vector<std::uint8_t> seal_cbc(std::span<const std::uint8_t> aad_prefix,
                                       std::span<const std::uint8_t> plaintext);
    std::expected<Botan::secure_vector<std::uint8_t>, CryptoError> open_aead(std::span<const std::uint8_t> aad_prefix,
                                                                             std::span<const std::uint8_t> body);
    std::expected<Botan::secure_vector<std::uint8_t>, CryptoError> open_cbc(std::span<const std::uint8_t> aad_prefix,
                                                                            std::span<const std::uint8_t> body);
    void mac_icv(Botan::MessageAuthenticationCode& mac, std::span<const std::uint8_t> aad_prefix,
                 std::span<const std::uint8_t> covered, std::span<std::uint8_t> icv);

    static constexpr std::size_t salt_bytes = 4;

    IkeCipher cipher_;
    IntegId integ_;
    bool aead_;
    std::size_t iv_bytes_;
    std::size_t block_bytes_;
    std::size_t icv_bytes_;
    Botan::RandomNumberGenerator* rng_ = nullptr;

    // AEAD
    std::unique_ptr<Botan::AEAD_Mode> seal_aead_;
    std::unique_ptr<Botan::AEAD_Mode> open_aead_;
    std::array<std::uint8_t, salt_bytes> seal_salt_{};
    std::array<std::uint8_t, salt_bytes> open_salt_{};
    std::uint64_t next_iv_ = 0;

    // CBC + HMAC
    std::unique_ptr<Botan::Cipher_Mode> seal_cbc_;
    std::unique_ptr<Botan::Cipher_Mode> open_cbc_;
    std::unique_ptr<Botan::MessageAuthenticationCode> seal_mac_;
    std::unique_ptr<Botan::MessageAuthenticationCode> open_mac_;
};

} // namespace mesh::ike
