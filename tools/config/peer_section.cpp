// [peer.NAME]: where the peer is, how IKE authenticates it, and as whom.

#include "tools/config/file_modes.hpp"
#include "tools/config/host_name.hpp"
#include "tools/config/sections.hpp"

#include "ike/identity.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

namespace mesh::config::detail {
namespace {

constexpr std::array<std::string_view, 2> auth_method_names{"pre-shared-key", "digital-signature"};
constexpr std::array<std::string_view, 2> encapsulation_names{"udp", "auto"};

bool is_host(const net::IpPrefix& p)
{
    return p.length() == (p.address().is_v4() ? 32 : 128);
}

// "fqdn:site-a.example.com" and the other ID types of RFC 7296 section 3.5,
// read by the same parser IKE uses, so what passes here also works there.
// remote-id may be a pattern ('*', ike/identity.hpp) on a passive peer.
void check_id(const TableReader& r, const Value<std::string>& id, std::string_view key, bool allow_auto,
              bool allow_pattern = false)
{
    if (allow_auto && id.value == "auto")
        return;
    const auto parsed = ike::parse_identity(id.value);
    if (!parsed)
        r.fail(*id.node, in_quotes(key) + ": " + parsed.error() + (allow_auto ? " (or \"auto\")" : ""));
    if (id.value.find('*') == std::string::npos)
        return;
    if (!ike::is_pattern(*parsed))
        r.fail(*id.node, in_quotes(key) + ": a '*' pattern is only for fqdn: and user-fqdn: identities");
    if (!allow_pattern)
        r.fail(*id.node, in_quotes(key) + ": a '*' pattern is only for a passive peer (passive = true), which never "
                                          "names the identity it expects");
}

// Trims blanks and tabs (and a CR) at both ends.
std::string_view trimmed(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

// The key under which two spellings of one identity meet: its text, names lower-cased.
std::string identity_key(const ike::Identity& id)
{
    std::string text = ike::to_string(id);
    if (id.type == ike::IdType::fqdn || id.type == ike::IdType::rfc822_addr || id.type == ike::IdType::der_asn1_dn)
        std::ranges::transform(text, text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// Adds one branch's key; the message when its identity is no identity, a
// pattern, or already has one.
std::optional<std::string> add_branch_secret(Peer& peer, std::set<std::string>& seen, std::string_view id,
                                             Botan::secure_vector<std::uint8_t> secret)
{
    const auto parsed = ike::parse_identity(id);
    if (!parsed)
        return parsed.error();
    if (ike::is_pattern(*parsed))
        return "a key belongs to one identity, not to a '*' pattern";
    if (secret.empty())
        return "the key of " + ike::to_string(*parsed) + " is empty";
    if (!seen.insert(identity_key(*parsed)).second)
        return ike::to_string(*parsed) + " has a key already";
    peer.secrets.emplace_back(std::string(id), std::move(secret));
    return std::nullopt;
}

// secrets-file: "ID SECRET" per line, the secret the rest of the line;
// blank lines and lines starting with '#' skipped. Errors name the file's
// own line and never quote a secret.
void read_secrets_file(const TableReader& r, const Value<std::filesystem::path>& file, Peer& peer,
                       std::set<std::string>& seen)
{
    const std::string name = file.value.string();
    if (const auto problem = exposure(file.value))
        r.fail(*file.node, name + " is " + *problem);
    std::FILE* f = std::fopen(name.c_str(), "rb");
    if (!f)
        r.fail(*file.node, "cannot read secrets-file " + name + ": " + std::strerror(errno));
    Botan::secure_vector<std::uint8_t> content;
    std::array<std::uint8_t, 4096> chunk{};
    std::size_t n = 0;
    while ((n = std::fread(chunk.data(), 1, chunk.size(), f)) > 0)
        content.insert(content.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    Botan::secure_scrub_memory(chunk.data(), chunk.size());
    if (failed)
        r.fail(*file.node, "cannot read secrets-file " + name);
    const std::string_view text(reinterpret_cast<const char*>(content.data()), content.size());
    std::uint32_t line_number = 0;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const std::string_view raw = text.substr(start, end - start);
        start = end + 1;
        ++line_number;
        const std::string_view line = trimmed(raw);
        if (line.empty() || line.front() == '#')
            continue;
        const auto column = static_cast<std::uint32_t>(line.data() - raw.data()) + 1;
        const std::size_t gap = line.find_first_of(" \t");
        if (gap == std::string_view::npos)
            throw ConfigError(name, line_number, column, "expected ID SECRET (an identity, blanks, its key)");
        const std::string_view id = line.substr(0, gap);
        const std::string_view secret = trimmed(line.substr(gap));
        if (auto problem = add_branch_secret(peer, seen, id, {secret.begin(), secret.end()}))
            throw ConfigError(name, line_number, column, *problem);
    }
}

// A template's keys per branch: [peer.NAME.secrets] and secrets-file.
void read_branch_secrets(const TableReader& r, PeerRead& read)
{
    Peer& peer = read.peer;
    const toml::table* table = r.table("secrets");
    const auto file = r.path("secrets-file");
    if (!table && !file)
        return;
    const toml::node& at = table ? static_cast<const toml::node&>(*table) : *file->node;
    const std::string key = table ? "'secrets'" : "'secrets-file'";
    if (!peer.is_template())
        r.fail(at, key + " is only for a template peer, whose address is a prefix (\"0.0.0.0/0\"): give a peer of "
                         "one address its 'secret'");
    if (peer.auth_method != AuthMethod::pre_shared_key)
        r.fail(at, key + " is only used with auth-method = \"pre-shared-key\"");
    if (!peer.secret.empty())
        r.fail(at, key + " and 'secret' both given: a template peer takes a key per branch or one for all, "
                         "not both");
    std::set<std::string> seen;
    if (table) {
        for (const auto& [id, value] : *table) {
            const auto* secret = value.as_string();
            if (secret == nullptr)
                r.fail(value, "expected a string (the key) for " + in_quotes(id.str()) + " in [" + r.name() +
                                  ".secrets], not " + std::string(type_name(value.type())));
            const std::string_view text = secret->get();
            if (auto problem = add_branch_secret(peer, seen, id.str(), {text.begin(), text.end()}))
                r.source().fail(id.source(), in_quotes(id.str()) + " in [" + r.name() + ".secrets]: " + *problem);
        }
    }
    if (file)
        read_secrets_file(r, *file, peer, seen);
}

// Straight into locked memory; one trailing newline (LF or CRLF) dropped,
// as editors and `echo` leave one.
Botan::secure_vector<std::uint8_t> read_secret_file(const TableReader& r, const Value<std::filesystem::path>& file)
{
    const std::string name = file.value.string();
    if (const auto problem = exposure(file.value))
        r.fail(*file.node, name + " is " + *problem);
    std::FILE* f = std::fopen(name.c_str(), "rb");
    if (!f)
        r.fail(*file.node, "cannot read secret-file " + name + ": " + std::strerror(errno));
    Botan::secure_vector<std::uint8_t> secret;
    std::array<std::uint8_t, 256> chunk{};
    std::size_t n = 0;
    while ((n = std::fread(chunk.data(), 1, chunk.size(), f)) > 0)
        secret.insert(secret.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    const bool failed = std::ferror(f) != 0;
    std::fclose(f);
    Botan::secure_scrub_memory(chunk.data(), chunk.size());
    if (failed)
        r.fail(*file.node, "cannot read secret-file " + name);
    if (!secret.empty() && secret.back() == '\n')
        secret.pop_back();
    if (!secret.empty() && secret.back() == '\r')
        secret.pop_back();
    if (secret.empty())
        r.fail(*file.node, "secret-file " + name + " is empty");
    return secret;
}

void read_secret(const TableReader& r, Peer& peer)
{
    const bool psk = peer.auth_method == AuthMethod::pre_shared_key;
    const auto secret = r.text("secret");
    const auto secret_file = r.path("secret-file");
    if (secret && secret_file)
        r.fail(*secret_file->node, "give either 'secret' or 'secret-file', not both");
    if (!psk && (secret || secret_file))
        r.fail(secret ? *secret->node : *secret_file->node,
               std::string(secret ? "'secret'" : "'secret-file'") +
                   " is only used with auth-method = \"pre-shared-key\"");
    if (secret) {
        if (secret->value.empty())
            r.fail(*secret->node, "'secret' must not be empty");
        peer.secret.assign(secret->value.begin(), secret->value.end());
    }
    if (secret_file)
        peer.secret = read_secret_file(r, *secret_file);
}

// certificate, private-key, ca, crl: existing files. Which of the required
// ones are missing is left to check_peer_credentials, which knows whether
// IKE will run at all.
void read_certificates(const TableReader& r, PeerRead& read)
{
    Peer& peer = read.peer;
    const std::array<std::pair<std::string_view, std::optional<std::filesystem::path>*>, 4> files{{
        {"certificate", &peer.certificate},
        {"private-key", &peer.private_key},
        {"ca", &peer.ca},
        {"crl", &peer.crl},
    }};
    for (const auto& [key, field] : files) {
        const auto v = r.path(key);
        if (!v) {
            if (key != "crl")
                read.checks.missing_certificates.emplace_back(key);
            continue;
        }
        if (peer.auth_method != AuthMethod::digital_signature)
            r.fail(*v->node, in_quotes(key) + " is only used with auth-method = \"digital-signature\"");
        std::error_code ec;
        if (!std::filesystem::is_regular_file(v->value, ec))
            r.fail(*v->node, in_quotes(key) + " file " + v->value.string() + " does not exist");
        *field = v->value;
    }
}

// address: an IP address, a prefix (a passive template), or a DNS name that
// the daemon resolves (tools/daemon/peer_names.hpp). Until it does, a named
// peer's address is the unspecified host of the family it is looked up in
// (A or AAAA): local-address's, else listen's, the family IKE's socket has.
void read_address(const TableReader& r, const Config& config, Peer& peer)
{
    const auto text = r.string("address");
    if (!text)
        r.fail_missing("address");
    const auto local = r.address("local-address");
    if (local)
        peer.local_address = local->value;
    const auto interval = r.duration("resolve-interval");
    // What looks like an address (digits and dots, or a ':' or '/') is read as one.
    const bool literal = net::IpPrefix::parse(text->value).has_value() ||
                         text->value.find_first_of(":/") != std::string::npos ||
                         text->value.find_first_not_of("0123456789.") == std::string::npos;
    if (!literal) {
        if (const auto problem = host_name_problem(text->value))
            r.fail(*text->node, "'address' \"" + text->value + "\" is no IP address, prefix or host name: " +
                                    *problem + ". Write an address (\"192.0.2.1\"), a prefix for a passive peer "
                                    "(\"0.0.0.0/0\") or a DNS name (\"branch1.example.net\")");
        peer.host_name = text->value;
        const auto& listen = config.site.listen;
        const bool v6 = local ? !local->value.is_v4() : listen && !listen->is_v4();
        peer.address = net::IpPrefix(*net::IpAddress::parse(v6 ? "::" : "0.0.0.0"), v6 ? 128 : 32);
        if (interval) {
            if (interval->value < std::chrono::seconds(1))
                r.fail(*interval->node, "'resolve-interval' must be at least 1s");
            peer.resolve_interval = interval->value;
        }
        return;
    }
    if (interval)
        r.fail(*interval->node, "'resolve-interval' is only for a peer whose address is a DNS name: remove it");
    const Value<net::IpPrefix> address{*r.prefix("address")};
    peer.address = address.value;
    if (is_host(peer.address) && peer.address.address().is_unspecified())
        r.fail(*address.node, "'address' is unspecified: a passive peer that accepts any address has the prefix " +
                                  peer.address.address().to_string() + "/0");
    if (!is_host(peer.address)) {
        if (!peer.passive)
            r.fail(*address.node, "'address' may be a prefix only for a passive peer (passive = true)");
        r.check_network(address, "address");
    }
    if (local && local->value.family() != peer.address.address().family())
        r.fail(*local->node, "'local-address' and 'address' must be of the same IP version");
}

} // namespace

PeerRead read_peer(const Source& source, const Section& s, const Config& config)
{
    const TableReader r(source, *s.table, "peer." + s.name,
                        {"address", "local-address", "passive", "disabled", "profile", "auth-method", "secret", "secret-file",
                         "secrets", "secrets-file", "certificate", "private-key", "ca", "crl", "my-id", "remote-id",
                         "encapsulation", "mode-config", "resolve-interval"});
    PeerRead read{{}, {s.name, s.table, {}}, {}};
    Peer& peer = read.peer;
    peer.name = s.name;

    if (const auto v = r.boolean("passive"))
        peer.passive = v->value;
    if (const auto v = r.boolean("disabled"))
        peer.disabled = v->value;
    read_address(r, config, peer);

    if (const auto v = r.string("profile")) {
        r.check_reference(*v, "profile", config.profiles);
        peer.profile = v->value;
    }
    if (const auto v = r.choice("auth-method", auth_method_names))
        peer.auth_method = v->value == "pre-shared-key" ? AuthMethod::pre_shared_key : AuthMethod::digital_signature;
    read_secret(r, peer);
    read_branch_secrets(r, read);
    read_certificates(r, read);
    load_peer_credentials(r, read);

    if (const auto v = r.string("my-id")) {
        check_id(r, *v, "my-id", false);
        peer.my_id = v->value;
    }
    if (const auto v = r.string("remote-id")) {
        check_id(r, *v, "remote-id", true, peer.passive);
        peer.remote_id = v->value;
    }
    // RouterOS's nat-traversal = no: no NAT-D payloads, so nothing moves IKE
    // to natt-port and ESP goes unencapsulated (RFC 7296 section 2.23).
    const Profile& profile = config.profiles.at(peer.profile);
    if (!profile.nat_traversal)
        peer.encapsulation = Encapsulation::automatic;
    if (const auto v = r.choice("encapsulation", encapsulation_names)) {
        if (v->value == "udp" && !profile.nat_traversal)
            r.fail(*v->node, "encapsulation = \"udp\" needs NAT traversal, which [profile." + profile.name +
                                 "] turns off (nat-traversal = false): set encapsulation = \"auto\" here, or "
                                 "nat-traversal = true in the profile");
        peer.encapsulation = v->value == "udp" ? Encapsulation::udp : Encapsulation::automatic;
    }
    if (const auto v = r.string("mode-config")) {
        if (v->value != mode_config_request)
            r.check_reference(*v, "mode-config", config.mode_configs);
        else if (peer.passive)
            r.fail(*v->node, "mode-config = \"request\" asks for an address as the initiator, but the peer is "
                             "passive: serve one with mode-config = \"NAME\" of a [mode-config.NAME]");
        peer.mode_config = v->value;
    }
    return read;
}

void check_peer_credentials(const Source& source, const PeerChecks& checks, const Config& config)
{
    const Peer& peer = config.peers.at(checks.name);
    const auto of_peer = [&](const auto& entry) { return entry.second.peer == peer.name; };
    const auto keyed_by_ike = [&](const auto& entry) { return of_peer(entry) && !entry.second.static_sa; };
    const bool needs_ike =
        std::ranges::none_of(config.tunnels, of_peer) || std::ranges::any_of(config.tunnels, keyed_by_ike);
    if (!needs_ike)
        return;
    const std::string section = "[peer." + peer.name + "]";
    if (peer.auth_method == AuthMethod::pre_shared_key && peer.secret.empty() && peer.secrets.empty()) {
        const std::string keys = peer.is_template()
                                     ? "[peer." + peer.name + ".secrets], 'secrets-file' or 'secret'"
                                     : "'secret' or 'secret-file'";
        source.fail(*checks.table,
                    "missing " + keys + " in " + section + " (required for auth-method = \"pre-shared-key\")");
    }
    if (peer.auth_method == AuthMethod::digital_signature && !checks.missing_certificates.empty())
        source.fail(*checks.table, "missing " + in_quotes(checks.missing_certificates.front()) + " in " + section +
                                     " (required for auth-method = \"digital-signature\")");
}

} // namespace mesh::config::detail
