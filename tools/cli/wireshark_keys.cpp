// Wireshark 4.0 (Debian 12) reads its ESP SA table from the `esp_sa` UAT
// file: eight quoted fields per line, the algorithms by their display names
// in packet-ipsec.c, GCM keys with the 4-byte salt appended.

#include "tools/cli/views.hpp"

#include <fmt/format.h>

#include <map>
#include <string_view>

namespace mesh::cli {

namespace {
const std::map<std::string_view, std::string_view> wireshark_ciphers = {
    {"aes-128-gcm", "AES-GCM with 16 octet ICV [RFC4106]"},
    {"aes-256-gcm", "AES-GCM with 16 octet ICV [RFC4106]"},
    {"aes-128-cbc", "AES-CBC [RFC3602]"},
    {"aes-256-cbc", "AES-CBC [RFC3602]"},
};
const std::map<std::string_view, std::string_view> wireshark_integrity = {
    {"none", "NULL"},
    {"sha256", "HMAC-SHA-256-128 [RFC4868]"},
    {"sha384", "HMAC-SHA-384-192 [RFC4868]"},
    {"sha512", "HMAC-SHA-512-256 [RFC4868]"},
};
} // namespace

std::string render_wireshark_esp(const nlohmann::json& keys)
{
    std::string out = "# esp_sa records for Wireshark 4.0 (mesh-site keys --wireshark esp)\n";
    for (const auto& sa : keys["esp"]) {
        const auto cipher = sa.value("enc-algorithm", "");
        const auto found = wireshark_ciphers.find(cipher);
        if (found == wireshark_ciphers.end()) {
            out += fmt::format("# SPI {}: {} cannot be decrypted by Wireshark 4.0\n", sa.value("spi", ""), cipher);
            continue;
        }
        const auto auth_key = sa.value("auth-key", "");
        out += fmt::format("\"{}\",\"{}\",\"{}\",\"{}\",\"{}\",\"0x{}\",\"{}\",\"{}\"\n", sa.value("family", "IPv4"),
                           sa.value("src", ""), sa.value("dst", ""), sa.value("spi", ""), found->second,
                           sa.value("enc-key", ""), wireshark_integrity.at(sa.value("auth-algorithm", "none")),
                           auth_key.empty() ? "" : "0x" + auth_key);
    }
    return out;
}

// ikev2_decryption_table: SPIi, SPIr, SK_ei, SK_er, encryption, SK_ai,
// SK_ar, integrity (packet-isakmp.c's names); AEAD keys with their salt.
std::string render_wireshark_ikev2(const nlohmann::json& keys)
{
    static const std::map<std::string_view, std::string_view> ciphers = {
        {"aes-128-gcm", "AES-GCM-128 with 16 octet ICV [RFC5282]"},
        {"aes-256-gcm", "AES-GCM-256 with 16 octet ICV [RFC5282]"},
        {"aes-128", "AES-CBC-128 [RFC3602]"},
        {"aes-256", "AES-CBC-256 [RFC3602]"},
    };
    static const std::map<std::string_view, std::string_view> integrity = {
        {"none", "NONE [RFC4306]"},
        {"sha256", "HMAC_SHA2_256_128 [RFC4868]"},
        {"sha384", "HMAC_SHA2_384_192 [RFC4868]"},
        {"sha512", "HMAC_SHA2_512_256 [RFC4868]"},
    };
    std::string out = "# ikev2_decryption_table records for Wireshark 4.0 (mesh-site keys --wireshark ikev2)\n";
    if (keys["ikev2"].empty())
        out += "# no IKE SA is established\n";
    for (const auto& sa : keys["ikev2"]) {
        const auto cipher = ciphers.find(sa.value("enc-algorithm", ""));
        if (cipher == ciphers.end()) {
            out += fmt::format("# IKE SA {}/{}: {} cannot be decrypted by Wireshark 4.0\n", sa.value("spi-i", ""),
                               sa.value("spi-r", ""), sa.value("enc-algorithm", ""));
            continue;
        }
        out += fmt::format("{},{},{},{},\"{}\",{},{},\"{}\"\n", sa.value("spi-i", ""), sa.value("spi-r", ""),
                           sa.value("sk-ei", ""), sa.value("sk-er", ""), cipher->second, sa.value("sk-ai", ""),
                           sa.value("sk-ar", ""), integrity.at(sa.value("auth-algorithm", "none")));
    }
    return out;
}

} // namespace mesh::cli
