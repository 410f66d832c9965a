#include "ike/dh_group.hpp"

#include <botan/rng.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <array>
#include <utility>

namespace mesh::ike {

namespace {

template <auto Free>
struct Freer {
    template <typename T>
    void operator()(T* p) const noexcept
    {
        Free(p);
    }
};
using Bignum = std::unique_ptr<BIGNUM, Freer<BN_clear_free>>;
using BnContext = std::unique_ptr<BN_CTX, Freer<BN_CTX_free>>;
using EcGroup = std::unique_ptr<EC_GROUP, Freer<EC_GROUP_free>>;
using EcPoint = std::unique_ptr<EC_POINT, Freer<EC_POINT_free>>;
using ParamBuilder = std::unique_ptr<OSSL_PARAM_BLD, Freer<OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Freer<OSSL_PARAM_free>>;
using PkeyContext = std::unique_ptr<EVP_PKEY_CTX, Freer<EVP_PKEY_CTX_free>>;
using Pkey = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY_free>>;

constexpr std::size_t x25519_bytes = 32;

Bignum bignum(std::span<const std::uint8_t> big_endian)
{
    return Bignum(BN_bin2bn(big_endian.data(), static_cast<int>(big_endian.size()), nullptr));
}

// The curves' parameters, made once: groups are read-only after
// construction and shared by the crypto pool's threads.
const EC_GROUP* curve(DhGroup group)
{
    static const std::array<EcGroup, 3> curves{EcGroup(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)),
                                               EcGroup(EC_GROUP_new_by_curve_name(NID_secp384r1)),
                                               EcGroup(EC_GROUP_new_by_curve_name(NID_secp521r1))};
    switch (group) {
    case DhGroup::ecp256: return curves[0].get();
    case DhGroup::ecp384: return curves[1].get();
    case DhGroup::ecp521: return curves[2].get();
    default: return nullptr;
    }
}

// The RFC 3526 primes (their generator is 2).
Bignum modp_prime(DhGroup group)
{
    switch (group) {
    case DhGroup::modp2048: return Bignum(BN_get_rfc3526_prime_2048(nullptr));
    case DhGroup::modp3072: return Bignum(BN_get_rfc3526_prime_3072(nullptr));
    case DhGroup::modp4096: return Bignum(BN_get_rfc3526_prime_4096(nullptr));
    default: return nullptr;
    }
}

// An EVP_PKEY of the group from parameters: add() pushes the key's own
// (private and/or public value) after the group's name.
template <typename Add>
Pkey from_params(const DhGroupInfo& group, int selection, Add add)
{
    const ParamBuilder builder(OSSL_PARAM_BLD_new());
    if (!builder || OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.openssl_group, 0) != 1 ||
        !add(builder.get()))
        return nullptr;
    const Params params(OSSL_PARAM_BLD_to_param(builder.get()));
    const PkeyContext context(
        EVP_PKEY_CTX_new_from_name(nullptr, group.kind == DhKind::modp ? "DH" : "EC", nullptr));
    EVP_PKEY* key = nullptr;
    if (!params || !context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
        EVP_PKEY_fromdata(context.get(), &key, selection, params.get()) != 1)
        return nullptr;
    return Pkey(key);
}

