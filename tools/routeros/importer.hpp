#pragma once
// The import's state between its steps (import.cpp runs them): the items of
// the export by menu, and what the peers and tunnels written so far are
// (import_peers.cpp, import_tunnels.cpp).

#include "tools/routeros/ipsec_sections.hpp"
#include "tools/routeros/rsc_reader.hpp"

#include <array>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::routeros::detail {

inline constexpr std::string_view profile_menu = "/ip ipsec profile";
inline constexpr std::string_view proposal_menu = "/ip ipsec proposal";
inline constexpr std::string_view peer_menu = "/ip ipsec peer";
inline constexpr std::string_view identity_menu = "/ip ipsec identity";
inline constexpr std::string_view policy_menu = "/ip ipsec policy";
inline constexpr std::string_view mode_config_menu = "/ip ipsec mode-config";
inline constexpr std::string_view group_menu = "/ip ipsec policy group";
inline constexpr std::string_view pool_menu = "/ip pool";
inline constexpr std::string_view gre_menu = "/interface gre";
inline constexpr std::string_view address_menu = "/ip address";
inline constexpr std::string_view route_menu = "/ip route";
inline constexpr std::string_view system_identity_menu = "/system identity";

inline constexpr std::array<std::string_view, 12> imported_menus{
    profile_menu, proposal_menu, peer_menu,    identity_menu, policy_menu, mode_config_menu,
    group_menu,   pool_menu,     gre_menu,     address_menu,  route_menu,  system_identity_menu};

struct Items {
    std::map<std::string, std::vector<Item>, std::less<>> menus;
    std::vector<std::string> notes;   // top of the file
    std::map<std::string, std::size_t, std::less<>> skipped;

    std::vector<Item>& of(std::string_view menu) { return menus[std::string(menu)]; }
};

// A name made fit for a file name: what is not a letter, digit, '.', '-' or '_' becomes '_'.
[[nodiscard]] std::string file_name(std::string_view name);

class Importer {
public:
    Importer(Items& items, Output& out) : items_(items), out_(out) {}

    // Writes [site] named name, then every other section into out.
    void run(std::string_view name);
    // The files the output names, which the operator must write next to it.
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
        std::string comment;   // the first policy's comment=
    };
    struct PeerInfo {
        std::string address;
        bool template_peer = false;
        std::string mode_config;           // "request", a name, or empty
        std::string generate_policy;       // "no", "port-strict", ...
        std::string template_group = "default";
        Section* section = nullptr;
    };

    // import_peers.cpp
    void peers();
    void identity_of(const std::string& peer_name, const std::vector<const Item*>& identities, PeerInfo& info);
    void gather_gre_addresses();
    void gre_peers();
    // import_tunnels.cpp
    void policies();
    void add_ip_tunnel(const std::string& peer, const Item& policy);
    void gre_tunnels();
    void write_tunnels();
    void write_gre(Section& s, const Item& gre);
    void write_routes(Section& s, const std::string& interface, const std::string& gre);
    // import.cpp
    void write_used_sections();

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

} // namespace mesh::routeros::detail
