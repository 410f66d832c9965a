// [mode-config.NAME] and a peer's mode-config: the values read, and each
// mistake at its FILE:LINE:COL. Inline documents start right after R"( so
// that line numbers can be counted in the source.

#include "tools/config/config.hpp"
#include "tests/tools/config_error.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace mesh::config;
using mesh::config::test::error_of;
using mesh::net::IpAddress;
using mesh::net::IpPrefix;

namespace {

constexpr std::string_view hub = R"([site]
name = "hub"

[mode-config.branches]
address-pool = ["10.99.0.0/24", "fd00:99::/64"]
split-include = ["10.1.0.0/24"]
dns = ["192.0.2.53"]

[peer.branch-1]
address = "0.0.0.0/0"
passive = true
secret = "s"
remote-id = "fqdn:branch-1.example"
mode-config = "branches"

[tunnel.branch-1]
peer = "branch-1"
mode = "ip"
local-subnets = ["10.1.0.0/24"]
)";

constexpr std::string_view branch = R"([site]
name = "branch"

[peer.hub]
address = "192.0.2.2"
secret = "s"
mode-config = "request"

[tunnel.hub]
peer = "hub"
mode = "ip"
remote-subnets = ["10.1.0.0/24"]
)";

std::string with(std::string_view text, const std::string& more)
{
    return std::string(text) + more;
}

} // namespace

TEST_CASE("mode config: a hub's pools, split-include and DNS, and a branch that requests, read to their values")
{
    const Config h = parse(hub, "a.toml");
    const ModeConfig& m = h.mode_configs.at("branches");
    CHECK(m.address_pools == std::vector{*IpPrefix::parse("10.99.0.0/24"), *IpPrefix::parse("fd00:99::/64")});
    CHECK(m.split_include == std::vector{*IpPrefix::parse("10.1.0.0/24")});
    CHECK(m.dns == std::vector{*IpAddress::parse("192.0.2.53")});
    CHECK_FALSE(m.system_dns);
    CHECK(h.peers.at("branch-1").mode_config == "branches");
    // The hub's mode ip tunnel needs no remote-subnets: the branch's side is the address it leases.
    CHECK(h.tunnels.at("branch-1").remote_subnets.empty());

    const Config b = parse(branch, "a.toml");
    CHECK(b.peers.at("hub").mode_config == "request");
    CHECK(b.tunnels.at("hub").local_subnets.empty());
    CHECK_FALSE(b.tunnels.at("hub").address);
    // mode gre: the assigned address is the tunnel's, so 'address' is left out.
    CHECK(error_of(R"([site]
name = "branch"
[peer.hub]
address = "192.0.2.2"
secret = "s"
mode-config = "request"
[tunnel.hub]
peer = "hub"
routes = ["10.1.0.0/24"]
)") == "(no error)");
    // A single string is one pool; system-dns alone.
    CHECK(error_of(R"([site]
name = "hub"
[mode-config.p]
address-pool = "10.99.0.0/24"
system-dns = true
)") == "(no error)");
}

TEST_CASE("mode config: each mistake is named at its place")
{
    CHECK(error_of(with(branch, R"(
[mode-config.request]
address-pool = "10.9.0.0/24"
)")) == "a.toml:14:1: [mode-config.request] cannot be named: on a peer, mode-config = \"request\" asks for an "
        "address instead of serving one");
    CHECK(error_of(R"([site]
name = "hub"
[mode-config.p]
split-include = ["10.1.0.0/24"]
)") == "a.toml:3:1: missing 'address-pool' in [mode-config.p]");
    CHECK(error_of(R"([site]
name = "hub"
[mode-config.p]
address-pool = ["10.99.0.0/24", "10.98.0.0/24"]
)") == "a.toml:4:33: 'address-pool' holds at most one IPv4 and one IPv6 network");
    CHECK(error_of(R"([site]
name = "hub"
[mode-config.p]
address-pool = "10.99.0.1/24"
)") == "a.toml:4:16: 'address-pool' entry 10.99.0.1/24 has host bits set (did you mean 10.99.0.0/24?)");
    CHECK(error_of(R"([site]
name = "hub"
[mode-config.p]
address-pool = "10.99.0.0/24"
[mode-config.q]
address-pool = "10.99.0.128/25"
)") == "a.toml:6:16: 'address-pool' 10.99.0.128/25 overlaps 10.99.0.0/24 of [mode-config.p]");
    CHECK(error_of(R"([site]
name = "hub"
[mode-config.p]
address-pool = "10.99.0.0/24"
dns = ["192.0.2.53"]
system-dns = true
)") == "a.toml:6:14: give either 'dns' or system-dns = true, not both");
    CHECK(error_of(R"([site]
name = "hub"
[mode-config.p]
address-pool = "10.99.0.0/24"
dns = ["resolver"]
)") == "a.toml:5:8: 'dns' must hold IP addresses, not \"resolver\"");
    CHECK(error_of(R"([site]
name = "hub"
[mode-config.branches]
address-pool = "10.99.0.0/24"
[peer.b]
address = "0.0.0.0/0"
passive = true
secret = "s"
mode-config = "branchs"
)") == "a.toml:9:15: mode-config 'branchs' is not defined (did you mean 'branches'?)");
    CHECK(error_of(R"([site]
name = "hub"
[peer.b]
address = "0.0.0.0/0"
passive = true
secret = "s"
mode-config = "request"
)") == "a.toml:7:15: mode-config = \"request\" asks for an address as the initiator, but the peer is passive: "
       "serve one with mode-config = \"NAME\" of a [mode-config.NAME]");
}

TEST_CASE("mode config: a branch's tunnel leaves out what the hub assigns, and has one tunnel")
{
    CHECK(error_of(with(branch, R"(local-subnets = ["10.2.0.0/24"]
)")) == "a.toml:13:17: 'local-subnets' is not used: the CHILD SA's side here is the address the hub assigns "
        "it: [peer.hub] has mode-config = \"request\"");
    CHECK(error_of(with(branch, R"(address = "10.99.0.7/32"
)")) == "a.toml:13:11: 'address' is not used: the hub assigns it: [peer.hub] has mode-config = \"request\"");
    CHECK(error_of(with(branch, R"(
[tunnel.second]
peer = "hub"
interface = "tun-2"
mode = "ip"
remote-subnets = ["10.3.0.0/24"]
)")) == "a.toml:15:8: [peer.hub] has mode-config = \"request\", which gives one address for one tunnel, and "
        "[tunnel.hub] uses it already");
    // A hub's mode ip tunnel still needs local-subnets.
    CHECK(error_of(R"([site]
name = "hub"
[mode-config.p]
address-pool = "10.99.0.0/24"
[peer.b]
address = "192.0.2.1"
passive = true
secret = "s"
mode-config = "p"
[tunnel.b]
peer = "b"
mode = "ip"
)") == "a.toml:10:1: missing 'local-subnets' in [tunnel.b] (required for mode = \"ip\")");
}
