#include "tunnel/evp_aead.hpp"

#include <openssl/evp.h>

#include <climits>
#include <stdexcept>
#include <string>

namespace mesh::tunnel {

namespace {

const char* openssl_cipher_name(EspCipher cipher)
{
    switch (cipher) {
    case EspCipher::aes128_gcm: return "AES-128-GCM";
    case EspCipher::aes256_gcm: return "AES-256-GCM";
    case EspCipher::chacha20_poly1305: return "ChaCha20-Poly1305";
    case EspCipher::aes128_cbc:
    case EspCipher::aes256_cbc: break;
    }
    throw std::invalid_argument("ESP: OpenSSL's AEAD path takes AES-GCM or ChaCha20-Poly1305 only");
}

struct FreeCipher {
    void operator()(EVP_CIPHER* cipher) const noexcept { EVP_CIPHER_free(cipher); }
};

} // namespace

void EvpAead::Free::operator()(evp_cipher_ctx_st* ctx) const noexcept
{
    EVP_CIPHER_CTX_free(ctx);  // cleanses the key schedule
}

EvpAead::EvpAead(EspCipher cipher, std::span<const std::uint8_t> key, EspDirection direction)
    : ctx_(EVP_CIPHER_CTX_new())
{
    const char* name = openssl_cipher_name(cipher);
    // An explicit fetch, once: EVP_aes_128_gcm() would be looked up again on
    // the first init, and the per-packet init below must find nothing to fetch.
    const std::unique_ptr<EVP_CIPHER, FreeCipher> evp(EVP_CIPHER_fetch(nullptr, name, nullptr));
    if (ctx_ == nullptr || evp == nullptr)
        throw std::runtime_error(std::string("ESP: OpenSSL has no ") + name);
    if (key.size() != static_cast<std::size_t>(EVP_CIPHER_get_key_length(evp.get())) ||
        EVP_CIPHER_get_iv_length(evp.get()) != static_cast<int>(nonce_bytes))
        throw std::invalid_argument(std::string("ESP: wrong key length for OpenSSL's ") + name);
    if (EVP_CipherInit_ex(ctx_.get(), evp.get(), nullptr, key.data(), nullptr,
                          direction == EspDirection::seal ? 1 : 0) != 1)
        throw std::runtime_error(std::string("ESP: OpenSSL refused the key for ") + name);
}

EvpAead::~EvpAead() = default;

// Only the nonce changes per packet: key and direction (-1: unchanged) stay as
// the constructor set them, so no key schedule is redone.
bool EvpAead::start(std::span<const std::uint8_t, nonce_bytes> nonce, std::span<const std::uint8_t> aad) noexcept
{
    int written = 0;
    return EVP_CipherInit_ex(ctx_.get(), nullptr, nullptr, nullptr, nonce.data(), -1) == 1 &&
           EVP_CipherUpdate(ctx_.get(), nullptr, &written, aad.data(), static_cast<int>(aad.size())) == 1;
}

bool EvpAead::seal(std::span<const std::uint8_t, nonce_bytes> nonce, std::span<const std::uint8_t> aad,
                   std::span<std::uint8_t> text, std::span<std::uint8_t, tag_bytes> tag) noexcept
{
    if (text.size() > INT_MAX || !start(nonce, aad)) [[unlikely]]
        return false;
    int written = 0;
    if (EVP_CipherUpdate(ctx_.get(), text.data(), &written, text.data(), static_cast<int>(text.size())) != 1)
        [[unlikely]]
        return false;
    // GCM and ChaCha20-Poly1305 are stream modes: all output came from Update.
    int final_bytes = 0;
    return EVP_CipherFinal_ex(ctx_.get(), text.data() + written, &final_bytes) == 1 &&
           EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_GET_TAG, static_cast<int>(tag_bytes), tag.data()) == 1;
}

bool EvpAead::open(std::span<const std::uint8_t, nonce_bytes> nonce, std::span<const std::uint8_t> aad,
                   std::span<std::uint8_t> text, std::span<const std::uint8_t, tag_bytes> tag) noexcept
{
    if (text.size() > INT_MAX || !start(nonce, aad)) [[unlikely]]
        return false;
    int written = 0;
    if (EVP_CipherUpdate(ctx_.get(), text.data(), &written, text.data(), static_cast<int>(text.size())) != 1)
        [[unlikely]]
        return false;
    // The ctrl copies the tag in; OpenSSL's interface is not const-correct.
    if (EVP_CIPHER_CTX_ctrl(ctx_.get(), EVP_CTRL_AEAD_SET_TAG, static_cast<int>(tag_bytes),
                            const_cast<std::uint8_t*>(tag.data())) != 1) [[unlikely]]
        return false;
    int final_bytes = 0;
    return EVP_CipherFinal_ex(ctx_.get(), text.data() + written, &final_bytes) == 1;
}

} // namespace mesh::tunnel
