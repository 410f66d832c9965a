// import-routeros: the .rsc reader (continuations, quoting, menus and
// selectors as RouterOS 7 prints them), the value conversions, and the
// mapping of each menu, checked by parsing the output as check-config does.

#include "tools/config/config.hpp"
#include "tools/routeros/import.hpp"
#include "tools/routeros/rsc_reader.hpp"
#include "tools/routeros/values.hpp"

#include "tests/ike/test_rng.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

using namespace mesh::routeros;

namespace {

// The imported TOML of text, parsed as check-config parses a file.
struct Imported2 {
    std::string toml;
    mesh::config::Config config;
};

Imported2 import_and_parse(std::string_view text)
{
    const auto imported = import_export(read_rsc(text), "test");
    INFO(imported.toml);
    return {imported.toml, mesh::config::parse(imported.toml, "imported.toml")};
}

bool has(const std::string& text, std::string_view part)
{
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("rsc: a line ending in a backslash goes on with the next, its four spaces of indent dropped")
{
    const auto lines = join_lines("/ip ipsec profile\n"
                                  "add dh-group=ecp256 lifetime=8h name=\\\n"
                                  "    strong-ike2\n"
                                  "add name=a split-include=\\\r\n"
                                  "    10.0.0.0/8,\\\n"
                                  "    192.168.0.0/16\n");
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].text == "/ip ipsec profile");
    CHECK(lines[1].text == "add dh-group=ecp256 lifetime=8h name=strong-ike2");
    CHECK(lines[1].line == 2);
    CHECK(lines[2].text == "add name=a split-include=10.0.0.0/8,192.168.0.0/16");
    CHECK(lines[2].line == 4);
}

TEST_CASE("rsc: inside quotes, an escaped backslash at the end of a line is not a continuation")
{
    const auto lines = join_lines("add comment=\"C:\\\\\" name=a\n"
                                  "add comment=\"broken \\\n"
                                  "    in two\" name=b\n");
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].text == "add comment=\"C:\\\\\" name=a");
    CHECK(lines[1].text == "add comment=\"broken in two\" name=b");
    CHECK(split_words(lines[0])[1] == "comment=C:\\");
    CHECK(split_words(lines[1])[1] == "comment=broken in two");
}

