#include "ike/cookie.hpp"

#include "net/byte_order.hpp"

#include <botan/mem_ops.h>

namespace mesh::ike {

CookieSecrets::CookieSecrets(Botan::RandomNumberGenerator& rng)
    : rng_(rng), hmac_(Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)"))
{
}

void CookieSecrets::rotate(Clock::time_point now)
{
    if (started_ && now - rotated_at_ < secret_lifetime)
        return;
    previous_ = std::move(current_);
    current_.version = previous_.version + 1;
    current_.key = rng_.random_vec(32);
    // At the start nothing was made with the one before; after a long quiet
    // spell, what was made with it is older than a cookie should live.
    if (!started_ || now - rotated_at_ >= 2 * secret_lifetime)
        previous_ = Secret{};
    rotated_at_ = now;
    started_ = true;
}

std::array<std::uint8_t, 32> CookieSecrets::mac(const Secret& secret, std::span<const std::uint8_t> nonce_i,
                                                const net::IpAddress& initiator, std::uint64_t spi_i)
{
    std::array<std::uint8_t, 8> spi{};
    for (int i = 0; i < 8; ++i)
        spi[i] = static_cast<std::uint8_t>(spi_i >> (56 - 8 * i));
    hmac_->set_key(secret.key);
    hmac_->update(nonce_i.data(), nonce_i.size());
    hmac_->update(initiator.bytes(), initiator.size());
    hmac_->update(spi.data(), spi.size());
    std::array<std::uint8_t, 32> out{};
    hmac_->final(out.data());
    return out;
}

std::vector<std::uint8_t> CookieSecrets::make(std::span<const std::uint8_t> nonce_i, const net::IpAddress& initiator,
                                              std::uint64_t spi_i, Clock::time_point now)
{
    rotate(now);
    std::vector<std::uint8_t> cookie{static_cast<std::uint8_t>(current_.version >> 24),
                                     static_cast<std::uint8_t>(current_.version >> 16),
                                     static_cast<std::uint8_t>(current_.version >> 8),
                                     static_cast<std::uint8_t>(current_.version)};
    const auto digest = mac(current_, nonce_i, initiator, spi_i);
    cookie.insert(cookie.end(), digest.begin(), digest.end());
    return cookie;
}

bool CookieSecrets::check(std::span<const std::uint8_t> cookie, std::span<const std::uint8_t> nonce_i,
                          const net::IpAddress& initiator, std::uint64_t spi_i, Clock::time_point now)
{
    rotate(now);
    if (cookie.size() != cookie_size)
        return false;
    const std::uint32_t version = net::load_be32(cookie.data());
    const Secret* secret = version == current_.version ? &current_ : version == previous_.version ? &previous_ : nullptr;
    if (secret == nullptr || secret->key.empty())
        return false;
    const auto digest = mac(*secret, nonce_i, initiator, spi_i);
    return Botan::constant_time_compare(digest.data(), cookie.data() + 4, digest.size());
}

} // namespace mesh::ike
