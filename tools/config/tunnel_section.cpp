// [tunnel.NAME]: one CHILD SA and its TUN interface, its addresses and
// routes, and optionally [tunnel.NAME.static-sa] keying it by hand.

#include "tools/config/sections.hpp"
#include "tools/config/static_sa.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace mesh::config::detail {
namespace {

constexpr std::array<std::string_view, 2> mode_names{"gre", "ip"};

// Linux's dev_valid_name(): at most IFNAMSIZ - 1 bytes, not "." or "..",
// no '/', ':' or whitespace. Empty when the name is fine.
std::string interface_name_problem(std::string_view name)
{
    if (name.empty())
        return "is empty";
    if (name.size() > 15)
        return "is longer than 15 characters";
    if (name == "." || name == "..")
        return "is not allowed";
    for (const char c : name)
        if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)))
            return "may not contain '/', ':' or whitespace";
    return {};
}

// Whether `name` is `prefix` followed by decimal digits: an instance's name.
bool instance_of(std::string_view name, std::string_view prefix)
{
    return name.size() > prefix.size() && name.starts_with(prefix) &&
           std::ranges::all_of(name.substr(prefix.size()), [](char c) { return c >= '0' && c <= '9'; });
}

// A template's interface is the prefix of its instances' names: the prefix
// and the largest block index must fit IFNAMSIZ, and no other interface may
// look like one of its instances.
void claim_instance_names(const TableReader& r, const Tunnel& t, const std::optional<Value<std::string>>& interface,
                          TunnelClaims& claims, std::uint64_t instances)
{
    const auto fail = [&](const std::string& message) {
        if (interface)
            r.fail(*interface->node, message);
        r.fail_here(message);
    };
    const std::string longest = t.interface + std::to_string(instances - 1);
    if (longest.size() > 15)
        fail("interface prefix " + in_quotes(t.interface) + " with up to " + std::to_string(instances) +
             " instances makes names like " + in_quotes(longest) +
             ", longer than 15 characters: shorten the prefix or the address-pool");
    for (const auto& [name, tunnel] : claims.interfaces)
        if (instance_of(name, t.interface))
            fail("interface " + in_quotes(name) + " of [tunnel." + tunnel + "] looks like an instance of [tunnel." +
                 t.name + "] (prefix " + in_quotes(t.interface) + ")");
    for (const auto& [prefix, tunnel] : claims.instance_prefixes)
        if (prefix.starts_with(t.interface) || t.interface.starts_with(prefix))
            fail("interface prefix " + in_quotes(t.interface) + " and [tunnel." + tunnel + "]'s " + in_quotes(prefix) +
                 " can make the same names: choose prefixes that do not start one another");
    claims.instance_prefixes.emplace(t.interface, t.name);
}

void read_interface(const TableReader& r, Tunnel& t, TunnelClaims& claims, std::uint64_t instances)
{
    const auto interface = r.string("interface");
    t.interface = interface ? interface->value : t.name;
    if (t.is_template) {
        if (const auto problem = interface_name_problem(t.interface); !problem.empty())
            r.fail(interface ? *interface->node : *r.node("peer"), "interface prefix " + in_quotes(t.interface) + " " + problem);
        claim_instance_names(r, t, interface, claims, instances);
        return;
    }
    for (const auto& [prefix, tunnel] : claims.instance_prefixes)
        if (instance_of(t.interface, prefix)) {
            const std::string message = "interface " + in_quotes(t.interface) + " looks like an instance of [tunnel." +
                                        tunnel + "] (prefix " + in_quotes(prefix) + ")";
            if (interface)
                r.fail(*interface->node, message);
            r.fail_here(message);
        }
    if (const auto problem = interface_name_problem(t.interface); !problem.empty()) {
        if (interface)
            r.fail(*interface->node, "interface name " + in_quotes(t.interface) + " " + problem);
        r.fail_here("the tunnel's name " + in_quotes(t.name) + ", the default interface name, " + problem +
                    ": set 'interface'");
    }
    if (const auto [it, added] = claims.interfaces.emplace(t.interface, t.name); !added) {
        const std::string message =
            "interface " + in_quotes(t.interface) + " is already used by [tunnel." + it->second + "]";
        if (interface)
            r.fail(*interface->node, message);
        r.fail_here(message);
    }
}