TEST_CASE("rsc: quoted values keep their spaces and resolve RouterOS's escapes")
{
    const auto words = split_words({R"(add comment="a \"b\" c" secret="x\\y\$z\?\_w" name=\41\42 note="\4A\n")", 7});
    REQUIRE(words.size() == 5);
    CHECK(words[1] == "comment=a \"b\" c");
    CHECK(words[2] == "secret=x\\y$z? w");
    CHECK(words[3] == "name=\\41\\42");   // outside quotes a backslash is itself
    CHECK(words[4] == "note=J\n");
}

TEST_CASE("rsc: an unterminated quote or a bad escape names its line")
{
    CHECK_THROWS_WITH_AS((void)read_rsc("/ip ipsec peer\nadd name=\"a\n"), "2:10: unterminated quoted value", RscError);
    CHECK_THROWS_WITH_AS((void)split_words({R"(add name="a\qb")", 9}), "9:12: unknown escape \\q in a quoted value",
                         RscError);
}

TEST_CASE("rsc: the header's version, menu lines, add and set with their selectors")
{
    const auto rsc = read_rsc("# 2026-12-05 18:40:02 by RouterOS 7.16.2\n"
                              "# software id = 7LTB-QW3E\n"
                              "/ip ipsec proposal\n"
                              "set [ find default=yes ] enc-algorithms=aes-128-gcm\n"
                              "add name=\"my proposal\" pfs-group=none\n"
                              "\n"
                              "/ip ipsec peer add address=192.0.2.2/32 name=b\n"
                              "/system identity\n"
                              "set name=hub\n"
                              "/ip ipsec profile\n"
                              "set [ find name=\"strong ike\" ] lifetime=1d\n"
                              "set legacy disabled=yes\n");
    CHECK(rsc.version == "7.16.2");
    REQUIRE(rsc.commands.size() == 6);
    CHECK(rsc.commands[0].menu == "/ip ipsec proposal");
    CHECK(rsc.commands[0].verb == "set");
    CHECK(rsc.commands[0].selector == "default");
    CHECK(rsc.commands[0].line == 4);
    REQUIRE(rsc.commands[0].get("enc-algorithms") != nullptr);
    CHECK(*rsc.commands[0].get("enc-algorithms") == "aes-128-gcm");
    CHECK(*rsc.commands[1].get("name") == "my proposal");
    CHECK(rsc.commands[1].show("name") == "name=\"my proposal\"");
    CHECK(rsc.commands[2].menu == "/ip ipsec peer");
    CHECK(rsc.commands[2].verb == "add");
    CHECK(rsc.commands[3].menu == "/system identity");
    CHECK(rsc.commands[3].selector.empty());
    CHECK(rsc.commands[4].selector == "strong ike");
    CHECK(rsc.commands[5].selector == "legacy");
}

TEST_CASE("values: RouterOS durations in one unit, pools as a prefix, addresses as mesh-site writes them")
{
    CHECK(duration("1d") == "1d");
    CHECK(duration("8h") == "8h");
    CHECK(duration("1h30m") == "90m");
    CHECK(duration("45m10s") == "2710s");
    CHECK(duration("00:30:00") == "30m");
    CHECK(duration("1d02:00:00") == "26h");
    CHECK(duration("1w") == "7d");
    CHECK(duration("300ms") == "300ms");
    CHECK(duration("0s") == std::nullopt);
    CHECK(duration("soon") == std::nullopt);

    CHECK(host_or_prefix("192.0.2.2/32") == "192.0.2.2");
    CHECK(host_or_prefix("0.0.0.0/0") == "0.0.0.0/0");
    CHECK(host_or_prefix("2001:db8::1/128") == "2001:db8::1");
    CHECK(host_or_prefix("hub.example.net") == "hub.example.net");
    CHECK(network("10.0.0.5/24") == "10.0.0.0/24");

    const auto exact = pool_prefix("172.31.0.1-172.31.0.254");
    REQUIRE(exact);
    CHECK(exact->prefix == "172.31.0.0/24");
    CHECK(exact->exact);
    const auto wider = pool_prefix("172.31.0.2-172.31.0.254");
    REQUIRE(wider);
    CHECK(wider->prefix == "172.31.0.0/24");
    CHECK_FALSE(wider->exact);
    CHECK(pool_prefix("10.1.0.0/25,10.1.0.128/25")->prefix == "10.1.0.0/24");
    CHECK(pool_prefix("10.1.0.9-10.1.0.1") == std::nullopt);

    CHECK(toml_string("a \"b\" \\") == R"("a \"b\" \\")");
    CHECK(toml_key("peer one") == "\"peer one\"");
    CHECK(toml_key("site-b") == "site-b");
}

TEST_CASE("import: a site-to-site tunnel-mode peer maps to a peer and an ip tunnel, RouterOS defaults made explicit")
{
    const auto [toml, config] = import_and_parse(R"(/ip ipsec peer
add address=192.0.2.2/32 exchange-mode=ike2 name=site-b
/ip ipsec identity
add peer=site-b secret=s3cret remote-id=fqdn:b.example.net
/ip ipsec policy
add dst-address=10.2.0.0/24 peer=site-b src-address=10.1.0.0/24 tunnel=yes
)");
    REQUIRE(config.peers.contains("site-b"));
    CHECK(config.peers.at("site-b").address.to_string() == "192.0.2.2/32");
    REQUIRE(config.tunnels.contains("site-b"));
    CHECK(config.tunnels.at("site-b").remote_subnets.size() == 1);
    // RouterOS's default profile (lifetime 1d, dpd 2m x 5) and proposal (30m), not mesh-site's.
    CHECK(config.profiles.at("default").lifetime == std::chrono::hours(24));
    CHECK(config.profiles.at("default").dpd_interval == std::chrono::minutes(2));
    CHECK(config.profiles.at("default").dpd_maximum_failures == 5);
    CHECK(config.proposals.at("default").lifetime == std::chrono::minutes(30));
    CHECK(has(toml, "# hash-algorithm=sha1 (RouterOS's default): sha1 is not supported: use sha256\n"));
    CHECK(has(toml, "# pfs-group=modp1024 (RouterOS's default): modp1024 is too weak"));
    CHECK_FALSE(has(toml, "exchange-mode"));
}

TEST_CASE("import: what cannot be mapped is a comment above where it would go, saying why")
{
    const auto [toml, config] = import_and_parse(R"(/ip ipsec profile
add dh-group=modp1024,ecp256 enc-algorithm=3des,aes-256 hash-algorithm=sha256 name=p
/ip ipsec peer
add address=192.0.2.2/32 name=b profile=p
/ip ipsec proposal
add auth-algorithms=null enc-algorithms=aes-256-gcm name=gcm pfs-group=none
/ip ipsec identity
add generate-policy=port-strict peer=b secret=k
/ip ipsec policy
add dst-address=10.2.0.0/24 peer=b proposal=gcm src-address=10.1.0.0/24 tunnel=yes
)");
    CHECK(has(toml, "[profile.p]\n"
                    "# line 2: dh-group=modp1024,ecp256: modp1024 is too weak and not supported (RFC 8247 section "
                    "2.4): use modp2048 or ecp256\n"
                    "dh-group = [\"ecp256\"]\n"
                    "# line 2: enc-algorithm=3des,aes-256: 3des is not supported: use aes-128 or aes-128-gcm\n"
                    "enc-algorithm = [\"aes-256\"]\n"));
    CHECK(has(toml, "# line 6: auth-algorithms=null: aes-256-gcm carries its own integrity; mesh-site reads "
                    "auth-algorithms for CBC only, so it is left out\n"));
    CHECK(has(toml, "# line 4: exchange-mode=main (RouterOS's default): mesh-site speaks IKEv2 only"));
    CHECK(has(toml, "# line 8: generate-policy=port-strict: mesh-site has no policies to generate"));
    CHECK(config.proposals.at("gcm").pfs_groups == std::vector<std::string>{"none"});
    CHECK(config.profiles.at("p").enc_algorithms == std::vector<std::string>{"aes-256"});
}

TEST_CASE("import: a hub's per-branch identities become the template peer's secrets")
{
    const auto [toml, config] = import_and_parse(R"(/ip ipsec peer
add address=0.0.0.0/0 exchange-mode=ike2 name=branches passive=yes
/ip ipsec identity
add generate-policy=port-strict peer=branches remote-id=fqdn:b1.example.net secret=k1
add generate-policy=port-strict peer=branches remote-id=fqdn:b2.example.net secret="k 2"
/ip ipsec policy
add dst-address=10.128.0.0/16 src-address=10.0.0.0/16 template=yes
)");
    CHECK(has(toml, "[peer.branches.secrets]\n\"fqdn:b1.example.net\" = \"k1\"\n\"fqdn:b2.example.net\" = \"k 2\"\n"));
    REQUIRE(config.tunnels.contains("branches"));
    CHECK(config.tunnels.at("branches").is_template);
}

TEST_CASE("import: GRE over IPsec with its /ip address and routes; plain GRE is left out")
{
    const auto [toml, config] = import_and_parse(R"(/interface gre
add ipsec-secret=k local-address=198.51.100.1 mtu=1400 name=gre-b remote-address=203.0.113.2
add name=gre-plain remote-address=192.0.2.99
/ip address
add address=172.16.1.1/30 interface=gre-b network=172.16.1.0
/ip route
add distance=5 dst-address=10.2.0.0/24 gateway=gre-b
)");
    REQUIRE(config.tunnels.contains("gre-b"));
    const auto& tunnel = config.tunnels.at("gre-b");
    CHECK(tunnel.route_distance == 5);
    CHECK(tunnel.routes.size() == 1);
    CHECK(tunnel.mtu == 1400);
    CHECK(has(toml, "interface gre-plain: GRE without IPsec"));
    CHECK_FALSE(config.tunnels.contains("gre-plain"));
}

TEST_CASE("import: a disabled peer is left out with its identity and policies")
{
    const auto [toml, config] = import_and_parse(R"(/ip ipsec peer
add address=192.0.2.2/32 disabled=yes exchange-mode=ike2 name=old
/ip ipsec identity
add peer=old secret=k
/ip ipsec policy
add dst-address=10.2.0.0/24 peer=old src-address=10.1.0.0/24 tunnel=yes
)");
    CHECK(config.peers.empty());
    CHECK(config.tunnels.empty());
    CHECK(has(toml, "# line 2: peer old is disabled=yes: left out with its identities and policies\n"));
}

TEST_CASE("import: a tunnel name that is no interface name gets one; a template's leaves room for the instance number")
{
    const auto [toml, config] = import_and_parse(R"(/ip ipsec peer
add address=0.0.0.0/0 exchange-mode=ike2 name=branch-offices-east passive=yes
add address=192.0.2.2/32 exchange-mode=ike2 name=the-office-downtown
/ip ipsec identity
add generate-policy=port-strict peer=branch-offices-east secret=k1 remote-id=fqdn:*.east.example.net
add peer=the-office-downtown secret=k2
/ip ipsec policy
add dst-address=10.128.0.0/16 src-address=10.0.0.0/16 template=yes
add dst-address=10.3.0.0/24 peer=the-office-downtown src-address=10.0.0.0/16 tunnel=yes
)");
    REQUIRE(config.tunnels.contains("branch-offices-east"));
    CHECK(config.tunnels.at("branch-offices-east").interface == "brancha");
    CHECK(config.tunnels.at("the-office-downtown").interface == "ipsec0");
}

TEST_CASE("import: a password it cannot map is named, its value not repeated")
{
    const std::string toml = import_export(read_rsc(R"(/ip ipsec peer
add address=192.0.2.2/32 exchange-mode=ike2 name=b
/ip ipsec identity
add auth-method=pre-shared-key-xauth password=hunter2 peer=b secret=x username=office
)"), "test").toml;
    CHECK(has(toml, "# line 4: password (its value left out here): not mapped"));
    CHECK_FALSE(has(toml, "hunter2"));
}

TEST_CASE("import: exports cut and mixed at random are read or refused with a located error, never more")
{
    // The examples, their lines shuffled, cut short and spliced: what a
    // hand-edited or truncated export may hold.
    const std::uint64_t seed = test_rng::seed();
    INFO("seed " << seed << " (MESH_TEST_SEED=" << seed << " replays it)");
    std::mt19937_64 random(seed);
    std::vector<std::string> lines;
    for (const auto* name : {"hub", "branch-certs", "gre-site", "unmappable"}) {
        std::ifstream in(std::filesystem::path(__FILE__).parent_path() / "configs" / "routeros" / (std::string(name) + ".rsc"));
        REQUIRE(in);
        for (std::string line; std::getline(in, line);)
            lines.push_back(line);
    }
    for (int round = 0; round < 300; ++round) {
        std::string text;
        const std::size_t count = random() % 40;
        for (std::size_t i = 0; i < count; ++i) {
            std::string line = lines[random() % lines.size()];
            if (random() % 8 == 0)
                line.resize(random() % (line.size() + 1));
            text += line + (random() % 16 == 0 ? "" : "\n");
        }
        try {
            const auto imported = import_export(read_rsc(text), "fuzz");
            CHECK(imported.toml.starts_with("# mesh-site configuration"));
        } catch (const RscError&) {
        }
    }
}

TEST_CASE("import: /export verbose sets RouterOS's default policy by number, a template of group default")
{
    const auto [toml, config] = import_and_parse(R"(/ip ipsec policy
set 0 disabled=no dst-address=10.128.0.0/16 group=default proposal=default protocol=all src-address=10.0.0.0/16 template=yes
/ip ipsec peer
add address=192.0.2.2/32 exchange-mode=ike2 name=b
/ip ipsec identity
add generate-policy=port-strict peer=b secret=k
)");
    REQUIRE(config.tunnels.contains("b"));
    CHECK(config.tunnels.at("b").local_subnets.at(0).to_string() == "10.0.0.0/16");
    CHECK(config.tunnels.at("b").remote_subnets.at(0).to_string() == "10.128.0.0/16");
}