// Our key pair from its private value, and the KE payload form of its
// public value (see the header for the formats).
std::expected<std::pair<Pkey, std::vector<std::uint8_t>>, CryptoError> key_pair(
    DhGroup id, const DhGroupInfo& group, std::span<const std::uint8_t> private_key)
{
    std::vector<std::uint8_t> public_value(group.ke_bytes);
    switch (group.kind) {
    case DhKind::x25519: {
        Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(), private_key.size()));
        std::size_t length = public_value.size();
        if (!key || EVP_PKEY_get_raw_public_key(key.get(), public_value.data(), &length) != 1 || length != x25519_bytes)
            return std::unexpected(CryptoError::unsupported);
        return std::pair{std::move(key), std::move(public_value)};
    }
    case DhKind::ecp: {
        const EC_GROUP* ec = curve(id);
        const Bignum scalar = bignum(private_key);
        const BnContext bn(BN_CTX_new());
        if (ec == nullptr || !scalar || !bn)
            return std::unexpected(CryptoError::unsupported);
        if (BN_is_zero(scalar.get()) || BN_cmp(scalar.get(), EC_GROUP_get0_order(ec)) >= 0)
            return std::unexpected(CryptoError::unsupported);
        const EcPoint point(EC_POINT_new(ec));
        std::vector<std::uint8_t> sec1(1 + group.ke_bytes);  // 0x04 || x || y
        if (!point || EC_POINT_mul(ec, point.get(), scalar.get(), nullptr, nullptr, bn.get()) != 1 ||
            EC_POINT_point2oct(ec, point.get(), POINT_CONVERSION_UNCOMPRESSED, sec1.data(), sec1.size(), bn.get()) !=
                sec1.size())
            return std::unexpected(CryptoError::unsupported);
        Pkey key = from_params(group, EVP_PKEY_KEYPAIR, [&](OSSL_PARAM_BLD* b) {
            return OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, scalar.get()) == 1 &&
                   OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, sec1.data(), sec1.size()) == 1;
        });
        if (!key)
            return std::unexpected(CryptoError::unsupported);
        std::copy(sec1.begin() + 1, sec1.end(), public_value.begin());
        return std::pair{std::move(key), std::move(public_value)};
    }
    case DhKind::modp: {
        const Bignum prime = modp_prime(id);
        const Bignum exponent = bignum(private_key);
        const Bignum generator(BN_new());
        const Bignum y(BN_new());
        const BnContext bn(BN_CTX_new());
        if (!prime || !exponent || !generator || !y || !bn || BN_set_word(generator.get(), 2) != 1 ||
            BN_mod_exp_mont_consttime(y.get(), generator.get(), exponent.get(), prime.get(), bn.get(), nullptr) != 1 ||
            BN_bn2binpad(y.get(), public_value.data(), static_cast<int>(public_value.size())) < 0)
            return std::unexpected(CryptoError::unsupported);
        Pkey key = from_params(group, EVP_PKEY_KEYPAIR, [&](OSSL_PARAM_BLD* b) {
            return OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, exponent.get()) == 1 &&
                   OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PUB_KEY, y.get()) == 1;
        });
        if (!key)
            return std::unexpected(CryptoError::unsupported);
        return std::pair{std::move(key), std::move(public_value)};
    }
    }
    return std::unexpected(CryptoError::invalid_suite);
}

// The peer's public value as a key, or nothing when it is not a valid one.
// RFC 6989 section 2.1: for the safe-prime MODP groups 1 < y < p-1 is the
// whole membership test. Section 2.3: an ECP value must be a point of the
// curve with both coordinates field elements; OpenSSL's import checks both
// (EC_POINT_oct2point refuses a coordinate past p and a point off the curve).
Pkey peer_key(DhGroup id, const DhGroupInfo& group, std::span<const std::uint8_t> peer_value)
{
    switch (group.kind) {
    case DhKind::x25519:
        // Every u-coordinate is acceptable input (RFC 7748 section 5); the output is checked.
        return Pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_value.data(), peer_value.size()));
    case DhKind::ecp: {
        std::array<std::uint8_t, 1 + 2 * 66> sec1{0x04};
        std::ranges::copy(peer_value, sec1.begin() + 1);
        return from_params(group, EVP_PKEY_PUBLIC_KEY, [&](OSSL_PARAM_BLD* b) {
            return OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, sec1.data(), 1 + peer_value.size()) == 1;
        });
    }
    case DhKind::modp: {
        const Bignum prime = modp_prime(id);
        const Bignum y = bignum(peer_value);
        const Bignum p_minus_1(prime ? BN_dup(prime.get()) : nullptr);
        if (!y || !p_minus_1 || BN_sub_word(p_minus_1.get(), 1) != 1)
            return nullptr;
        if (BN_cmp(y.get(), BN_value_one()) <= 0 || BN_cmp(y.get(), p_minus_1.get()) >= 0)
            return nullptr;
        return from_params(group, EVP_PKEY_PUBLIC_KEY, [&](OSSL_PARAM_BLD* b) {
            return OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PUB_KEY, y.get()) == 1;
        });
    }
    }
    return nullptr;
}

} // namespace

void DhKeyExchange::KeyFree::operator()(evp_pkey_st* key) const noexcept
{
    EVP_PKEY_free(key);
}

