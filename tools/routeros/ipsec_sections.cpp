#include "tools/routeros/ipsec_sections.hpp"

#include "tools/config/routeros_hints.hpp"
#include "tools/routeros/values.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace mesh::routeros {
namespace {

using Names = std::initializer_list<std::pair<std::string_view, std::string_view>>;

const Names dh_groups{{"modp2048", "modp2048"}, {"modp3072", "modp3072"}, {"modp4096", "modp4096"},
                      {"ecp256", "ecp256"},     {"ecp384", "ecp384"},     {"ecp521", "ecp521"},
                      {"curve25519", "curve25519"}};
const Names ike_ciphers{{"aes-128", "aes-128"},
                        {"aes-256", "aes-256"},
                        {"aes-128-gcm", "aes-128-gcm"},
                        {"aes-256-gcm", "aes-256-gcm"},
                        {"chacha20poly1305", "chacha20-poly1305"}};
const Names esp_ciphers{{"aes-128-cbc", "aes-128-cbc"},
                        {"aes-256-cbc", "aes-256-cbc"},
                        {"aes-128-gcm", "aes-128-gcm"},
                        {"aes-256-gcm", "aes-256-gcm"},
                        {"chacha20poly1305", "chacha20-poly1305"}};
const Names hashes{{"sha256", "sha256"}, {"sha384", "sha384"}, {"sha512", "sha512"}};

std::string line_of(const Item& from)
{
    return from.command.line == 0 ? "" : "line " + std::to_string(from.command.line) + ": ";
}

// A RouterOS list of names mapped to mesh-site's; a note for each one
// mesh-site does not take. Empty when none is taken (the key is then left
// out, and mesh-site's default list applies).
std::vector<std::string> names(Section& s, const Item& item, std::string_view kind, std::string_view key,
                               std::string_view routeros_default, const Names& table)
{
    const std::string given = item.arg(key, routeros_default);
    const std::string where = item.get(key) ? "" : " (RouterOS's default)";
    std::vector<std::string> out;
    for (const auto& name : split_list(given)) {
        const auto it = std::ranges::find(table, name, &std::pair<std::string_view, std::string_view>::first);
        if (it != table.end()) {
            if (std::ranges::find(out, it->second) == out.end())
                out.emplace_back(it->second);
            continue;
        }
        const auto hint = config::routeros_value_hint(kind, key, name);
        s.note(item, std::string(key) + "=" + given + where + ": " + (hint ? *hint : name + " is not supported"));
    }
    if (out.empty())
        s.remark(std::string(key) + ": none of " + given + " is supported: left out, so mesh-site's default "
                 "list applies, which the RouterOS side must then share one entry with");
    else
        s.set(key, toml_list(out));
    return out;
}

void lifetime(Section& s, const Item& item, std::string_view key, std::string_view routeros_default)
{
    const std::string given = item.arg(key, routeros_default);
    if (const auto d = duration(given))
        s.set(key, toml_string(*d));
    else
        s.note(item, std::string(key) + "=" + given + ": not a duration mesh-site takes (a positive whole number "
                                                       "of one unit): left out");
}

} // namespace

std::string Item::arg(std::string_view key, std::string_view routeros_default) const
{
    const std::string* v = get(key);
    return v ? *v : std::string(routeros_default);
}

void Section::set(std::string_view key, const std::string& value)
{
    lines_.push_back(std::string(key) + " = " + value);
}

void Section::note(const Item& from, const std::string& text)
{
    note_text(line_of(from) + text);
}

void Section::note_text(const std::string& text)
{
    lines_.push_back("# " + text);
    ++notes_;
}

void Section::remark(const std::string& text)
{
    lines_.push_back("# " + text);
}

void Section::unmapped(const Item& from, std::initializer_list<std::string_view> handled)
{
    // Their values are not repeated in a comment.
    constexpr std::array<std::string_view, 4> sensitive{"password", "secret", "ipsec-secret", "eap-passphrase"};
    for (const auto& argument : from.command.arguments) {
        if (std::ranges::find(handled, argument.key) != handled.end())
            continue;
        const bool hidden = std::ranges::find(sensitive, argument.key) != sensitive.end();
        note(from, (hidden ? argument.key + " (its value left out here)" : from.command.show(argument.key)) +
                       ": not mapped, mesh-site has no such setting");
    }
}

