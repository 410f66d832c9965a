#pragma once
// The readers of [peer.NAME] (peer_section.cpp) and [tunnel.NAME]
// (tunnel_section.cpp), called by parse() in config.cpp in its order.

#include "tools/config/config_reader.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mesh::config::detail {

// One [kind.NAME] table.
struct Section {
    std::string name;
    const toml::table* table;
};

// What check_peer_credentials needs to know of a peer, and where to point.
struct PeerChecks {
    std::string name;
    const toml::table* table;
    std::vector<std::string> missing_certificates;  // digital-signature keys not given
};

struct PeerRead {
    Peer peer;
    PeerChecks checks;
};

// Reads and checks one peer; its profile must be in config already.
[[nodiscard]] PeerRead read_peer(const Source& source, const Section& s, const Config& config);

// Once the tunnels are read: a peer with a tunnel keyed by IKE, or with no
// tunnel at all, needs what IKE authenticates with.
void check_peer_credentials(const Source& source, const PeerChecks& checks, const Config& config);

// What must be unique across the tunnels of a site, and who took it first.
struct TunnelClaims {
    std::map<std::string, std::string> interfaces;
    std::map<std::uint32_t, std::string> spis_in;
};

// Reads and checks one tunnel; its peer and proposal must be in config already.
[[nodiscard]] Tunnel read_tunnel(const Source& source, const Section& s, const Config& config, TunnelClaims& claims);

} // namespace mesh::config::detail
