// The import, in the order the output is written:
//   1. the export's commands gathered into items per menu (add, and set by
//      name or [ find default=yes ]), RouterOS's defaults standing for what
//      an export leaves out (it prints only what differs from them);
//   2. [site], from /system identity or the file's name;
//   3. profiles and proposals (ipsec_sections.cpp), mode configs;
//   4. peers with their identities, then GRE interfaces with ipsec-secret as peers of their own;
//   5. tunnels: tunnel-mode policies (mode = "ip"), templates of peers that
//      generate policies, GRE interfaces over a peer (mode = "gre") with their
//      /ip address and the /ip routes through them.

#include "tools/routeros/import.hpp"

#include "tools/routeros/ipsec_sections.hpp"
#include "tools/routeros/values.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

namespace mesh::routeros {
namespace {

constexpr std::string_view profile_menu = "/ip ipsec profile";
constexpr std::string_view proposal_menu = "/ip ipsec proposal";
constexpr std::string_view peer_menu = "/ip ipsec peer";
constexpr std::string_view identity_menu = "/ip ipsec identity";
constexpr std::string_view policy_menu = "/ip ipsec policy";
constexpr std::string_view mode_config_menu = "/ip ipsec mode-config";
constexpr std::string_view group_menu = "/ip ipsec policy group";
constexpr std::string_view pool_menu = "/ip pool";
constexpr std::string_view gre_menu = "/interface gre";
constexpr std::string_view address_menu = "/ip address";
constexpr std::string_view route_menu = "/ip route";
constexpr std::string_view system_identity_menu = "/system identity";

constexpr std::array<std::string_view, 12> imported_menus{
    profile_menu, proposal_menu, peer_menu,    identity_menu, policy_menu, mode_config_menu,
    group_menu,   pool_menu,     gre_menu,     address_menu,  route_menu,  system_identity_menu};

// The items of the menus `set [ find default=yes ]` may change: RouterOS has them from the start.
std::string default_item_name(std::string_view menu)
{
    if (menu == mode_config_menu)
        return "request-only";
    return "default";
}

struct Items {
    std::map<std::string, std::vector<Item>, std::less<>> menus;
    std::vector<std::string> notes;   // top of the file
    std::map<std::string, std::size_t, std::less<>> skipped;

