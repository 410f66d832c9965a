#pragma once
// One side of an IKEv2 Diffie-Hellman exchange: a private key made for one
// IKE_SA_INIT or CREATE_CHILD_SA, the public value for our KE payload, and
// the shared secret g^ir from the peer's KE payload.
//
// Key Exchange Data formats (RFC 7296 section 3.4 for its length rule):
//   MODP (RFC 3526)        y = g^x mod p, big-endian, zero-padded to the prime's length
//   ECP  (RFC 5903 sec 7)  x || y, each zero-padded to the field's length, no 0x04 prefix
//   X25519 (RFC 8031)      the 32-byte u-coordinate of RFC 7748
// g^ir (RFC 7296 section 2.14; RFC 5903 section 7; RFC 8031 section 2):
//   MODP                   g^xy mod p, zero-padded to the prime's length
//   ECP                    the x-coordinate of the shared point only
//   X25519                 the 32-byte X25519 output
//
// The peer's value is checked before it is used (RFC 6989): a MODP value must
// lie in 1 < y < p-1, an ECP point must be on the curve, and an X25519
// result must not be all zero.
//
// Why OpenSSL does the arithmetic: a hub answers every branch's IKE_SA_INIT
// with a key pair and an agreement, and OpenSSL 3.0's P-256 (and X25519 and
// MODP) is several times faster than Botan 2.19's on the same machine
// (tests/ike/bench/bench_ike_init prints the cost per group). The private
// value still comes from the caller's RNG, so a seeded test replays exactly.

#include "ike/crypto_suite.hpp"

#include <botan/secmem.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <span>
#include <vector>

namespace Botan {
class RandomNumberGenerator;
} // namespace Botan

struct evp_pkey_st;

namespace mesh::ike {

class DhKeyExchange {
public:
    // A fresh private key drawn from rng. CryptoError::invalid_suite for
    // DhGroup::none or a value outside the enumerators.
    [[nodiscard]] static std::expected<DhKeyExchange, CryptoError> generate(DhGroup group,
                                                                            Botan::RandomNumberGenerator& rng) noexcept;

    // A given private key, for known-answer tests: the exponent or scalar
    // big-endian (MODP, ECP), the 32 raw bytes of RFC 7748 (X25519).
    // invalid_length for an empty or zero value or a wrong X25519 length,
    // unsupported for a scalar not below the curve's order.
    [[nodiscard]] static std::expected<DhKeyExchange, CryptoError> from_private_key(
        DhGroup group, std::span<const std::uint8_t> private_key) noexcept;

    DhKeyExchange(DhKeyExchange&&) noexcept;
    DhKeyExchange& operator=(DhKeyExchange&&) noexcept;
    ~DhKeyExchange();

    [[nodiscard]] DhGroup group() const noexcept { return group_; }

    // Our Key Exchange Data, in the format above (info(group)->ke_bytes long).
    [[nodiscard]] const std::vector<std::uint8_t>& public_value() const noexcept { return public_value_; }

    // g^ir from the peer's Key Exchange Data.
    //   invalid_length        peer_value is not info(group)->ke_bytes long
    //   invalid_public_value  out of range, or not a point of the curve
    //   degenerate_secret     X25519 gave all zeros (a low-order point)
    [[nodiscard]] std::expected<Botan::secure_vector<std::uint8_t>, CryptoError> shared_secret(
        std::span<const std::uint8_t> peer_value) const noexcept;

private:
    struct KeyFree {
        void operator()(evp_pkey_st* key) const noexcept;
    };
    using Key = std::unique_ptr<evp_pkey_st, KeyFree>;

    DhKeyExchange(DhGroup group, Key key, std::vector<std::uint8_t> public_value);
    static std::expected<DhKeyExchange, CryptoError> create(DhGroup group,
                                                            std::span<const std::uint8_t> private_key) noexcept;

    DhGroup group_;
    Key key_;
    std::vector<std::uint8_t> public_value_;
};

} // namespace mesh::ike
