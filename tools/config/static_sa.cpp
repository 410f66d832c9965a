#include "tools/config/static_sa.hpp"

#include "net/hex.hpp"

#include <stdexcept>

namespace mesh::config::detail {
namespace {

// An SPI, written as a TOML integer (0x00001001) or a string ("0x00001001").
std::uint32_t read_spi(const TableReader& r, std::string_view key)
{
    const toml::node* n = r.node(key);
    if (!n)
        r.fail_missing(key);
    const std::string name = "'" + std::string(key) + "'";
    std::int64_t value = 0;
    if (const auto* i = n->as_integer()) {
        value = i->get();
    } else if (const auto* s = n->as_string()) {
        const std::string_view text = s->get();
        const std::string_view digits = net::without_0x(text);
        if (digits.size() == text.size() || digits.empty() || digits.size() > 16)
            r.fail(*n, name + " must be an integer such as 0x00001001, or a string \"0x...\"");
        for (const char c : digits) {
            if (net::hex_digit(c) < 0)
                r.fail(*n, name + " must be an integer such as 0x00001001, or a string \"0x...\"");
            value = value * 16 + net::hex_digit(c);
            if (value > 0xffffffff)
                break;
        }
    } else {
        r.fail(*n, "expected an integer for " + name + ", not " + std::string(type_name(n->type())));
    }
    // RFC 4303 section 2.1: SPIs 1-255 are reserved by IANA, 0 is for local use.
    if (value < 256)
        r.fail(*n, name + " must be at least 256 (0x100): SPIs 1-255 are reserved (RFC 4303 section 2.1)");
    if (value > 0xffffffff)
        r.fail(*n, name + " must fit in 32 bits");
    return static_cast<std::uint32_t>(value);
}

// A key in hex, "0x" accepted, of exactly bytes bytes. what says whose key
// it is, for the message; the key itself never appears in one.
Botan::secure_vector<std::uint8_t> read_key(const TableReader& r, std::string_view key, std::size_t bytes,
                                            const std::string& what)
{
    const auto text = r.text(key);
    if (!text)
        r.fail_missing(key);
    const std::string name = "'" + std::string(key) + "'";
    const std::string_view digits = net::without_0x(text->value);
    for (const char c : digits)
        if (net::hex_digit(c) < 0)
            r.fail(*text->node, name + " must be hex digits (a 0x prefix is accepted)");
    if (digits.size() != 2 * bytes)
        r.fail(*text->node, name + " must be " + std::to_string(2 * bytes) + " hex digits for " + what + ", not " +
                                std::to_string(digits.size()));
    Botan::secure_vector<std::uint8_t> out(bytes);
    for (std::size_t i = 0; i < bytes; ++i)
        out[i] = static_cast<std::uint8_t>(net::hex_digit(digits[2 * i]) * 16 + net::hex_digit(digits[2 * i + 1]));
    return out;
}

} // namespace

tunnel::EspCipher to_esp_cipher(std::string_view name)
{
    const auto cipher = tunnel::parse_esp_cipher(name);
    if (!cipher)
        throw std::logic_error("configuration: ESP cipher '" + std::string(name) + "' is not implemented");
    return *cipher;
}

tunnel::EspIntegrity to_esp_integrity(std::string_view name)
{
    const auto integrity = tunnel::parse_esp_integrity(name);
    if (!integrity || *integrity == tunnel::EspIntegrity::none)
        throw std::logic_error("configuration: ESP integrity '" + std::string(name) + "' is not implemented");
    return *integrity;
}

StaticSaRead read_static_sa(const Source& source, const toml::table& table, std::string path)
{
    const TableReader r(source, table, std::move(path),
                        {"enc-algorithm", "auth-algorithm", "spi-in", "spi-out", "key-in", "key-out", "auth-key-in",
                         "auth-key-out"});
    StaticSaRead read{};
    StaticSa& sa = read.sa;

    const auto cipher_name = r.choice("enc-algorithm", esp_cipher_names);
    if (!cipher_name)
        r.fail_missing("enc-algorithm");
    sa.enc_algorithm = to_esp_cipher(cipher_name->value);
    const auto& cipher = tunnel::info(sa.enc_algorithm);

    const auto integrity_name = r.choice("auth-algorithm", esp_integrity_names);
    if (cipher.aead) {
        if (integrity_name)
            r.fail(*integrity_name->node, "'auth-algorithm' is only used with the CBC ciphers: " +
                                              std::string(cipher.name) + " authenticates by itself");
        sa.auth_algorithm = tunnel::EspIntegrity::none;
    } else {
        sa.auth_algorithm = to_esp_integrity(integrity_name ? integrity_name->value : "sha256");
    }

    sa.spi_in = read_spi(r, "spi-in");
    read.spi_in = r.node("spi-in");
    sa.spi_out = read_spi(r, "spi-out");

    // RFC 4106 section 8.1 and RFC 7634 section 2: the AEADs' keying material
    // is the key with the 4-byte salt appended.
    const std::string cipher_key = std::string(cipher.name) +
        (cipher.salt_bytes != 0 ? " (a " + std::to_string(cipher.key_bytes - cipher.salt_bytes) + "-byte key and a " +
                                      std::to_string(cipher.salt_bytes) + "-byte salt)"
                                : "");
    sa.key_in = read_key(r, "key-in", cipher.key_bytes, cipher_key);
    sa.key_out = read_key(r, "key-out", cipher.key_bytes, cipher_key);

    if (cipher.aead) {
        for (const std::string_view key : {"auth-key-in", "auth-key-out"})
            if (const toml::node* n = r.node(key))
                r.fail(*n, "'" + std::string(key) + "' is only used with the CBC ciphers: " + std::string(cipher.name) +
                               " authenticates by itself");
    } else {
        const auto& integrity = tunnel::info(sa.auth_algorithm);
        const std::string integrity_key = "hmac-" + std::string(integrity.name);
        sa.auth_key_in = read_key(r, "auth-key-in", integrity.key_bytes, integrity_key);
        sa.auth_key_out = read_key(r, "auth-key-out", integrity.key_bytes, integrity_key);
    }
    return read;
}

} // namespace mesh::config::detail
