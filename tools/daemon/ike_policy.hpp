#pragma once
// The configuration's peers, profiles, proposals and tunnels in the terms
// IKE works with (ike/policy.hpp). Only peers with at least one enabled tunnel
// (config::enabled) that has no static-sa take part in IKE; they come most specific address first.

#include "ike/policy.hpp"
#include "tools/config/config.hpp"

#include <functional>
#include <vector>

namespace mesh::daemon {

// local_address_for(peer) gives the address the kernel would send from.
[[nodiscard]] std::vector<ike::PeerConfig> ike_peers(
    const config::Config& config, const std::function<net::IpAddress(const config::Peer&)>& local_address_for);

} // namespace mesh::daemon
