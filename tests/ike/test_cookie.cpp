// Stateless cookies (RFC 7296 section 2.6): what the responder gives back is
// bound to the initiator's nonce, address and SPI, and outlives one change
// of the secret but not two.

#include "ike/cookie.hpp"

#include "test_rng.hpp"
#include <doctest/doctest.h>

using namespace mesh::ike;
using mesh::net::IpAddress;

namespace {
const std::vector<std::uint8_t> nonce(32, 0x5a);
const IpAddress initiator = *IpAddress::parse("198.51.100.7");
constexpr std::uint64_t spi_i = 0x0102030405060708;
} // namespace

TEST_CASE("a cookie checks for the nonce, address and SPI it was made for, and for nothing else")
{
    test_rng::TestRng rng{"test_cookie"};
    CookieSecrets secrets(rng);
    const Clock::time_point now{};
    auto cookie = secrets.make(nonce, initiator, spi_i, now);
    CHECK(cookie.size() == CookieSecrets::cookie_size);
    CHECK(secrets.check(cookie, nonce, initiator, spi_i, now));

    auto other_nonce = nonce;
    other_nonce.back() ^= 1;
    CHECK_FALSE(secrets.check(cookie, other_nonce, initiator, spi_i, now));
    CHECK_FALSE(secrets.check(cookie, nonce, *IpAddress::parse("198.51.100.8"), spi_i, now));
    CHECK_FALSE(secrets.check(cookie, nonce, initiator, spi_i + 1, now));
    auto forged = cookie;
    forged.back() ^= 0x80;
    CHECK_FALSE(secrets.check(forged, nonce, initiator, spi_i, now));
    CHECK_FALSE(secrets.check(std::span(cookie).first(20), nonce, initiator, spi_i, now));
    CHECK_FALSE(secrets.check({}, nonce, initiator, spi_i, now));
}

TEST_CASE("a cookie survives one change of the secret, not two; another responder's is refused")
{
    test_rng::TestRng rng{"test_cookie"};
    CookieSecrets secrets(rng);
    const Clock::time_point start{};
    const auto cookie = secrets.make(nonce, initiator, spi_i, start);
    const auto later = start + CookieSecrets::secret_lifetime + std::chrono::seconds(1);
    CHECK(secrets.check(cookie, nonce, initiator, spi_i, later));
    const auto fresh = secrets.make(nonce, initiator, spi_i, later);
    CHECK(fresh != cookie);
    const auto much_later = later + CookieSecrets::secret_lifetime + std::chrono::seconds(1);
    CHECK_FALSE(secrets.check(cookie, nonce, initiator, spi_i, much_later));
    CHECK(secrets.check(fresh, nonce, initiator, spi_i, much_later));

    CookieSecrets elsewhere(rng);
    CHECK_FALSE(elsewhere.check(cookie, nonce, initiator, spi_i, start));
}
