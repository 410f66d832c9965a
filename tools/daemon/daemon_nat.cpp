// The daemon's side of NAT traversal over time:
//   - behind a NAT, a one-byte 0xFF keepalive to each peer every
//     nat-keepalive (RFC 3948 section 2.3), so that the NAT keeps the
//     mapping ESP and IKE use even while the tunnel is idle;
//   - a peer whose NAT gave it a new address or port (RFC 7296 section
//     2.23) is followed: the data plane reports authenticated ESP from a new
//     place, IKE reports an authenticated request from one, and both move
//     the tunnel's ESP there.

#include "tools/daemon/daemon.hpp"

#include "net/log_context.hpp"
#include "tools/log/log.hpp"

#include <sys/socket.h>

namespace mesh::daemon {

void Daemon::move_tunnel(Tunnel& tunnel, const net::Endpoint& remote)
{
    if (tunnel.peer == remote)
        return;
    const auto scope = net::LogScope::tunnel(tunnel.config->name, tunnel.config->peer);
    log::esp()->info("tunnel {}: peer moved from {} to {}: ESP follows", tunnel.name, tunnel.peer.to_string(),
                     remote.to_string());
    table_.set_peer(tunnel.id, remote, socket_->fd());
    tunnel.peer = remote;
}

void Daemon::follow_peer(tunnel::TunnelId id, std::uint32_t inbound_spi, const net::Endpoint& from)
{
    const auto it = std::find_if(tunnels_.begin(), tunnels_.end(), [&](const Tunnel& t) { return t.id == id; });
    if (it == tunnels_.end() || !it->udp_encapsulation)
        return;
    // A tunnel IKE keys moves only with the IKE SA that owns the SA the ESP
    // came on: ESP of one branch must not pull another branch's IKE SA or
    // tunnel to it (several IKE SAs may hold SAs of one tunnel). The engine
    // moves the tunnel through move_child when that IKE SA really moved.
    if (ike_ && !it->config->static_sa) {
        ike_->follow_peer(inbound_spi, from);
        return;
    }
    move_tunnel(*it, from);
}

void Daemon::move_child(const std::string& name, std::uint32_t inbound_spi, const net::Endpoint& remote)
{
    if (Tunnel* tunnel = tunnel_of(name, inbound_spi); tunnel != nullptr && tunnel->udp_encapsulation)
        move_tunnel(*tunnel, remote);
}

void Daemon::schedule_keepalives()
{
    keepalive_timer_.expires_after(config_.site.nat_keepalive);
    keepalive_timer_.async_wait([this](const boost::system::error_code& error) {
        if (error)
            return;
        send_keepalives();
        schedule_keepalives();
    });
}

void Daemon::send_keepalives()
{
    static constexpr std::uint8_t keepalive = 0xff;
    for (const auto& sa : ike_->status(std::chrono::steady_clock::now())) {
        if (!sa.behind_nat || sa.state != ike::IkeState::established)
            continue;
        socklen_t length = 0;
        const auto to = sa.remote.to_sockaddr(length);
        if (::sendto(socket_->fd(), &keepalive, 1, 0, reinterpret_cast<const sockaddr*>(&to), length) == 1)
            ++keepalives_sent_;
    }
}

} // namespace mesh::daemon
