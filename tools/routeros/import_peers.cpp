// Peers: each /ip ipsec peer with its identities folded in, and each
// /interface gre with ipsec-secret as a peer of its own.

#include "tools/routeros/importer.hpp"
#include "tools/routeros/values.hpp"

#include <algorithm>

namespace mesh::routeros::detail {

void Importer::peers()
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

void Importer::identity_of(const std::string& peer_name, const std::vector<const Item*>& identities, PeerInfo& info)
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

void Importer::gather_gre_addresses()
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

void Importer::gre_peers()
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

} // namespace mesh::routeros::detail
