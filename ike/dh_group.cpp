#include "ike/dh_group.hpp"

#include <botan/bigint.h>
#include <botan/curve25519.h>
#include <botan/dh.h>
#include <botan/dl_group.h>
#include <botan/ec_group.h>
#include <botan/ecdh.h>
#include <botan/pubkey.h>
#include <botan/rng.h>
#include <botan/symkey.h>

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

namespace mesh::ike {

namespace {

constexpr std::size_t x25519_bytes = 32;

void append_padded(std::vector<std::uint8_t>& out, const Botan::BigInt& value, std::size_t bytes)
{
    const Botan::secure_vector<std::uint8_t> encoded = Botan::BigInt::encode_1363(value, bytes);
    out.insert(out.end(), encoded.begin(), encoded.end());
}

// The KE payload form of our public value (see the header for the formats).
std::vector<std::uint8_t> ke_data(const Botan::PK_Key_Agreement_Key& key, const DhGroupInfo& group)
{
    std::vector<std::uint8_t> out;
    out.reserve(group.ke_bytes);
    switch (group.kind) {
    case DhKind::modp:
        append_padded(out, dynamic_cast<const Botan::DH_PrivateKey&>(key).get_y(), group.ke_bytes);
        break;
    case DhKind::ecp: {
        const Botan::PointGFp& point = dynamic_cast<const Botan::ECDH_PrivateKey&>(key).public_point();
        append_padded(out, point.get_affine_x(), group.ke_bytes / 2);
        append_padded(out, point.get_affine_y(), group.ke_bytes / 2);
        break;
    }
    case DhKind::x25519:
        out = key.public_value();
        break;
    }
    return out;
}

// A zero private value makes Botan generate one: the two constructors share it.
std::unique_ptr<Botan::PK_Key_Agreement_Key> make_key(const DhGroupInfo& group, Botan::RandomNumberGenerator& rng,
                                                      std::span<const std::uint8_t> private_key)
{
    const std::string botan_group(group.botan_group);
    switch (group.kind) {
    case DhKind::modp: {
        const Botan::BigInt x = Botan::BigInt::decode(private_key.data(), private_key.size());
        return std::make_unique<Botan::DH_PrivateKey>(rng, Botan::DL_Group(botan_group), x);
    }
    case DhKind::ecp: {
        const Botan::BigInt x = Botan::BigInt::decode(private_key.data(), private_key.size());
        return std::make_unique<Botan::ECDH_PrivateKey>(rng, Botan::EC_Group(botan_group), x);
    }
    case DhKind::x25519:
        if (private_key.empty())
            return std::make_unique<Botan::Curve25519_PrivateKey>(rng);
        return std::make_unique<Botan::Curve25519_PrivateKey>(
            Botan::secure_vector<std::uint8_t>(private_key.begin(), private_key.end()));
    }
    return nullptr;
}

} // namespace

DhKeyExchange::DhKeyExchange(DhGroup group, std::unique_ptr<Botan::PK_Key_Agreement_Key> key,
                             Botan::RandomNumberGenerator& rng)
    : group_(group), key_(std::move(key)), rng_(&rng), public_value_(ke_data(*key_, *info(group)))
{
}

DhKeyExchange::DhKeyExchange(DhKeyExchange&&) noexcept = default;
DhKeyExchange& DhKeyExchange::operator=(DhKeyExchange&&) noexcept = default;
DhKeyExchange::~DhKeyExchange() = default;

std::expected<DhKeyExchange, CryptoError> DhKeyExchange::generate(DhGroup group,
                                                                  Botan::RandomNumberGenerator& rng) noexcept
{
    return create(group, {}, rng);
}

std::expected<DhKeyExchange, CryptoError> DhKeyExchange::from_private_key(DhGroup group,
                                                                          std::span<const std::uint8_t> private_key,
                                                                          Botan::RandomNumberGenerator& rng) noexcept
{
    if (private_key.empty())
        return std::unexpected(CryptoError::invalid_length);
    return create(group, private_key, rng);
}

std::expected<DhKeyExchange, CryptoError> DhKeyExchange::create(DhGroup group,
                                                                std::span<const std::uint8_t> private_key,
                                                                Botan::RandomNumberGenerator& rng) noexcept
{
    const DhGroupInfo* g = info(group);
    if (g == nullptr)
        return std::unexpected(CryptoError::invalid_suite);
    if (!private_key.empty()) {
        const bool all_zero = std::ranges::all_of(private_key, [](std::uint8_t b) { return b == 0; });
        if (all_zero || (g->kind == DhKind::x25519 && private_key.size() != x25519_bytes))
            return std::unexpected(CryptoError::invalid_length);
    }
    try {
        return DhKeyExchange(group, make_key(*g, rng, private_key), rng);
    } catch (const std::exception&) {  // a scalar out of range, or an algorithm Botan lacks
        return std::unexpected(CryptoError::unsupported);
    }
}

// RFC 6989 section 2.1: for the safe-prime MODP groups, 1 < y < p-1 is the
// whole membership test. Section 2.3: an ECP value must be a point of the
// curve; x and y must be field elements first, or Botan would reduce them.
bool DhKeyExchange::peer_value_valid(std::span<const std::uint8_t> peer_value) const
{
    const DhGroupInfo& g = *info(group_);
    switch (g.kind) {
    case DhKind::modp: {
        const Botan::DL_Group group(std::string(g.botan_group));
        const Botan::BigInt y = Botan::BigInt::decode(peer_value.data(), peer_value.size());
        return y > 1 && y < group.get_p() - 1;
    }
    case DhKind::ecp: {
        const Botan::EC_Group group{std::string(g.botan_group)};
        const std::size_t half = peer_value.size() / 2;
        const Botan::BigInt x = Botan::BigInt::decode(peer_value.data(), half);
        const Botan::BigInt y = Botan::BigInt::decode(peer_value.data() + half, half);
        if (x >= group.get_p() || y >= group.get_p())
            return false;
        return group.verify_public_element(group.point(x, y));
    }
    case DhKind::x25519:
        return true;  // every u-coordinate is acceptable input (RFC 7748 section 5); the output is checked
    }
    return false;
}

std::expected<Botan::secure_vector<std::uint8_t>, CryptoError> DhKeyExchange::shared_secret(
    std::span<const std::uint8_t> peer_value) const noexcept
{
    const DhGroupInfo& g = *info(group_);
    if (peer_value.size() != g.ke_bytes)
        return std::unexpected(CryptoError::invalid_length);
    try {
        if (!peer_value_valid(peer_value))
            return std::unexpected(CryptoError::invalid_public_value);

        // Botan takes ECP points in SEC1 form: put the 0x04 back that RFC 5903 leaves out.
        std::vector<std::uint8_t> encoded;
        if (g.kind == DhKind::ecp)
            encoded.push_back(0x04);
        encoded.insert(encoded.end(), peer_value.begin(), peer_value.end());

        const Botan::PK_Key_Agreement agreement(*key_, *rng_, "Raw");
        Botan::secure_vector<std::uint8_t> secret = agreement.derive_key(0, encoded.data(), encoded.size()).bits_of();

        // Botan pads MODP and ECP output to the prime's length already; make sure.
        if (secret.size() > g.secret_bytes)
            return std::unexpected(CryptoError::invalid_public_value);
        if (secret.size() < g.secret_bytes)
            secret.insert(secret.begin(), g.secret_bytes - secret.size(), 0);

        // RFC 8031 section 2, RFC 7748 section 6.1: a low-order point gives all zeros.
        std::uint8_t any = 0;
        for (const std::uint8_t b : secret)
            any |= b;
        if (any == 0)
            return std::unexpected(CryptoError::degenerate_secret);
        return secret;
    } catch (const std::exception&) {  // Botan's rejection of a point, or an allocation failure
        return std::unexpected(CryptoError::invalid_public_value);
    }
}

} // namespace mesh::ike