std::string Section::text() const
{
    std::string out;
    if (!comment_.empty())
        out += "# " + comment_ + "\n";
    out += "[" + header_ + "]\n";
    for (const auto& line : lines_)
        out += line + "\n";
    return out;
}

Section& Output::add(const std::string& header, const std::string& comment)
{
    return sections_.emplace_back(header, comment);
}

void Output::note(const Item& from, const std::string& text)
{
    preamble_note(line_of(from) + text);
}

void Output::preamble_note(const std::string& text)
{
    preamble_.push_back("# " + text);
    ++preamble_notes_;
}

void Output::preamble_remark(const std::string& text)
{
    preamble_.push_back("# " + text);
}

std::size_t Output::note_count() const
{
    std::size_t count = preamble_notes_;
    for (const auto& s : sections_)
        count += s.notes();
    return count;
}

std::string Output::text(std::string_view routeros_version) const
{
    std::string out = "# mesh-site configuration, imported from a RouterOS " +
                      std::string(routeros_version.empty() ? "" : std::string(routeros_version) + " ") +
                      "export by `mesh-site import-routeros`.\n"
                      "# Lines starting with \"line N:\" name what of the export's line N could not be mapped, "
                      "and why.\n";
    for (const auto& line : preamble_)
        out += line + "\n";
    constexpr std::array<std::string_view, 6> order{"site", "profile.", "proposal.", "mode-config.", "peer.",
                                                    "tunnel."};
    const auto rank = [&](const Section& s) {
        return std::ranges::find_if(order, [&](std::string_view kind) { return s.header().starts_with(kind); }) -
               order.begin();
    };
    std::vector<const Section*> sorted;
    for (const auto& s : sections_)
        sorted.push_back(&s);
    std::ranges::stable_sort(sorted, {}, [&](const Section* s) { return rank(*s); });
    for (const auto* s : sorted)
        out += "\n" + s->text();
    return out;
}

Item routeros_default(std::string_view name)
{
    Item item{Command{}, true};
    item.command.arguments.push_back({"name", std::string(name)});
    return item;
}

void write_profile(Output& out, const Item& p)
{
    Section& s = out.add("profile." + toml_key(p.name()), p.comment());
    if (p.command.line == 0)
        s.remark("RouterOS's default profile, which the peers use: its defaults differ from mesh-site's");
    names(s, p, "profile", "dh-group", "modp2048,modp1024", dh_groups);
    names(s, p, "profile", "enc-algorithm", "aes-128,3des", ike_ciphers);
    names(s, p, "profile", "hash-algorithm", "sha1", hashes);
    lifetime(s, p, "lifetime", "1d");
    if (const std::string dpd = p.arg("dpd-interval", "2m"); dpd == "disable-dpd")
        s.set("dpd-interval", toml_string(dpd));
    else
        lifetime(s, p, "dpd-interval", "2m");
    const std::string failures = p.arg("dpd-maximum-failures", "5");
    if (const int n = std::atoi(failures.c_str()); n >= 1 && n <= 1000)
        s.set("dpd-maximum-failures", failures);
    else
        s.note(p, "dpd-maximum-failures=" + failures + ": mesh-site takes 1 to 1000, left out");
    if (p.arg("nat-traversal", "yes") == "no")
        s.set("nat-traversal", "false");
    if (const auto prf = p.arg("prf-algorithm", "auto"); prf != "auto")
        s.note(p, "prf-algorithm=" + prf + ": the PRF is the hash-algorithm in mesh-site");
    if (const auto check = p.arg("proposal-check", "obey"); check != "obey")
        s.note(p, "proposal-check=" + check + ": mesh-site keeps its own lifetimes whatever the peer proposes");
    s.unmapped(p, {"name", "dh-group", "enc-algorithm", "hash-algorithm", "lifetime", "dpd-interval",
                   "dpd-maximum-failures", "nat-traversal", "prf-algorithm", "proposal-check", "comment"});
}

