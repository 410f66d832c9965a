#pragma once
// The IKEv2 pseudorandom function and its expansion prf+ (RFC 7296 section 2.13):
//
//   prf+ (K,S) = T1 | T2 | T3 | T4 | ...
//   T1 = prf (K, S | 0x01)
//   T2 = prf (K, T1 | S | 0x02)
//   ...                                  at most 255 blocks: the counter is one octet
//
// prf is HMAC-SHA2-256/384/512 (RFC 4868 section 2.1.2). A Prf owns one Botan
// MAC object, made once and re-keyed per call; it is not thread-safe.

#include "ike/crypto_suite.hpp"

#include <botan/secmem.h>

#include <cstddef>
#include <cstdint>
#include <expected>
#include <initializer_list>
#include <memory>
#include <span>

namespace Botan {
class HashFunction;
class MessageAuthenticationCode;
} // namespace Botan

namespace mesh::ike {

// The parts of a PRF input, concatenated without copying: {ni, nr, spi_bytes}.
using ByteParts = std::initializer_list<std::span<const std::uint8_t>>;

class Prf {
public:
    static constexpr std::size_t max_plus_blocks = 255;

    // invalid_suite for a value outside the enumerators; unsupported if Botan lacks the hash.
    [[nodiscard]] static std::expected<Prf, CryptoError> create(PrfId id) noexcept;

    Prf(Prf&&) noexcept;
    Prf& operator=(Prf&&) noexcept;
    ~Prf();

    [[nodiscard]] PrfId id() const noexcept { return id_; }
    // Output length, and the key length SK_d, SK_pi and SK_pr take (RFC 7296 section 2.13).
    [[nodiscard]] std::size_t output_bytes() const noexcept { return output_bytes_; }

    // prf(key, data[0] | data[1] | ...). HMAC takes a key of any length
    // (RFC 2104 section 2: a key longer than the hash block is hashed first).
    [[nodiscard]] Botan::secure_vector<std::uint8_t> compute(std::span<const std::uint8_t> key, ByteParts data);

    // prf+(key, seed[0] | seed[1] | ...) truncated to length bytes;
    // CryptoError::too_long past max_plus_blocks * output_bytes().
    [[nodiscard]] std::expected<Botan::secure_vector<std::uint8_t>, CryptoError> plus(
        std::span<const std::uint8_t> key, ByteParts seed, std::size_t length);

private:
    Prf(PrfId id, std::unique_ptr<Botan::MessageAuthenticationCode> mac, std::unique_ptr<Botan::HashFunction> hash);

    void set_key(std::span<const std::uint8_t> key);

    PrfId id_;
    std::size_t output_bytes_;
    std::unique_ptr<Botan::MessageAuthenticationCode> mac_;
    std::unique_ptr<Botan::HashFunction> hash_;  // pre-hashes keys longer than Botan's HMAC takes
};

} // namespace mesh::ike
