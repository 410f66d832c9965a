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
//
// IKE knows nothing of TUNs (docs/architecture.md): it names the template
// and the branch's identity (ike::ChildSaInstall::branch), the daemon keeps
// the instance.

#include "tools/daemon/daemon.hpp"

#include "ike/identity.hpp"
#include "tools/log/log.hpp"

#include <algorithm>
#include <cctype>

namespace mesh::daemon {

namespace {

// A branch's key: its identity as text, names in lower case, as IKE
// compares them (ike/identity.hpp, matches).
std::string branch_key(const ike::Identity& id)
{
    std::string text = ike::to_string(id);
    if (id.type == ike::IdType::fqdn || id.type == ike::IdType::rfc822_addr)
        std::ranges::transform(text, text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

bool overlaps(const net::IpPrefix& a, const net::IpPrefix& b)
{
    return a.contains(b.address()) || b.contains(a.address());
}

// Which addresses of a block the two ends take: a /31 (/127) both, a /30
// (/126) the two that are neither its network nor its broadcast address.
std::pair<std::uint64_t, std::uint64_t> block_hosts(const net::IpPrefix& block)
{
    const unsigned bits = block.address().is_v4() ? 32 : 128;
    return block.length() == bits - 1 ? std::pair{0, 1} : std::pair{1, 2};
}

} // namespace

net::AddressPool Daemon::template_pool(const config::Tunnel& config)
{
    if (config.address_pool)
        return net::AddressPool(*config.address_pool, config.branch_prefix_length);
    // Without addresses the pool only numbers the instances, as stably: 2^16 numbers.
    return net::AddressPool(net::IpPrefix(net::IpAddress::v4(0), 16), 32);
}

std::optional<Daemon::BranchBlock> Daemon::branch_block(const std::string& template_name, const ike::Identity& branch)
{
    const auto pool = templates_.find(template_name);
    if (pool == templates_.end())
        return std::nullopt;
    const std::string key = branch_key(branch);
    const auto block = pool->second.acquire(key);
    if (!block)
        return std::nullopt;
    BranchBlock out{*pool->second.index(key), std::nullopt, std::nullopt};
    if (config_.tunnels.at(template_name).address_pool) {
        const auto [ours, theirs] = block_hosts(*block);
        out.ours = net::IpPrefix(net::AddressPool::address_in(*block, ours), block->length());
        out.theirs = net::AddressPool::address_in(*block, theirs);
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
    const auto block = branch_block(child.tunnel, *child.branch);
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
    templates_.at(instance.config->name).release(*instance.branch);
    log::esp()->info("tunnel {}: instance on {} removed", instance.name, instance.interface);
    close_tunnel(instance);
}

} // namespace mesh::daemon
