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
// Only two IKE SAs set up at the same time, one by each end, are duplicates.
// An end initiates only while it holds no IKE SA with the peer, so the
// peer's IKE_SA_INIT crossed ours only if the peer sent it before ours
// reached it: it reaches us at the latest one retransmission span after
// ours was established (retransmitted, or held up by a lossy path).
//
// Any other new IKE SA authenticating the same peer identity re-authenticates
// it and replaces the older one at once, as strongSwan's `unique = replace`:
// a peer that restarted without INITIAL_CONTACT (libreswan's default) lost
// the old SA, and a peer that re-authenticates moves to the new one. The
// tunnel sends on the new CHILD SAs, the old IKE SA goes with its CHILD SAs
// and a Delete the peer may not know what to do with. A peer that restarted
// and said so with INITIAL_CONTACT has its stale SAs removed before
// (initial_contact.cpp).

#include "ike/ike_engine.hpp"

#include "ike/identity.hpp"
#include "ike/ike_log.hpp"
#include "ike/rekey_rules.hpp"

#include <algorithm>
#include <chrono>

namespace mesh::ike {

namespace {
// How late the peer's IKE_SA_INIT, sent before ours reached it, may reach us:
// a peer sends it again for up to 15.5 s (0.5 s doubling, five times:
// ike_engine.cpp), over a path that may hold it up too; twice that.
constexpr auto crossing_window = std::chrono::seconds(32);

// Whether `fresh` and `other` were set up at the same time, one by each end.
bool crossed(const IkeSa& fresh, const IkeSa& other)
{
    if (fresh.initiator == other.initiator)
        return false;
    const IkeSa& ours = fresh.initiator ? fresh : other;
    const IkeSa& theirs = fresh.initiator ? other : fresh;
    if (ours.init_request.empty())
        return false;   // the new SA of an IKE rekey: no IKE_SA_INIT of its own to cross
    return theirs.created_at < ours.established_at + crossing_window;
}
} // namespace

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
    if (!crossed(fresh, *other)) {
        replace_reauthenticated(*other, fresh);
        return;
    }
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

void IkeEngine::replace_reauthenticated(IkeSa& old, IkeSa& fresh)
{
    ++counters_.ike_sas_replaced;
    ike_log()->info("{}: {} ({}) authenticated again: IKE SA {:016x}/{:016x} replaces {:016x}/{:016x}",
                    fresh.peer->name, to_string(*fresh.remote_identity), fresh.remote.to_string(), fresh.spi_i,
                    fresh.spi_r, old.spi_i, old.spi_r);
    send_on_children(fresh);   // before the old go: the tunnel always has an SA to send on
    send_ike_delete(old);
    remove_children(old);
    old.state = IkeState::dead;
}

} // namespace mesh::ike