// A template's address-pool and branch-prefix-length, and what it may not have.
void read_pool(const TableReader& r, Tunnel& t)
{
    const auto pool = r.prefix("address-pool");
    const auto length = r.integer("branch-prefix-length", 0, 128);
    if (!t.is_template) {
        if (pool || length)
            r.fail(pool ? *pool->node : *length->node,
                   std::string(pool ? "'address-pool'" : "'branch-prefix-length'") +
                       " is only for a template tunnel, whose peer's address is a prefix");
        return;
    }
    if (const toml::node* n = r.node("address"))
        r.fail(*n, "a template tunnel gives each branch its own address: set 'address-pool' instead of 'address'");
    if (const toml::node* n = r.node("routes"))
        r.fail(*n, "a template tunnel routes what each branch brings: its traffic selectors (mode = \"ip\") or a "
                   "routing protocol over the instances; 'routes' would send every prefix to every branch");
    if (!pool) {
        if (t.mode == TunnelMode::gre)
            r.fail_here("missing 'address-pool' in " + r.section() +
                        " (a template tunnel of mode = \"gre\" gives each branch a block of it)");
        if (length)
            r.fail(*length->node, "'branch-prefix-length' needs an 'address-pool'");
        return;
    }
    r.check_network(*pool, "address-pool");
    const bool v4 = pool->value.address().is_v4();
    const int longest = v4 ? 32 : 128;
    t.branch_prefix_length = static_cast<std::uint8_t>(longest - 1);
    if (length) {
        if (length->value != longest - 1 && length->value != longest - 2)
            r.fail(*length->node, "'branch-prefix-length' is " + std::to_string(longest - 1) + " or " +
                                      std::to_string(longest - 2) + " for an " + (v4 ? "IPv4" : "IPv6") + " pool");
        t.branch_prefix_length = static_cast<std::uint8_t>(length->value);
    }
    if (pool->value.length() > t.branch_prefix_length)
        r.fail(*pool->node, "'address-pool' " + pool->value.to_string() + " is smaller than one branch's /" +
                                std::to_string(t.branch_prefix_length));
    t.address_pool = pool->value;
}


// address, local-subnets, remote-subnets and routes, as the mode wants them.
// A branch whose peer asks for mode config (`requests`) takes its address,
// and in mode ip its side of the CHILD SA, from the hub; a hub serving mode
// config (`serves`) has the address it leases as the branch's side.
void read_addresses(const TableReader& r, Tunnel& t, const std::string& peer_mode_config)
{
    const bool requests = peer_mode_config == mode_config_request;
    const bool serves = !peer_mode_config.empty() && !requests;
    const std::string assigned = "the hub assigns it: [peer." + t.peer + "] has mode-config = \"request\"";
    if (const auto v = r.prefix("address")) {
        if (requests)
            r.fail(*v->node, "'address' is not used: " + assigned);
        t.address = v->value;
    } else if (t.mode == TunnelMode::gre && !t.is_template && !requests) {
        r.fail_here("missing 'address' in " + r.section() + " (required for mode = \"gre\")");
    }

    for (const std::string_view key : {"local-subnets", "remote-subnets"}) {
        if (t.mode == TunnelMode::gre) {
            if (const toml::node* n = r.node(key))
                r.fail(*n, in_quotes(key) + " is only used with mode = \"ip\"");
            continue;
        }
        const bool local = key == "local-subnets";
        if (local && requests) {
            if (const toml::node* n = r.node(key))
                r.fail(*n, "'local-subnets' is not used: the CHILD SA's side here is the address " + assigned);
            continue;
        }
        if (!local && serves && !r.has(key))
            continue;   // the branch's side is the address it is leased
        if (!r.has(key))
            r.fail_here("missing " + in_quotes(key) + " in " + r.section() + " (required for mode = \"ip\")");
        auto subnets = r.networks(key);
        if (subnets.empty())
            r.fail(*r.node(key), in_quotes(key) + " must not be empty");
        (key == "local-subnets" ? t.local_subnets : t.remote_subnets) = std::move(subnets);
    }
    t.routes = r.networks("routes");
}

std::string hex_spi(std::uint32_t spi)
{
    std::array<char, 11> text{};
    std::snprintf(text.data(), text.size(), "0x%08x", spi);
    return text.data();
}

} // namespace

