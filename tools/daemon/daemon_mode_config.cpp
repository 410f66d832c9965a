// Mode config (RFC 7296 section 3.15) in the daemon: IKE asks, the daemon
// leases.
//   template hub: a mode gre template with address-pool answers with the branch's end of its
//            block (branch_instances.cpp, template_lease), no [mode-config] involved
//   hub:     lease_attributes -> an address per family from the [mode-config] pools, by the
//            branch's identity (the same one after a reconnect or a restart), routed over the
//            peer's tunnel; lease_ended (the last IKE SA holding it gone) -> released, route withdrawn
//   branch:  attributes_received -> the address on the tunnel's interface (mode ip: as a host,
//            the CHILD SA's TSi; mode gre: the tunnel address), the split-include networks routed

#include "tools/daemon/daemon.hpp"

#include "net/link.hpp"
#include "tools/daemon/branch_block.hpp"
#include "tools/log/log.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace mesh::daemon {

namespace {

constexpr const char* resolv_conf = "/etc/resolv.conf";

// RouterOS system-dns: the host's own nameservers. A loopback stub resolver
// (systemd-resolved's 127.0.0.53) answers only on this host: not sent.
std::vector<net::IpAddress> system_dns(const std::string& mode_config)
{
    std::vector<net::IpAddress> servers;
    std::ifstream in(resolv_conf);
    if (!in)
        log::config()->warn("mode-config {}: system-dns: cannot read {}: no DNS servers sent", mode_config,
                            resolv_conf);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string keyword, value;
        if (!(words >> keyword >> value) || keyword != "nameserver")
            continue;
        const auto address = net::IpAddress::parse(value);
        if (!address)
            continue;
        const bool loopback = address->is_v4() ? address->bytes()[0] == 127 : *address == *net::IpAddress::parse("::1");
        if (loopback) {
            log::config()->warn("mode-config {}: system-dns: nameserver {} in {} is this host's loopback, of no use "
                                "to a branch: not sent",
                                mode_config, value, resolv_conf);
            continue;
        }
        servers.push_back(*address);
    }
    return servers;
}

std::string addresses_text(const ike::ModeConfig& given)
{
    std::string out;
    for (const auto& address : {given.address4, given.address6})
        if (address)
            out += (out.empty() ? "" : " ") + address->to_string();
    return out;
}

} // namespace

void Daemon::start_mode_config()
{
    for (const auto& [name, mode_config] : config_.mode_configs) {
        LeasePool& lease = lease_pools_[name];
        lease.config = &mode_config;
        lease.dns = mode_config.system_dns ? system_dns(name) : mode_config.dns;
        for (const auto& prefix : mode_config.address_pools) {
            const bool v4 = prefix.address().is_v4();
            net::AddressPool& pool = lease.pools.emplace_back(prefix, v4 ? 32 : 128);
            // An IPv4 network's own and broadcast addresses are no host's
            // (RFC 3021: a /31 has neither); IPv6's first is the subnet-router
            // anycast address (RFC 4291 section 2.6.1).
            // Not cut to AddressPool::max_blocks: its last block is the network's last.
            const bool whole = (v4 ? 32U : 128U) - prefix.length() <= 20;
            std::uint32_t reserved = 0;
            if (prefix.length() < (v4 ? 31 : 127)) {
                pool.reserve(0);
                ++reserved;
            }
            if (v4 && prefix.length() < 31 && whole) {
                pool.reserve(pool.capacity() - 1);
                ++reserved;
            }
            log::ike()->info("mode-config {}: address pool {} ({} addresses), {} split-include network(s), {} DNS "
                             "server(s)",
                             name, prefix.to_string(), pool.capacity() - reserved,
                             mode_config.split_include.size(), lease.dns.size());
        }
    }
}

ike::ModeConfig Daemon::lease_attributes(const ike::ModeConfigLease& lease)
{
    if (const config::Tunnel* pooled = pooled_template(config_, lease.peer))
        return template_lease(*pooled, lease);
    const auto peer = config_.peers.find(lease.peer);
    const auto it = peer == config_.peers.end() ? lease_pools_.end() : lease_pools_.find(peer->second.mode_config);
    if (it == lease_pools_.end())
        return {};
    LeasePool& pools = it->second;
    ike::ModeConfig given;
    given.subnets = pools.config->split_include;
    given.dns = pools.dns;
    for (const bool v4 : {true, false}) {
        if (!(v4 ? lease.families.ip4 : lease.families.ip6))
            continue;
        const auto pool = std::ranges::find_if(
            pools.pools, [&](const net::AddressPool& p) { return p.pool().address().is_v4() == v4; });
        if (pool == pools.pools.end()) {
            log::ike()->info("mode-config {}: {} asks for an IPv{} address, but there is no IPv{} address-pool",
                             it->first, lease.identity, v4 ? 4 : 6, v4 ? 4 : 6);
            continue;
        }
        if (const auto block = pool->acquire(lease.identity))
            (v4 ? given.address4 : given.address6) = *block;
        else
            log::ike()->warn("mode-config {}: address pool {} exhausted ({} addresses leased): no address for {} "
                             "(peer {})",
                             it->first, pool->pool().to_string(), pool->in_use(), lease.identity, lease.peer);
    }
    if (!given.has_address())
        return given;
    ++pools.holders[lease.identity];
    auto& leased = leased_[lease.peer][lease.identity];
    leased.clear();
    for (const auto& address : {given.address4, given.address6})
        if (address)
            leased.push_back(*address);
    log::ike()->info("mode-config {}: {} leased to {} (peer {})", it->first, addresses_text(given), lease.identity,
                     lease.peer);
    for (const auto& tunnel : tunnels_)
        if (tunnel.config->peer == lease.peer)
            update_routes(tunnel);
    return given;
}

