// NAT rebinding (RFC 7296 section 2.23): a NAT in front of the peer may give
// it a new address or port at any time (a flushed mapping, a new public
// address). Whatever authenticated arrives from the new place — an IKE
// request, or ESP the data plane has authenticated and found no replay —
// moves the IKE SA and the ESP of its CHILD SAs there, without a new
// IKE_SA_INIT.

#include "ike/ike_engine.hpp"

#include "ike/ike_log.hpp"
#include "net/log_context.hpp"

#include <algorithm>

namespace mesh::ike {

void IkeEngine::move_peer(IkeSa& sa, const net::Endpoint& local, const net::Endpoint& remote)
{
    ike_log()->info("{}: peer moved from {} to {} (NAT mapping changed): following", sa.peer->name,
                    sa.remote.to_string(), remote.to_string());
    sa.remote = remote;
    sa.local = local;
    ++counters_.peers_moved;
    for (const auto& child : sa.children)
        host_.move_child(child.config->name, child.spi_in, remote);
}

void IkeEngine::follow_peer(std::uint32_t inbound_spi, const net::Endpoint& remote)
{
    // Only the IKE SA whose CHILD SA the ESP authenticated on: with one peer
    // configuration for many branches, ESP from one branch says nothing
    // about where another is.
    const auto owner = std::find_if(sas_.begin(), sas_.end(), [&](const auto& sa) {
        return sa->state == IkeState::established && sa->child_in(inbound_spi) != nullptr;
    });
    if (owner == sas_.end() || (*owner)->remote == remote)
        return;
    const auto scope = net::LogScope::peer((*owner)->peer->name);
    // ESP and IKE share the NAT-T port and so the NAT's mapping.
    if ((*owner)->local.port == natt_local_.port)
        move_peer(**owner, (*owner)->local, remote);
}

} // namespace mesh::ike
