// A branch's block of a mode gre template's address-pool: which end each
// side takes, the CFG_REPLY that hands the branch its end (and that a branch
// accepts), which peers serve it, and the [mode-config] such a peer may not
// have besides.

#include "tools/daemon/branch_block.hpp"

#include "ike/identity.hpp"
#include "tests/tools/config_error.hpp"
#include "tools/config/config.hpp"
#include "tools/daemon/ike_policy.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace mesh;
using daemon::block_ends;
using daemon::block_mode_config;

namespace {

net::IpPrefix prefix(const char* text)
{
    return *net::IpPrefix::parse(text);
}

constexpr std::string_view hub = R"([site]
name = "hub"

[peer.branches]
address = "0.0.0.0/0"
passive = true
remote-id = "fqdn:*.branch.example.net"

[peer.branches.secrets]
"fqdn:b1.branch.example.net" = "a-key-for-b1"

[tunnel.branches]
peer = "branches"
interface = "br"
mode = "gre"
address-pool = "172.16.128.0/17"
)";

std::vector<ike::PeerConfig> peers_of(const config::Config& config)
{
    return daemon::ike_peers(config, [](const config::Peer&) { return net::IpAddress{}; });
}

} // namespace

TEST_CASE("block ends: a /31 both addresses, the hub the first; a /30 the two between network and broadcast")
{
    const auto p31 = block_ends(prefix("172.16.128.6/31"));
    CHECK(p31.ours == prefix("172.16.128.6/31"));
    CHECK(p31.theirs == prefix("172.16.128.7/31"));
    const auto p30 = block_ends(prefix("172.16.128.4/30"));
    CHECK(p30.ours == prefix("172.16.128.5/30"));
    CHECK(p30.theirs == prefix("172.16.128.6/30"));
    const auto p127 = block_ends(prefix("fd00:16::a/127"));
    CHECK(p127.ours == prefix("fd00:16::a/127"));
    CHECK(p127.theirs == prefix("fd00:16::b/127"));
    const auto p126 = block_ends(prefix("fd00:16::8/126"));
    CHECK(p126.ours == prefix("fd00:16::9/126"));
    CHECK(p126.theirs == prefix("fd00:16::a/126"));
}

TEST_CASE("block mode config: the branch's end with the block's netmask, for the family asked only")
{
    const auto given = block_mode_config(prefix("172.16.128.6/31"), {.ip4 = true, .ip6 = false});
    REQUIRE(given.address4);
    CHECK(*given.address4 == prefix("172.16.128.7/31"));
    CHECK_FALSE(given.address6);
    CHECK(given.subnets.empty());
    CHECK(given.dns.empty());
    CHECK_FALSE(block_mode_config(prefix("172.16.128.6/31"), {.ip4 = false, .ip6 = true}).has_address());
    const auto v6 = block_mode_config(prefix("fd00:16::8/126"), {.ip4 = true, .ip6 = true});
    CHECK_FALSE(v6.address4);
    REQUIRE(v6.address6);
    CHECK(*v6.address6 == prefix("fd00:16::a/126"));
}

TEST_CASE("block mode config: a branch accepts the CFG_REPLY, /31 and /30 alike (RFC 3021, RFC 7296 3.15.1)")
{
    for (const char* block : {"172.16.128.6/31", "172.16.128.4/30", "172.16.255.254/31"}) {
        CAPTURE(block);
        const auto given = block_mode_config(prefix(block), {.ip4 = true, .ip6 = false});
        const auto taken = ike::parse_cfg_reply(ike::cfg_reply(given));
        REQUIRE_MESSAGE(taken.has_value(), (taken ? std::string() : taken.error()));
        CHECK(*taken == given);
    }
}

TEST_CASE("branch key: an fqdn in lower case, as IKE compares it, from the identity or its text")
{
    CHECK(daemon::branch_key(*ike::parse_identity("fqdn:B1.Branch.Example.NET")) == "fqdn:b1.branch.example.net");
    CHECK(daemon::branch_key(*ike::parse_identity("address:192.0.2.7")) == "address:192.0.2.7");
    // A lease names the identity as text: the same key as the instance's.
    for (const char* id : {"fqdn:B1.Branch.Example.NET", "user-fqdn:Ops@B1.Example", "key-id:0A0B", "address:192.0.2.7"})
        CHECK(daemon::branch_key(std::string_view(ike::to_string(*ike::parse_identity(id)))) ==
              daemon::branch_key(*ike::parse_identity(id)));
}

TEST_CASE("a mode gre template with address-pool serves mode config; other peers as configured")
{
    const auto config = config::parse(std::string(hub) + R"(
[peer.h2]
address = "192.0.2.2"
secret = "a-key-for-h2"

[tunnel.h2]
peer = "h2"
address = "172.16.1.1/30"
)",
                                      "hub.toml");
    CHECK(daemon::pooled_template(config, "branches") == &config.tunnels.at("branches"));
    CHECK(daemon::pooled_template(config, "h2") == nullptr);
    for (const auto& peer : peers_of(config))
        CHECK(peer.mode_config == (peer.name == "branches" ? ike::ModeConfigRole::serve : ike::ModeConfigRole::none));

    const auto ip = config::parse(R"([site]
name = "hub"

[peer.lans]
address = "0.0.0.0/0"
passive = true
secret = "one-key-for-all-branches"

[tunnel.lans]
peer = "lans"
interface = "ipb"
mode = "ip"
local-subnets = ["10.200.0.1/32"]
remote-subnets = ["10.201.0.0/16"]
address-pool = "172.16.128.0/17"
)",
                                  "hub.toml");
    CHECK(daemon::pooled_template(ip, "lans") == nullptr);
    CHECK(peers_of(ip).at(0).mode_config == ike::ModeConfigRole::none);
}

TEST_CASE("a mode gre template with address-pool takes no [mode-config] besides")
{
    std::string text(hub);
    text.insert(text.find("[peer.branches.secrets]"), "mode-config = \"pool\"\n\n");
    text += "\n[mode-config.pool]\naddress-pool = \"10.99.0.0/24\"\n";
    CHECK(config::test::error_of(text) ==
          "a.toml:18:16: [peer.branches] has mode-config = \"pool\", but a branch of this template that asks for an "
          "address gets its end of its block of 'address-pool': leave mode-config out of [peer.branches]");
}
