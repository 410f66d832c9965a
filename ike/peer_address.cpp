// A peer named by DNS gets a new address. Without MOBIKE (RFC 4555, not
// implemented) an IKE SA stays between the two addresses it was made on:
// RFC 7296 section 2.23 lets the end that is not behind a NAT follow its
// peer's NAT mapping, nothing lets it follow a peer that moved. A new
// answer from DNS says the peer is elsewhere now, so the IKE SA at the old
// address is closed (a best-effort Delete there, as the old address may
// still reach it) and a new one is initiated to the new address. An IKE SA
// the peer made from the new address is already where it should be.

#include "ike/ike_engine.hpp"

#include "ike/ike_log.hpp"

#include <algorithm>

namespace mesh::ike {

void IkeEngine::set_peer_address(const std::string& name, const net::IpAddress& address, const net::IpAddress& local,
                                 Clock::time_point now)
{
    const auto it = std::ranges::find_if(peers_, [&](const PeerConfig& p) { return p.name == name; });
    if (it == peers_.end() || !it->resolve_first)
        return;
    PeerConfig& peer = *it;
    const net::IpAddress was = peer.address.address();
    const bool moved = was != address;
    peer.address = net::IpPrefix(address, address.is_v4() ? 32 : 128);
    if (!local.is_unspecified())
        peer.local_address = local;
    if (moved && !was.is_unspecified()) {
        for (auto& sa : sas_) {
            if (sa->peer != &peer || sa->state == IkeState::dead || sa->remote.address == address)
                continue;
            ike_log()->info("{}: its name now gives {}: closing IKE SA {:016x}/{:016x} at {}", name,
                            address.to_string(), sa->spi_i, sa->spi_r, sa->remote.to_string());
            if (sa->state == IkeState::established)
                send_ike_delete(*sa);
            remove_children(*sa);
            sa->state = IkeState::dead;
        }
    }
    const auto when = schedule_.find(&peer);
    if (when == schedule_.end() || !(moved || when->second.awaiting_address))
        return;
    when->second.awaiting_address = false;
    when->second.address_fresh = true;
    when->second.next_attempt = now;
}

} // namespace mesh::ike
