#pragma once
// The daemon's configuration (TOML, docs/configuration.md), read and
// checked in full before anything starts. Names follow RouterOS.

#include "tunnel/esp_algorithm.hpp"
#include "tunnel/worker_priority.hpp"
#include "net/ip_address.hpp"
#include "tools/log/log_spec.hpp"

#include <botan/secmem.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::ike {
struct LocalCredentials;   // ike/certificates.hpp
class TrustAnchor;
} // namespace mesh::ike

namespace mesh::config {

using Duration = std::chrono::milliseconds;

// A configuration mistake, located: what() is "FILE:LINE:COL: message",
// or "FILE: message" (line 0) when the file cannot be read at all.
// Messages never hold a secret (secret, secret-file's content, keys).
class ConfigError : public std::runtime_error {
public:
    ConfigError(std::string file, std::uint32_t line, std::uint32_t column, const std::string& message);
    [[nodiscard]] const std::string& file() const noexcept { return file_; }
    [[nodiscard]] std::uint32_t line() const noexcept { return line_; }
    [[nodiscard]] std::uint32_t column() const noexcept { return column_; }

private:
    std::string file_;
    std::uint32_t line_;
    std::uint32_t column_;
};

// How a tunnel that is down shows on its interface. admin: administratively
// down, which routing daemons see at once; carrier: up without carrier, which
// Linux reports through link-watch up to a second late.
enum class LinkDown : std::uint8_t { admin, carrier };

struct Site {
    std::string name;
    std::optional<net::IpAddress> listen;     // unset: any
    std::uint16_t ike_port = 500;
    std::uint16_t natt_port = 4500;
    std::filesystem::path control_socket;        // default /run/mesh-site/<name>.sock
    std::optional<std::filesystem::path> zebra_socket;
    LinkDown link_down = LinkDown::admin;
    Duration nat_keepalive = std::chrono::seconds(20);   // RFC 3948 keepalives while behind a NAT
    std::optional<std::size_t> workers;          // data-plane threads; unset ("auto"): one per core
    tunnel::WorkerPriority worker_priority = tunnel::WorkerPriority::realtime;
    // RFC 7296 section 2.6: half-open IKE SAs from which IKE_SA_INIT must
    // bring a cookie, and beyond which it is dropped (ike::IkeLimits).
    std::uint32_t ike_cookie_threshold = 30;
    std::uint32_t ike_max_half_open = 1000;
    std::optional<net::Endpoint> metrics_listen;   // Prometheus' GET /metrics; unset: off
    log::LogSpec log_levels;                     // [site] log, "ike=debug,esp=info"; `run --log` wins
    bool operator==(const Site&) const = default;
};

struct Profile {                                 // phase 1, the IKE SA
    std::string name;
    std::vector<std::string> dh_groups{"ecp256", "modp2048"};
    std::vector<std::string> enc_algorithms{"aes-256-gcm", "aes-128-gcm", "aes-256", "aes-128", "chacha20-poly1305"};
    std::vector<std::string> hash_algorithms{"sha256", "sha384", "sha512"};
    Duration lifetime = std::chrono::hours(8);
    Duration dpd_interval = std::chrono::seconds(30);   // zero: "disable-dpd"
    std::uint32_t dpd_maximum_failures = 3;
    bool nat_traversal = true;                   // false: no NAT-D payloads, IKE on ike-port, plain ESP
    bool operator==(const Profile&) const = default;
};

struct Proposal {                                // phase 2, the CHILD SA
    std::string name;
    std::vector<tunnel::EspCipher> enc_algorithms{tunnel::EspCipher::aes256_gcm, tunnel::EspCipher::aes128_gcm,
                                                  tunnel::EspCipher::aes256_cbc, tunnel::EspCipher::aes128_cbc,
                                                  tunnel::EspCipher::chacha20_poly1305};
    std::vector<tunnel::EspIntegrity> auth_algorithms{tunnel::EspIntegrity::hmac_sha256_128};
    std::vector<std::string> pfs_groups{"ecp256"};  // {"none"}: no PFS
    Duration lifetime = std::chrono::hours(1);
    std::uint64_t lifetime_bytes = 0;              // ESP bytes both ways; 0: no limit
    bool operator==(const Proposal&) const = default;
};

// [mode-config.NAME]: what a hub hands a branch in IKE_AUTH (RFC 7296
// section 3.15), RouterOS /ip ipsec mode-config.
struct ModeConfig {
    std::string name;
    std::vector<net::IpPrefix> address_pools;   // at most one per family; /32 (/128) leases by identity
    std::vector<net::IpPrefix> split_include;   // INTERNAL_IP4_SUBNET / INTERNAL_IP6_SUBNET
    std::vector<net::IpAddress> dns;            // INTERNAL_IP4_DNS / INTERNAL_IP6_DNS
    bool system_dns = false;                    // the nameservers of /etc/resolv.conf, read at start
    bool operator==(const ModeConfig&) const = default;
};

// The value of a peer's mode-config that asks instead of serving.
inline constexpr std::string_view mode_config_request = "request";

enum class AuthMethod : std::uint8_t { pre_shared_key, digital_signature };
enum class Encapsulation : std::uint8_t { udp, automatic };

struct Peer {
    std::string name;
    net::IpPrefix address;                    // a host prefix, or a range for a passive hub
    // address given as a DNS name: the daemon resolves it (docs/configuration.md);
    // `address` is then the unspecified host of the family it is looked up in.
    std::optional<std::string> host_name;
    Duration resolve_interval = std::chrono::minutes(5);   // how often a named peer is looked up again
    std::optional<net::IpAddress> local_address;
    bool passive = false;
    bool disabled = false;                       // configured, but no IKE and no tunnel (RouterOS disabled=yes)
    std::string profile = "default";
    AuthMethod auth_method = AuthMethod::pre_shared_key;
    Botan::secure_vector<std::uint8_t> secret;   // from secret or secret-file
    std::optional<std::filesystem::path> certificate, private_key, ca, crl;
    // Those files loaded and checked (digital-signature): what IKE signs and verifies with.
    std::shared_ptr<const ike::LocalCredentials> credentials;
    std::shared_ptr<const ike::TrustAnchor> trust;
    std::optional<std::string> my_id;            // "fqdn:...", unset: address:<local address>
    std::string remote_id = "auto";              // may be a pattern ("fqdn:*.branch.example.net") when passive
    Encapsulation encapsulation = Encapsulation::udp;   // automatic when the profile has nat-traversal = false
    // A template's pre-shared keys, one per branch identity, from
    // [peer.NAME.secrets] and secrets-file: the identity's text, its key.
    std::vector<std::pair<std::string, Botan::secure_vector<std::uint8_t>>> secrets;

