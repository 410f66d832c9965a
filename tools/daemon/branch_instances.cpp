// A template tunnel's instances (docs/configuration.md, "Template peers"):
// every branch that authenticates with a template peer gets a TUN of its
// own, made from the [tunnel] when the branch's first CHILD SA is installed
// and removed with its last one, so its SAs, DPD, rekeys, counters and routes
// are its own and one branch never sends on another's SA.
//
//   install_child(branch B of template T)  -> instance "T[B]": B's block of T's pool
//                                             (the same across reconnects and restarts,
//                                             net/address_pool.hpp), interface PREFIX+INDEX,
//                                             ours the block's first address, B's the next
//   use_outbound / delete_child / move_child -> the instance by the CHILD SA's inbound SPI
//   delete_child(B's last SA: Delete, DPD, replaced) -> TUN closed, routes withdrawn, block freed
//   lease_attributes(B's CFG_REQUEST, mode gre with address-pool) -> B's end of the same block
//                                             (branch_block.hpp), held while an IKE SA of B holds it
//                                             or B has its instance (RFC 7296 section 3.15)
//
// IKE knows nothing of TUNs (docs/architecture.md): it names the template
// and the branch's identity (ike::ChildSaInstall::branch), the daemon keeps
// the instance.

#include "tools/daemon/daemon.hpp"

#include "ike/identity.hpp"
#include "net/log_context.hpp"
#include "tools/daemon/branch_block.hpp"
#include "tools/log/log.hpp"

#include <algorithm>

