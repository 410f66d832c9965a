// Lifetimes of CHILD SAs (RFC 7296 section 2.8) and their removal, driven by on_tick:
//   install  -> rekey_at = lifetime x 0.8..0.9 at random (the two ends rarely
//               rekey together, and a rekey has a tenth of the lifetime to succeed)
//               expires_at = lifetime; the byte lifetime likewise, in ESP
//               bytes both ways as the data plane counts them
//   tick     -> expires_at passed: removed here, the peer told with a Delete
//               (the last one gone: the IKE SA is deleted and started over)
//            -> queued Deletes sent once the window (size 1) is free
//            -> rekey_at passed, window free: CREATE_CHILD_SA (exchange_create_child.cpp)
//   removal  -> a successor waiting for this SA to go starts sending first (make-before-break)

#include "ike/ike_engine.hpp"

#include "ike/ike_log.hpp"
#include "ike/rekey_rules.hpp"

#include <algorithm>

namespace mesh::ike {

void IkeEngine::schedule_lifetime(ChildSa& child, Clock::time_point now)
{
    const auto [rekey_at, expires_at] = lifetime_from(child.config->policy.lifetime, now);
    child.rekey_at = rekey_at;
    child.expires_at = expires_at;
    if (const std::uint64_t limit = child.config->policy.lifetime_bytes; limit > 0) {
        child.expire_bytes = limit;
        child.rekey_bytes = static_cast<std::uint64_t>(static_cast<double>(limit) * soft_fraction());
    }
}

void IkeEngine::check_child_lifetimes(IkeSa& sa, Clock::time_point now)
{
    std::vector<std::uint32_t> expired;
    for (auto& child : sa.children) {
        if (child.state == ChildState::retiring) {
            if (now >= child.retire_at)
                expired.push_back(child.spi_in);
            continue;
        }
        // The byte lifetime is read from the data plane's counters, so it is
        // met within a tick (100 ms) of traffic: the soft limit leaves room.
        const std::uint64_t bytes = child.expire_bytes > 0 ? host_.child_bytes(child.spi_in) : 0;
        if (now >= child.expires_at || (child.expire_bytes > 0 && bytes >= child.expire_bytes))
            expired.push_back(child.spi_in);
        else if (child.rekey_bytes > 0 && bytes >= child.rekey_bytes) {
            child.rekey_at = std::min(child.rekey_at, now);
            child.rekey_bytes = 0;   // once: a refused rekey is retried on the clock (rekey_retry)
        }
    }
    for (const std::uint32_t spi : expired) {
        const ChildSa* child = sa.child_in(spi);
        if (child == nullptr)
            continue;
        // One the peer rekeyed (its Delete lost) hands over to its successor in remove_child.
        if (child->state == ChildState::active && child->successor == 0) {
            ++counters_.child_sas_expired;
            report(now, sa.peer->name, "CHILD SA {} (in 0x{:08x}, out 0x{:08x}) reached its hard lifetime without "
                   "being rekeyed: deleted", child->config->name, child->spi_in, child->spi_out);
        }
        if (child->state != ChildState::deleting && child->state != ChildState::retiring)
            sa.queued_deletes.push_back(spi);
        remove_child(sa, spi);
    }
    if (!expired.empty() && sa.children.empty()) {
        // An IKE SA without CHILD SAs carries nothing here, and no exchange
        // of ours makes a CHILD SA but IKE_AUTH: start over (a peer that is
        // not passive is initiated again, or initiates again itself).
        ike_log()->info("{}: no CHILD SA left with {}: starting the IKE SA over", sa.peer->name, sa.remote.to_string());
        send_ike_delete(sa);
        fail(sa, now);
        return;
    }
    send_queued_deletes(sa, now);
    if (sa.outstanding || sa.rekey)
        return;
    // One rekey at a time: the window holds one request.
    for (auto& child : sa.children) {
        if (child.state == ChildState::active && child.successor == 0 && now >= child.rekey_at) {
            start_rekey(sa, child, now);
            return;
        }
    }
}

void IkeEngine::rekey_child(std::uint32_t spi, Clock::time_point now)
{
    for (auto& sa : sas_)
        for (auto& child : sa->children)
            if ((child.spi_in == spi || child.spi_out == spi) && child.state == ChildState::active)
                child.rekey_at = std::min(child.rekey_at, now);
}

void IkeEngine::activate(IkeSa& sa, ChildSa& successor, const ChildSa& old)
{
    host_.use_outbound(successor.config->name, successor.spi_in, sa.remote, udp_encapsulation(sa));
    successor.state = ChildState::active;
    log_rekeyed(sa, successor, old);
}

void IkeEngine::log_rekeyed(const IkeSa& sa, const ChildSa& fresh, const ChildSa& old)
{
    ike_log()->info("{}: CHILD SA {} rekeyed: in 0x{:08x} out 0x{:08x} (old in 0x{:08x} out 0x{:08x})", sa.peer->name,
                    fresh.config->name, fresh.spi_in, fresh.spi_out, old.spi_in, old.spi_out);
}

void IkeEngine::remove_child(IkeSa& sa, std::uint32_t spi_in)
{
    ChildSa* child = sa.child_in(spi_in);
    if (child == nullptr)
        return;
    // The SA the peer's rekey made of this one takes over the traffic before
    // this one goes, so the tunnel never lacks an outbound SA.
    if (ChildSa* next = child->successor != 0 ? sa.child_in(child->successor) : nullptr;
        next != nullptr && next->state == ChildState::inbound_only)
        activate(sa, *next, *child);
    host_.delete_child(child->config->name, child->spi_in);
    ike_log()->info("{}: CHILD SA {} deleted (in 0x{:08x}, out 0x{:08x})", sa.peer->name, child->config->name,
                    child->spi_in, child->spi_out);
    std::erase_if(sa.children, [&](const ChildSa& c) { return c.spi_in == spi_in; });
    // A new SA deleted before it took over (refused by its initiator) replaces nothing.
    for (auto& other : sa.children) {
        if (other.successor == spi_in) {
            other.successor = 0;
            other.successor_lowest_nonce.clear();
        }
    }
}

void IkeEngine::retire_child(IkeSa& sa, std::uint32_t spi_in, Clock::time_point now)
{
    ChildSa* child = sa.child_in(spi_in);
    if (child == nullptr)
        return;
    const bool replaced = std::any_of(sa.children.begin(), sa.children.end(), [&](const ChildSa& other) {
        return other.spi_in != spi_in && other.config == child->config &&
               (other.state == ChildState::active || other.spi_in == child->successor);
    });
    if (!replaced) {
        remove_child(sa, spi_in);   // the tunnel's last SA: down at once, nothing to wait for
        return;
    }
    if (ChildSa* next = child->successor != 0 ? sa.child_in(child->successor) : nullptr;
        next != nullptr && next->state == ChildState::inbound_only)
        activate(sa, *next, *child);
    child->state = ChildState::retiring;
    child->retire_at = now + retire_delay;
}

void IkeEngine::queue_delete(IkeSa& sa, ChildSa& child, Clock::time_point now)
{
    child.state = ChildState::deleting;
    sa.queued_deletes.push_back(child.spi_in);
    send_queued_deletes(sa, now);
}

void IkeEngine::send_queued_deletes(IkeSa& sa, Clock::time_point now)
{
    if (sa.queued_deletes.empty() || sa.outstanding || sa.state != IkeState::established)
        return;
    // Section 1.4.1: the SPIs we receive on; the answer names the peer's, and
    // the SAs go when it arrives (on_informational_response).
    std::vector<std::uint32_t> spis = std::move(sa.queued_deletes);
    sa.queued_deletes.clear();
    send_request(sa, ExchangeType::informational, {DeletePayload{ProtocolId::esp, spis}}, now);
    sa.outstanding->deleting = std::move(spis);
}

} // namespace mesh::ike
