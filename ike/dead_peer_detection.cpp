// Dead peer detection: liveness checks of RFC 7296 section 2.4, with the
// RouterOS knobs (dpd-interval, dpd-maximum-failures).
//
//   silence >= interval (no IKE message, no new inbound ESP)
//     -> INFORMATIONAL {} request, resent every interval
//     -> answered: alive | ESP arrives meanwhile: alive, the check goes on
//     -> maximum-failures intervals in a row with neither: peer dead
//        (its CHILD SAs go, the tunnel goes down, a non-passive end re-initiates)
//
// Inbound ESP counts as proof of life, so a busy tunnel sends no checks and
// a check lost in a full socket buffer cannot declare a busy peer dead.

#include "ike/ike_engine.hpp"

#include "ike/ike_log.hpp"

namespace mesh::ike {

void IkeEngine::count_inbound_esp(IkeSa& sa, Clock::time_point now)
{
    std::uint64_t packets = 0;
    for (const auto& child : sa.children)
        packets += host_.inbound_packets(child.spi_in);
    if (packets != sa.inbound_esp) {
        sa.inbound_esp = packets;
        sa.last_heard = now;
    }
}

void IkeEngine::check_liveness(IkeSa& sa, Clock::time_point now)
{
    const auto interval = sa.peer->ike.dpd_interval;
    if (interval.count() <= 0 || sa.outstanding)
        return;
    count_inbound_esp(sa, now);
    if (now - sa.last_heard < interval)
        return;
    ike_log()->debug("{}: nothing from {} for {} ms: liveness check", sa.peer->name, sa.remote.to_string(),
                     std::chrono::duration_cast<std::chrono::milliseconds>(now - sa.last_heard).count());
    send_request(sa, ExchangeType::informational, {}, now);
    sa.outstanding->liveness_check = true;
    sa.outstanding->next_send = now + interval;
    ++counters_.liveness_checks;
    ++peer_counters_[sa.peer->name].liveness_checks;
}

void IkeEngine::liveness_check_unanswered(IkeSa& sa, Clock::time_point now)
{
    auto& check = *sa.outstanding;
    const auto interval = sa.peer->ike.dpd_interval;
    count_inbound_esp(sa, now);
    if (now - sa.last_heard < interval) {
        check.retransmits = 0;   // ESP arrived during this interval: alive, whatever became of the check
    } else if (++check.retransmits >= static_cast<int>(sa.peer->ike.dpd_maximum_failures)) {
        ++counters_.peers_dead;
        ++peer_counters_[sa.peer->name].peers_dead;
        report(now, sa.peer->name, "peer dead: {} liveness checks to {} unanswered ({} ms apart)", check.retransmits,
               sa.remote.to_string(), interval.count());
        fail(sa, now);
        return;
    }
    ++counters_.retransmits;
    check.next_send = now + interval;
    resend(sa, check.datagrams);
}

} // namespace mesh::ike
