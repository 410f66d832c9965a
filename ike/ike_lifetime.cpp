// The lifetime of an IKE SA (RFC 7296 sections 2.8 and 2.18), driven by on_tick:
//   established -> rekey_at = lifetime x 0.8..0.9 at random, expires_at = lifetime
//   tick        -> expires_at passed: deleted with its CHILD SAs (a non-passive end starts over)
//               -> rekey_at passed, window free, no CHILD SA exchange of ours pending:
//                  CREATE_CHILD_SA rekeying the IKE SA (exchange_rekey_ike.cpp)
//   rekeyed     -> expires_at (a while after the rekey) passed without its Delete: dropped quietly

#include "ike/ike_engine.hpp"

#include "ike/ike_log.hpp"

namespace mesh::ike {

double IkeEngine::soft_fraction()
{
    std::uint16_t jitter = 0;
    rng_.randomize(reinterpret_cast<std::uint8_t*>(&jitter), sizeof jitter);
    return 0.8 + 0.1 * jitter / 65536.0;
}

IkeEngine::Lifetime IkeEngine::lifetime_from(std::chrono::seconds lifetime, Clock::time_point now)
{
    if (lifetime.count() <= 0)
        return {Clock::time_point::max(), Clock::time_point::max()};   // kept until deleted
    const auto seconds = std::chrono::duration<double>(lifetime);
    return {now + std::chrono::duration_cast<Clock::duration>(seconds * soft_fraction()),
            now + std::chrono::duration_cast<Clock::duration>(seconds)};
}

void IkeEngine::schedule_ike_lifetime(IkeSa& sa, Clock::time_point now)
{
    const auto [rekey_at, expires_at] = lifetime_from(sa.peer->ike.lifetime, now);
    sa.rekey_at = rekey_at;
    sa.expires_at = expires_at;
}

void IkeEngine::check_ike_lifetime(IkeSa& sa, Clock::time_point now)
{
    if (sa.state == IkeState::rekeyed) {
        if (now >= sa.expires_at) {
            ike_log()->debug("{}: rekeyed IKE SA {:016x}/{:016x} dropped: its Delete never came", sa.peer->name,
                             sa.spi_i, sa.spi_r);
            remove_children(sa);
            sa.state = IkeState::dead;
        }
        return;
    }
    if (sa.state != IkeState::established)
        return;
    if (now >= sa.expires_at) {
        report(now, sa.peer->name, "IKE SA {:016x}/{:016x} with {} reached its hard lifetime without being rekeyed: "
               "deleted", sa.spi_i, sa.spi_r, sa.remote.to_string());
        send_ike_delete(sa);
        fail(sa, now);
        return;
    }
    // Section 2.25: one exchange at a time, and none while a CHILD SA exchange
    // of ours waits for the window, so no answer of the old SA is still due
    // when the CHILD SAs move.
    if (now < sa.rekey_at || sa.outstanding || sa.rekey || sa.ike_rekey || sa.successor || !sa.queued_deletes.empty())
        return;
    start_ike_rekey(sa, now);
}

void IkeEngine::rekey_ike(const std::string& peer, Clock::time_point now)
{
    for (auto& sa : sas_)
        if (sa->state == IkeState::established && sa->peer->name == peer)
            sa->rekey_at = std::min(sa->rekey_at, now);
}

} // namespace mesh::ike
