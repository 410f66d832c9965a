// A peer's address given as a DNS name: read without resolving it, checked
// as a host name, refused with the fix where a name cannot do.

#include "tools/config/config.hpp"
#include "tests/tools/config_error.hpp"

#include <doctest/doctest.h>

using namespace mesh::config;
using mesh::config::test::error_of;
using namespace std::chrono_literals;

namespace {
const std::string tunnel_of_b = R"(
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
)";
} // namespace

TEST_CASE("a peer's address may be a DNS name: kept as written, looked up later, every 5 minutes by default")
{
    const auto config = parse(R"([site]
name = "a"
[peer.b]
address = "branch1.example.net"
secret = "s"
)" + tunnel_of_b,
                              "a.toml");
    const Peer& b = config.peers.at("b");
    REQUIRE(b.host_name);
    CHECK(*b.host_name == "branch1.example.net");
    CHECK(b.address.to_string() == "0.0.0.0/32");
    CHECK_FALSE(b.is_template());
    CHECK(b.resolve_interval == 5min);
}

TEST_CASE("a named peer is looked up in the family of local-address, else of listen; resolve-interval is its own")
{
    const auto by_local = parse(R"([site]
name = "a"
[peer.b]
address = "branch1.example.net"
local-address = "2001:db8::1"
resolve-interval = "30s"
secret = "s"
)" + tunnel_of_b,
                                "a.toml");
    CHECK(by_local.peers.at("b").address.to_string() == "::/128");
    CHECK(by_local.peers.at("b").resolve_interval == 30s);

    const auto by_listen = parse(R"([site]
name = "a"
listen = "2001:db8::1"
[peer.b]
address = "branch1.example.net"
secret = "s"
)" + tunnel_of_b,
                                 "a.toml");
    CHECK(by_listen.peers.at("b").address.to_string() == "::/128");
}

TEST_CASE("an address that is no host name is refused at the value, with what is wrong and what to write")
{
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "branch_1.example.net"
)") == "a.toml:4:11: 'address' \"branch_1.example.net\" is no IP address, prefix or host name: its label "
           "'branch_1' holds '_': a host name has only letters, digits, '-' and dots between labels. Write an "
           "address (\"192.0.2.1\"), a prefix for a passive peer (\"0.0.0.0/0\") or a DNS name "
           "(\"branch1.example.net\")");
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "branch1..example.net"
)") == "a.toml:4:11: 'address' \"branch1..example.net\" is no IP address, prefix or host name: it has an empty "
           "label (two dots, or a dot first). Write an address (\"192.0.2.1\"), a prefix for a passive peer "
           "(\"0.0.0.0/0\") or a DNS name (\"branch1.example.net\")");
    // Digits and dots are an address mistyped, not a name.
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "10.0.0.300"
)") == "a.toml:4:11: 'address' must be an IP address or prefix, not \"10.0.0.300\"");
}

TEST_CASE("resolve-interval is for named peers only, and at least a second")
{
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
resolve-interval = "1m"
)") == "a.toml:5:20: 'resolve-interval' is only for a peer whose address is a DNS name: remove it");
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "b.example.net"
resolve-interval = "500ms"
)") == "a.toml:5:20: 'resolve-interval' must be at least 1s");
}

TEST_CASE("a static SA needs an address, not a name")
{
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "b.example.net"
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
[tunnel.b.static-sa]
enc-algorithm = "aes-128-gcm"
spi-in = 0x1001
spi-out = 0x2001
key-in = "000102030405060708090a0b0c0d0e0f10111213"
key-out = "000102030405060708090a0b0c0d0e0f10111213"
)") == "a.toml:8:1: a static SA needs the peer's address, but [peer.b] has the DNS name b.example.net: write its "
           "address, or let IKE key the tunnel");
}

TEST_CASE("two named peers are told apart like two of one address: by name, whatever its case, then remote-id")
{
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "b.example.net"
secret = "s"
[peer.c]
address = "B.Example.NET."
secret = "s"
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
[tunnel.c]
peer = "c"
address = "172.16.0.5/30"
)") == "a.toml:7:11: [peer.b] and [peer.c] both have the address b.example.net and no remote-id, so IKE cannot "
           "tell them apart: set remote-id (such as \"fqdn:c.example.com\") in one of them, or in both");
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "b.example.net"
secret = "s"
[peer.c]
address = "c.example.net"
secret = "s"
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
[tunnel.c]
peer = "c"
address = "172.16.0.5/30"
)") == "(no error)");
}
