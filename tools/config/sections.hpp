#pragma once
// The readers of [peer.NAME] (peer_section.cpp, peer_credentials.cpp) and
// [tunnel.NAME] (tunnel_section.cpp), and the checks of the peers against
// their tunnels (peer_usage.cpp), called by parse() in config.cpp in its order.

#include "tools/config/config_reader.hpp"

#include <cstdint>
#include <map>
#include <span>
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
    std::vector<std::string> warnings;
};

// Reads and checks one [mode-config.NAME]; `earlier` are those read before,
// whose pools its own may not overlap.
[[nodiscard]] ModeConfig read_mode_config(const Source& source, const Section& s,
                                          const std::map<std::string, ModeConfig>& earlier);

// Reads and checks one peer; its profile must be in config already.
[[nodiscard]] PeerRead read_peer(const Source& source, const Section& s, const Config& config);

// digital-signature: loads the certificate, private key, CA and CRL given,
// with the loaders IKE uses (ike/certificates.hpp), into read.peer; fails at
// the key naming a file that does not load, or a private key that group or
// others may read; warns when our certificate does not verify against the CA
// or the CRL is out of date.
void load_peer_credentials(const TableReader& r, PeerRead& read);

// Once the tunnels are read: a peer with a tunnel keyed by IKE, or with no
// tunnel at all, needs what IKE authenticates with.
void check_peer_credentials(const Source& source, const PeerChecks& checks, const Config& config);

// Once the tunnels are read: a peer with no tunnel, which the daemon ignores,
// is a warning; two peers of one address that IKE cannot tell apart by
// remote-id are an error.
void check_peer_usage(const Source& source, std::span<const PeerChecks> checks, Config& config);

// What must be unique across the tunnels of a site, and who took it first.
struct TunnelClaims {
    std::map<std::string, std::string> interfaces;
    std::map<std::string, std::string> instance_prefixes;   // a template's interface prefix, its tunnel
    std::map<std::uint32_t, std::string> spis_in;
};

// Reads and checks one tunnel; its peer and proposal must be in config already.
[[nodiscard]] Tunnel read_tunnel(const Source& source, const Section& s, const Config& config, TunnelClaims& claims);

} // namespace mesh::config::detail