    // A template peer: its address is a prefix, and each branch that
    // authenticates gets its own instance of the peer's tunnels.
    [[nodiscard]] bool is_template() const noexcept
    {
        return address.length() != (address.address().is_v4() ? 32 : 128);
    }
    std::string mode_config;                     // empty: none; "request"; or a [mode-config.NAME] to serve
};

// Manual keying of one tunnel, like `ip xfrm state` (docs/configuration.md, [tunnel.NAME.static-sa]).
struct StaticSa {
    tunnel::EspCipher enc_algorithm = tunnel::EspCipher::aes128_gcm;
    tunnel::EspIntegrity auth_algorithm = tunnel::EspIntegrity::none;  // CBC: sha256 when not given
    std::uint32_t spi_in = 0;
    std::uint32_t spi_out = 0;
    Botan::secure_vector<std::uint8_t> key_in, key_out;            // lengths checked against the cipher
    Botan::secure_vector<std::uint8_t> auth_key_in, auth_key_out;  // CBC only
    bool operator==(const StaticSa&) const = default;
};

enum class TunnelMode : std::uint8_t { gre, ip };

struct Tunnel {
    std::string name;
    std::string peer;
    std::string proposal = "default";
    std::string interface;                       // default: the tunnel's name, at most 15 characters
    std::optional<net::IpPrefix> address;     // required for mode gre
    TunnelMode mode = TunnelMode::gre;
    std::vector<net::IpPrefix> local_subnets, remote_subnets;
    std::optional<std::uint32_t> mtu;            // unset: computed from the overhead
    std::vector<net::IpPrefix> routes;
    std::uint32_t route_distance = 10;
    bool mss_clamp = true;                       // clamp the MSS of SYNs entering the tunnel to its MTU
    bool disabled = false;                       // configured, but no TUN, routes or CHILD SA (RouterOS disabled=yes)
    std::optional<StaticSa> static_sa;
    // A template tunnel (its peer is a template): `interface` is the prefix
    // of its instances' names, each with its block's index appended; each
    // instance's addresses come from a block of address_pool, the first
    // address ours, the next the branch's (required for mode gre).
    bool is_template = false;
    std::optional<net::IpPrefix> address_pool;
    std::uint8_t branch_prefix_length = 31;      // of each block: /31 or /30 (IPv6: /127 or /126)
    bool operator==(const Tunnel&) const = default;
};

struct Config {
    std::filesystem::path path;
    Site site;
    std::map<std::string, Profile> profiles;     // "default" always exists
    std::map<std::string, Proposal> proposals;   // "default" always exists
    std::map<std::string, ModeConfig> mode_configs;
    std::map<std::string, Peer> peers;
    std::map<std::string, Tunnel> tunnels;
    // "FILE:LINE:COL: warning: message": what is accepted but likely a
    // mistake. check-config prints them, run logs them.
    std::vector<std::string> warnings;
};

// Reads and checks the whole file (docs/configuration.md lists every check).
// Throws ConfigError naming file, line and column for a syntax error, an
// unknown key, a wrong type or value, and a reference to a profile, proposal
// or peer that does not exist, a private key or secret-file that group or
// others may read, and a certificate, key, CA or CRL that does not load.
// Relative paths in the file (secret-file, certificates, sockets) are taken
// from the folder of path, or of file_name. load() also warns when the file
// holds a secret and group or others may read it.
[[nodiscard]] Config load(const std::filesystem::path& path);
[[nodiscard]] Config parse(std::string_view text, const std::string& file_name);

// Whether the tunnel runs: neither it nor its peer is disabled.
[[nodiscard]] bool enabled(const Config& config, const Tunnel& tunnel);

// How many instances a tunnel may have: 1, or for a template its pool's
// blocks (or 65536 names without a pool).
[[nodiscard]] std::uint64_t instance_capacity(const Tunnel& tunnel);

// "200ms", "30s", "5m", "8h", "1d"; nullopt for anything else.
[[nodiscard]] std::optional<Duration> parse_duration(std::string_view text);
// "500000", "100kB", "200MB", "4GB" (powers of 1000), "64KiB", "1GiB" (of
// 1024); nullopt for anything else, zero included.
[[nodiscard]] std::optional<std::uint64_t> parse_byte_count(std::string_view text);

} // namespace mesh::config
