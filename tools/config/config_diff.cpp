#include "tools/config/config_diff.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <tuple>

namespace mesh::config {

namespace {

template <class T>
std::string shown(const std::optional<T>& value)
{
    return value ? value->to_string() : "unset";
}

// The [site] keys the daemon binds or sizes at start: sockets, threads, the route sink.
void compare_site(const Site& a, const Site& b, std::vector<std::string>& out)
{
    const auto changed = [&](const char* key, const std::string& from, const std::string& to) {
        if (from != to)
            out.push_back(fmt::format("[site] {}: {} -> {}", key, from, to));
    };
    changed("name", a.name, b.name);
    changed("listen", shown(a.listen), shown(b.listen));
    changed("ike-port", std::to_string(a.ike_port), std::to_string(b.ike_port));
    changed("natt-port", std::to_string(a.natt_port), std::to_string(b.natt_port));
    changed("control-socket", a.control_socket.string(), b.control_socket.string());
    changed("zebra-socket", a.zebra_socket ? a.zebra_socket->string() : "unset",
            b.zebra_socket ? b.zebra_socket->string() : "unset");
    changed("link-down", a.link_down == LinkDown::admin ? "admin" : "carrier",
            b.link_down == LinkDown::admin ? "admin" : "carrier");
    changed("nat-keepalive", std::to_string(a.nat_keepalive.count()) + "ms",
            std::to_string(b.nat_keepalive.count()) + "ms");
    changed("workers", a.workers ? std::to_string(*a.workers) : "auto", b.workers ? std::to_string(*b.workers) : "auto");
    changed("worker-priority", std::string(tunnel::to_string(a.worker_priority)),
            std::string(tunnel::to_string(b.worker_priority)));
    changed("ike-cookie-threshold", std::to_string(a.ike_cookie_threshold), std::to_string(b.ike_cookie_threshold));
    changed("ike-max-half-open", std::to_string(a.ike_max_half_open), std::to_string(b.ike_max_half_open));
    changed("metrics-listen", shown(a.metrics_listen), shown(b.metrics_listen));
    // [site] log is the one key a reload applies (Daemon::apply_reload).
    Site a_rest = a;
    Site b_rest = b;
    a_rest.log_levels.clear();
    b_rest.log_levels.clear();
    if (out.empty() && !(a_rest == b_rest))
        out.push_back("[site]: a setting changed");
}

// Whether the peer negotiates IKE: what ike_peers (tools/daemon/ike_policy.cpp) keeps.
bool in_ike(const Config& config, const std::string& peer)
{
    for (const auto& [name, tunnel] : config.tunnels)
        if (tunnel.peer == peer && !tunnel.static_sa && enabled(config, tunnel))
            return true;
    return false;
}

// What IKE negotiates for one of the peer's tunnels (ike::ChildConfig).
auto child_settings(const Config& config, const Tunnel& tunnel)
{
    return std::tie(tunnel.name, tunnel.mode, config.proposals.at(tunnel.proposal), tunnel.local_subnets,
                    tunnel.remote_subnets);
}

bool same_children(const Config& a, const Config& b, const std::string& peer)
{
    std::vector<const Tunnel*> ours, theirs;
    for (const auto* config : {&a, &b})
        for (const auto& [name, tunnel] : config->tunnels)
            if (tunnel.peer == peer && !tunnel.static_sa && enabled(*config, tunnel))
                (config == &a ? ours : theirs).push_back(&tunnel);
    if (ours.size() != theirs.size())
        return false;
    for (std::size_t i = 0; i < ours.size(); ++i)
        if (child_settings(a, *ours[i]) != child_settings(b, *theirs[i]))
            return false;
    return true;
}

// Everything of [peer.NAME] IKE uses. Certificates compare by their paths:
// a file renewed in place is read at the next restart.
bool same_peer(const Config& a, const Config& b, const std::string& name)
{
    const Peer& x = a.peers.at(name);
    const Peer& y = b.peers.at(name);
    const auto settings = [](const Config& c, const Peer& p) {
        return std::tie(p.address, p.local_address, p.passive, c.profiles.at(p.profile), p.auth_method, p.secret,
                        p.certificate, p.private_key, p.ca, p.crl, p.my_id, p.remote_id, p.encapsulation, p.secrets,
                        p.mode_config);
    };
    return settings(a, x) == settings(b, y) && same_children(a, b, name);
}

// Everything of a tunnel but what only its routes depend on (and disabled, which enabled() says).
bool same_tunnel(Tunnel a, Tunnel b)
{
    for (Tunnel* t : {&a, &b}) {
        t->routes.clear();
        t->route_distance = 0;
        t->disabled = false;
    }
    return a == b;
}

std::string listed(std::string_view what, const std::set<std::string>& names)
{
    return names.empty() ? std::string{} : fmt::format("{} {} ({})", names.size(), what, fmt::join(names, ", "));
}

} // namespace

ConfigDiff diff(const Config& running, const Config& fresh)
{
    ConfigDiff out;
    compare_site(running.site, fresh.site, out.restart_needed);
    if (running.mode_configs != fresh.mode_configs)
        out.restart_needed.push_back("[mode-config]: the address pools changed");

    for (const auto& [name, tunnel] : running.tunnels) {
        if (!enabled(running, tunnel))
            continue;
        const auto other = fresh.tunnels.find(name);
        if (other == fresh.tunnels.end() || !enabled(fresh, other->second)) {
            out.tunnels_removed.insert(name);
        } else if (!same_tunnel(tunnel, other->second)) {
            out.tunnels_removed.insert(name);
            out.tunnels_added.insert(name);
        } else if (tunnel.routes != other->second.routes || tunnel.route_distance != other->second.route_distance) {
            out.tunnels_rerouted.insert(name);
        }
    }
    for (const auto& [name, tunnel] : fresh.tunnels)
        if (enabled(fresh, tunnel) && !out.tunnels_added.contains(name) &&
            (!running.tunnels.contains(name) || !enabled(running, running.tunnels.at(name))))
            out.tunnels_added.insert(name);

    for (const auto& [name, peer] : running.peers) {
        if (!in_ike(running, name))
            continue;
        if (!fresh.peers.contains(name) || !in_ike(fresh, name))
            out.peers_removed.insert(name);
        else if (!same_peer(running, fresh, name))
            out.peers_changed.insert(name);
    }
    for (const auto& [name, peer] : fresh.peers)
        if (in_ike(fresh, name) && (!running.peers.contains(name) || !in_ike(running, name)))
            out.peers_added.insert(name);
    // A tunnel made again gets a new TUN: its peer's CHILD SA is negotiated again onto it.
    for (const auto& name : out.tunnels_removed) {
        const Tunnel& tunnel = running.tunnels.at(name);
        if (out.tunnels_added.contains(name) && !tunnel.static_sa && in_ike(fresh, tunnel.peer) &&
            !out.peers_removed.contains(tunnel.peer) && !out.peers_added.contains(tunnel.peer))
            out.peers_changed.insert(tunnel.peer);
    }
    return out;
}

std::string ConfigDiff::summary() const
{
    std::vector<std::string> parts;
    for (const auto& part : {listed("tunnel(s) added", tunnels_added), listed("tunnel(s) removed", tunnels_removed),
                             listed("tunnel(s) with new routes", tunnels_rerouted),
                             listed("peer(s) added", peers_added), listed("peer(s) removed", peers_removed),
                             listed("peer(s) re-established", peers_changed)})
        if (!part.empty())
            parts.push_back(part);
    return parts.empty() ? "no change" : fmt::format("{}", fmt::join(parts, "; "));
}

} // namespace mesh::config