    std::vector<Item>& of(std::string_view menu) { return menus[std::string(menu)]; }
};

Items gather(const Export& rsc)
{
    Items items;
    for (const auto& command : rsc.commands) {
        if (std::ranges::find(imported_menus, command.menu) == imported_menus.end()) {
            ++items.skipped[command.menu.empty() ? "(no menu)" : command.menu];
            continue;
        }
        auto& list = items.of(command.menu);
        if (command.verb == "add") {
            list.push_back(Item{command});
            continue;
        }
        if (command.verb != "set") {
            items.notes.push_back("line " + std::to_string(command.line) + ": " + command.menu + " " + command.verb +
                                  ": not imported (an export adds and sets only)");
            continue;
        }
        // set: the item named, RouterOS's default one, or the menu's only one (/system identity).
        const std::string wanted = command.selector == "default" ? default_item_name(command.menu) : command.selector;
        auto it = std::ranges::find_if(list, [&](const Item& i) {
            return command.selector.empty() || i.name() == wanted || (command.selector == "default" && i.is_default);
        });
        if (it == list.end() && (command.selector == "default" || command.selector.empty())) {
            Command base;
            base.menu = command.menu;
            base.line = command.line;
            base.arguments.push_back({"name", wanted});
            list.push_back(Item{base, true});
            it = std::prev(list.end());
        }
        if (it == list.end()) {
            items.notes.push_back("line " + std::to_string(command.line) + ": " + command.menu + " set " +
                                  command.selector + ": no such item in the export, not imported");
            continue;
        }
        for (const auto& argument : command.arguments)
            it->command.arguments.push_back(argument);
    }
    return items;
}

std::string site_name(Items& items, std::string_view fallback)
{
    std::string name;
    for (const auto& item : items.of(system_identity_menu))
        if (const auto* n = item.get("name"))
            name = *n;
    if (name.empty())
        name = fallback;
    std::ranges::replace_if(name, [](char c) { return c == '/' || std::isspace(static_cast<unsigned char>(c)); }, '-');
    return name.empty() ? "site" : name;
}

std::string file_name(std::string_view name)
{
    std::string out(name);
    std::ranges::replace_if(out, [](char c) {
        return !(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_');
    }, '_');
    return out;
}

class Importer {
public:
    Importer(Items& items, Output& out) : items_(items), out_(out) {}

    void run(std::string_view name)
    {
        Section& site = out_.add("site");
        site.set("name", toml_string(name));
        for (const auto& item : items_.of(profile_menu))
            profiles_[item.name()] = &item;
        for (const auto& item : items_.of(proposal_menu))
            proposals_[item.name()] = &item;
        for (const auto& item : items_.of(pool_menu))
            pools_[item.name()] = &item;
        for (const auto& item : items_.of(mode_config_menu))
            mode_configs_[item.name()] = &item;
        gather_gre_addresses();
        peers();
        gre_peers();
        policies();
        gre_tunnels();
        write_used_sections();
    }

    [[nodiscard]] const std::vector<std::string>& files() const { return files_; }

private:
    struct Tunnel {
        std::string peer;
        std::string proposal = "default";
        std::string mode = "ip";
        std::vector<std::string> local;
        std::vector<std::string> remote;
        const Item* gre = nullptr;
        std::vector<std::string> notes;
    };
    struct PeerInfo {
        std::string address;
        bool template_peer = false;
        std::string mode_config;           // "request", a name, or empty
        std::string generate_policy;       // "no", "port-strict", ...
        std::string template_group = "default";
        Section* section = nullptr;
    };

    void peers()
    {
        std::map<std::string, std::vector<const Item*>> identities;
        for (const auto& identity : items_.of(identity_menu)) {
            if (identity.disabled()) {
                out_.note(identity, "disabled=yes: left out");
                continue;
            }
            identities[identity.arg("peer", "")].push_back(&identity);
        }
        for (const auto& peer : items_.of(peer_menu)) {
            if (peer.disabled()) {
                out_.note(peer, "peer " + peer.name() + " is disabled=yes: left out with its identities and policies");
                disabled_peers_.insert(peer.name());
                continue;
            }
            Section& s = out_.add("peer." + toml_key(peer.name()), peer.comment());
            PeerInfo info;
            info.section = &s;
            info.address = host_or_prefix(peer.arg("address", "0.0.0.0/0"));
            info.template_peer = is_range(peer.arg("address", "0.0.0.0/0"));
            if (peer.get("address") == nullptr)
                s.note(peer, "address: not given, so RouterOS accepts any: written as 0.0.0.0/0, passive");
            s.set("address", toml_string(info.address));
            if (const auto* local = peer.get("local-address"))
                s.set("local-address", toml_string(host_or_prefix(*local)));
            const bool passive = peer.arg("passive", "no") == "yes";
            if (passive || info.template_peer) {
                if (!passive)
                    s.note(peer, "passive=no with an address range: mesh-site initiates to one address only, so "
                                 "this peer only answers, as RouterOS does");
                s.set("passive", "true");
            }
            if (peer.arg("profile", "default") != "default")
                s.set("profile", toml_string(peer.arg("profile", "")));
            profiles_used_.insert(peer.arg("profile", "default"));
            const std::string exchange = peer.arg("exchange-mode", "main");
            if (exchange != "ike2")
                s.note(peer, "exchange-mode=" + exchange + (peer.get("exchange-mode") ? "" : " (RouterOS's default)") +
                                 ": mesh-site speaks IKEv2 only; set exchange-mode=ike2 on the RouterOS side too");
            if (const auto* port = peer.get("port"); port && *port != "500")
                s.note(peer, "port=" + *port + ": the IKE port is the site's (ike-port in [site]), not a peer's");
            s.unmapped(peer, {"name", "address", "local-address", "passive", "profile", "exchange-mode", "port",
                              "comment", "disabled"});
            identity_of(peer.name(), identities[peer.name()], info);
            peers_[peer.name()] = std::move(info);
        }
        for (const auto& [name, list] : identities)
            if (!peers_.contains(name) && !disabled_peers_.contains(name))
                for (const auto* identity : list)
                    out_.note(*identity, "identity of peer '" + name + "', which the export does not have: left out");
    }

    void identity_of(const std::string& peer_name, const std::vector<const Item*>& identities, PeerInfo& info)
    {
        Section& s = *info.section;
        if (identities.empty()) {
            s.remark("no /ip ipsec identity for this peer in the export: the key goes in " +
                     file_name(peer_name) + ".psk (mode 0600)");
            s.set("secret-file", toml_string(file_name(peer_name) + ".psk"));
            files_.push_back(file_name(peer_name) + ".psk");
            return;
        }
        const Item& id = *identities.front();
        const std::string method = id.arg("auth-method", "pre-shared-key");
        // A template peer's branches, each with its own key: [peer.NAME.secrets].
        const bool per_branch = info.template_peer && identities.size() > 1 &&
                                std::ranges::all_of(identities, [](const Item* i) {
                                    return i->arg("auth-method", "pre-shared-key") == "pre-shared-key" &&
                                           i->get("secret") && i->arg("remote-id", "auto").find(':') !=
                                                                    std::string::npos;
                                });
        if (method == "digital-signature") {
            s.set("auth-method", toml_string("digital-signature"));
            const auto chain = split_list(id.arg("certificate", ""));
            const std::string cert = file_name(chain.empty() ? peer_name : chain.front());
            const std::string exported = "cert_export_" + id.arg("certificate", "");
            s.remark("certificate=" + id.arg("certificate", "") + " is in RouterOS's store: `/certificate " +
                     "export-certificate " + id.arg("certificate", "") + " type=pem export-passphrase=PASSWORD` "
                     "writes " + exported + ".crt and .key; save the certificate as " + cert + ".pem, the key "
                     "decrypted (`openssl pkey -in " + exported + ".key -out " + cert + ".key`) as " + cert +
                     ".key (mode 0600), and the CA that signs the peers' certificates as ca.pem");
            s.set("certificate", toml_string(cert + ".pem"));
            s.set("private-key", toml_string(cert + ".key"));
            s.set("ca", toml_string("ca.pem"));
            for (const auto& f : {cert + ".pem", cert + ".key", std::string("ca.pem")})
                if (std::ranges::find(files_, f) == files_.end())
                    files_.push_back(f);
            if (const auto* remote = id.get("remote-certificate"); remote && *remote != "none")
                s.note(id, "remote-certificate=" + *remote + ": mesh-site accepts a certificate that chains to ca "
                           "and names the peer's ID: put its CA in ca.pem and set remote-id to narrow it down");
            if (id.arg("match-by", "remote-id") == "certificate")
                s.note(id, "match-by=certificate: mesh-site finds the peer by address and ID, then checks the "
                           "certificate against ca");
        } else if (method == "pre-shared-key") {
            if (per_branch) {
                s.remark("one identity per branch, each with its own key: [peer." + toml_key(peer_name) +
                         ".secrets]");
            } else if (const auto* secret = id.get("secret")) {
                s.remark("the secret is written here as the export holds it: move it to a secret-file (mode 0600)");
                s.set("secret", toml_string(*secret));
            } else {
                s.remark("the export holds no secret (RouterOS hides it unless `/export show-sensitive`): "
                         "the key goes in " + file_name(peer_name) + ".psk (mode 0600)");
                s.set("secret-file", toml_string(file_name(peer_name) + ".psk"));
                files_.push_back(file_name(peer_name) + ".psk");
            }
        } else {
            s.note(id, "auth-method=" + method + ": mesh-site authenticates with pre-shared-key or "
                       "digital-signature only; the key goes in " + file_name(peer_name) + ".psk");
            s.set("secret-file", toml_string(file_name(peer_name) + ".psk"));
            files_.push_back(file_name(peer_name) + ".psk");
        }
        if (const auto my = id.arg("my-id", "auto"); my != "auto")
            s.set("my-id", toml_string(my));
        const std::string remote = id.arg("remote-id", "auto");
        if (remote == "ignore")
            s.note(id, "remote-id=ignore: mesh-site takes whatever ID an authenticated peer sends (remote-id = "
                       "\"auto\", its default)");
        else if (remote != "auto" && !per_branch)
            s.set("remote-id", toml_string(remote));
        info.generate_policy = id.arg("generate-policy", "no");
        if (info.generate_policy != "no")
            s.note(id, "generate-policy=" + info.generate_policy + ": mesh-site has no policies to generate; the " +
                       "policy templates of group " + id.arg("policy-template-group", "default") + " make " +
                       (info.template_peer ? "a template tunnel: each branch gets its own instance"
                                           : "this peer's tunnel"));
        info.template_group = id.arg("policy-template-group", "default");
        if (const auto* mode_config = id.get("mode-config")) {
            const auto it = mode_configs_.find(*mode_config);
            const bool request = *mode_config == "request-only" ||
                                 (it != mode_configs_.end() && it->second->arg("responder", "yes") == "no");
            if (request && info.template_peer)
                s.note(id, "mode-config=" + *mode_config + " asks for an address, which a peer that only "
                           "answers never does: left out");
            else if (request)
                info.mode_config = "request";
            if (request && it != mode_configs_.end()) {
                if (const auto* list = it->second->get("src-address-list"))
                    s.note(*it->second, "src-address-list=" + *list + ": RouterOS source-NATs those hosts to the "
                                        "address the hub assigns; mesh-site does not: add a masquerade rule out of "
                                        "the tunnel's interface");
            }
            else if (it == mode_configs_.end() || served_pool(*it->second, pools_) == nullptr)
                s.note(id, "mode-config=" + *mode_config + ": not in the export, or its address-pool is not, left "
                           "out");
            else
                info.mode_config = *mode_config;
            if (!info.mode_config.empty()) {
                s.set("mode-config", toml_string(info.mode_config));
                if (info.mode_config != "request")
                    mode_configs_used_.insert(info.mode_config);
            }
        }
        s.unmapped(id, {"peer", "auth-method", "secret", "certificate", "remote-certificate", "match-by", "my-id",
                        "remote-id", "generate-policy", "policy-template-group", "mode-config", "comment",
                        "disabled"});
        for (std::size_t i = 1; i < identities.size(); ++i)
            if (!per_branch)
                s.note(*identities[i], "a second identity for this peer: mesh-site has one per peer, left out");
        if (per_branch) {
            Section& secrets = out_.add("peer." + toml_key(peer_name) + ".secrets");
            for (const auto* i : identities)
                secrets.set(toml_string(i->arg("remote-id", "")), toml_string(i->arg("secret", "")));
        }
    }

    void gather_gre_addresses()
    {
        for (const auto& gre : items_.of(gre_menu))
            gre_by_name_[gre.name()] = &gre;
        std::set<std::string> other_interfaces;
        for (const auto& address : items_.of(address_menu)) {
            const std::string interface = address.arg("interface", "");
            if (!gre_by_name_.contains(interface))
                other_interfaces.insert(interface);
            if (!gre_by_name_.contains(interface) || address.disabled())
                continue;
            if (gre_address_.contains(interface))
                out_.note(address, "a second address on " + interface + ": a tunnel has one, left out");
            else
                gre_address_[interface] = address.arg("address", "");
        }
        if (!other_interfaces.empty()) {
            std::string list;
            for (const auto& name : other_interfaces)
                list += (list.empty() ? "" : ", ") + name;
            out_.preamble_remark("not imported: /ip address on interfaces that are not tunnels (" + list + ")");
        }
    }

    // /interface gre ... ipsec-secret=: RouterOS makes a peer, an identity and
    // a transport policy for it; here a peer of its own.
    void gre_peers()
    {
        for (const auto& gre : items_.of(gre_menu)) {
            const auto* secret = gre.get("ipsec-secret");
            if (gre.disabled() || secret == nullptr)
                continue;
            std::string name = gre.name();
            if (peers_.contains(name))
                name += "-peer";
            Section& s = out_.add("peer." + toml_key(name), gre.comment());
            s.note(gre, "ipsec-secret: RouterOS makes a dynamic IKEv1 peer (exchange-mode=main) for it, and "
                        "mesh-site speaks IKEv2 only: on the RouterOS side, replace it with an /ip ipsec peer "
                        "exchange-mode=ike2, its identity and a transport policy protocol=gre");
            s.set("address", toml_string(host_or_prefix(gre.arg("remote-address", "0.0.0.0"))));
            if (const auto* local = gre.get("local-address"))
                s.set("local-address", toml_string(*local));
            s.remark("the secret is written here as the export holds it: move it to a secret-file (mode 0600)");
            s.set("secret", toml_string(*secret));
            profiles_used_.insert("default");
            PeerInfo info;
            info.section = &s;
            info.address = host_or_prefix(gre.arg("remote-address", ""));
            peers_[name] = std::move(info);
            gre_peer_[gre.name()] = name;
        }
    }

    void policies()
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

    void add_ip_tunnel(const std::string& peer, const Item& policy)
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

    void gre_tunnels()
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

    void write_used_sections()
    {
        // Profiles and proposals: the ones the export has, and RouterOS's
        // default ones where used without being set, which differ from mesh-site's.
        for (const auto& item : items_.of(profile_menu))
            write_profile(out_, item);
        if (!profiles_.contains("default") && profiles_used_.contains("default"))
            write_profile(out_, routeros_default("default"));
        for (const auto& item : items_.of(proposal_menu))
            write_proposal(out_, item);
        if (!proposals_.contains("default") && proposals_used_.contains("default"))
            write_proposal(out_, routeros_default("default"));
        for (const auto& item : items_.of(mode_config_menu))
            if (mode_configs_used_.contains(item.name()))
                write_mode_config(out_, item, pools_);
        std::set<std::string> names;
        std::set<std::string> interfaces;
        for (const auto& t : tunnels_) {
            std::string name = t.gre ? t.gre->name() : t.peer;
            for (int n = 2; names.contains(name); ++n)
                name = t.peer + "-" + std::to_string(n);
            names.insert(name);
            Section& s = out_.add("tunnel." + toml_key(name), t.gre ? t.gre->comment() : "");
            for (const auto& note : t.notes)
                s.note_text(note);
            s.set("peer", toml_string(t.peer));
            std::string interface = t.gre ? t.gre->name() : name;
            if (!is_interface_name(interface) || interfaces.contains(interface))
                for (int n = 0; !is_interface_name(interface) || interfaces.contains(interface); ++n)
                    interface = "ipsec" + std::to_string(n);
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
    }

    void write_gre(Section& s, const Item& gre)
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
    void write_routes(Section& s, const std::string& interface, const std::string& gre)
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

    Items& items_;
    Output& out_;
    ItemsByName profiles_;
    ItemsByName proposals_;
    ItemsByName pools_;
    ItemsByName mode_configs_;
    ItemsByName gre_by_name_;
    std::map<std::string, std::string> gre_address_;
    std::map<std::string, std::string> gre_peer_;     // interface -> peer made of its ipsec-secret
    std::map<std::string, PeerInfo> peers_;
    std::map<std::string, const Item*> transport_;    // peer -> its transport-mode policy
    std::set<std::string> disabled_peers_;
    std::set<std::string> profiles_used_;
    std::set<std::string> proposals_used_;
    std::set<std::string> mode_configs_used_;
    std::vector<Tunnel> tunnels_;
    std::vector<std::string> files_;
};

} // namespace

Imported import_export(const Export& rsc, std::string_view name)
{
    Items items = gather(rsc);
    Output out;
    for (const auto& note : items.notes)
        out.preamble_note(note);
    Importer importer(items, out);
    importer.run(site_name(items, name));
    Imported imported;
    for (const auto& [menu, count] : items.skipped) {
        imported.skipped_menus.push_back(menu + " (" + std::to_string(count) + (count == 1 ? " line)" : " lines)"));
        out.preamble_remark("not imported: " + imported.skipped_menus.back());
    }
    imported.files = importer.files();
    imported.toml = out.text(rsc.version);
    imported.mapped = out.section_count();
    imported.unmapped = out.note_count();
    return imported;
}

int import_routeros(const std::string& file, std::ostream& out, std::ostream& err)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        err << file << ": cannot open\n";
        return 1;
    }
    std::ostringstream text;
    text << in.rdbuf();
    Export rsc;
    try {
        rsc = read_rsc(text.str());
    } catch (const RscError& e) {
        err << file << ":" << e.what() << "\n";
        return 1;
    }
    const auto imported = import_export(rsc, std::filesystem::path(file).stem().string());
    out << imported.toml;
    err << "import-routeros: " << file << " (RouterOS " << (rsc.version.empty() ? "?" : rsc.version) << "): "
        << rsc.commands.size() << " commands, " << imported.mapped << " sections written, " << imported.unmapped
        << " settings not mapped (the # comments say why)\n";
    if (!imported.skipped_menus.empty()) {
        err << "import-routeros: menus not imported:";
        for (const auto& menu : imported.skipped_menus)
            err << " " << menu << (&menu == &imported.skipped_menus.back() ? "\n" : ",");
    }
    if (!imported.files.empty()) {
        err << "import-routeros: files the output names, to write next to it:";
        for (const auto& f : imported.files)
            err << " " << f;
        err << "\n";
    }
    return 0;
}

} // namespace mesh::routeros