void Daemon::lease_ended(const ike::ModeConfigLease& lease)
{
    if (const config::Tunnel* pooled = pooled_template(config_, lease.peer)) {
        template_lease_ended(*pooled, lease);
        return;
    }
    const auto peer = config_.peers.find(lease.peer);
    const auto it = peer == config_.peers.end() ? lease_pools_.end() : lease_pools_.find(peer->second.mode_config);
    if (it == lease_pools_.end())
        return;
    LeasePool& pools = it->second;
    const auto holder = pools.holders.find(lease.identity);
    if (holder == pools.holders.end())
        return;
    // A branch that re-authenticated holds the lease on its new IKE SA too.
    if (--holder->second > 0)
        return;
    pools.holders.erase(holder);
    for (auto& pool : pools.pools)
        pool.release(lease.identity);
    leased_[lease.peer].erase(lease.identity);
    log::ike()->info("mode-config {}: the lease of {} (peer {}) ended", it->first, lease.identity, lease.peer);
    for (const auto& tunnel : tunnels_)
        if (tunnel.config->peer == lease.peer)
            update_routes(tunnel);
}

bool Daemon::attributes_received(const std::string& peer, const ike::ModeConfig& given)
{
    for (auto& tunnel : tunnels_) {
        if (tunnel.config->peer != peer || tunnel.config->static_sa)
            continue;
        // Mode ip: the address is the CHILD SA's TSi, a host (RFC 7296
        // section 2.9); mode gre: the tunnel address, with the prefix given.
        std::vector<net::IpPrefix> addresses;
        for (const auto& address : {given.address4, given.address6}) {
            if (!address)
                continue;
            const bool ip = tunnel.config->mode == config::TunnelMode::ip;
            addresses.push_back(ip ? net::IpPrefix(address->address(), address->address().is_v4() ? 32 : 128)
                                   : *address);
        }
        try {
            for (const auto& old : tunnel.assigned)
                if (std::ranges::find(addresses, old) == addresses.end())
                    net::remove_link_address(netlink_, tunnel.device->ifindex(), old);
            for (const auto& address : addresses)
                net::add_link_address(netlink_, tunnel.device->ifindex(), address);
        } catch (const std::exception& error) {
            log::ike()->error("tunnel {}: the address mode config assigned cannot be set: {}", tunnel.config->name,
                              error.what());
            return false;
        }
        if (tunnel.assigned != addresses)
            log::ike()->info("tunnel {}: interface {} has the address {} assigned by mode config",
                             tunnel.config->name, tunnel.config->interface, addresses_text(given));
        tunnel.assigned = std::move(addresses);
        tunnel.split_include = given.subnets;
        update_routes(tunnel);
    }
    return true;
}

void Daemon::add_mode_config_routes(const Tunnel& tunnel, std::vector<net::IpPrefix>& prefixes) const
{
    const auto add = [&](const net::IpPrefix& p) {
        if (std::ranges::find(prefixes, p) == prefixes.end())
            prefixes.push_back(p);
    };
    for (const auto& subnet : tunnel.split_include)
        add(subnet);
    if (const auto it = leased_.find(tunnel.config->peer); it != leased_.end())
        for (const auto& [identity, addresses] : it->second)
            for (const auto& address : addresses)
                add({address.address(), static_cast<std::uint8_t>(address.address().is_v4() ? 32 : 128)});
}

nlohmann::json Daemon::mode_config_status() const
{
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [name, lease] : lease_pools_) {
        nlohmann::json pools = nlohmann::json::array();
        for (const auto& pool : lease.pools)
            pools.push_back({{"address-pool", pool.pool().to_string()}, {"leased", pool.in_use()}});
        nlohmann::json leases = nlohmann::json::array();
        for (const auto& [identity, count] : lease.holders)
            for (const auto& pool : lease.pools)
                if (const auto block = pool.held(identity))
                    leases.push_back({{"identity", identity}, {"address", block->to_string()}});
        out.push_back({{"name", name}, {"pools", pools}, {"leases", leases}});
    }
    return out;
}

} // namespace mesh::daemon
