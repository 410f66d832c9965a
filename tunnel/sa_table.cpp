#include "tunnel/sa_table.hpp"

#include "tunnel/udp_gso_batch.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mesh::tunnel {

const TunnelPath* Snapshot::tunnel(TunnelId id) const noexcept
{
    const auto it = std::lower_bound(tunnels_.begin(), tunnels_.end(), id,
                                     [](const TunnelPath& t, TunnelId key) { return t.id < key; });
    return it != tunnels_.end() && it->id == id ? &*it : nullptr;
}

const InboundEntry* Snapshot::inbound(std::uint32_t spi) const noexcept
{
    const auto it = std::lower_bound(inbound_.begin(), inbound_.end(), spi,
                                     [](const InboundEntry& e, std::uint32_t key) { return e.spi < key; });
    return it != inbound_.end() && it->spi == spi ? &*it : nullptr;
}

SaTable::SaTable()
{
    publish();
}

SaTable::~SaTable() = default;

void SaTable::add_tunnel(TunnelId id, const TunnelSettings& settings)
{
    TunnelState state;
    state.settings = settings;
    state.udp_gso = is_udp_socket(settings.udp_fd);
    if (!tunnels_.try_emplace(id, std::move(state)).second)
        throw std::invalid_argument("tunnel " + std::to_string(id) + " exists");
    publish();
}

void SaTable::remove_tunnel(TunnelId id)
{
    tunnels_.erase(id);
    publish();
}

void SaTable::remove_tunnels(std::span<const TunnelId> ids)
{
    for (const TunnelId id : ids)
        tunnels_.erase(id);
    publish();
}

void SaTable::set_peer(TunnelId id, const net::Endpoint& peer, int send_fd)
{
    tunnels_.at(id).settings.peer = peer;
    tunnels_.at(id).settings.udp_fd = send_fd;
    tunnels_.at(id).udp_gso = is_udp_socket(send_fd);
    publish();
}

const SaTable::InstalledSa* SaTable::TunnelState::sending_sa() const noexcept
{
    const auto it = std::find_if(sas.begin(), sas.end(), [&](const InstalledSa& s) { return s.inbound->spi() == sending; });
    return it == sas.end() ? nullptr : &*it;
}

void SaTable::install(TunnelId id, InstalledSa sa, bool send)
{
    for (const auto& [other_id, state] : tunnels_)
        for (const auto& installed : state.sas)
            if (installed.inbound->spi() == sa.inbound->spi())
                throw std::invalid_argument("inbound SPI already installed");
    TunnelState& state = tunnels_.at(id);
    sa.installed_at = std::chrono::steady_clock::now();
    if (send)
        state.sending = sa.inbound->spi();
    state.sas.push_back(std::move(sa));
    publish();
}

void SaTable::send_on(TunnelId id, std::uint32_t inbound_spi)
{
    TunnelState& state = tunnels_.at(id);
    if (std::none_of(state.sas.begin(), state.sas.end(),
                     [&](const InstalledSa& s) { return s.inbound->spi() == inbound_spi; }))
        throw std::invalid_argument("tunnel " + std::to_string(id) + " has no SA with inbound SPI " +
                                    std::to_string(inbound_spi));
    state.sending = inbound_spi;
    publish();
}

namespace {
void add_up(SaTable::SaTotals& sum, const SaTable::InstalledSa& sa) noexcept
{
    const auto& in = sa.inbound->counters();
    const auto& out = sa.outbound->counters();
    sum.packets_in += in.packets.get();
    sum.bytes_in += in.bytes.get();
    sum.auth_drops += in.auth_drops.get();
    sum.replay_drops += in.replay_drops.get();
    sum.malformed_drops += in.malformed_drops.get();
    sum.packets_out += out.packets.get();
    sum.bytes_out += out.bytes.get();
}
} // namespace

SaTable::SaTotals SaTable::TunnelState::totals() const noexcept
{
    SaTotals sum = retired;
    for (const auto& sa : sas)
        add_up(sum, sa);
    return sum;
}

void SaTable::remove(std::uint32_t inbound_spi)
{
    for (auto& [id, state] : tunnels_) {
        const auto removed = std::erase_if(state.sas, [&](const InstalledSa& s) {
            if (s.inbound->spi() != inbound_spi)
                return false;
            // A packet a worker still counts on the SA after this is not in the totals: a few at most.
            add_up(state.retired, s);
            return true;
        });
        if (removed == 0)
            continue;
        if (state.sending == inbound_spi)
            state.sending = state.sas.empty() ? 0 : state.sas.back().inbound->spi();
    }
    publish();
}

void SaTable::publish()
{
    auto next = std::make_shared<Snapshot>();
    next->tunnels_.reserve(tunnels_.size());
    for (const auto& [id, state] : tunnels_) {
        TunnelPath path;
        path.id = id;
        path.tun_fd = state.settings.tun_fd;
        path.tun_priority_fd = state.settings.tun_priority_fd;
        path.udp_fd = state.settings.udp_fd;
        path.mode = state.settings.mode;
        path.mtu = state.settings.mtu;
        path.mss_clamp = state.settings.mss_clamp;
        path.vnet_hdr = state.settings.vnet_hdr;
        path.udp_gso = state.udp_gso;
        path.peer = state.settings.peer.to_sockaddr(path.peer_length);
        const InstalledSa* sending = state.sending_sa();
        path.outbound = sending != nullptr ? sending->outbound.get() : nullptr;
        path.counters = state.counters.get();
        next->tunnels_.push_back(path);
        next->owned_.push_back(state.counters);
        if (state.settings.fd_owner)
            next->owned_.push_back(state.settings.fd_owner);
        if (sending != nullptr)
            next->owned_.push_back(sending->outbound);
    }
    // tunnels_ is a std::map, so the paths are already sorted by id, and the
    // vector no longer grows: pointers into it stay valid.
    for (std::size_t i = 0; i < next->tunnels_.size(); ++i) {
        const auto& state = tunnels_.at(next->tunnels_[i].id);
        for (const auto& installed : state.sas) {
            next->inbound_.push_back({installed.inbound->spi(), installed.inbound.get(), &next->tunnels_[i]});
            next->owned_.push_back(installed.inbound);
        }
    }
    std::sort(next->inbound_.begin(), next->inbound_.end(),
              [](const InboundEntry& a, const InboundEntry& b) { return a.spi < b.spi; });

    current_.store(next.get(), std::memory_order_seq_cst);
    if (current_owner_)
        quiescent_.retire(std::move(current_owner_));
    current_owner_ = std::move(next);
    quiescent_.reclaim();
}

} // namespace mesh::tunnel
