#include "ike/prf.hpp"

#include <botan/hash.h>
#include <botan/mac.h>

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

namespace mesh::ike {

Prf::Prf(PrfId id, std::unique_ptr<Botan::MessageAuthenticationCode> mac, std::unique_ptr<Botan::HashFunction> hash)
    : id_(id), output_bytes_(mac->output_length()), mac_(std::move(mac)), hash_(std::move(hash))
{
}

Prf::Prf(Prf&&) noexcept = default;
Prf& Prf::operator=(Prf&&) noexcept = default;
Prf::~Prf() = default;

std::expected<Prf, CryptoError> Prf::create(PrfId id) noexcept
{
    const PrfInfo* prf = info(id);
    if (prf == nullptr)
        return std::unexpected(CryptoError::invalid_suite);
    try {
        const std::string hash_name(prf->botan_hash);
        auto mac = Botan::MessageAuthenticationCode::create("HMAC(" + hash_name + ")");
        auto hash = Botan::HashFunction::create(hash_name);
        if (!mac || !hash || mac->output_length() != prf->output_bytes)
            return std::unexpected(CryptoError::unsupported);
        return Prf(id, std::move(mac), std::move(hash));
    } catch (const std::exception&) {
        return std::unexpected(CryptoError::unsupported);
    }
}

// Botan's HMAC refuses keys over 4096 bytes, which a pre-shared key could be.
// Hashing such a key first is what HMAC itself does with any key longer than
// the hash block (RFC 2104 section 2), so the output is the same.
void Prf::set_key(std::span<const std::uint8_t> key)
{
    if (mac_->valid_keylength(key.size())) {
        mac_->set_key(key.data(), key.size());
        return;
    }
    hash_->update(key.data(), key.size());
    const Botan::secure_vector<std::uint8_t> hashed = hash_->final();
    mac_->set_key(hashed);
}

Botan::secure_vector<std::uint8_t> Prf::compute(std::span<const std::uint8_t> key, ByteParts data)
{
    set_key(key);
    for (const auto part : data)
        mac_->update(part.data(), part.size());
    return mac_->final();
}

std::expected<Botan::secure_vector<std::uint8_t>, CryptoError> Prf::plus(std::span<const std::uint8_t> key,
                                                                         ByteParts seed, std::size_t length)
{
    if (length > max_plus_blocks * output_bytes_)
        return std::unexpected(CryptoError::too_long);

    Botan::secure_vector<std::uint8_t> out;
    out.reserve(length + output_bytes_);
    Botan::secure_vector<std::uint8_t> block;  // T(n-1); empty before T1
    set_key(key);
    for (std::uint8_t n = 1; out.size() < length; ++n) {
        mac_->update(block);
        for (const auto part : seed)
            mac_->update(part.data(), part.size());
        mac_->update(n);
        mac_->final(block);  // Botan keeps the key for the next block
        out.insert(out.end(), block.begin(), block.end());
    }
    out.resize(length);
    return out;
}

} // namespace mesh::ike