DhKeyExchange::DhKeyExchange(DhGroup group, Key key, std::vector<std::uint8_t> public_value)
    : group_(group), key_(std::move(key)), public_value_(std::move(public_value))
{
}

DhKeyExchange::DhKeyExchange(DhKeyExchange&&) noexcept = default;
DhKeyExchange& DhKeyExchange::operator=(DhKeyExchange&&) noexcept = default;
DhKeyExchange::~DhKeyExchange() = default;

std::expected<DhKeyExchange, CryptoError> DhKeyExchange::generate(DhGroup group,
                                                                  Botan::RandomNumberGenerator& rng) noexcept
{
    const DhGroupInfo* g = info(group);
    if (g == nullptr)
        return std::unexpected(CryptoError::invalid_suite);
    Botan::secure_vector<std::uint8_t> private_key(g->private_bytes);
    // An ECP scalar must lie in [1, n-1]: P-521's top byte holds one bit,
    // and a value past the order (about 2^-32 for the others) is drawn again.
    for (int attempt = 0; attempt < 64; ++attempt) {
        rng.randomize(private_key.data(), private_key.size());
        if (group == DhGroup::ecp521)
            private_key[0] &= 0x01;
        auto made = create(group, private_key);
        if (made || made.error() != CryptoError::unsupported || g->kind != DhKind::ecp)
            return made;
    }
    return std::unexpected(CryptoError::unsupported);
}

std::expected<DhKeyExchange, CryptoError> DhKeyExchange::from_private_key(
    DhGroup group, std::span<const std::uint8_t> private_key) noexcept
{
    if (private_key.empty())
        return std::unexpected(CryptoError::invalid_length);
    return create(group, private_key);
}

std::expected<DhKeyExchange, CryptoError> DhKeyExchange::create(DhGroup group,
                                                                std::span<const std::uint8_t> private_key) noexcept
{
    const DhGroupInfo* g = info(group);
    if (g == nullptr)
        return std::unexpected(CryptoError::invalid_suite);
    const bool all_zero = std::ranges::all_of(private_key, [](std::uint8_t b) { return b == 0; });
    if (all_zero || (g->kind == DhKind::x25519 && private_key.size() != x25519_bytes))
        return std::unexpected(CryptoError::invalid_length);
    auto pair = key_pair(group, *g, private_key);
    if (!pair)
        return std::unexpected(pair.error());
    return DhKeyExchange(group, Key(pair->first.release()), std::move(pair->second));
}

std::expected<Botan::secure_vector<std::uint8_t>, CryptoError> DhKeyExchange::shared_secret(
    std::span<const std::uint8_t> peer_value) const noexcept
{
    const DhGroupInfo& g = *info(group_);
    if (peer_value.size() != g.ke_bytes)
        return std::unexpected(CryptoError::invalid_length);
    const Pkey peer = peer_key(group_, g, peer_value);
    if (!peer)
        return std::unexpected(CryptoError::invalid_public_value);

    // The peer's value was checked above as RFC 6989 asks: OpenSSL's own
    // validation would add a full scalar multiplication (ECP) or a 2048-bit
    // exponentiation (MODP) per exchange to prove the same.
    const PkeyContext context(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
    std::size_t length = 0;
    if (!context || EVP_PKEY_derive_init(context.get()) != 1 ||
        EVP_PKEY_derive_set_peer_ex(context.get(), peer.get(), 0) != 1 ||
        (g.kind == DhKind::modp && EVP_PKEY_CTX_set_dh_pad(context.get(), 1) != 1) ||
        EVP_PKEY_derive(context.get(), nullptr, &length) != 1 || length != g.secret_bytes)
        return std::unexpected(CryptoError::invalid_public_value);
    Botan::secure_vector<std::uint8_t> secret(length);
    if (EVP_PKEY_derive(context.get(), secret.data(), &length) != 1 || length != g.secret_bytes)
        // OpenSSL refuses an all-zero X25519 result (a low-order point) itself.
        return std::unexpected(g.kind == DhKind::x25519 ? CryptoError::degenerate_secret
                                                        : CryptoError::invalid_public_value);

    // RFC 8031 section 2, RFC 7748 section 6.1: a low-order point gives all zeros.
    if (std::ranges::all_of(secret, [](std::uint8_t b) { return b == 0; }))
        return std::unexpected(CryptoError::degenerate_secret);
    return secret;
}

} // namespace mesh::ike
