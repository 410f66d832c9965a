#include "tunnel/esp_crypto.hpp"

#include "net/byte_order.hpp"
#include "tunnel/evp_aead.hpp"

#include <botan/aead.h>
#include <botan/block_cipher.h>
#include <botan/cipher_mode.h>
#include <botan/mac.h>
#include <botan/mem_ops.h>

#include <algorithm>
#include <cassert>
#include <exception>
#include <stdexcept>
#include <string>

namespace mesh::tunnel {

namespace {

constexpr std::size_t aes_block_bytes = 16;
constexpr std::size_t esp_header_bytes = EspCrypto::header_bytes;
constexpr std::size_t max_hmac_bytes = 64;  // SHA-512

std::string botan_cipher_name(EspCipher cipher)
{
    switch (cipher) {
    case EspCipher::aes128_gcm: return "AES-128/GCM";
    case EspCipher::aes256_gcm: return "AES-256/GCM";
    case EspCipher::chacha20_poly1305: return "ChaCha20Poly1305";
    // ESP pads by itself (RFC 4303 section 2.4), so the mode must not.
    case EspCipher::aes128_cbc: return "AES-128/CBC/NoPadding";
    case EspCipher::aes256_cbc: return "AES-256/CBC/NoPadding";
    }
    throw std::invalid_argument("ESP: unknown cipher");
}

std::string botan_block_cipher_name(EspCipher cipher)
{
    return cipher == EspCipher::aes128_cbc ? "AES-128" : "AES-256";
}

std::string botan_mac_name(EspIntegrity integrity)
{
    switch (integrity) {
    case EspIntegrity::hmac_sha256_128: return "HMAC(SHA-256)";
    case EspIntegrity::hmac_sha384_192: return "HMAC(SHA-384)";
    case EspIntegrity::hmac_sha512_256: return "HMAC(SHA-512)";
    case EspIntegrity::none: break;
    }
    throw std::invalid_argument("ESP: unknown integrity algorithm");
}

void check_params(const SaParams& params, const EspCipherInfo& cipher, const EspIntegrityInfo& integrity)
{
    if (cipher.aead != (params.integrity == EspIntegrity::none))
        throw std::invalid_argument(std::string("ESP: ") + std::string(cipher.name) +
                                    (cipher.aead ? " takes no integrity algorithm" : " needs an integrity algorithm"));
    if (params.cipher_key.size() != cipher.key_bytes)
        throw std::invalid_argument("ESP: " + std::string(cipher.name) + " takes a key of " +
                                    std::to_string(cipher.key_bytes) + " bytes, not " +
                                    std::to_string(params.cipher_key.size()));
    if (params.integrity_key.size() != integrity.key_bytes)
        throw std::invalid_argument("ESP: " + std::string(integrity.name) + " takes a key of " +
                                    std::to_string(integrity.key_bytes) + " bytes, not " +
                                    std::to_string(params.integrity_key.size()));
}

} // namespace

EspCrypto::EspCrypto(const SaParams& params, EspDirection direction)
    : esn_(params.esn)
{
    const EspCipherInfo& cipher = info(params.cipher);
    const EspIntegrityInfo& integrity = info(params.integrity);
    check_params(params, cipher, integrity);
    aead_mode_ = cipher.aead;
    iv_bytes_ = cipher.iv_bytes;
    icv_bytes_ = cipher.aead ? cipher.icv_bytes : integrity.icv_bytes;

    const auto botan_direction = direction == EspDirection::seal ? Botan::ENCRYPTION : Botan::DECRYPTION;
    const std::size_t key_bytes = cipher.key_bytes - cipher.salt_bytes;
    if (cipher.aead) {
        // RFC 4106 section 8.1, RFC 7634 section 2: the salt is the last 4 bytes of the keying material.
        std::copy_n(params.cipher_key.data() + key_bytes, cipher.salt_bytes, nonce_.begin());
        if (icv_bytes_ != EvpAead::tag_bytes)
            throw std::invalid_argument("ESP: AEAD ICVs are 16 bytes");
        if (params.cipher != EspCipher::chacha20_poly1305) {
            evp_ = std::make_unique<EvpAead>(params.cipher, std::span(params.cipher_key).first(key_bytes), direction);
        } else {
            aead_ = Botan::AEAD_Mode::create_or_throw(botan_cipher_name(params.cipher), botan_direction);
            aead_->set_key(params.cipher_key.data(), key_bytes);
            granularity_ = aead_->update_granularity();
            if (granularity_ == 0 || aead_->tag_size() != icv_bytes_)
                throw std::invalid_argument("ESP: unexpected Botan " + aead_->name());
            tail_.reserve(granularity_ + icv_bytes_);
        }
    } else {
        cbc_ = Botan::Cipher_Mode::create_or_throw(botan_cipher_name(params.cipher), botan_direction);
        cbc_->set_key(params.cipher_key.data(), key_bytes);
        if (direction == EspDirection::seal) {
            iv_cipher_ = Botan::BlockCipher::create_or_throw(botan_block_cipher_name(params.cipher));
            iv_cipher_->set_key(params.cipher_key.data(), key_bytes);
        }
        mac_ = Botan::MessageAuthenticationCode::create_or_throw(botan_mac_name(params.integrity));
        mac_->set_key(params.integrity_key.data(), params.integrity_key.size());
        if (mac_->output_length() > max_hmac_bytes)
            throw std::invalid_argument("ESP: unexpected Botan " + mac_->name());
    }
}

EspCrypto::~EspCrypto()
{
    Botan::secure_scrub_memory(nonce_.data(), nonce_.size());
}

void EspCrypto::write_iv(std::uint64_t seq, std::span<std::uint8_t> iv) noexcept
{
    assert(iv.size() == iv_bytes_);
    std::array<std::uint8_t, aes_block_bytes> block{};
    net::store_be32(block.data(), static_cast<std::uint32_t>(seq >> 32));
    net::store_be32(block.data() + 4, static_cast<std::uint32_t>(seq));
    if (aead_mode_) {
        std::copy_n(block.begin(), iv.size(), iv.begin());
        return;
    }
    assert(iv_cipher_ != nullptr);
    iv_cipher_->encrypt(block.data(), iv.data());
}

// The catch blocks end every Botan exception here: seal and open are noexcept.
// After a failure reset() returns the mode to a state that accepts new
// associated data.
bool EspCrypto::seal(std::span<std::uint8_t> packet, std::uint64_t seq) noexcept
{
    try {
        return aead_mode_ ? seal_aead(packet, seq) : seal_cbc(packet, seq);
    } catch (const std::exception&) {
        if (aead_)
            aead_->reset();
        return false;
    }
}

bool EspCrypto::open(std::span<std::uint8_t> packet, std::uint64_t seq) noexcept
{
    try {
        return aead_mode_ ? open_aead(packet, seq) : open_cbc(packet, seq);
    } catch (const std::exception&) {  // Botan::Invalid_Authentication_Tag: a bad ICV
        if (aead_)
            aead_->reset();
        return false;
    }
}

// RFC 4106 section 5 (and RFC 7634 section 2.1, which refers to it): SPI and
// sequence number as they are on the wire, the ESN's high half in between.
// The nonce is the salt and the packet's IV.
std::optional<EspCrypto::AeadParts> EspCrypto::split_aead(std::span<std::uint8_t> packet, std::uint64_t seq,
                                                          std::array<std::uint8_t, 12>& aad_storage) noexcept
{
    const std::size_t front = esp_header_bytes + iv_bytes_;
    // Botan's finish() must see the whole tag, or it keeps a state that refuses new AD.
    if (packet.size() < front + icv_bytes_)
        return std::nullopt;
    std::copy_n(packet.begin(), 4, aad_storage.begin());
    std::size_t aad_bytes = 8;
    if (esn_) {
        net::store_be32(aad_storage.data() + 4, static_cast<std::uint32_t>(seq >> 32));
        aad_bytes = 12;
    }
    std::copy_n(packet.begin() + 4, 4, aad_storage.begin() + static_cast<std::ptrdiff_t>(aad_bytes - 4));
    std::copy_n(packet.begin() + esp_header_bytes, iv_bytes_, nonce_.begin() + 4);
    return AeadParts{.aad = std::span(aad_storage).first(aad_bytes),
                     .text = packet.subspan(front, packet.size() - front - icv_bytes_),
                     .icv = packet.last(icv_bytes_)};
}

// Botan takes the bulk in place in multiples of update_granularity(); only the
// remainder (under 64 bytes) goes through tail_, whose capacity was reserved so
// finish() never reallocates.
std::size_t EspCrypto::start_botan(const AeadParts& parts)
{
    aead_->set_associated_data(parts.aad.data(), parts.aad.size());
    aead_->start(nonce_.data(), nonce_.size());
    const std::size_t bulk = parts.text.size() - parts.text.size() % granularity_;
    if (bulk != 0)
        aead_->process(parts.text.data(), bulk);
    return bulk;
}

bool EspCrypto::seal_aead(std::span<std::uint8_t> packet, std::uint64_t seq)
{
    std::array<std::uint8_t, 12> aad;
    const auto parts = split_aead(packet, seq, aad);
    if (!parts)
        return false;
    if (evp_)
        return evp_->seal(nonce_, parts->aad, parts->text, parts->icv.first<EvpAead::tag_bytes>());
    const std::size_t bulk = start_botan(*parts);
    tail_.assign(parts->text.data() + bulk, parts->text.data() + parts->text.size());
    aead_->finish(tail_);  // encrypts the remainder and appends the tag
    std::copy(tail_.begin(), tail_.end(), parts->text.data() + bulk);
    return true;
}

bool EspCrypto::open_aead(std::span<std::uint8_t> packet, std::uint64_t seq)
{
    std::array<std::uint8_t, 12> aad;
    const auto parts = split_aead(packet, seq, aad);
    if (!parts)
        return false;
    if (evp_)
        return evp_->open(nonce_, parts->aad, parts->text, parts->icv.first<EvpAead::tag_bytes>());
    const std::size_t bulk = start_botan(*parts);
    tail_.assign(parts->text.data() + bulk, parts->icv.data() + parts->icv.size());
    aead_->finish(tail_);  // verifies the tag in constant time, throws if it is bad, trims it
    std::copy(tail_.begin(), tail_.end(), parts->text.data() + bulk);
    return true;
}

bool EspCrypto::seal_cbc(std::span<std::uint8_t> packet, std::uint64_t seq)
{
    const std::size_t front = esp_header_bytes + iv_bytes_;
    if (packet.size() < front + icv_bytes_ || (packet.size() - front - icv_bytes_) % aes_block_bytes != 0)
        return false;
    const std::size_t text_bytes = packet.size() - front - icv_bytes_;

    cbc_->start(packet.data() + esp_header_bytes, iv_bytes_);
    cbc_->process(packet.data() + front, text_bytes);
    std::array<std::uint8_t, 4> esn_high{};
    net::store_be32(esn_high.data(), static_cast<std::uint32_t>(seq >> 32));
    compute_icv(packet.first(front + text_bytes), std::span(esn_high).first(esn_ ? 4 : 0),
                packet.subspan(front + text_bytes));
    return true;
}

bool EspCrypto::open_cbc(std::span<std::uint8_t> packet, std::uint64_t seq)
{
    const std::size_t front = esp_header_bytes + iv_bytes_;
    if (packet.size() < front + icv_bytes_ || (packet.size() - front - icv_bytes_) % aes_block_bytes != 0)
        return false;
    const std::size_t text_bytes = packet.size() - front - icv_bytes_;

    // RFC 4303 section 3.4.4.1: authenticate first, decrypt only what verified.
    std::array<std::uint8_t, 4> esn_high{};
    net::store_be32(esn_high.data(), static_cast<std::uint32_t>(seq >> 32));
    std::array<std::uint8_t, max_hmac_bytes> expected;
    const auto expected_icv = std::span(expected).first(icv_bytes_);
    compute_icv(packet.first(front + text_bytes), std::span(esn_high).first(esn_ ? 4 : 0), expected_icv);
    if (!Botan::constant_time_compare(expected_icv.data(), packet.data() + front + text_bytes, icv_bytes_))
        return false;

    cbc_->start(packet.data() + esp_header_bytes, iv_bytes_);
    cbc_->process(packet.data() + front, text_bytes);
    return true;
}

void EspCrypto::compute_icv(std::span<const std::uint8_t> covered, std::span<const std::uint8_t> esn_high,
                            std::span<std::uint8_t> icv)
{
    assert(mac_ != nullptr && icv.size() == icv_bytes_);
    mac_->update(covered.data(), covered.size());
    mac_->update(esn_high.data(), esn_high.size());
    std::array<std::uint8_t, max_hmac_bytes> full;
    mac_->final(full.data());
    // RFC 4868 section 2.3: the ICV is the leftmost half of the HMAC output.
    std::copy_n(full.begin(), icv.size(), icv.begin());
}

} // namespace mesh::tunnel
