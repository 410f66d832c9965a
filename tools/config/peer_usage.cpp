// The peers against their tunnels: a peer no tunnel names does nothing (the
// daemon builds IKE peers from tunnels, tools/daemon/ike_policy.cpp), and IKE
// finds the peer of an IKE_AUTH by its address and then its remote-id, the
// most specific address first and a peer with a remote-id before one with
// "auto" (docs/configuration.md, "Peers").

#include "tools/config/sections.hpp"

#include "ike/identity.hpp"

#include <algorithm>
#include <cctype>

namespace mesh::config::detail {
namespace {

bool takes_part_in_ike(const Config& config, const std::string& peer)
{
    return std::ranges::any_of(config.tunnels, [&](const auto& entry) {
        return entry.second.peer == peer && !entry.second.static_sa;
    });
}

bool has_tunnel(const Config& config, const std::string& peer)
{
    return std::ranges::any_of(config.tunnels, [&](const auto& entry) { return entry.second.peer == peer; });
}

// Whether IKE, having found both by address, can tell them apart.
bool distinguishable(const Peer& a, const Peer& b)
{
    if (a.remote_id == "auto" || b.remote_id == "auto")
        return a.remote_id != b.remote_id;
    return ike::parse_identity(a.remote_id) != ike::parse_identity(b.remote_id);
}

// Where IKE looks for the peer: its DNS name (case does not matter), else its address.
std::string whereabouts(const Peer& peer)
{
    if (!peer.host_name)
        return peer.address.to_string();
    std::string name = *peer.host_name;
    if (name.ends_with('.'))
        name.pop_back();
    std::ranges::transform(name, name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return name;
}

const toml::node& key_or_header(const PeerChecks& checks, std::string_view key)
{
    const toml::node* n = checks.table->get(key);
    return n != nullptr ? *n : *checks.table;
}

} // namespace

void check_peer_usage(const Source& source, std::span<const PeerChecks> checks, Config& config)
{
    for (auto later = checks.begin(); later != checks.end(); ++later) {
        const Peer& peer = config.peers.at(later->name);
        if (!has_tunnel(config, peer.name)) {
            config.warnings.push_back(source.warning(
                *later->table, "[peer." + peer.name + "] has no tunnel, so the daemon ignores it: add a " +
                                   "[tunnel.NAME] with peer = \"" + peer.name + "\", or remove the peer"));
            continue;
        }
        if (!takes_part_in_ike(config, peer.name))
            continue;
        if (peer.is_template() && peer.auth_method == AuthMethod::pre_shared_key && !peer.secret.empty())
            config.warnings.push_back(source.warning(
                key_or_header(*later, later->table->contains("secret") ? "secret" : "secret-file"),
                "one pre-shared key for every branch of the template peer [peer." + peer.name +
                    "] lets any branch that knows it pose as any other: give each its own in [peer." + peer.name +
                    ".secrets] or 'secrets-file'"));
        for (auto earlier = checks.begin(); earlier != later; ++earlier) {
            const Peer& other = config.peers.at(earlier->name);
            if (whereabouts(other) != whereabouts(peer) || !takes_part_in_ike(config, other.name) ||
                distinguishable(peer, other))
                continue;
            const std::string both = "[peer." + other.name + "] and [peer." + peer.name + "] both have the address " +
                                     whereabouts(peer);
            if (peer.remote_id == "auto")
                source.fail(key_or_header(*later, "address"),
                            both + " and no remote-id, so IKE cannot tell them apart: set remote-id (such as "
                                   "\"fqdn:" + peer.name + ".example.com\") in one of them, or in both");
            source.fail(key_or_header(*later, "remote-id"),
                        both + " and the same remote-id, so IKE cannot tell them apart: give each its own remote-id");
        }
    }
}

} // namespace mesh::config::detail
