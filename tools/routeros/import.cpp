// The import, in the order the output is written:
//   1. the export's commands gathered into items per menu (add, and set by
//      name or [ find default=yes ]), RouterOS's defaults standing for what
//      an export leaves out (it prints only what differs from them);
//   2. [site], from /system identity or the file's name;
//   3. peers with their identities, then GRE interfaces with ipsec-secret as
//      peers of their own (import_peers.cpp);
//   4. tunnels: tunnel-mode policies (mode = "ip"), templates of peers that
//      generate policies, GRE interfaces over a peer (mode = "gre") with their
//      /ip address and the /ip routes through them (import_tunnels.cpp);
//   5. the profiles, proposals and mode configs in use (ipsec_sections.cpp),
//      then the tunnels. The output puts the sections in the usual order.

#include "tools/routeros/import.hpp"

#include "tools/routeros/importer.hpp"
#include "tools/routeros/values.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

namespace mesh::routeros {
namespace detail {

std::string file_name(std::string_view name)
{
    std::string out(name);
    std::ranges::replace_if(out, [](char c) {
        return !(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_');
    }, '_');
    return out;
}

void Importer::run(std::string_view name)
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

void Importer::write_used_sections()
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
    write_tunnels();
}

} // namespace detail

namespace {

using namespace detail;

// The items of the menus `set [ find default=yes ]` may change: RouterOS has them from the start.
std::string default_item_name(std::string_view menu)
{
    if (menu == mode_config_menu)
        return "request-only";
    return "default";
}

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
        // `/export verbose` sets RouterOS's own item by number (`set 0`)
        // before any add: item 0 is then the default one.
        const bool is_default = command.selector == "default" ||
                                (command.selector == "0" && std::ranges::none_of(list, [](const Item& i) {
                                     return !i.is_default;
                                 }));
        const std::string wanted = is_default ? default_item_name(command.menu) : command.selector;
        auto it = std::ranges::find_if(list, [&](const Item& i) {
            return command.selector.empty() || i.name() == wanted || (is_default && i.is_default);
        });
        if (it == list.end() && (is_default || command.selector.empty())) {
            Command base;
            base.menu = command.menu;
            base.line = command.line;
            base.arguments.push_back({"name", wanted});
            // RouterOS's default policy is the template of group default.
            if (command.menu == policy_menu)
                base.arguments.insert(base.arguments.end(), {{"template", "yes"}, {"group", "default"}});
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

} // namespace

Imported import_export(const Export& rsc, std::string_view name)
{
    Items items = gather(rsc);
    Output out;
    for (const auto& note : items.notes)
        out.preamble_note(note);
    if (rsc.version.starts_with("6."))
        out.preamble_remark("an export of RouterOS " + rsc.version + ": read as RouterOS 7 writes it (a v6 "
                            "policy names its peer by sa-dst-address, which is not read)");
    Importer importer(items, out);
    importer.run(site_name(items, name));
    Imported imported;
    for (const auto& [menu, count] : items.skipped) {
        imported.skipped_menus.push_back(menu + " (" + std::to_string(count) + (count == 1 ? " line)" : " lines)"));
        const std::string where = menu.starts_with("/ip firewall") ? ": docs/firewall.md has them in nftables"
                                  : menu.starts_with("/routing")   ? ": FRR does this, docs/frr.md"
                                                                   : "";
        out.preamble_remark("not imported: " + imported.skipped_menus.back() + where);
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
