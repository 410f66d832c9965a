// Tunnels: tunnel-mode policies (mode = "ip"), the policy templates of the
// peers that generate policies, and GRE interfaces over a peer (mode = "gre")
// with their /ip address and the /ip routes through them.

#include "tools/routeros/importer.hpp"
#include "tools/routeros/values.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>

namespace mesh::routeros::detail {

void Importer::policies()
{
    std::map<std::string, std::vector<const Item*>> templates;
    for (const auto& policy : items_.of(policy_menu)) {
        if (policy.disabled()) {
            out_.note(policy, "disabled=yes: left out");
            continue;
        }
        if (policy.arg("template", "no") == "yes") {
            templates[policy.arg("group", "default")].push_back(&policy);
            continue;
        }
        if (const auto action = policy.arg("action", "encrypt"); action != "encrypt") {
            out_.note(policy, "action=" + action + ": mesh-site is route-based, traffic not routed into a "
                              "tunnel never enters one: left out");
            continue;
        }
        const std::string peer = policy.arg("peer", "");
        if (disabled_peers_.contains(peer))
            continue;
        if (!peers_.contains(peer)) {
            out_.note(policy, "policy without a peer of the export (peer=" + peer + "): left out");
            continue;
        }
        if (policy.arg("tunnel", "no") != "yes") {
            transport_[peer] = &policy;
            continue;
        }
        add_ip_tunnel(peer, policy);
    }
    for (auto& [name, info] : peers_) {
        if (info.generate_policy.empty() || info.generate_policy == "no")
            continue;
        const auto& group = templates[info.template_group];
        if (group.empty()) {
            const Item implicit = routeros_default("");
            info.section->remark("no policy template of group " + info.template_group +
                                 " in the export: RouterOS's default one, 0.0.0.0/0 to 0.0.0.0/0");
            add_ip_tunnel(name, implicit);
        }
        for (const auto* policy : group)
            add_ip_tunnel(name, *policy);
    }
}

void Importer::add_ip_tunnel(const std::string& peer, const Item& policy)
{
    const std::string proposal = policy.arg("proposal", "default");
    auto it = std::ranges::find_if(tunnels_, [&](const Tunnel& t) {
        return t.peer == peer && t.mode == "ip" && t.proposal == proposal;
    });
    if (it == tunnels_.end()) {
        Tunnel t;
        t.peer = peer;
        t.proposal = proposal;
        tunnels_.push_back(std::move(t));
        it = std::prev(tunnels_.end());
    }
    if (it->comment.empty())
        it->comment = policy.comment();
    const PeerInfo& info = peers_.at(peer);
    const std::string line = policy.command.line ? "line " + std::to_string(policy.command.line) + ": " : "";
    const auto add = [&](std::vector<std::string>& list, const std::string& key) {
        const std::string given = policy.arg(key, "0.0.0.0/0");
        const auto net = network(given);
        if (!net) {
            it->notes.push_back(line + key + "=" + given + ": not an address, left out");
            return;
        }
        if (*net != host_or_prefix(given) && *net != given)
            it->notes.push_back(line + key + "=" + given + ": host bits set, written as " + *net);
        if (std::ranges::find(list, *net) == list.end())
            list.push_back(*net);
    };
    if (info.mode_config == "request") {
        if (policy.get("src-address"))
            it->notes.push_back(line + policy.command.show("src-address") + ": the hub assigns this side's address "
                                "(mode config): traffic must come from it, so a LAN behind needs source NAT");
    } else {
        add(it->local, "src-address");
    }
    const auto served = mode_configs_.find(info.mode_config);
    const std::string* pool_name = served != mode_configs_.end() ? served->second->get("address-pool") : nullptr;
    const auto pool = pool_name && pools_.contains(*pool_name)
                          ? pool_prefix(pools_.at(*pool_name)->arg("ranges", ""))
                          : std::nullopt;
    if (pool && within(policy.arg("dst-address", "0.0.0.0/0"), pool->prefix))
        it->notes.push_back(line + policy.command.show("dst-address") + ": the branches' addresses from mode config " +
                            info.mode_config + ", routed to each branch: no remote-subnets needed");
    else
        add(it->remote, "dst-address");
    for (const auto* key : {"protocol", "src-port", "dst-port"})
        if (const auto* v = policy.get(key); v && *v != "all" && *v != "any")
            it->notes.push_back(line + policy.command.show(key) + ": mesh-site's traffic selectors are whole "
                                "prefixes, every protocol and port: not mapped");
    if (policy.arg("ipsec-protocols", "esp") != "esp")
        it->notes.push_back(line + policy.command.show("ipsec-protocols") + ": mesh-site uses ESP only");
    static constexpr std::array<std::string_view, 14> handled{
        "src-address", "dst-address", "peer",  "tunnel", "proposal", "protocol",        "src-port",
        "dst-port",    "template",    "group", "action", "level",    "ipsec-protocols", "comment"};
    if (policy.command.line != 0)
        for (const auto& argument : policy.command.arguments)
            if (std::ranges::find(handled, argument.key) == handled.end())
                it->notes.push_back(line + policy.command.show(argument.key) + ": not mapped");
    proposals_used_.insert(proposal);
}

void Importer::gre_tunnels()
{
    for (const auto& gre : items_.of(gre_menu)) {
        if (gre.disabled()) {
            out_.note(gre, "interface " + gre.name() + " is disabled=yes: left out");
            continue;
        }
        std::string peer;
        const Item* transport = nullptr;
        if (const auto it = gre_peer_.find(gre.name()); it != gre_peer_.end()) {
            peer = it->second;
        } else {
            const std::string remote = host_or_prefix(gre.arg("remote-address", ""));
            for (const auto& [name, info] : peers_)
                if (info.address == remote && transport_.contains(name)) {
                    peer = name;
                    transport = transport_.at(name);
                }
        }
        if (peer.empty()) {
            out_.note(gre, "interface " + gre.name() + ": GRE without IPsec (no ipsec-secret, no peer at " +
                               gre.arg("remote-address", "?") + " with a transport policy): mesh-site carries "
                               "GRE over ESP only, left out");
            continue;
        }
        if (!gre_address_.contains(gre.name())) {
            out_.note(gre, "interface " + gre.name() + " has no /ip address in the export: a GRE tunnel needs "
                               "one, left out");
            continue;
        }
        Tunnel t;
        t.peer = peer;
        t.proposal = transport ? transport->arg("proposal", "default") : "default";
        t.mode = "gre";
        t.gre = &gre;
        proposals_used_.insert(t.proposal);
        tunnels_.push_back(std::move(t));
    }
    for (const auto& [peer, policy] : transport_)
        if (std::ranges::none_of(tunnels_, [&](const Tunnel& t) { return t.peer == peer && t.gre; }))
            out_.note(*policy, "transport-mode policy of peer " + peer + " with no /interface gre to it: "
                               "mesh-site's transport mode carries GRE only, left out");
}

void Importer::write_tunnels()
{
    std::set<std::string> names;
    std::set<std::string> interfaces;
    for (const auto& t : tunnels_) {
        std::string name = t.gre ? t.gre->name() : t.peer;
        for (int n = 2; names.contains(name); ++n)
            name = t.peer + "-" + std::to_string(n);
        names.insert(name);
        Section& s = out_.add("tunnel." + toml_key(name), t.gre ? t.gre->comment() : t.comment);
        for (const auto& note : t.notes)
            s.note_text(note);
        s.set("peer", toml_string(t.peer));
        std::string interface = t.gre ? t.gre->name() : name;
        // A template's interface is the prefix of its instances' (a number
        // of up to 5 digits follows), which must not end in a digit itself.
        const bool is_template = peers_.at(t.peer).template_peer;
        const auto fits = [&](const std::string& candidate) {
            return is_interface_name(candidate) && !interfaces.contains(candidate) &&
                   (!is_template || (candidate.size() <= 10 && std::isdigit(static_cast<unsigned char>(
                                                                  candidate.back())) == 0));
        };
        for (int n = 0; !fits(interface); ++n)
            interface = is_template ? "branch" + std::string(static_cast<std::size_t>(n / 26), 'z') +
                                          static_cast<char>('a' + n % 26)
                                    : "ipsec" + std::to_string(n);
        interfaces.insert(interface);
        if (interface != name)
            s.set("interface", toml_string(interface));
        s.set("mode", toml_string(t.mode));
        if (t.proposal != "default")
            s.set("proposal", toml_string(t.proposal));
        if (t.gre)
            write_gre(s, *t.gre);
        if (!t.local.empty())
            s.set("local-subnets", toml_list(t.local));
        if (!t.remote.empty())
            s.set("remote-subnets", toml_list(t.remote));
        write_routes(s, interface, t.gre ? t.gre->name() : "");
    }
    for (const auto& [name, info] : peers_)
        if (std::ranges::none_of(tunnels_, [&](const Tunnel& t) { return t.peer == name; }))
            info.section->note_text("no policy or GRE interface of the export uses this peer, so it has no "
                                    "[tunnel] and the daemon ignores it");
}

void Importer::write_gre(Section& s, const Item& gre)
{
    s.set("address", toml_string(gre_address_.at(gre.name())));
    if (const auto* mtu = gre.get("mtu"); mtu && *mtu != "auto") {
        const int value = std::atoi(mtu->c_str());
        if (value >= 576 && value <= 65535)
            s.set("mtu", *mtu);
        else
            s.note(gre, "mtu=" + *mtu + ": mesh-site takes 576 to 65535, computed from the path when left out");
    }
    if (gre.arg("clamp-tcp-mss", "yes") == "no")
        s.set("mss-clamp", "false");
    if (const auto* keepalive = gre.get("keepalive"))
        s.note(gre, "keepalive=" + *keepalive + ": not mapped: the peer's profile (dpd-interval, "
                    "dpd-maximum-failures) says when the other side is dead");
    s.unmapped(gre, {"name", "remote-address", "local-address", "ipsec-secret", "mtu", "clamp-tcp-mss",
                     "keepalive", "comment", "disabled", "allow-fast-path"});
}

// /ip route ... gateway=INTERFACE: the tunnel's routes.

void Importer::write_routes(Section& s, const std::string& interface, const std::string& gre)
{
    std::vector<std::string> routes;
    std::set<std::string> distances;
    for (const auto& route : items_.of(route_menu)) {
        const std::string gateway = route.arg("gateway", "");
        if (route.disabled() || (gateway != interface && gateway != gre) || gateway.empty())
            continue;
        const auto net = network(route.arg("dst-address", "0.0.0.0/0"));
        if (!net)
            continue;
        routes.push_back(*net);
        distances.insert(route.arg("distance", "1"));
        s.unmapped(route, {"dst-address", "gateway", "distance", "comment", "disabled"});
    }
    if (routes.empty())
        return;
    s.set("routes", toml_list(routes));
    if (distances.size() > 1)
        s.note_text("the routes have distances " + std::to_string(distances.size()) + " different distances: "
                    "mesh-site has one per tunnel, the first is used");
    const int distance = std::atoi(distances.begin()->c_str());
    if (distance >= 1 && distance <= 253)
        s.set("route-distance", *distances.begin());
}

} // namespace mesh::routeros::detail