void write_proposal(Output& out, const Item& p)
{
    Section& s = out.add("proposal." + toml_key(p.name()), p.comment());
    if (p.command.line == 0)
        s.remark("RouterOS's default proposal, which the policies use: its defaults differ from mesh-site's");
    if (p.disabled())
        s.note(p, "disabled=yes: a proposal cannot be disabled in mesh-site; the tunnels naming it use it");
    const auto ciphers = names(s, p, "proposal", "enc-algorithms", "aes-256-cbc,aes-192-cbc,aes-128-cbc", esp_ciphers);
    // mesh-site's default list, used when none is taken, holds CBC too.
    const bool cbc = ciphers.empty() ||
                     std::ranges::any_of(ciphers, [](const std::string& c) { return c.ends_with("-cbc"); });
    if (cbc)
        names(s, p, "proposal", "auth-algorithms", "sha1", hashes);
    else if (const auto* auth = p.get("auth-algorithms"))
        s.note(p, "auth-algorithms=" + *auth + ": " + ciphers.front() + " carries its own integrity; mesh-site "
                  "reads auth-algorithms for CBC only, so it is left out");
    if (p.arg("pfs-group", "modp1024") == "none")
        s.set("pfs-group", toml_list({"none"}));
    else
        names(s, p, "proposal", "pfs-group", "modp1024", dh_groups);
    lifetime(s, p, "lifetime", "30m");
    if (const auto* bytes = p.get("lifebytes"); bytes && *bytes != "0")
        s.set("lifetime-bytes", toml_string(*bytes));
    s.unmapped(p, {"name", "enc-algorithms", "auth-algorithms", "pfs-group", "lifetime", "lifebytes", "comment",
                   "disabled"});
}

const Item* served_pool(const Item& mode_config, const ItemsByName& pools)
{
    const auto it = pools.find(mode_config.arg("address-pool", ""));
    if (it == pools.end() || !pool_prefix(it->second->arg("ranges", "")))
        return nullptr;
    return it->second;
}

void write_mode_config(Output& out, const Item& m, const ItemsByName& pools)
{
    Section& s = out.add("mode-config." + toml_key(m.name()), m.comment());
    const Item* pool = served_pool(m, pools);
    const std::string ranges = pool ? pool->arg("ranges", "") : "";
    const auto prefix = pool_prefix(ranges);
    if (prefix && !prefix->exact)
        s.note(*pool, "ranges=" + ranges + ": mesh-site leases from a prefix, " + prefix->prefix +
                          ", all of its addresses but the network's and the broadcast address");
    if (prefix)
        s.set("address-pool", toml_string(prefix->prefix));
    std::vector<std::string> include;
    for (const auto& p : split_list(m.arg("split-include", ""))) {
        const auto net = network(p);
        if (!net) {
            s.note(m, "split-include " + p + ": not an address, left out");
            continue;
        }
        if (*net != p && *net != host_or_prefix(p))
            s.note(m, "split-include " + p + ": host bits set, written as " + *net);
        include.push_back(*net);
    }
    if (!include.empty())
        s.set("split-include", toml_list(include));
    const bool system_dns = m.arg("system-dns", "no") == "yes";
    if (system_dns)
        s.set("system-dns", "true");
    if (const auto* dns = m.get("static-dns")) {
        if (system_dns)
            s.note(m, "static-dns=" + *dns + ": with system-dns=yes RouterOS sends its own servers, left out");
        else
            s.set("dns", toml_list(split_list(*dns)));
    }
    if (const auto* address = m.get("address"))
        s.note(m, "address=" + *address + ": one address for every branch is not something mesh-site does; the "
                  "pool gives each its own");
    s.unmapped(m, {"name", "address-pool", "split-include", "system-dns", "static-dns", "address", "responder",
                   "comment"});
}

} // namespace mesh::routeros
