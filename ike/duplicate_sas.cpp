// Duplicate IKE SAs with one peer. When both ends start at once, each one's
// IKE_SA_INIT crosses the other's and both complete: two IKE SAs, each with
// its CHILD SAs. RFC 7296 leaves the choice open; the collision rule of
// section 2.8.1 settles it the same way at both ends without a word
// exchanged: the IKE SA whose exchange holds the lowest of the four nonces
// is redundant.
//
// Who deletes it, and when each end moves its traffic, keeps every packet:
//
//   the initiator of the kept SA (K) has had its CHILD SAs since the peer
//   answered its IKE_AUTH: K sends on them at once, then deletes the
//   redundant SA; its CHILD SAs decrypt until the Delete is answered
//   the other end (R) answered K's IKE_AUTH, so it cannot tell when K holds
//   the kept SA until K's Delete of the redundant one arrives: then R sends
//   on the kept SA's CHILD SAs and drops the redundant ones (fail())
//
// A peer that restarted is not a duplicate: it says so with INITIAL_CONTACT
// (initial_contact.cpp), and its stale SAs go at once.

#include "ike/ike_engine.hpp"

#include "ike/ike_log.hpp"
#include "ike/rekey_rules.hpp"

#include <algorithm>

namespace mesh::ike {

IkeSa* IkeEngine::other_established(const IkeSa& sa)
{
    const auto it = std::find_if(sas_.begin(), sas_.end(), [&](const auto& other) {
        return other.get() != &sa && other->state == IkeState::established && other->peer == sa.peer &&
               other->remote_identity == sa.remote_identity;
    });
    return it == sas_.end() ? nullptr : it->get();
}

bool IkeEngine::tunnel_carried(const IkeSa& sa, const ChildConfig& config)
{
    const IkeSa* other = other_established(sa);
    return other != nullptr && std::any_of(other->children.begin(), other->children.end(), [&](const ChildSa& c) {
               return c.config == &config && c.state == ChildState::active;
           });
}

void IkeEngine::send_on_children(IkeSa& sa)
{
    for (auto& child : sa.children) {
        // Waiting because another IKE SA carried the tunnel; not the new SA of a rekey still under way.
        const bool rekey_successor = std::any_of(sa.children.begin(), sa.children.end(),
                                                 [&](const ChildSa& c) { return c.successor == child.spi_in; });
        if (child.state == ChildState::inbound_only && !rekey_successor)
            child.state = ChildState::active;
        if (child.state == ChildState::active)
            host_.use_outbound(child.config->name, child.spi_in, sa.remote, udp_encapsulation(sa));
    }
}

void IkeEngine::resolve_duplicates(IkeSa& fresh, Clock::time_point now)
{
    IkeSa* other = other_established(fresh);
    if (other == nullptr)
        return;
    const bool fresh_redundant = holds_lowest_nonce(lowest_nonce(fresh.nonce_i, fresh.nonce_r),
                                                    lowest_nonce(other->nonce_i, other->nonce_r));
    IkeSa& redundant = fresh_redundant ? fresh : *other;
    IkeSa& kept = fresh_redundant ? *other : fresh;
    ++counters_.duplicate_ike_sas;
    ike_log()->info("{}: two IKE SAs with {} (both ends started at once): {:016x}/{:016x} holds the lowest nonce and is "
                    "deleted by {}, {:016x}/{:016x} stays",
                    fresh.peer->name, fresh.remote.to_string(), redundant.spi_i, redundant.spi_r,
                    kept.initiator ? "us" : "the peer", kept.spi_i, kept.spi_r);
    if (!kept.initiator)
        return;
    send_on_children(kept);
    redundant.state = IkeState::rekeyed;
    redundant.expires_at = now + rekeyed_linger;
    send_request(redundant, ExchangeType::informational, {DeletePayload{ProtocolId::ike, {}}}, now);
    redundant.outstanding->deletes_ike = true;
}

} // namespace mesh::ike