Tunnel read_tunnel(const Source& source, const Section& s, const Config& config, TunnelClaims& claims)
{
    const TableReader r(source, *s.table, "tunnel." + s.name,
                        {"peer", "proposal", "interface", "address", "mode", "local-subnets", "remote-subnets", "mtu",
                         "routes", "route-distance", "mss-clamp", "disabled", "static-sa", "address-pool", "branch-prefix-length"});
    Tunnel t;
    t.name = s.name;

    const auto peer = r.required_string("peer");
    r.check_reference(peer, "peer", config.peers);
    t.peer = peer.value;
    if (const auto v = r.string("proposal")) {
        r.check_reference(*v, "proposal", config.proposals);
        t.proposal = v->value;
    }
    t.is_template = config.peers.at(t.peer).is_template();
    // Nothing negotiates where a static SA sends: the peer must be one address.
    if (const toml::table* table = r.table("static-sa"); table && t.is_template)
        source.fail(*table, "a static SA needs one peer address, but [peer." + t.peer + "] has the prefix " +
                                config.peers.at(t.peer).address.to_string());
    if (const toml::table* table = r.table("static-sa"); table && config.peers.at(t.peer).host_name)
        source.fail(*table, "a static SA needs the peer's address, but [peer." + t.peer + "] has the DNS name " +
                                *config.peers.at(t.peer).host_name + ": write its address, or let IKE key the tunnel");
    const auto mode = r.choice("mode", mode_names);
    t.mode = mode && mode->value == "ip" ? TunnelMode::ip : TunnelMode::gre;
    const Peer& peer_config = config.peers.at(t.peer);
    read_pool(r, t);
    // Mode config of such a template is the branch's end of its block: no [mode-config] pool besides.
    if (t.address_pool && t.mode == TunnelMode::gre && !peer_config.mode_config.empty())
        r.fail(*r.node("address-pool"), "[peer." + t.peer + "] has mode-config = \"" + peer_config.mode_config +
                                            "\", but a branch of this template that asks for an address gets "
                                            "its end of its block of 'address-pool': leave mode-config out of [peer." +
                                            t.peer + "]");
    read_interface(r, t, claims, instance_capacity(t));
    read_addresses(r, t, peer_config.mode_config);

    if (const auto v = r.integer("mtu", 576, 65535)) {
        // RFC 8200 section 5: every link that carries IPv6 has an MTU of at least 1280.
        const auto is_v6 = [](const net::IpPrefix& p) { return !p.address().is_v4(); };
        const bool carries_v6 = (t.address && is_v6(*t.address)) || std::ranges::any_of(t.local_subnets, is_v6) ||
                                std::ranges::any_of(t.remote_subnets, is_v6) || std::ranges::any_of(t.routes, is_v6);
        if (carries_v6 && v->value < 1280)
            r.fail(*v->node, "'mtu' must be at least 1280 on a tunnel that carries IPv6 (RFC 8200 section 5)");
        t.mtu = static_cast<std::uint32_t>(v->value);
    }
    if (const auto v = r.integer("route-distance", 1, 253))
        t.route_distance = static_cast<std::uint32_t>(v->value);
    if (const auto v = r.boolean("disabled"))
        t.disabled = v->value;
    if (const auto v = r.boolean("mss-clamp"))
        t.mss_clamp = v->value;

    if (const toml::table* table = r.table("static-sa")) {
        if (!peer_config.mode_config.empty())
            source.fail(*table, "a static SA has no IKE_AUTH to carry mode config, but [peer." + t.peer +
                                    "] has mode-config = \"" + peer_config.mode_config + "\"");
        auto read = read_static_sa(source, *table, r.name() + ".static-sa");
        if (const auto [it, added] = claims.spis_in.emplace(read.sa.spi_in, t.name); !added)
            source.fail(*read.spi_in,
                        "spi-in " + hex_spi(read.sa.spi_in) + " is already used by [tunnel." + it->second + "]");
        t.static_sa = std::move(read.sa);
    }
    // One address for one tunnel: the assigned address is the tunnel's.
    if (peer_config.mode_config == mode_config_request)
        for (const auto& [name, other] : config.tunnels)
            if (other.peer == t.peer)
                r.fail(*peer.node, "[peer." + t.peer + "] has mode-config = \"request\", which gives one address "
                                   "for one tunnel, and [tunnel." + name + "] uses it already");
    return t;
}

} // namespace mesh::config::detail
