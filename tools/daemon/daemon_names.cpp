// The daemon's side of peers named by DNS (tools/daemon/peer_names.hpp):
// IKE asks for a lookup before it initiates, and every answer goes to IKE,
// which matches datagrams and initiates with it, and to the peer's tunnels
// that are down, whose ESP will go there.

#include "tools/daemon/daemon.hpp"

#include "tunnel/mtu.hpp"

namespace mesh::daemon {

void Daemon::resolve_peer(const std::string& peer)
{
    if (peer_names_)
        peer_names_->resolve(peer);
}

void Daemon::start_peer_names()
{
    peer_names_ = std::make_unique<PeerNames>(
        io_, config_, [this](const config::Peer& peer, const net::IpAddress& address) { peer_resolved(peer, address); });
    peer_names_->start();
}

void Daemon::peer_resolved(const config::Peer& peer, const net::IpAddress& address)
{
    const auto path = tunnel::probe_path({address, config_.site.ike_port});
    const net::IpAddress local =
        peer.local_address.value_or(path ? path->local : config_.site.listen.value_or(net::IpAddress{}));
    if (ike_)
        ike_->set_peer_address(peer.name, address, local, std::chrono::steady_clock::now());
    for (auto& tunnel : tunnels_) {
        if (tunnel.config->peer != peer.name || tunnel.up)
            continue;
        tunnel.peer.address = address;
        if (!config_.site.listen || config_.site.listen->is_unspecified())
            tunnel.local = local;
    }
}

} // namespace mesh::daemon
