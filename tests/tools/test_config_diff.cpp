// What a reload changes (config::diff): each kind of edit of a file lands in
// the set the daemon acts on, and nothing else does; [site] changes refuse.

#include "tools/config/config_diff.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace mesh::config;

namespace {

using Names = std::set<std::string>;

// Two peers with a tunnel each, b routed, c in mode gre with a route too.
std::string base(std::string_view site = "", std::string_view b_extra = "", std::string_view tb_extra = "",
                 std::string_view c_extra = "", std::string_view tc_extra = "", std::string_view more = "")
{
    return std::string(R"(
[site]
name = "a"
)") + std::string(site) +
           R"(
[peer.b]
address = "192.0.2.2"
secret = "secret-b-0123456789"
)" + std::string(b_extra) +
           R"(
[peer.c]
address = "192.0.2.3"
secret = "secret-c-0123456789"
)" + std::string(c_extra) +
           R"(
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
routes = ["10.2.0.0/24"]
)" + std::string(tb_extra) +
           R"(
[tunnel.c]
peer = "c"
address = "172.16.1.1/30"
routes = ["10.3.0.0/24"]
)" + std::string(tc_extra) +
           std::string(more);
}

ConfigDiff between(const std::string& before, const std::string& after)
{
    return diff(parse(before, "a.toml"), parse(after, "a.toml"));
}

} // namespace

TEST_CASE("The same file again changes nothing")
{
    const auto d = between(base(), base());
    CHECK(d.empty());
    CHECK(d.summary() == "no change");
}

TEST_CASE("A changed pre-shared key re-establishes that peer only, its tunnel and routes stay")
{
    auto after = base();
    after.replace(after.find("secret-c-0123456789"), 19, "another-secret-0123");
    const auto d = between(base(), after);
    CHECK(d.peers_changed == Names{"c"});
    CHECK(d.peers_added.empty());
    CHECK(d.peers_removed.empty());
    CHECK(d.tunnels_added.empty());
    CHECK(d.tunnels_removed.empty());
    CHECK(d.restart_needed.empty());
}

TEST_CASE("An identity, address, profile or proposal change re-establishes the peer")
{
    CHECK(between(base(), base("", "remote-id = \"fqdn:b.example.net\"\n")).peers_changed == Names{"b"});
    CHECK(between(base(), base("", "local-address = \"192.0.2.1\"\n")).peers_changed == Names{"b"});
    const std::string profile = "\n[profile.slow]\nlifetime = \"4h\"\n";
    CHECK(between(base("", "profile = \"slow\"\n", "", "", "", profile),
                  base("", "profile = \"slow\"\n", "", "", "", "\n[profile.slow]\nlifetime = \"2h\"\n"))
              .peers_changed == Names{"b"});
    // A proposal is the CHILD SA's: the peer negotiates again, the TUN stays.
    const std::string proposal = "\n[proposal.p]\nlifetime = \"30m\"\n";
    const auto d = between(base("", "", "proposal = \"p\"\n", "", "", proposal),
                           base("", "", "proposal = \"p\"\n", "", "", "\n[proposal.p]\nlifetime = \"20m\"\n"));
    CHECK(d.peers_changed == Names{"b"});
    CHECK(d.tunnels_removed.empty());
}

TEST_CASE("A changed route or distance changes only the routes")
{
    auto after = base();
    after.replace(after.find("10.3.0.0/24"), 11, "10.4.0.0/24");
    auto d = between(base(), after);
    CHECK(d.tunnels_rerouted == Names{"c"});
    CHECK(d.peers_changed.empty());
    CHECK(d.tunnels_added.empty());
    CHECK(d.tunnels_removed.empty());
    d = between(base(), base("", "", "route-distance = 20\n"));
    CHECK(d.tunnels_rerouted == Names{"b"});
    CHECK(d.peers_changed.empty());
}

TEST_CASE("Added and removed peers and tunnels")
{
    const std::string extra = R"(
[peer.d]
address = "192.0.2.4"
secret = "secret-d-0123456789"

[tunnel.d]
peer = "d"
address = "172.16.2.1/30"
)";
    auto d = between(base(), base("", "", "", "", "", extra));
    CHECK(d.tunnels_added == Names{"d"});
    CHECK(d.peers_added == Names{"d"});
    CHECK(d.tunnels_removed.empty());
    CHECK(d.peers_changed.empty());
    d = between(base("", "", "", "", "", extra), base());
    CHECK(d.tunnels_removed == Names{"d"});
    CHECK(d.peers_removed == Names{"d"});
    CHECK(d.tunnels_added.empty());
}

TEST_CASE("A tunnel changed beyond its routes is made again, with its peer")
{
    const auto d = between(base(), base("", "", "mtu = 1300\n"));
    CHECK(d.tunnels_removed == Names{"b"});
    CHECK(d.tunnels_added == Names{"b"});
    CHECK(d.peers_changed == Names{"b"});
    CHECK(d.tunnels_rerouted.empty());
}

TEST_CASE("disabled on a tunnel or a peer takes it out, and back in")
{
    auto d = between(base(), base("", "", "disabled = true\n"));
    CHECK(d.tunnels_removed == Names{"b"});
    CHECK(d.peers_removed == Names{"b"});
    CHECK(d.tunnels_added.empty());
    d = between(base("", "", "disabled = true\n"), base());
    CHECK(d.tunnels_added == Names{"b"});
    CHECK(d.peers_added == Names{"b"});
    d = between(base(), base("", "", "", "disabled = true\n"));
    CHECK(d.tunnels_removed == Names{"c"});
    CHECK(d.peers_removed == Names{"c"});
    // Still disabled, with another change: nothing runs, nothing to do.
    CHECK(between(base("", "", "disabled = true\n"), base("", "", "disabled = true\nmtu = 1300\n")).empty());

    const Config config = parse(base("", "", "", "disabled = true\n"), "a.toml");
    CHECK(enabled(config, config.tunnels.at("b")));
    CHECK_FALSE(enabled(config, config.tunnels.at("c")));
}

TEST_CASE("[site] settings bound at start refuse the reload, naming the key")
{
    auto d = between(base(), base("listen = \"192.0.2.1\"\n"));
    REQUIRE(d.restart_needed.size() == 1);
    CHECK(d.restart_needed[0] == "[site] listen: unset -> 192.0.2.1");
    d = between(base(), base("control-socket = \"/run/other.sock\"\nworkers = 2\n"));
    REQUIRE(d.restart_needed.size() == 2);
    CHECK(d.restart_needed[0].starts_with("[site] control-socket: "));
    CHECK(d.restart_needed[1] == "[site] workers: auto -> 2");
}
