#include "tools/config/routeros_hints.hpp"

#include <algorithm>
#include <array>
#include <span>

namespace mesh::config {
namespace {

constexpr std::array<std::string_view, 7> profile_keys{"dh-group",     "enc-algorithm",        "hash-algorithm",
                                                       "lifetime",     "dpd-interval",         "dpd-maximum-failures",
                                                       "nat-traversal"};
constexpr std::array<std::string_view, 3> proposal_keys{"enc-algorithms", "auth-algorithms", "pfs-group"};

bool among(std::string_view word, std::span<const std::string_view> words)
{
    return std::ranges::find(words, word) != words.end();
}

// The profile's IKE ciphers are named without the mode (aes-128 is CBC);
// the proposal's and static-sa's with it.
std::string cipher(std::string_view kind, std::string_view cbc)
{
    return kind == "profile" ? std::string(cbc.substr(0, cbc.size() - 4)) : std::string(cbc);
}

} // namespace

std::optional<std::string> routeros_value_hint(std::string_view kind, std::string_view key, std::string_view value)
{
    const std::string v(value);
    if (key == "dh-group" || key == "pfs-group") {
        if (value == "modp768" || value == "modp1024" || value == "modp1536")
            return v + " is too weak and not supported (RFC 8247 section 2.4): use modp2048 or ecp256";
        if (value == "modp6144" || value == "modp8192")
            return v + " is not supported: use modp4096 or ecp384";
        if (value.starts_with("ec2n"))
            return v + " is not supported: use ecp256";
        return std::nullopt;
    }
    if (key == "hash-algorithm" || key == "auth-algorithms" || key == "auth-algorithm") {
        if (value == "md5" || value == "sha1")
            return v + " is not supported: use sha256";
        if (value == "null")
            return "null integrity is not supported: leave " + std::string(key) +
                   " out with aes-*-gcm or chacha20-poly1305 (they carry their own), and use sha256 with CBC";
        return std::nullopt;
    }
    if (!key.starts_with("enc-algorithm"))
        return std::nullopt;
    if (value == "3des" || value == "des")
        return v + " is not supported: use " + cipher(kind, "aes-128-cbc") + " or aes-128-gcm";
    if (value == "aes-192" || value == "aes-192-cbc" || value == "aes-192-ctr")
        return v + " is not supported: use " + cipher(kind, "aes-256-cbc") + " or aes-256-gcm";
    if (value == "aes-192-gcm")
        return v + " is not supported: use aes-256-gcm";
    if (value == "aes-128-ctr" || value == "aes-256-ctr")
        return v + " is not supported: use " + v.substr(0, 7) + "gcm";
    if (value == "blowfish" || value == "twofish" || value.starts_with("camellia"))
        return v + " is not supported: use " + cipher(kind, "aes-256-cbc") + " or aes-256-gcm";
    if (value == "null")
        return "null encryption is not supported: use aes-128-gcm";
    if (value == "chacha20poly1305")
        return "write chacha20-poly1305 (with a dash)";
    return std::nullopt;
}

std::optional<std::string> routeros_key_hint(std::string_view kind, std::string_view key,
                                             std::string_view table_name)
{
    const std::string k(key);
    const std::string name(table_name.empty() ? "NAME" : table_name);
    if (kind.empty()) {
        if (key == "identity")
            return "[identity." + name + "]: identities are part of [peer." + name +
                   "] in mesh-site: move auth-method, secret, my-id, remote-id and the certificates there";
        if (key == "policy")
            return "[policy." + name + "]: a policy is a [tunnel." + name +
                   "] in mesh-site (mode = \"ip\", local-subnets, remote-subnets)";
        return std::nullopt;
    }
    if (key == "exchange-mode")
        return "exchange-mode: mesh-site speaks IKEv2 only, remove it";
    if (key == "generate-policy")
        return "generate-policy: a passive peer whose address is a prefix gives each branch its own tunnel "
               "(template peers, docs/configuration.md), remove it";
    if (key == "prf-algorithm")
        return "prf-algorithm: the PRF is the hash-algorithm in mesh-site, remove it";
    if (key == "proposal-check")
        return "proposal-check: mesh-site keeps its own lifetimes whatever the peer proposes, remove it";
    // A proposal's own lifetime, and enc-algorithm that is most likely its enc-algorithms mistyped.
    if ((kind == "peer" || kind == "tunnel" || kind == "proposal") && among(key, profile_keys) &&
        !(kind == "proposal" && (key == "lifetime" || key == "enc-algorithm")))
        return k + " belongs in a [profile]: write it in [profile.NAME] and set profile = \"NAME\" in the [peer]";
    if ((kind == "peer" || kind == "tunnel" || kind == "profile") && among(key, proposal_keys))
        return k + " belongs in a [proposal]: write it in [proposal.NAME] and set proposal = \"NAME\" in the [tunnel]";
    if (kind == "peer" && key == "port")
        return "port: the IKE port is the site's: set ike-port in [site]";
    if (kind == "tunnel" && key == "src-address")
        return "src-address: write local-subnets (a list), with mode = \"ip\"";
    if (kind == "tunnel" && key == "dst-address")
        return "dst-address: write remote-subnets (a list), with mode = \"ip\"";
    if ((kind == "tunnel" || kind == "peer") && key == "tunnel")
        return "tunnel=yes: write mode = \"ip\" in the [tunnel]";
    return std::nullopt;
}

bool is_routeros_boolean(std::string_view value)
{
    return value == "yes" || value == "no";
}

} // namespace mesh::config
