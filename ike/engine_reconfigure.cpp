// A reload's new peers (IkeEngine::reconfigure). IKE SAs and CHILD SAs point
// at their PeerConfig and ChildConfig; those of the peers that stay are moved
// onto the new configuration by name, so their SPIs, keys, message IDs and
// lifetimes carry on as if nothing happened. The others go as at shutdown:
// a Delete of the IKE SA (RFC 7296 section 1.4.1), which takes its CHILD
// SAs with it at the peer, and their data-plane SAs removed here.

#include "ike/ike_engine.hpp"
#include "ike/ike_log.hpp"

#include <algorithm>
#include <utility>

namespace mesh::ike {

namespace {

const PeerConfig* named(const std::vector<PeerConfig>& peers, const std::string& name)
{
    const auto it = std::ranges::find(peers, name, &PeerConfig::name);
    return it == peers.end() ? nullptr : &*it;
}

const ChildConfig* named(const PeerConfig& peer, const std::string& name)
{
    const auto it = std::ranges::find(peer.children, name, &ChildConfig::name);
    return it == peer.children.end() ? nullptr : &*it;
}

// Whether every CHILD SA of `sa` (and its rekey or IKE_AUTH in flight) has its tunnel in `peer`.
bool children_kept(const IkeSa& sa, const PeerConfig& peer)
{
    const auto kept = [&](const ChildConfig* config) { return config == nullptr || named(peer, config->name); };
    return std::ranges::all_of(sa.children, [&](const ChildSa& child) { return kept(child.config); }) &&
           (!sa.rekey || kept(sa.rekey->config)) && kept(sa.pending_child);
}

} // namespace

void IkeEngine::reconfigure(std::vector<PeerConfig> peers, const std::set<std::string>& renewed, Clock::time_point now)
{
    std::set<std::string> dropped = renewed;
    for (const auto& peer : peers_)
        if (named(peers, peer.name) == nullptr)
            dropped.insert(peer.name);
    for (const auto& sa : sas_)
        if (const PeerConfig* next = named(peers, sa->peer->name); next != nullptr && !children_kept(*sa, *next))
            dropped.insert(sa->peer->name);

    for (auto& sa : sas_) {
        if (!dropped.contains(sa->peer->name) || sa->state == IkeState::dead)
            continue;
        if (sa->state == IkeState::established)
            send_ike_delete(*sa);
        remove_children(*sa);
        sa->state = IkeState::dead;
        ike_log()->info("{}: IKE SA {:016x}_i {:016x}_r deleted: the peer's configuration changed", sa->peer->name,
                        sa->spi_i, sa->spi_r);
    }
    for (auto& sa : sas_)
        if (sa->state == IkeState::dead)
            end_lease(*sa);
    std::erase_if(sas_, [](const auto& sa) { return sa->state == IkeState::dead; });
    std::erase_if(pending_inits_, [&](const PendingInit& p) { return dropped.contains(p.sa->peer->name); });

    std::map<std::string, PeerSchedule> kept_schedule;
    for (const auto& [peer, when] : schedule_)
        if (!dropped.contains(peer->name))
            kept_schedule[peer->name] = when;
    // Kept to the end: the SAs name their peers and tunnels through it until repointed.
    const std::vector<PeerConfig> old = std::exchange(peers_, std::move(peers));

    const auto repoint = [&](IkeSa& sa) {
        sa.peer = named(peers_, sa.peer->name);
        for (auto& child : sa.children)
            child.config = named(*sa.peer, child.config->name);
        if (sa.rekey)
            sa.rekey->config = named(*sa.peer, sa.rekey->config->name);
        if (sa.pending_child != nullptr)
            sa.pending_child = named(*sa.peer, sa.pending_child->name);
    };
    for (auto& sa : sas_)
        repoint(*sa);
    for (auto& pending : pending_inits_)
        repoint(*pending.sa);

    schedule_.clear();
    for (const auto& peer : peers_) {
        if (const auto it = kept_schedule.find(peer.name); it != kept_schedule.end())
            schedule_[&peer] = it->second;
        else if (!peer.passive && !peer.children.empty())
            schedule_[&peer] = {now, std::chrono::milliseconds(0)};
    }
    for (const auto& name : dropped)
        failures_.erase(name);
}

} // namespace mesh::ike
