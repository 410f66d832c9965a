// [mode-config.NAME]: the address pools, split-include networks and DNS
// servers a hub gives branches in IKE_AUTH (RFC 7296 section 3.15).

#include "tools/config/sections.hpp"

namespace mesh::config::detail {
namespace {

bool overlap(const net::IpPrefix& a, const net::IpPrefix& b)
{
    return a.address().family() == b.address().family() && (a.contains(b.address()) || b.contains(a.address()));
}

// A string or an array of strings, each a network; at most one per family.
std::vector<net::IpPrefix> read_pools(const TableReader& r)
{
    const toml::node* n = r.node("address-pool");
    if (n == nullptr)
        r.fail_missing("address-pool");
    std::vector<Value<net::IpPrefix>> pools;
    if (n->is_string()) {
        pools.push_back(*r.prefix("address-pool"));
    } else {
        const auto list = r.strings("address-pool");
        for (const auto& item : list->items) {
            const auto p = net::IpPrefix::parse(item.value);
            if (!p)
                r.fail(*item.node, "'address-pool' must hold networks, not \"" + item.value + "\"");
            pools.push_back({*p, item.node});
        }
        if (pools.empty())
            r.fail(*n, "'address-pool' must not be empty");
    }
    std::vector<net::IpPrefix> out;
    for (const auto& pool : pools) {
        r.check_network(pool, "address-pool");
        for (const auto& earlier : out)
            if (earlier.address().family() == pool.value.address().family())
                r.fail(*pool.node, "'address-pool' holds at most one IPv4 and one IPv6 network");
        out.push_back(pool.value);
    }
    return out;
}

} // namespace

ModeConfig read_mode_config(const Source& source, const Section& s, const std::map<std::string, ModeConfig>& earlier)
{
    const TableReader r(source, *s.table, "mode-config." + s.name,
                        {"address-pool", "split-include", "dns", "system-dns"});
    if (s.name == mode_config_request)
        r.fail_here("[mode-config.request] cannot be named: on a peer, mode-config = \"request\" asks for an "
                    "address instead of serving one");
    ModeConfig m;
    m.name = s.name;
    m.address_pools = read_pools(r);
    for (const auto& pool : m.address_pools)
        for (const auto& [name, other] : earlier)
            for (const auto& taken : other.address_pools)
                if (overlap(pool, taken))
                    r.fail(*r.node("address-pool"), "'address-pool' " + pool.to_string() + " overlaps " +
                                                        taken.to_string() + " of [mode-config." + name + "]");
    m.split_include = r.networks("split-include");
    if (const auto list = r.strings("dns")) {
        for (const auto& item : list->items) {
            const auto a = net::IpAddress::parse(item.value);
            if (!a || a->is_unspecified())
                r.fail(*item.node, "'dns' must hold IP addresses, not \"" + item.value + "\"");
            m.dns.push_back(*a);
        }
    }
    if (const auto v = r.boolean("system-dns")) {
        if (v->value && !m.dns.empty())
            r.fail(*v->node, "give either 'dns' or system-dns = true, not both");
        m.system_dns = v->value;
    }
    return m;
}

} // namespace mesh::config::detail
