#pragma once
// Stateless cookies of RFC 7296 section 2.6: while too many IKE SAs are
// half open, a responder answers IKE_SA_INIT with N(COOKIE) and keeps no
// state; only an initiator that can receive at its source address comes
// back with the cookie, and only then does the responder spend a DH.
//
//   Cookie = <secret version, 4 bytes> | HMAC-SHA-256(secret, Ni | IPi | SPIi)
//
// The secret changes every secret_lifetime; a cookie made with the one
// before is still accepted, so an initiator caught by a change is not
// refused.

#include "ike/ike_sa.hpp"
#include "net/ip_address.hpp"

#include <botan/mac.h>
#include <botan/rng.h>
#include <botan/secmem.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace mesh::ike {

class CookieSecrets {
public:
    static constexpr auto secret_lifetime = std::chrono::seconds(60);
    static constexpr std::size_t cookie_size = 4 + 32;

    explicit CookieSecrets(Botan::RandomNumberGenerator& rng);

    [[nodiscard]] std::vector<std::uint8_t> make(std::span<const std::uint8_t> nonce_i,
                                                 const net::IpAddress& initiator, std::uint64_t spi_i,
                                                 Clock::time_point now);
    // Whether cookie is one make() gave for these values under the current or the previous secret.
    [[nodiscard]] bool check(std::span<const std::uint8_t> cookie, std::span<const std::uint8_t> nonce_i,
                             const net::IpAddress& initiator, std::uint64_t spi_i, Clock::time_point now);

private:
    struct Secret {
        std::uint32_t version = 0;
        Botan::secure_vector<std::uint8_t> key;
    };

    void rotate(Clock::time_point now);
    [[nodiscard]] std::array<std::uint8_t, 32> mac(const Secret& secret, std::span<const std::uint8_t> nonce_i,
                                                   const net::IpAddress& initiator, std::uint64_t spi_i);

    Botan::RandomNumberGenerator& rng_;
    std::unique_ptr<Botan::MessageAuthenticationCode> hmac_;
    Secret current_;
    Secret previous_;
    Clock::time_point rotated_at_{};
    bool started_ = false;
};

} // namespace mesh::ike
