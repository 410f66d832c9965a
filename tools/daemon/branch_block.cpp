// A branch's block of a template's address-pool as values (branch_block.hpp).

#include "tools/daemon/branch_block.hpp"

#include "net/address_pool.hpp"
#include "tools/config/config.hpp"

#include <algorithm>
#include <cctype>

namespace mesh::daemon {

BlockEnds block_ends(const net::IpPrefix& block)
{
    const unsigned bits = block.address().is_v4() ? 32 : 128;
    const bool point_to_point = block.length() == bits - 1;
    const auto at = [&](std::uint64_t n) { return net::IpPrefix(net::AddressPool::address_in(block, n), block.length()); };
    return point_to_point ? BlockEnds{at(0), at(1)} : BlockEnds{at(1), at(2)};
}

ike::ModeConfig block_mode_config(const net::IpPrefix& block, ike::AddressFamilies asked)
{
    ike::ModeConfig given;
    if (block.address().is_v4() ? asked.ip4 : asked.ip6)
        (block.address().is_v4() ? given.address4 : given.address6) = block_ends(block).theirs;
    return given;
}

std::string branch_key(const ike::Identity& id)
{
    return branch_key(ike::to_string(id));
}

std::string branch_key(std::string_view identity)
{
    std::string text(identity);
    if (text.starts_with("fqdn:") || text.starts_with("user-fqdn:"))
        std::ranges::transform(text, text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

const config::Tunnel* pooled_template(const config::Config& config, const std::string& peer)
{
    const auto it = std::ranges::find_if(config.tunnels, [&](const auto& entry) {
        const config::Tunnel& t = entry.second;
        return t.peer == peer && t.is_template && t.address_pool && t.mode == config::TunnelMode::gre;
    });
    return it == config.tunnels.end() ? nullptr : &it->second;
}

} // namespace mesh::daemon
