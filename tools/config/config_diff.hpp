#pragma once
// What a reload changes (`mesh-site reload`, SIGHUP; docs/configuration.md,
// "Reload procedure"): the running configuration against the file read
// again, as sets of names the daemon acts on. Pure: no I/O, no daemon.
//
//   [site] or [mode-config] changed   -> restart_needed: the reload is refused
//   tunnel added, enabled             -> tunnels_added
//   tunnel removed, disabled          -> tunnels_removed
//   tunnel changed beyond its routes  -> both: its TUN made again, its peer re-established
//   only routes or route-distance     -> tunnels_rerouted
//   peer's IKE settings changed       -> peers_changed: its IKE SA deleted and initiated again
//   (address, credentials, identities, profile, its tunnels' proposals or selectors)

#include "tools/config/config.hpp"

#include <set>
#include <string>
#include <vector>

namespace mesh::config {

struct ConfigDiff {
    // One line per setting only a restart applies ("[site] listen: ..."); any refuses the reload.
    std::vector<std::string> restart_needed;
    // Peers taking part in IKE (ike_peers: enabled, with a tunnel that has no static-sa).
    std::set<std::string> peers_added;
    std::set<std::string> peers_removed;
    std::set<std::string> peers_changed;
    // Enabled tunnels (config::enabled), templates included.
    std::set<std::string> tunnels_added;
    std::set<std::string> tunnels_removed;
    std::set<std::string> tunnels_rerouted;

    [[nodiscard]] bool empty() const noexcept
    {
        return restart_needed.empty() && peers_added.empty() && peers_removed.empty() && peers_changed.empty() &&
               tunnels_added.empty() && tunnels_removed.empty() && tunnels_rerouted.empty();
    }
    // "2 tunnel(s) added (c, d), 1 removed (b), ..." for the log and the CLI; "no change" when empty.
    [[nodiscard]] std::string summary() const;
};

[[nodiscard]] ConfigDiff diff(const Config& running, const Config& fresh);

} // namespace mesh::config
