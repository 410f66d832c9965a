#include "ike/sk_cipher.hpp"

#include "net/byte_order.hpp"

#include <botan/aead.h>
#include <botan/cipher_mode.h>
#include <botan/mac.h>
#include <botan/mem_ops.h>
#include <botan/rng.h>

#include <algorithm>
#include <exception>
#include <string>
#include <utility>

namespace mesh::ike {

namespace {

constexpr std::size_t max_icv_bytes = 64;

std::string botan_mode_name(IkeCipher cipher)
{
    switch (cipher) {
    case IkeCipher::aes256_gcm: return "AES-256/GCM";
    case IkeCipher::aes128_gcm: return "AES-128/GCM";
    case IkeCipher::chacha20_poly1305: return "ChaCha20Poly1305";
    // The SK payload pads by itself (RFC 7296 section 3.14), so the mode must not.
    case IkeCipher::aes256_cbc: return "AES-256/CBC/NoPadding";
    case IkeCipher::aes128_cbc: return "AES-128/CBC/NoPadding";
    }
    return {};
}

// plaintext | Padding (zeros) | Pad Length, in a buffer that is wiped when freed.
Botan::secure_vector<std::uint8_t> padded_text(std::span<const std::uint8_t> plaintext, std::size_t padded_bytes,
                                               std::size_t extra_capacity)
{
    Botan::secure_vector<std::uint8_t> text;
    text.reserve(padded_bytes + extra_capacity);
    text.assign(plaintext.begin(), plaintext.end());
    const std::size_t pad_length = padded_bytes - plaintext.size() - 1;
    text.resize(padded_bytes - 1, 0);
    text.push_back(static_cast<std::uint8_t>(pad_length));
    return text;
}

// Removes Padding and Pad Length. RFC 7296 section 3.14 lets the padding hold
// any value and RFC 5282 section 3 any length up to 255, so only the length is checked.
std::expected<Botan::secure_vector<std::uint8_t>, CryptoError> strip_padding(Botan::secure_vector<std::uint8_t> text)
{
    if (text.empty()) [[unlikely]]
        return std::unexpected(CryptoError::truncated);
    const std::size_t pad_length = text.back();
    if (pad_length + 1 > text.size()) [[unlikely]]
        return std::unexpected(CryptoError::bad_padding);
    text.resize(text.size() - pad_length - 1);
    return text;
}

} // namespace

SkCipher::SkCipher(IkeCipher cipher, IntegId integ)
    : cipher_(cipher),
      integ_(integ),
      aead_(info(cipher).aead),
      iv_bytes_(info(cipher).iv_bytes),
      block_bytes_(info(cipher).block_bytes),
      icv_bytes_(aead_ ? info(cipher).icv_bytes : info(integ)->icv_bytes)
{
}

SkCipher::SkCipher(SkCipher&&) noexcept = default;
SkCipher& SkCipher::operator=(SkCipher&&) noexcept = default;
SkCipher::~SkCipher() = default;

std::expected<SkCipher, CryptoError> SkCipher::create(IkeCipher cipher, IntegId integ,
                                                      std::span<const std::uint8_t> seal_encr_key,
                                                      std::span<const std::uint8_t> seal_integ_key,
                                                      std::span<const std::uint8_t> open_encr_key,
                                                      std::span<const std::uint8_t> open_integ_key,
                                                      Botan::RandomNumberGenerator& rng) noexcept
{
    if (static_cast<std::size_t>(cipher) >= detail::ike_ciphers.size() || !is_consistent(cipher, integ))
        return std::unexpected(CryptoError::invalid_suite);
    const IkeCipherInfo& c = info(cipher);
    const IntegInfo& i = *info(integ);
    if (seal_encr_key.size() != c.key_bytes || open_encr_key.size() != c.key_bytes ||
        seal_integ_key.size() != i.key_bytes || open_integ_key.size() != i.key_bytes)
        return std::unexpected(CryptoError::invalid_length);

    try {
        SkCipher sk(cipher, integ);
        sk.rng_ = &rng;
        const std::string mode = botan_mode_name(cipher);
        const std::size_t key_bytes = c.key_bytes - c.salt_bytes;
        if (c.aead) {
            sk.seal_aead_ = Botan::AEAD_Mode::create_or_throw(mode, Botan::ENCRYPTION);
            sk.open_aead_ = Botan::AEAD_Mode::create_or_throw(mode, Botan::DECRYPTION);
            if (sk.seal_aead_->tag_size() != c.icv_bytes || c.salt_bytes != salt_bytes)
                return std::unexpected(CryptoError::unsupported);
            sk.seal_aead_->set_key(seal_encr_key.data(), key_bytes);
            sk.open_aead_->set_key(open_encr_key.data(), key_bytes);
            // RFC 5282 section 7.1, RFC 7634 section 4: the salt is the last 4 octets of SK_e.
            std::copy_n(seal_encr_key.data() + key_bytes, salt_bytes, sk.seal_salt_.begin());
            std::copy_n(open_encr_key.data() + key_bytes, salt_bytes, sk.open_salt_.begin());
            // A random start keeps the IV unique even if the keys were ever
            // given to a second SkCipher; a counter cannot repeat within one.
            std::array<std::uint8_t, 8> start{};
            rng.randomize(start.data(), start.size());
            sk.next_iv_ = net::load_be64(start.data());
        } else {
            sk.seal_cbc_ = Botan::Cipher_Mode::create_or_throw(mode, Botan::ENCRYPTION);
            sk.open_cbc_ = Botan::Cipher_Mode::create_or_throw(mode, Botan::DECRYPTION);
            sk.seal_cbc_->set_key(seal_encr_key.data(), key_bytes);
            sk.open_cbc_->set_key(open_encr_key.data(), key_bytes);
            const std::string mac = "HMAC(" + std::string(i.botan_hash) + ")";
            sk.seal_mac_ = Botan::MessageAuthenticationCode::create_or_throw(mac);
            sk.open_mac_ = Botan::MessageAuthenticationCode::create_or_throw(mac);
            if (sk.seal_mac_->output_length() > max_icv_bytes || sk.seal_mac_->output_length() < i.icv_bytes)
                return std::unexpected(CryptoError::unsupported);
            sk.seal_mac_->set_key(seal_integ_key.data(), seal_integ_key.size());
            sk.open_mac_->set_key(open_integ_key.data(), open_integ_key.size());
        }
        return sk;
    } catch (const std::exception&) {
        return std::unexpected(CryptoError::unsupported);
    }
}

std::expected<SkCipher, CryptoError> SkCipher::create(const IkeSuite& suite, const IkeSaKeys& keys, SkSide side,
                                                      Botan::RandomNumberGenerator& rng) noexcept
{
    const bool initiator = side == SkSide::original_initiator;
    return create(suite.cipher, suite.integ, initiator ? keys.sk_ei : keys.sk_er, initiator ? keys.sk_ai : keys.sk_ar,
                  initiator ? keys.sk_er : keys.sk_ei, initiator ? keys.sk_ar : keys.sk_ai, rng);
}

std::size_t SkCipher::sealed_size(std::size_t plaintext_bytes) const noexcept
{
    const std::size_t with_pad_length = plaintext_bytes + 1;
    const std::size_t padded = (with_pad_length + block_bytes_ - 1) / block_bytes_ * block_bytes_;
    return iv_bytes_ + padded + icv_bytes_;
}

// Every Botan exception ends here or in open(): neither lets one out.
std::expected<std::vector<std::uint8_t>, CryptoError> SkCipher::seal(std::span<const std::uint8_t> aad_prefix,
                                                                     std::span<const std::uint8_t> plaintext) noexcept
{
    try {
        return aead_ ? seal_aead(aad_prefix, plaintext) : seal_cbc(aad_prefix, plaintext);
    } catch (const std::exception&) {
        if (seal_aead_)
            seal_aead_->reset();
        return std::unexpected(CryptoError::unsupported);
    }
}

std::expected<Botan::secure_vector<std::uint8_t>, CryptoError> SkCipher::open(
    std::span<const std::uint8_t> aad_prefix, std::span<const std::uint8_t> body) noexcept
{
    try {
        return aead_ ? open_aead(aad_prefix, body) : open_cbc(aad_prefix, body);
    } catch (const std::exception&) {  // Botan::Invalid_Authentication_Tag: a bad ICV
        // reset() returns the mode to a state that accepts new associated data.
        if (open_aead_)
            open_aead_->reset();
        return std::unexpected(CryptoError::auth_failed);
    }
}

std::vector<std::uint8_t> SkCipher::seal_aead(std::span<const std::uint8_t> aad_prefix,
                                              std::span<const std::uint8_t> plaintext)
{
    const std::size_t padded_bytes = sealed_size(plaintext.size()) - iv_bytes_ - icv_bytes_;
    Botan::secure_vector<std::uint8_t> text = padded_text(plaintext, padded_bytes, icv_bytes_);

    std::array<std::uint8_t, salt_bytes + 8> nonce{};
    std::copy(seal_salt_.begin(), seal_salt_.end(), nonce.begin());
    net::store_be64(nonce.data() + salt_bytes, next_iv_++);

    seal_aead_->set_associated_data(aad_prefix.data(), aad_prefix.size());
    seal_aead_->start(nonce.data(), nonce.size());
    seal_aead_->finish(text);  // encrypts and appends the tag

    std::vector<std::uint8_t> body(iv_bytes_ + text.size());
    std::copy(nonce.begin() + salt_bytes, nonce.end(), body.begin());
    std::copy(text.begin(), text.end(), body.begin() + static_cast<std::ptrdiff_t>(iv_bytes_));
    return body;
}

std::vector<std::uint8_t> SkCipher::seal_cbc(std::span<const std::uint8_t> aad_prefix,
                                             std::span<const std::uint8_t> plaintext)
{
    const std::size_t padded_bytes = sealed_size(plaintext.size()) - iv_bytes_ - icv_bytes_;
    Botan::secure_vector<std::uint8_t> text = padded_text(plaintext, padded_bytes, 0);

    std::vector<std::uint8_t> body(iv_bytes_ + text.size() + icv_bytes_);
    rng_->randomize(body.data(), iv_bytes_);  // RFC 7296 section 3.14: random and unpredictable
    seal_cbc_->start(body.data(), iv_bytes_);
    seal_cbc_->finish(text);

    std::copy(text.begin(), text.end(), body.begin() + static_cast<std::ptrdiff_t>(iv_bytes_));
    const std::size_t covered = iv_bytes_ + text.size();
    mac_icv(*seal_mac_, aad_prefix, std::span(body.data(), covered), std::span(body.data() + covered, icv_bytes_));
    return body;
}

void SkCipher::mac_icv(Botan::MessageAuthenticationCode& mac, std::span<const std::uint8_t> aad_prefix,
                       std::span<const std::uint8_t> covered, std::span<std::uint8_t> icv)
{
    std::array<std::uint8_t, max_icv_bytes> full{};
    mac.update(aad_prefix.data(), aad_prefix.size());
    mac.update(covered.data(), covered.size());
    mac.final(full.data());
    std::copy_n(full.begin(), icv.size(), icv.begin());  // RFC 4868 section 2.3: the leftmost half
}

std::expected<Botan::secure_vector<std::uint8_t>, CryptoError> SkCipher::open_aead(
    std::span<const std::uint8_t> aad_prefix, std::span<const std::uint8_t> body)
{
    // At least the Pad Length octet: and finish() must see a whole tag, or
    // Botan keeps a state that refuses new associated data.
    if (body.size() < iv_bytes_ + 1 + icv_bytes_) [[unlikely]]
        return std::unexpected(CryptoError::truncated);

    std::array<std::uint8_t, salt_bytes + 8> nonce{};
    std::copy(open_salt_.begin(), open_salt_.end(), nonce.begin());
    std::copy_n(body.begin(), iv_bytes_, nonce.begin() + salt_bytes);

    Botan::secure_vector<std::uint8_t> text(body.begin() + static_cast<std::ptrdiff_t>(iv_bytes_), body.end());
    open_aead_->set_associated_data(aad_prefix.data(), aad_prefix.size());
    open_aead_->start(nonce.data(), nonce.size());
    open_aead_->finish(text);  // verifies the tag in constant time, throws on a mismatch, trims it
    return strip_padding(std::move(text));
}

std::expected<Botan::secure_vector<std::uint8_t>, CryptoError> SkCipher::open_cbc(
    std::span<const std::uint8_t> aad_prefix, std::span<const std::uint8_t> body)
{
    if (body.size() < iv_bytes_ + block_bytes_ + icv_bytes_) [[unlikely]]
        return std::unexpected(CryptoError::truncated);
    const std::size_t text_bytes = body.size() - iv_bytes_ - icv_bytes_;
    if (text_bytes % block_bytes_ != 0) [[unlikely]]
        return std::unexpected(CryptoError::truncated);

    // Encrypt-then-MAC: the ICV is checked before anything is decrypted.
    const std::size_t covered = body.size() - icv_bytes_;
    std::array<std::uint8_t, max_icv_bytes> icv{};
    mac_icv(*open_mac_, aad_prefix, body.first(covered), std::span(icv.data(), icv_bytes_));
    if (!Botan::constant_time_compare(icv.data(), body.data() + covered, icv_bytes_)) [[unlikely]]
        return std::unexpected(CryptoError::auth_failed);

    Botan::secure_vector<std::uint8_t> text(body.begin() + static_cast<std::ptrdiff_t>(iv_bytes_),
                                            body.begin() + static_cast<std::ptrdiff_t>(covered));
    open_cbc_->start(body.data(), iv_bytes_);
    open_cbc_->finish(text);
    return strip_padding(std::move(text));
}

} // namespace mesh::ike
