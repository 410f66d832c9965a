// INITIAL_CONTACT (RFC 7296 sections 2.4 and 3.10.1): a peer that was killed
// rather than shut down lost its IKE and CHILD SAs, while we keep ours until
// liveness checks give up on them. Its first IKE_AUTH after the restart
// carries N(INITIAL_CONTACT): "this IKE SA is the only one between us".
//
//   sending    our IKE_AUTH request when we hold no other IKE SA with that
//              peer: after a restart, or after we gave up on the last one
//              (dead peer, hard lifetime) while the peer may still hold it
//              (exchange_auth.cpp)
//   receiving  IKE_AUTH that authenticated and carries it: every other IKE
//              SA with the same peer and remote identity, established before
//              this one began here, is stale and goes at once with its CHILD
//              SAs, without a Delete (the peer knows none of them). The new
//              CHILD SA was installed first, so the tunnel keeps an inbound
//              SA and stays up while the stale go.
//
// "Before this one began": when both ends start at once, the peer may send
// INITIAL_CONTACT before our crossing IKE_SA_INIT reached it, and yet answer
// that one too. An IKE SA established after the new one's IKE_SA_INIT went
// through the peer after its restart, so the peer holds it; it is a
// duplicate, not stale (duplicate_sas.cpp).

#include "ike/ike_engine.hpp"

#include "ike/identity.hpp"
#include "ike/ike_log.hpp"

namespace mesh::ike {

void IkeEngine::replace_stale_sas(IkeSa& fresh)
{
    std::size_t stale = 0;
    for (auto& sa : sas_) {
        if (sa.get() == &fresh || sa->state == IkeState::dead || sa->peer != fresh.peer ||
            sa->remote_identity != fresh.remote_identity || sa->established_at >= fresh.created_at)
            continue;
        if (stale++ == 0)
            send_on_children(fresh);   // before the stale go: the tunnel always has an SA to send on
        remove_children(*sa);
        sa->state = IkeState::dead;
    }
    if (stale == 0)
        return;
    ++counters_.initial_contacts;
    ike_log()->info("{}: INITIAL_CONTACT from {} ({}): replacing {} stale IKE SA(s)", fresh.peer->name,
                    to_string(*fresh.remote_identity), fresh.remote.to_string(), stale);
}

} // namespace mesh::ike