namespace mesh::daemon {

namespace {

bool overlaps(const net::IpPrefix& a, const net::IpPrefix& b)
{
    return a.contains(b.address()) || b.contains(a.address());
}

} // namespace

net::AddressPool Daemon::template_pool(const config::Tunnel& config)
{
    if (config.address_pool)
        return net::AddressPool(*config.address_pool, config.branch_prefix_length);
    // Without addresses the pool only numbers the instances, as stably: 2^16 numbers.
    return net::AddressPool(net::IpPrefix(net::IpAddress::v4(0), 16), 32);
}

std::optional<Daemon::BranchBlock> Daemon::branch_block(const std::string& template_name, const std::string& key)
{
    const auto pool = templates_.find(template_name);
    if (pool == templates_.end())
        return std::nullopt;
    const auto block = pool->second.acquire(key);
    if (!block)
        return std::nullopt;
    BranchBlock out{*pool->second.index(key), std::nullopt, std::nullopt};
    if (config_.tunnels.at(template_name).address_pool) {
        const auto ends = block_ends(*block);
        out.ours = ends.ours;
        out.theirs = ends.theirs.address();
    }
    return out;
}

Daemon::Tunnel* Daemon::instance_for(const ike::ChildSaInstall& child)
{
    const auto pool = templates_.find(child.tunnel);
    if (pool == templates_.end())
        return nullptr;
    const config::Tunnel& config = config_.tunnels.at(child.tunnel);
    const std::string key = branch_key(*child.branch);
    const auto existing = std::find_if(tunnels_.begin(), tunnels_.end(),
                                       [&](const Tunnel& t) { return t.config == &config && t.branch == key; });
    if (existing != tunnels_.end())
        return &*existing;

    // Mode ip: the branch's networks are its traffic selectors, which IKE
    // narrowed to remote-subnets; no two branches may hold one network.
    if (config.mode == config::TunnelMode::ip) {
        for (const auto& prefix : child.remote_subnets) {
            if (std::ranges::none_of(config.remote_subnets, [&](const net::IpPrefix& allowed) {
                    return allowed.contains(prefix.address()) && allowed.length() <= prefix.length();
                })) {
                log::esp()->warn("tunnel {}: {} claims {}, outside remote-subnets: refused", config.name, key,
                                 prefix.to_string());
                return nullptr;
            }
            for (const auto& other : tunnels_)
                for (const auto& held : other.routes)
                    if (overlaps(held, prefix)) {
                        log::esp()->warn("tunnel {}: {} claims {}, which tunnel {} holds ({}): refused", config.name,
                                         key, prefix.to_string(), other.name, held.to_string());
                        return nullptr;
                    }
        }
    }
    const auto block = branch_block(child.tunnel, key);
    if (!block) {
        log::esp()->error("tunnel {}: no instance for {}: all {} blocks of its pool are in use", config.name, key,
                          pool->second.capacity());
        return nullptr;
    }
    Tunnel instance;
    instance.config = &config;
    instance.name = config.name + "[" + key + "]";
    instance.interface = config.interface + std::to_string(block->index);
    instance.address = block->ours;
    instance.branch_address = block->theirs;
    if (config.mode == config::TunnelMode::ip)
        instance.routes = child.remote_subnets;
    instance.branch = key;
    instance.id = next_tunnel_id_++;
    instance.peer = child.remote;
    try {
        Tunnel& opened = open_tunnel(std::move(instance));
        log::esp()->info("tunnel {}: instance for {} at {} on {}{}", config.name, key, child.remote.to_string(),
                         opened.interface,
                         opened.branch_address ? ", branch address " + opened.branch_address->to_string() : "");
        return &opened;
    } catch (const std::exception& error) {
        pool->second.release(key);
        log::esp()->error("tunnel {}: no instance for {}: {}", config.name, key, error.what());
        return nullptr;
    }
}

void Daemon::remove_instance(Tunnel& instance)
{
    const auto scope = net::LogScope::tunnel(instance.config->name, instance.config->peer);
    // A branch that still holds its address by mode config keeps its block (template_lease_ended).
    if (!holds_block_lease(*instance.config, *instance.branch))
        templates_.at(instance.config->name).release(*instance.branch);
    log::esp()->info("tunnel {}: instance on {} removed", instance.name, instance.interface);
    close_tunnel(instance);
}

ike::ModeConfig Daemon::template_lease(const config::Tunnel& config, const ike::ModeConfigLease& lease)
{
    const std::string key = branch_key(lease.identity);
    net::AddressPool& pool = templates_.at(config.name);
    const auto block = branch_block(config.name, key) ? pool.held(key) : std::nullopt;
    if (!block) {
        log::ike()->warn("tunnel {}: all {} blocks of {} are in use: no address for {} (peer {})", config.name,
                         pool.capacity(), config.address_pool->to_string(), key, lease.peer);
        return {};
    }
    ike::ModeConfig given = block_mode_config(*block, lease.families);
    if (!given.has_address()) {
        log::ike()->info("tunnel {}: {} asks for no IPv{} address, the family of {}: none given", config.name, key,
                         config.address_pool->address().is_v4() ? 4 : 6, config.address_pool->to_string());
        if (!holds_block_lease(config, key) && !has_instance(config, key))
            pool.release(key);
        return given;
    }
    ++block_leases_[config.name][key];
    return given;
}

void Daemon::template_lease_ended(const config::Tunnel& config, const ike::ModeConfigLease& lease)
{
    const std::string key = branch_key(lease.identity);
    const auto holders = block_leases_.find(config.name);
    if (holders == block_leases_.end())
        return;
    const auto held = holders->second.find(key);
    if (held == holders->second.end())
        return;
    // A branch that re-authenticated holds its address on its new IKE SA too.
    if (--held->second > 0)
        return;
    holders->second.erase(held);
    if (!has_instance(config, key))
        templates_.at(config.name).release(key);
}

bool Daemon::holds_block_lease(const config::Tunnel& config, const std::string& key) const
{
    const auto holders = block_leases_.find(config.name);
    return holders != block_leases_.end() && holders->second.contains(key);
}

bool Daemon::has_instance(const config::Tunnel& config, const std::string& key) const
{
    return std::ranges::any_of(tunnels_, [&](const Tunnel& t) { return t.config == &config && t.branch == key; });
}

} // namespace mesh::daemon
