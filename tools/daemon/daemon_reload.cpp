// Reload (`mesh-site reload`, SIGHUP; docs/configuration.md, "Reload
// procedure"): the daemon's file read and checked again as check-config
// does, then only the difference (config::diff) applied, in this order:
//
//   1. IKE: the peers removed or changed deleted at the peer (their
//      CHILD SAs off the data plane), the others moved onto the new
//      configuration with their SAs as they are
//   2. the tunnels removed or changed beyond their routes closed: TUN,
//      routes and leak-guard blackholes
//   3. the new configuration swapped in; the tunnels that stay point at it
//   4. new routes and distances of the tunnels that stay
//   5. the closed TUNs deleted at once, the tunnels added opened, down until IKE brings up their CHILD SA
//   6. one route update to the sink for all of it: zebra and the kernel see
//      only what changed, the untouched tunnels' routes are never withdrawn

#include "tools/daemon/daemon.hpp"

#include "tools/daemon/ike_policy.hpp"
#include "tools/log/log.hpp"

#include <fmt/ranges.h>

#include <algorithm>

namespace mesh::daemon {

nlohmann::json Daemon::reload(const std::string& trigger)
{
    const auto start = std::chrono::steady_clock::now();
    const std::filesystem::path path = config_.path;   // a copy: config_ is replaced below
    config::Config fresh;
    try {
        fresh = config::load(path);
        [[maybe_unused]] const auto peers = ike_peers(fresh, [](const config::Peer&) { return net::IpAddress{}; });
    } catch (const std::exception& error) {
        log::config()->error("{}: {} refused, the running configuration stays: {}", trigger, path.string(),
                             error.what());
        return {{"error", error.what()}};
    }
    for (const auto& warning : fresh.warnings)
        log::config()->warn("{}", warning);
    const auto change = config::diff(config_, fresh);
    std::string refusal;
    if (!change.restart_needed.empty())
        refusal = fmt::format("{}: only a restart applies {}; the running configuration stays",
                              path.string(), fmt::join(change.restart_needed, ", "));
    else if (!ike_socket_ && std::ranges::any_of(fresh.tunnels, [](const auto& t) { return !t.second.static_sa; }))
        refusal = fmt::format("{}: the first tunnel with IKE needs a restart (the IKE port {} is bound at start); the "
                              "running configuration stays",
                              path.string(), config_.site.ike_port);
    if (!refusal.empty()) {
        log::config()->error("{}: {}", trigger, refusal);
        return {{"error", refusal}};
    }
    const auto summary = change.summary();
    const auto failed = apply_reload(change, std::move(fresh));
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    log::config()->info("{}: reloaded {}: {} ({} ms)", trigger, path.string(), summary, took.count());
    const auto list = [](const std::set<std::string>& names) { return nlohmann::json(names); };
    return {{"reloaded", path.string()},
            {"changes", summary},
            {"took-ms", took.count()},
            {"tunnels-added", list(change.tunnels_added)},
            {"tunnels-removed", list(change.tunnels_removed)},
            {"tunnels-rerouted", list(change.tunnels_rerouted)},
            {"peers-added", list(change.peers_added)},
            {"peers-removed", list(change.peers_removed)},
            {"peers-re-established", list(change.peers_changed)},
            {"failed", failed}};
}

std::vector<std::string> Daemon::apply_reload(const config::ConfigDiff& change, config::Config fresh)
{
    std::vector<std::string> failed;
    starting_tunnels_ = true;   // one route update at the end
    if (ike_)
        ike_->reconfigure(ike_peers(fresh, [this](const config::Peer& peer) { return kernel_source(peer); }),
                          change.peers_changed, std::chrono::steady_clock::now());

    for (auto it = tunnels_.begin(); it != tunnels_.end();) {
        Tunnel& tunnel = *it++;
        if (!change.tunnels_removed.contains(tunnel.config->name))
            continue;
        log::esp()->info("tunnel {}: removed from the configuration (or changed, disabled)", tunnel.name);
        close_tunnel(tunnel);
    }
    for (const auto& name : change.tunnels_removed)
        templates_.erase(name);

    std::vector<std::string> names;
    for (const auto& tunnel : tunnels_)
        names.push_back(tunnel.config->name);
    const bool log_changed = fresh.site.log_levels != config_.site.log_levels;
    config_ = std::move(fresh);
    if (log_changed) {
        log::apply(config_.site.log_levels);
        log::config()->info("[site] log applied: {}", log::format_log_spec(config_.site.log_levels));
    }
    // Its entries pointed into the configuration just replaced: every named peer is looked up again.
    if (peer_names_)
        start_peer_names();
    auto name = names.begin();
    for (auto& tunnel : tunnels_)
        tunnel.config = &config_.tunnels.at(*name++);
    for (auto& [pool_name, pool] : lease_pools_)
        pool.config = &config_.mode_configs.at(pool_name);

    for (auto& tunnel : tunnels_) {
        if (!change.tunnels_rerouted.contains(tunnel.config->name))
            continue;
        // An instance in mode ip routes the networks its branch negotiated, not the template's.
        if (!tunnel.branch)
            tunnel.routes = routed_prefixes(*tunnel.config);
        update_routes(tunnel);
    }

    // A tunnel made again takes its interface's name back: the old TUN must be gone first.
    if (!change.tunnels_removed.empty())
        reap_tuns();
    for (const auto& added : change.tunnels_added) {
        const config::Tunnel& config = config_.tunnels.at(added);
        try {
            if (config.is_template)
                templates_.emplace(added, template_pool(config));
            else
                start_tunnel(config, next_tunnel_id_++);
        } catch (const std::exception& error) {
            failed.push_back(fmt::format("tunnel {}: cannot open it: {}", added, error.what()));
            log::esp()->error("{}", failed.back());
        }
    }
    starting_tunnels_ = false;
    route_sink_->apply(routes_.selected());
    if (!ike_ && ike_socket_)
        start_ike();
    return failed;
}

nlohmann::json Daemon::disabled_tunnels() const
{
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [name, tunnel] : config_.tunnels)
        if (!config::enabled(config_, tunnel))
            out.push_back({{"name", name},
                           {"peer", tunnel.peer},
                           {"by", tunnel.disabled ? "tunnel" : "peer"}});
    return out;
}

} // namespace mesh::daemon
