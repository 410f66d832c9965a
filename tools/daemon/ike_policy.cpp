#include "tools/daemon/ike_policy.hpp"

#include "ike/certificates.hpp"
#include "ike/identity.hpp"
#include "tools/daemon/branch_block.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace mesh::daemon {

namespace {
// The configuration loader has checked every name, so a miss here is a bug.
template <class T>
T known(std::optional<T> value, const std::string& name)
{
    if (!value)
        throw std::logic_error("unchecked algorithm name '" + name + "' reached IKE");
    return *value;
}

ike::IkePolicy ike_policy(const config::Profile& profile)
{
    ike::IkePolicy policy;
    for (const auto& name : profile.enc_algorithms)
        policy.ciphers.push_back(known(ike::parse_ike_cipher(name), name));
    for (const auto& name : profile.hash_algorithms)
        policy.prfs.push_back(known(ike::parse_prf(name), name));
    for (const auto& name : profile.dh_groups)
        policy.dh_groups.push_back(known(ike::parse_dh_group(name), name));
    policy.lifetime = std::chrono::duration_cast<std::chrono::seconds>(profile.lifetime);
    policy.dpd_interval = profile.dpd_interval;
    policy.dpd_maximum_failures = profile.dpd_maximum_failures;
    policy.nat_traversal = profile.nat_traversal;
    return policy;
}

ike::ChildPolicy child_policy(const config::Proposal& proposal)
{
    ike::ChildPolicy policy;
    policy.ciphers = proposal.enc_algorithms;
    policy.integrities = proposal.auth_algorithms;
    for (const auto& name : proposal.pfs_groups)
        if (name != "none")
            policy.pfs_groups.push_back(known(ike::parse_dh_group(name), name));
    policy.lifetime = std::chrono::duration_cast<std::chrono::seconds>(proposal.lifetime);
    policy.lifetime_bytes = proposal.lifetime_bytes;
    return policy;
}

// The families of the traffic the peer's tunnel carries (its remote-subnets
// and routes): a branch asks an address of each, IPv4 when none says.
ike::AddressFamilies request_families(const config::Config& config, const std::string& peer)
{
    ike::AddressFamilies families;
    for (const auto& [name, tunnel] : config.tunnels) {
        if (tunnel.peer != peer)
            continue;
        for (const auto* prefixes : {&tunnel.remote_subnets, &tunnel.routes})
            for (const auto& p : *prefixes)
                (p.address().is_v4() ? families.ip4 : families.ip6) = true;
    }
    if (!families.any())
        families.ip4 = true;
    return families;
}

ike::Identity identity(const std::string& text)
{
    auto parsed = ike::parse_identity(text);
    if (!parsed)
        throw std::logic_error("unchecked identity '" + text + "' reached IKE: " + parsed.error());
    return *parsed;
}
} // namespace

std::vector<ike::PeerConfig> ike_peers(const config::Config& config,
                                       const std::function<net::IpAddress(const config::Peer&)>& local_address_for)
{
    std::vector<ike::PeerConfig> peers;
    for (const auto& [name, peer] : config.peers) {
        ike::PeerConfig out;
        for (const auto& [tunnel_name, tunnel] : config.tunnels) {
            if (tunnel.peer != name || tunnel.static_sa || !config::enabled(config, tunnel))
                continue;
            ike::ChildConfig child;
            child.name = tunnel_name;
            child.mode = tunnel.mode == config::TunnelMode::gre ? ike::ChildMode::transport_gre
                                                                : ike::ChildMode::tunnel_ip;
            child.policy = child_policy(config.proposals.at(tunnel.proposal));
            child.local_subnets = tunnel.local_subnets;
            child.remote_subnets = tunnel.remote_subnets;
            out.children.push_back(std::move(child));
        }
        if (out.children.empty())
            continue;
        out.name = name;
        out.address = peer.address;
        out.local_address = peer.local_address;
        // A named peer's is found when its name resolves (tools/daemon/peer_names.hpp).
        out.resolve_first = peer.host_name.has_value();
        if (!out.local_address && !peer.passive && !out.resolve_first)
            out.local_address = local_address_for(peer);
        out.passive = peer.passive;
        out.ike = ike_policy(config.profiles.at(peer.profile));
        out.psk = peer.secret;
        if (peer.auth_method == config::AuthMethod::digital_signature) {
            // Loaded and checked with the configuration (tools/config/peer_credentials.cpp).
            if (!peer.credentials || !peer.trust)
                throw std::logic_error("peer '" + name + "': certificates not loaded with the configuration");
            out.auth = ike::PeerAuth::digital_signature;
            out.credentials = peer.credentials;
            out.trust = peer.trust;
        }
        if (peer.my_id)
            out.my_id = identity(*peer.my_id);
        if (peer.remote_id != "auto")
            out.remote_id = identity(peer.remote_id);
        out.per_branch = peer.is_template();
        for (const auto& [id, secret] : peer.secrets)
            out.branch_secrets.push_back({identity(id), secret});
        out.always_encapsulate = peer.encapsulation == config::Encapsulation::udp;
        if (peer.mode_config == config::mode_config_request) {
            out.mode_config = ike::ModeConfigRole::request;
            out.request_families = request_families(config, name);
        } else if (!peer.mode_config.empty() || pooled_template(config, name) != nullptr) {
            out.mode_config = ike::ModeConfigRole::serve;
        }
        peers.push_back(std::move(out));
    }
    // The engine takes the first peer whose address (then remote-id) fits:
    // a hub's host peers before its catch-all range, and within one address
    // a peer with a remote-id before one with a remote-id pattern before one
    // that takes any ("auto").
    const auto rank = [](const ike::PeerConfig& p) {
        return std::tuple(p.address.length(), p.remote_id && !ike::is_pattern(*p.remote_id), p.remote_id.has_value());
    };
    std::ranges::stable_sort(peers, [&](const ike::PeerConfig& a, const ike::PeerConfig& b) { return rank(a) > rank(b); });
    return peers;
}

} // namespace mesh::daemon
