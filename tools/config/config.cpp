// Loading the configuration, in this order:
//   1. TOML syntax (toml++), its errors located like ours;
//   2. [site];
//   3. every [profile.NAME] and [proposal.NAME], then the defaults not written;
//      every [mode-config.NAME];
//   4. every [peer.NAME] (its profile and mode-config must exist);
//   5. every [tunnel.NAME] (its peer and proposal must exist; interfaces and
//      static-sa spi-in unique);
//   6. what a peer needs depending on its tunnels: a secret or certificates,
//      unless every tunnel of it is keyed by hand; peers with no tunnel (a
//      warning) and peers IKE cannot tell apart;
//   7. for load(): whether a file holding a secret is open to group or others.
// Sections are read in file order, so the first mistake in the file is the
// one reported, and "already used by" names the earlier section.

#include "tools/config/config.hpp"

#include "tools/config/config_reader.hpp"
#include "tools/config/file_modes.hpp"
#include "tools/config/routeros_hints.hpp"
#include "tools/config/sections.hpp"
#include "tools/config/static_sa.hpp"

#include <sys/un.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <sstream>
#include <tuple>

namespace mesh::config {

using detail::in_quotes;
using detail::Section;
using detail::Source;
using detail::TableReader;

namespace {

std::string format_location(const std::string& file, std::uint32_t line, std::uint32_t column,
                             const std::string& message)
{
    if (line == 0)
        return file + ": " + message;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

} // namespace

ConfigError::ConfigError(std::string file, std::uint32_t line, std::uint32_t column, const std::string& message)
    : std::runtime_error(format_location(file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(column)
{
}

std::optional<std::uint64_t> parse_byte_count(std::string_view text)
{
    std::uint64_t count = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (ec != std::errc{} || end == text.data() || count == 0)
        return std::nullopt;
    const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
    constexpr std::array<std::pair<std::string_view, std::uint64_t>, 7> units{{{"", 1},
                                                                              {"kB", 1000},
                                                                              {"MB", 1000 * 1000},
                                                                              {"GB", 1000 * 1000 * 1000},
                                                                              {"KiB", 1024},
                                                                              {"MiB", 1024 * 1024},
                                                                              {"GiB", 1024 * 1024 * 1024}}};
    const auto it = std::ranges::find(units, unit, &std::pair<std::string_view, std::uint64_t>::first);
    if (it == units.end() || count > std::numeric_limits<std::uint64_t>::max() / it->second)
        return std::nullopt;
    return count * it->second;
}

std::optional<Duration> parse_duration(std::string_view text)
{
    std::uint64_t count = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (ec != std::errc{} || end == text.data() || count == 0)
        return std::nullopt;
    const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
    std::uint64_t milliseconds_per_unit = 0;
    if (unit == "ms")
        milliseconds_per_unit = 1;
    else if (unit == "s")
        milliseconds_per_unit = 1000;
    else if (unit == "m")
        milliseconds_per_unit = 60 * 1000;
    else if (unit == "h")
        milliseconds_per_unit = 60 * 60 * 1000;
    else if (unit == "d")
        milliseconds_per_unit = 24 * 60 * 60 * 1000;
    else
        return std::nullopt;
    constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max());
    if (count > max / milliseconds_per_unit)
        return std::nullopt;
    return Duration(static_cast<Duration::rep>(count * milliseconds_per_unit));
}

namespace {

constexpr std::array<std::string_view, 7> dh_group_names{"modp2048", "modp3072", "modp4096", "ecp256",
                                                         "ecp384",   "ecp521",   "curve25519"};
constexpr std::array<std::string_view, 5> ike_cipher_names{"aes-256-gcm", "aes-128-gcm", "aes-256", "aes-128",
                                                           "chacha20-poly1305"};
constexpr std::array<std::string_view, 3> hash_names{"sha256", "sha384", "sha512"};
constexpr Duration min_dpd_interval = std::chrono::milliseconds(50);

// Every [kind.NAME], in the order the file gives them.
std::vector<Section> sections(const TableReader& root, std::string_view kind)
{
    std::vector<Section> out;
    const toml::table* all = root.table(kind);
    if (!all)
        return out;
    for (const auto& [key, value] : *all) {
        if (!value.is_table())
            root.source().fail(key.source(), "expected [" + std::string(kind) + ".NAME] tables in [" +
                                                 std::string(kind) + "], not " +
                                                 std::string(detail::type_name(value.type())) + " for " +
                                                 in_quotes(key.str()));
        out.push_back({std::string(key.str()), value.as_table()});
    }
    std::ranges::sort(out, [](const Section& a, const Section& b) {
        const auto& pa = a.table->source().begin;
        const auto& pb = b.table->source().begin;
        return std::tie(pa.line, pa.column) < std::tie(pb.line, pb.column);
    });
    return out;
}

// "127.0.0.1:9721", "[::1]:9721": an address and a port other than 0.
std::optional<net::Endpoint> listen_endpoint(std::string_view text)
{
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return std::nullopt;
    auto host = text.substr(0, colon);
    const auto port_text = text.substr(colon + 1);
    const bool bracketed = host.starts_with('[') && host.ends_with(']');
    if (bracketed)
        host = host.substr(1, host.size() - 2);
    std::uint32_t port = 0;
    const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    const auto address = net::IpAddress::parse(host);
    if (error != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535 ||
        !address || address->is_v4() == bracketed)
        return std::nullopt;
    return net::Endpoint{*address, static_cast<std::uint16_t>(port)};
}

Site read_site(const TableReader& root)
{
    const toml::table* table = root.table("site");
    if (!table)
        root.fail_here("missing [site]");
    const TableReader r(root.source(), *table, "site",
                        {"name", "listen", "ike-port", "natt-port", "control-socket", "zebra-socket", "link-down",
                         "nat-keepalive", "workers", "worker-priority", "ike-cookie-threshold", "ike-max-half-open",
                         "metrics-listen", "log"});
    Site site;
    const auto name = r.required_string("name");
    // The name ends up in a file name: the default control socket.
    if (name.value.empty() || std::ranges::any_of(name.value, [](char c) {
            return c == '/' || std::isspace(static_cast<unsigned char>(c));
        }))
        r.fail(*name.node, "'name' must be non-empty, without '/' or whitespace");
    site.name = name.value;
    if (const auto v = r.address("listen"))
        site.listen = v->value;
    const auto ike_port = r.integer("ike-port", 1, 65535);
    const auto natt_port = r.integer("natt-port", 1, 65535);
    if (ike_port)
        site.ike_port = static_cast<std::uint16_t>(ike_port->value);
    if (natt_port)
        site.natt_port = static_cast<std::uint16_t>(natt_port->value);
    if (site.ike_port == site.natt_port)
        r.fail(natt_port ? *natt_port->node : *ike_port->node, "'natt-port' and 'ike-port' must differ");

    constexpr std::size_t max_socket_path = sizeof(sockaddr_un{}.sun_path) - 1;
    const auto socket_path = [&](std::string_view key) -> std::optional<std::filesystem::path> {
        const auto v = r.path(key);
        if (!v)
            return std::nullopt;
        if (v->value.native().size() > max_socket_path)
            r.fail(*v->node, in_quotes(key) + " is longer than a Unix socket path may be (" +
                                 std::to_string(max_socket_path) + " bytes)");
        return v->value;
    };
    site.control_socket = socket_path("control-socket")
                              .value_or(std::filesystem::path("/run/mesh-site") / (site.name + ".sock"));
    if (site.control_socket.native().size() > max_socket_path)
        r.fail(*name.node, "'name' is too long for the default control socket path: set 'control-socket'");
    site.zebra_socket = socket_path("zebra-socket");
    static constexpr std::array<std::string_view, 2> link_down_names{"admin", "carrier"};
    if (const auto v = r.choice("link-down", link_down_names))
        site.link_down = v->value == "admin" ? LinkDown::admin : LinkDown::carrier;
    if (const auto v = r.duration("nat-keepalive")) {
        if (v->value < std::chrono::seconds(1))
            r.fail(*v->node, "'nat-keepalive' must be at least 1s");
        site.nat_keepalive = v->value;
    }
    if (const toml::node* workers = r.node("workers")) {
        constexpr std::int64_t max_workers = 64;
        const auto fix = "'workers' must be \"auto\" (one per core) or a number of threads from 1 to " +
                         std::to_string(max_workers);
        if (const auto* text = workers->as_string()) {
            if (text->get() != "auto")
                r.fail(*workers, fix);
        } else if (const auto* number = workers->as_integer()) {
            if (number->get() < 1 || number->get() > max_workers)
                r.fail(*workers, fix);
            site.workers = static_cast<std::size_t>(number->get());
        } else {
            r.fail(*workers, fix);
        }
    }
    static constexpr std::array<std::string_view, 2> worker_priority_names{"realtime", "normal"};
    if (const auto v = r.choice("worker-priority", worker_priority_names))
        site.worker_priority = v->value == "realtime" ? tunnel::WorkerPriority::realtime : tunnel::WorkerPriority::normal;
    if (const auto v = r.string("metrics-listen")) {
        site.metrics_listen = listen_endpoint(v->value);
        if (!site.metrics_listen)
            r.fail(*v->node, "'metrics-listen' must be ADDRESS:PORT, e.g. \"127.0.0.1:9721\" or \"[::1]:9721\"");
    }
    const auto cookie_threshold = r.integer("ike-cookie-threshold", 0, 1000000);
    const auto max_half_open = r.integer("ike-max-half-open", 1, 1000000);
    if (cookie_threshold)
        site.ike_cookie_threshold = static_cast<std::uint32_t>(cookie_threshold->value);
    if (max_half_open)
        site.ike_max_half_open = static_cast<std::uint32_t>(max_half_open->value);
    if (site.ike_cookie_threshold > site.ike_max_half_open)
        r.fail(cookie_threshold ? *cookie_threshold->node : *max_half_open->node,
               "'ike-cookie-threshold' (" + std::to_string(site.ike_cookie_threshold) +
                   ") must not exceed 'ike-max-half-open' (" + std::to_string(site.ike_max_half_open) +
                   "): no cookie would be asked for before IKE_SA_INIT is dropped");
    if (const auto v = r.string("log")) {
        auto spec = log::parse_log_spec(v->value);
        if (!spec)
            r.fail(*v->node, "'log': " + spec.error() + " (e.g. \"ike=debug,esp=info\")");
        site.log_levels = std::move(*spec);
    }
    return site;
}

Profile read_profile(const Source& source, const Section& s)
{
    const TableReader r(source, *s.table, "profile." + s.name,
                        {"dh-group", "enc-algorithm", "hash-algorithm", "lifetime", "dpd-interval",
                         "dpd-maximum-failures", "nat-traversal"});
    Profile profile;
    profile.name = s.name;
    if (auto v = r.choice_values("dh-group", dh_group_names))
        profile.dh_groups = std::move(*v);
    if (auto v = r.choice_values("enc-algorithm", ike_cipher_names))
        profile.enc_algorithms = std::move(*v);
    if (auto v = r.choice_values("hash-algorithm", hash_names))
        profile.hash_algorithms = std::move(*v);
    if (const auto v = r.duration("lifetime"))
        profile.lifetime = v->value;
    if (const toml::node* n = r.node("dpd-interval"); n && n->value<std::string_view>() == "disable-dpd") {
        profile.dpd_interval = Duration::zero();
    } else if (const auto d = r.duration("dpd-interval")) {
        // Below 50 ms a check would cost more IKE messages than a path failure costs time.
        if (d->value < min_dpd_interval)
            r.fail(*d->node, "'dpd-interval' must be at least 50ms (or \"disable-dpd\")");
        profile.dpd_interval = d->value;
    }
    if (const auto v = r.integer("dpd-maximum-failures", 1, 1000))
        profile.dpd_maximum_failures = static_cast<std::uint32_t>(v->value);
    if (const auto v = r.boolean("nat-traversal"))
        profile.nat_traversal = v->value;
    return profile;
}

Proposal read_proposal(const Source& source, const Section& s)
{
    const TableReader r(source, *s.table, "proposal." + s.name,
                        {"enc-algorithms", "auth-algorithms", "pfs-group", "lifetime", "lifetime-bytes"});
    Proposal proposal;
    proposal.name = s.name;
    if (const auto v = r.choices("enc-algorithms", detail::esp_cipher_names)) {
        proposal.enc_algorithms.clear();
        for (const auto& item : v->items)
            proposal.enc_algorithms.push_back(detail::to_esp_cipher(item.value));
    }
    if (const auto v = r.choices("auth-algorithms", detail::esp_integrity_names)) {
        proposal.auth_algorithms.clear();
        for (const auto& item : v->items)
            proposal.auth_algorithms.push_back(detail::to_esp_integrity(item.value));
    }
    std::array<std::string_view, dh_group_names.size() + 1> pfs_names{};
    std::ranges::copy(dh_group_names, pfs_names.begin());
    pfs_names.back() = "none";
    if (const auto v = r.choices("pfs-group", pfs_names)) {
        proposal.pfs_groups.clear();
        if (v->items.size() > 1)
            for (const auto& item : v->items)
                if (item.value == "none")
                    r.fail(*item.node, "'none' in 'pfs-group' must stand alone");
        for (const auto& item : v->items)
            proposal.pfs_groups.push_back(item.value);
    }
    if (const auto v = r.duration("lifetime"))
        proposal.lifetime = v->value;
    if (const auto v = r.byte_count("lifetime-bytes"))
        proposal.lifetime_bytes = v->value;
    return proposal;
}

// toml++ may quote a piece of the text near a syntax error. On a line that
// holds a secret, drop anything quoted from the message.
std::string syntax_message(const toml::parse_error& e, std::string_view text)
{
    std::string message(e.description());
    std::size_t line_start = 0;
    for (std::uint32_t line = 1; line < e.source().begin.line && line_start != std::string_view::npos; ++line) {
        line_start = text.find('\n', line_start);
        if (line_start != std::string_view::npos)
            ++line_start;
    }
    if (line_start == std::string_view::npos)
        return message;
    const std::string_view line = text.substr(line_start, text.find('\n', line_start) - line_start);
    const auto equals = line.find('=');
    if (equals == std::string_view::npos)
        return message;
    std::string_view key = line.substr(0, equals);
    key.remove_prefix(std::min(key.find_first_not_of(" \t"), key.size()));
    key.remove_suffix(key.size() - std::min(key.find_last_not_of(" \t") + 1, key.size()));
    std::string_view value = line.substr(equals + 1);
    value = value.substr(0, value.find('#'));
    value.remove_prefix(std::min(value.find_first_not_of(" \t"), value.size()));
    value.remove_suffix(value.size() - std::min(value.find_last_not_of(" \t\r") + 1, value.size()));
    if (is_routeros_boolean(value))
        return message + " (yes/no: write true/false)";
    constexpr std::array<std::string_view, 5> secret_keys{"secret", "key-in", "key-out", "auth-key-in", "auth-key-out"};
    // A quoted key is an identity of [peer.NAME.secrets], its value a key.
    const bool quoted = !key.empty() && (key.front() == '"' || key.front() == '\'');
    if (!quoted && std::ranges::find(secret_keys, key) == secret_keys.end())
        return message;
    const auto quote = message.find('\'');
    return quote == std::string::npos ? message : message.substr(0, quote) + "(hidden: the line holds a secret)";
}

// The first secret the document holds itself (not through a file): a
// peer's secret, a static SA's keys.
const toml::node* first_secret(const toml::table& document)
{
    std::vector<const toml::node*> found;
    const auto look = [&](const toml::node* tables, std::initializer_list<std::string_view> path,
                          std::initializer_list<std::string_view> keys) {
        if (tables == nullptr || !tables->is_table())
            return;
        for (const auto& [name, section] : *tables->as_table()) {
            const toml::node* at = &section;
            for (const auto step : path)
                at = at != nullptr && at->is_table() ? at->as_table()->get(step) : nullptr;
            if (at == nullptr || !at->is_table())
                continue;
            for (const auto key : keys)
                if (const toml::node* n = at->as_table()->get(key))
                    found.push_back(n);
        }
    };
    look(document.get("peer"), {}, {"secret", "secrets"});
    look(document.get("tunnel"), {"static-sa"}, {"key-in", "key-out", "auth-key-in", "auth-key-out"});
    const auto position = [](const toml::node* n) {
        return std::tie(n->source().begin.line, n->source().begin.column);
    };
    const auto first = std::ranges::min_element(found, {}, position);
    return first == found.end() ? nullptr : *first;
}

Config parse_text(std::string_view text, const std::string& file_name,
                  std::optional<std::filesystem::perms> file_perms)
{
    const Source source{file_name, std::filesystem::path(file_name).parent_path()};
    toml::table document;
    try {
        document = toml::parse(text, std::string_view(file_name));
    } catch (const toml::parse_error& e) {
        source.fail(e.source(), syntax_message(e, text));
    }

    Config config;
    config.path = file_name;
    const TableReader root(source, document, "", {"site", "profile", "proposal", "mode-config", "peer", "tunnel"});
    config.site = read_site(root);

    for (const auto& s : sections(root, "profile"))
        config.profiles.emplace(s.name, read_profile(source, s));
    for (const auto& s : sections(root, "proposal"))
        config.proposals.emplace(s.name, read_proposal(source, s));
    if (!config.profiles.contains("default"))
        config.profiles["default"].name = "default";
    if (!config.proposals.contains("default"))
        config.proposals["default"].name = "default";
    for (const auto& s : sections(root, "mode-config"))
        config.mode_configs.emplace(s.name, detail::read_mode_config(source, s, config.mode_configs));

    std::vector<detail::PeerChecks> peer_checks;
    for (const auto& s : sections(root, "peer")) {
        auto read = detail::read_peer(source, s, config);
        peer_checks.push_back(std::move(read.checks));
        config.peers.emplace(s.name, std::move(read.peer));
        std::ranges::move(read.warnings, std::back_inserter(config.warnings));
    }
    detail::TunnelClaims claims;
    for (const auto& s : sections(root, "tunnel"))
        config.tunnels.emplace(s.name, detail::read_tunnel(source, s, config, claims));
    for (const auto& checks : peer_checks)
        detail::check_peer_credentials(source, checks, config);
    detail::check_peer_usage(source, peer_checks, config);

    if (const toml::node* secret = file_perms ? first_secret(document) : nullptr)
        if (const auto problem = detail::exposure(file_name, *file_perms))
            config.warnings.push_back(source.warning(*secret, file_name + " holds a secret and is " + *problem));
    return config;
}

} // namespace

bool enabled(const Config& config, const Tunnel& tunnel)
{
    const auto peer = config.peers.find(tunnel.peer);
    return !tunnel.disabled && (peer == config.peers.end() || !peer->second.disabled);
}

std::uint64_t instance_capacity(const Tunnel& tunnel)
{
    constexpr std::uint64_t cap = 1U << 20;   // net/address_pool.hpp's max_blocks
    if (!tunnel.is_template)
        return 1;
    if (!tunnel.address_pool)
        return 1U << 16;
    const unsigned bits = tunnel.branch_prefix_length - tunnel.address_pool->length();
    return bits >= 20 ? cap : std::uint64_t{1} << bits;
}

Config parse(std::string_view text, const std::string& file_name)
{
    return parse_text(text, file_name, std::nullopt);
}

Config load(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ConfigError(path.string(), 0, 0, std::string("cannot open: ") + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
        throw ConfigError(path.string(), 0, 0, "cannot read");
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    return parse_text(text.str(), path.string(),
                      ec ? std::nullopt : std::optional<std::filesystem::perms>(status.permissions()));
}

} // namespace mesh::config
