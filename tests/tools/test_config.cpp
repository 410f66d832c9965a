// The configuration loader: the samples in configs/ parse to what they say,
// and each kind of mistake is reported at the exact FILE:LINE:COL.
// Inline documents start with their first line right after R"( so that the
// line numbers in the expectations can be counted in the source.

#include "tools/config/config.hpp"
#include "tests/tools/config_error.hpp"

#include "tests/ike/pki_helpers.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>
#include <string>

using namespace mesh::config;
using mesh::config::test::error_of;
using namespace std::chrono_literals;
using mesh::tunnel::EspCipher;
using mesh::tunnel::EspIntegrity;
using mesh::net::IpAddress;
using mesh::net::IpPrefix;

namespace {

const std::filesystem::path samples = std::filesystem::path(__FILE__).parent_path() / "configs";

Botan::secure_vector<std::uint8_t> bytes(std::string_view s)
{
    return {s.begin(), s.end()};
}

Botan::secure_vector<std::uint8_t> counting(std::uint8_t from, std::size_t n)
{
    Botan::secure_vector<std::uint8_t> out(n);
    for (std::size_t i = 0; i < n; ++i)
        out[i] = static_cast<std::uint8_t>(from + i);
    return out;
}

// A folder of its own under /tmp, removed at the end of the test.
struct TempDir {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("mesh-config-test-" + std::to_string(::getpid()));
    TempDir() { std::filesystem::create_directories(path); }
    ~TempDir() { std::filesystem::remove_all(path); }
    void write(const std::string& name, std::string_view text) const
    {
        std::ofstream(path / name, std::ios::binary) << text;
    }
};

// A tunnel keyed by hand, so the peer needs no secret: the smallest valid file
// around one section under test.
constexpr std::string_view static_tail = R"(
[peer.b]
address = "192.0.2.2"

[tunnel.b]
peer = "b"
address = "172.16.0.1/30"

[tunnel.b.static-sa]
enc-algorithm = "aes-128-gcm"
spi-in = 0x1001
spi-out = 0x2001
key-in = "000102030405060708090a0b0c0d0e0f10111213"
key-out = "000102030405060708090a0b0c0d0e0f10111213"
)";

} // namespace

TEST_CASE("The documented example, every key written, parses to its values")
{
    const Config c = load(samples / "full.toml");
    CHECK(c.path == samples / "full.toml");

    CHECK(c.site.name == "site-a");
    CHECK(c.site.listen == IpAddress::parse("203.0.1.1"));
    CHECK(c.site.ike_port == 500);
    CHECK(c.site.natt_port == 4500);
    CHECK(c.site.control_socket == "/run/mesh-site/site-a.sock");
    CHECK(c.site.zebra_socket == std::filesystem::path("/var/run/frr/zserv.api"));

    REQUIRE(c.profiles.size() == 1);
    const Profile& profile = c.profiles.at("default");
    CHECK(profile.name == "default");
    CHECK(profile.dh_groups == std::vector<std::string>{"ecp256", "modp2048"});
    CHECK(profile.enc_algorithms ==
          std::vector<std::string>{"aes-256-gcm", "aes-128-gcm", "aes-256", "aes-128", "chacha20-poly1305"});
    CHECK(profile.hash_algorithms == std::vector<std::string>{"sha256", "sha384", "sha512"});
    CHECK(profile.lifetime == 8h);
    CHECK(profile.dpd_interval == 30s);
    CHECK(profile.dpd_maximum_failures == 3);
    CHECK(profile.nat_traversal);

    REQUIRE(c.proposals.size() == 1);
    const Proposal& proposal = c.proposals.at("default");
    CHECK(proposal.enc_algorithms == std::vector<EspCipher>{EspCipher::aes256_gcm, EspCipher::aes128_gcm,
                                                            EspCipher::aes256_cbc, EspCipher::aes128_cbc,
                                                            EspCipher::chacha20_poly1305});
    CHECK(proposal.auth_algorithms == std::vector<EspIntegrity>{EspIntegrity::hmac_sha256_128});
    CHECK(proposal.pfs_groups == std::vector<std::string>{"ecp256"});
    CHECK(proposal.lifetime == 1h);

    REQUIRE(c.peers.size() == 1);
    const Peer& peer = c.peers.at("site-b");
    CHECK(peer.name == "site-b");
    CHECK(peer.address == IpPrefix::parse("203.0.2.1/32"));
    CHECK(peer.local_address == IpAddress::parse("203.0.1.1"));
    CHECK_FALSE(peer.passive);
    CHECK(peer.profile == "default");
    CHECK(peer.auth_method == AuthMethod::pre_shared_key);
    CHECK(peer.secret == bytes("YourSecretKey123"));
    CHECK_FALSE(peer.certificate);
    CHECK(peer.my_id == "fqdn:site-a.company.com");
    CHECK(peer.remote_id == "fqdn:site-b.company.com");
    CHECK(peer.encapsulation == Encapsulation::udp);

    REQUIRE(c.tunnels.size() == 1);
    const Tunnel& t = c.tunnels.at("site-b");
    CHECK(t.name == "site-b");
    CHECK(t.peer == "site-b");
    CHECK(t.proposal == "default");
    CHECK(t.interface == "gre-to-site-b");
    CHECK(t.address == IpPrefix::parse("172.16.1.1/30"));
    CHECK(t.mode == TunnelMode::gre);
    CHECK(t.local_subnets.empty());
    CHECK(t.remote_subnets.empty());
    CHECK(t.mtu == 1400u);
    CHECK(t.routes == std::vector<IpPrefix>{*IpPrefix::parse("10.2.0.0/24")});
    CHECK(t.route_distance == 10);
    CHECK(t.mss_clamp);
    REQUIRE(t.static_sa);
    CHECK(t.static_sa->enc_algorithm == EspCipher::aes128_gcm);
    CHECK(t.static_sa->auth_algorithm == EspIntegrity::none);
    CHECK(t.static_sa->spi_in == 0x00001001);
    CHECK(t.static_sa->spi_out == 0x00002001);
    CHECK(t.static_sa->key_in == counting(0x00, 20));
    CHECK(t.static_sa->key_out == counting(0x20, 20));
    CHECK(t.static_sa->auth_key_in.empty());
}

TEST_CASE("a peer whose tunnels are all keyed by hand needs only its address; the rest defaults")
{
    const Config c = load(samples / "static-sa.toml");
    CHECK(c.site.name == "lab-a");
    CHECK_FALSE(c.site.listen);
    CHECK(c.site.control_socket == "/run/mesh-site/lab-a.sock");
    CHECK_FALSE(c.site.zebra_socket);

    const Peer& peer = c.peers.at("lab-b");
    CHECK(peer.address == IpPrefix::parse("10.99.0.2"));
    CHECK(peer.auth_method == AuthMethod::pre_shared_key);
    CHECK(peer.secret.empty());
    CHECK(peer.profile == "default");
    CHECK(peer.remote_id == "auto");
    CHECK(peer.encapsulation == Encapsulation::udp);

    const Tunnel& t = c.tunnels.at("lab-b");
    CHECK(t.interface == "lab-b");
    CHECK(t.proposal == "default");
    CHECK(t.mode == TunnelMode::gre);
    CHECK_FALSE(t.mtu);
    CHECK(t.route_distance == 10);
    CHECK(t.mss_clamp);
    REQUIRE(t.static_sa);
    CHECK(t.static_sa->enc_algorithm == EspCipher::aes256_cbc);
    CHECK(t.static_sa->auth_algorithm == EspIntegrity::hmac_sha256_128);  // the CBC default
    CHECK(t.static_sa->spi_in == 0x100);   // written as a string
    CHECK(t.static_sa->spi_out == 4096);   // written in decimal
    CHECK(t.static_sa->key_in == counting(0x00, 32));
    CHECK(t.static_sa->key_out == counting(0x20, 32));
    CHECK(t.static_sa->auth_key_in == counting(0x40, 32));
    CHECK(t.static_sa->auth_key_out == counting(0x60, 32));
}

TEST_CASE("[profile.default] and [proposal.default] exist when not written, with the documented defaults")
{
    const Config c = load(samples / "static-sa.toml");
    REQUIRE(c.profiles.size() == 1);
    const Profile& profile = c.profiles.at("default");
    CHECK(profile.name == "default");
    CHECK(profile.dh_groups == std::vector<std::string>{"ecp256", "modp2048"});
    CHECK(profile.lifetime == 8h);
    CHECK(profile.dpd_interval == 30s);
    CHECK(profile.dpd_maximum_failures == 3);
    CHECK(profile.nat_traversal);
    REQUIRE(c.proposals.size() == 1);
    const Proposal& proposal = c.proposals.at("default");
    CHECK(proposal.name == "default");
    CHECK(proposal.enc_algorithms.size() == 5);
    CHECK(proposal.auth_algorithms == std::vector<EspIntegrity>{EspIntegrity::hmac_sha256_128});
    CHECK(proposal.pfs_groups == std::vector<std::string>{"ecp256"});
    CHECK(proposal.lifetime == 1h);
}

TEST_CASE("secret-file is found relative to the configuration's folder, its trailing newline stripped")
{
    const TempDir dir;
    std::filesystem::copy_file(samples / "hub.toml", dir.path / "hub.toml");
    dir.write("hub.secret", "hub-secret\n");
    std::filesystem::permissions(dir.path / "hub.secret", std::filesystem::perms::owner_read);
    const Config c = load(dir.path / "hub.toml");

    const Peer& peer = c.peers.at("spokes");
    CHECK(peer.secret == bytes("hub-secret"));
    CHECK(peer.passive);
    CHECK(peer.address == IpPrefix::parse("0.0.0.0/0"));
    CHECK(peer.profile == "strict");
    CHECK(peer.encapsulation == Encapsulation::automatic);

    const Profile& profile = c.profiles.at("strict");
    CHECK(profile.dh_groups == std::vector<std::string>{"curve25519", "ecp384"});
    CHECK(profile.lifetime == 24h);
    CHECK(profile.dpd_maximum_failures == 5);
    CHECK_FALSE(profile.nat_traversal);
    CHECK(c.profiles.contains("default"));

    const Proposal& proposal = c.proposals.at("strict");
    CHECK(proposal.enc_algorithms == std::vector<EspCipher>{EspCipher::aes256_cbc});
    CHECK(proposal.auth_algorithms ==
          std::vector<EspIntegrity>{EspIntegrity::hmac_sha512_256, EspIntegrity::hmac_sha384_192});
    CHECK(proposal.pfs_groups == std::vector<std::string>{"none"});
    CHECK(proposal.lifetime == 30min);

    const Tunnel& t = c.tunnels.at("spokes");
    CHECK(t.mode == TunnelMode::ip);
    CHECK_FALSE(t.address);
    CHECK(t.local_subnets == std::vector<IpPrefix>{*IpPrefix::parse("10.0.0.0/16")});
    CHECK(t.remote_subnets.size() == 2);
    CHECK(t.route_distance == 200);
    CHECK_FALSE(t.mss_clamp);
    CHECK_FALSE(t.static_sa);
}

TEST_CASE("a secret-file that does not exist is named, relative path resolved")
{
    const TempDir dir;
    std::filesystem::copy_file(samples / "hub.toml", dir.path / "hub.toml");
    const std::string file = (dir.path / "hub.toml").string();
    try {
        (void)load(file);
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) == file + ":26:15: cannot read secret-file " + (dir.path / "hub.secret").string() +
                                           ": No such file or directory");
    }
}

TEST_CASE("a file that cannot be opened is an error without a line")
{
    CHECK_THROWS_WITH_AS((void)load("/nonexistent/mesh.toml"), "/nonexistent/mesh.toml: cannot open: No such file or directory",
                         ConfigError);
}

TEST_CASE("an unknown key names its section and suggests the closest known one")
{
    CHECK(error_of(R"([site]
name = "a"

[profile.default]
dh-group = ["ecp256"]
lifetime = "8h"
dpd-intervall = "30s"
)") == "a.toml:7:1: unknown key 'dpd-intervall' in [profile.default] (did you mean 'dpd-interval'?)");

    CHECK(error_of(R"([site]
name = "a"
  colour = "blue"
)") == "a.toml:3:3: unknown key 'colour' in [site]");
}

TEST_CASE("an unknown table at the top level, and a key outside any table, are errors")
{
    CHECK(error_of(R"([site]
name = "a"
[peers.b]
address = "192.0.2.2"
)") == "a.toml:3:2: unknown table [peers] (did you mean [peer]?)");

    CHECK(error_of(R"(name = "a"
[site]
name = "a"
)") == "a.toml:1:1: unknown key 'name' at the top level");
}

TEST_CASE("an unknown key inside static-sa is an error")
{
    const std::string text = R"([site]
name = "a"
)" + std::string(static_tail) + "spi_out = 1\n";
    CHECK(error_of(text) == "a.toml:17:1: unknown key 'spi_out' in [tunnel.b.static-sa] (did you mean 'spi-out'?)");
}

TEST_CASE("an unknown table below a tunnel is an error with its full name")
{
    const std::string text = R"([site]
name = "a"
)" + std::string(static_tail).replace(static_tail.find("[tunnel.b.static-sa]"), 20, "[tunnel.b.static_sa]");
    CHECK(error_of(text) == "a.toml:11:11: unknown table [tunnel.b.static_sa] (did you mean [tunnel.b.static-sa]?)");
}

TEST_CASE("a static SA needs a peer with one address, not a passive hub's prefix")
{
    CHECK(error_of(R"([site]
name = "a"
[peer.hub]
address = "0.0.0.0/0"
passive = true
[tunnel.b]
peer = "hub"
address = "172.16.0.1/30"
[tunnel.b.static-sa]
enc-algorithm = "aes-128-gcm"
spi-in = 0x1001
spi-out = 0x2001
key-in = "000102030405060708090a0b0c0d0e0f10111213"
key-out = "000102030405060708090a0b0c0d0e0f10111213"
)") == "a.toml:9:1: a static SA needs one peer address, but [peer.hub] has the prefix 0.0.0.0/0");
}

TEST_CASE("a value of the wrong type names the key and the type expected")
{
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = 192
)") == "a.toml:4:11: expected a string for 'address', not an integer");

    CHECK(error_of(R"([site]
name = "a"
[profile.default]
nat-traversal = "on"
)") == "a.toml:4:17: expected true or false for 'nat-traversal', not a string");

    CHECK(error_of(R"([site]
name = "a"
[profile.default]
dh-group = ["ecp256",
            384]
)") == "a.toml:5:13: expected a string in 'dh-group', not an integer");

    CHECK(error_of(R"([site]
name = "a"
[profile]
lifetime = "8h"
)") == "a.toml:4:1: expected [profile.NAME] tables in [profile], not a string for 'lifetime'");
}

TEST_CASE("a bad address, and a prefix for a peer that is not passive, are errors at the value")
{
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "203.0.2.300"
)") == "a.toml:4:11: 'address' must be an IP address or prefix, not \"203.0.2.300\"");

    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "0.0.0.0/0"
secret = "s"
)") == "a.toml:4:11: 'address' may be a prefix only for a passive peer (passive = true)");

    CHECK(error_of(R"([site]
name = "a"
listen = "site-a.example.com"
)") == "a.toml:3:10: 'listen' must be an IP address, not \"site-a.example.com\"");
}

TEST_CASE("a bad duration names the key")
{
    CHECK(error_of(R"([site]
name = "a"
[proposal.fast]
lifetime = "1 hour"
)") == "a.toml:4:12: 'lifetime' must be a duration such as \"30s\": a positive whole number and ms, s, m, h or d");

    CHECK(error_of(R"([site]
name = "a"
[profile.default]
dpd-interval = 30
)") == "a.toml:4:16: expected a duration string such as \"30s\" for 'dpd-interval', not an integer");
}

TEST_CASE("lifetime-bytes takes a size with a unit, or a whole number of bytes")
{
    CHECK(parse_byte_count("500000") == 500000u);
    CHECK(parse_byte_count("100kB") == 100000u);
    CHECK(parse_byte_count("200MB") == 200000000u);
    CHECK(parse_byte_count("4GB") == 4000000000u);
    CHECK(parse_byte_count("64KiB") == 65536u);
    CHECK(parse_byte_count("1GiB") == 1073741824u);
    CHECK_FALSE(parse_byte_count("0"));
    CHECK_FALSE(parse_byte_count("4 GB"));
    CHECK_FALSE(parse_byte_count("4gb"));
    CHECK_FALSE(parse_byte_count("-1"));
    CHECK_FALSE(parse_byte_count("99999999999GiB"));   // beyond 2^64

    const Config c = parse(R"([site]
name = "a"
[proposal.big]
lifetime-bytes = "4GB"
[proposal.small]
lifetime-bytes = 1000000
)", "a.toml");
    CHECK(c.proposals.at("big").lifetime_bytes == 4000000000u);
    CHECK(c.proposals.at("small").lifetime_bytes == 1000000u);
    CHECK(c.proposals.at("default").lifetime_bytes == 0);   // no limit unless set

    CHECK(error_of(R"([site]
name = "a"
[proposal.fast]
lifetime-bytes = "lots"
)") == "a.toml:4:18: 'lifetime-bytes' must be a size such as \"4GB\": a positive whole number of bytes, or with kB, "
       "MB, GB, KiB, MiB or GiB");
}

TEST_CASE("parse_duration takes a positive whole number and one unit")
{
    CHECK(parse_duration("200ms") == 200ms);
    CHECK(parse_duration("30s") == 30s);
    CHECK(parse_duration("5m") == 5min);
    CHECK(parse_duration("8h") == 8h);
    CHECK(parse_duration("1d") == 24h);
    CHECK_FALSE(parse_duration("0s"));
    CHECK_FALSE(parse_duration("-5s"));
    CHECK_FALSE(parse_duration("5"));
    CHECK_FALSE(parse_duration("s"));
    CHECK_FALSE(parse_duration("1.5h"));
    CHECK_FALSE(parse_duration("1h30m"));
    CHECK_FALSE(parse_duration("5 s"));
    CHECK_FALSE(parse_duration("99999999999999999999d"));
}

TEST_CASE("a reference to a peer, profile or proposal that is not defined is an error at the reference")
{
    CHECK(error_of(R"([site]
name = "a"
[peer.site-b]
address = "192.0.2.2"
secret = "s"
[tunnel.b]
peer = "site-c"
)") == "a.toml:7:8: peer 'site-c' is not defined (did you mean 'site-b'?)");

    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
profile = "fast"
)") == "a.toml:5:11: profile 'fast' is not defined");

    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret = "s"
[tunnel.b]
peer = "b"
proposal = "defualt"
)") == "a.toml:8:12: proposal 'defualt' is not defined (did you mean 'default'?)");
}

TEST_CASE("a static-sa key of the wrong length gives the number of hex digits expected, never the key")
{
    const std::string head = R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
[tunnel.b.static-sa]
enc-algorithm = "aes-256-gcm"
spi-in = 0x1001
spi-out = 0x2001
)";
    CHECK(error_of(head + "key-in = \"0x000102030405060708090a0b0c0d0e0f10111213\"\n") ==
          "a.toml:12:10: 'key-in' must be 72 hex digits for aes-256-gcm (a 32-byte key and a 4-byte salt), not 40");
    CHECK(error_of(head + "key-in = \"00010203zz\"\n") == "a.toml:12:10: 'key-in' must be hex digits (a 0x prefix is accepted)");
}

TEST_CASE("CBC static SAs take auth-algorithm and auth keys; the AEADs refuse them")
{
    const std::string head = R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
[tunnel.b.static-sa]
)";
    CHECK(error_of(head + R"(enc-algorithm = "chacha20-poly1305"
auth-algorithm = "sha256"
)") == "a.toml:10:18: 'auth-algorithm' is only used with the CBC ciphers: chacha20-poly1305 authenticates by itself");

    CHECK(error_of(head + R"(enc-algorithm = "aes-128-cbc"
auth-algorithm = "sha384"
spi-in = 0x1001
spi-out = 0x2001
key-in = "000102030405060708090a0b0c0d0e0f"
key-out = "000102030405060708090a0b0c0d0e0f"
auth-key-in = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
)") == "a.toml:15:15: 'auth-key-in' must be 96 hex digits for hmac-sha384, not 64");

    CHECK(error_of(head + R"(enc-algorithm = "aes-128-cbc"
spi-in = 0x1001
spi-out = 0x2001
key-in = "000102030405060708090a0b0c0d0e0f"
key-out = "000102030405060708090a0b0c0d0e0f"
)") == "a.toml:8:1: missing 'auth-key-in' in [tunnel.b.static-sa]");

    CHECK(error_of(head + R"(enc-algorithm = "aes-128-ccm"
)") == "a.toml:9:17: 'aes-128-ccm' is not a valid 'enc-algorithm' (did you mean 'aes-128-gcm'?)");
}

TEST_CASE("an SPI below 256 is refused: 1-255 are reserved (RFC 4303 section 2.1)")
{
    const std::string head = R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
[tunnel.b.static-sa]
enc-algorithm = "aes-128-gcm"
)";
    CHECK(error_of(head + "spi-in = 0xff\n") ==
          "a.toml:10:10: 'spi-in' must be at least 256 (0x100): SPIs 1-255 are reserved (RFC 4303 section 2.1)");
    CHECK(error_of(head + "spi-in = 0x100\nspi-out = \"0x0000001\"\n") ==
          "a.toml:11:11: 'spi-out' must be at least 256 (0x100): SPIs 1-255 are reserved (RFC 4303 section 2.1)");
    CHECK(error_of(head + "spi-in = 0x100000000\n") == "a.toml:10:10: 'spi-in' must fit in 32 bits");
    CHECK(error_of(head + "spi-in = \"4096\"\n") ==
          "a.toml:10:10: 'spi-in' must be an integer such as 0x00001001, or a string \"0x...\"");
}

TEST_CASE("two tunnels on one interface: the later one is the error")
{
    CHECK(error_of(std::string(R"([site]
name = "a"
[tunnel.c]
peer = "b"
interface = "gre-b"
address = "172.16.0.5/30"
[tunnel.c.static-sa]
enc-algorithm = "aes-128-gcm"
spi-in = 0x1002
spi-out = 0x2002
key-in = "000102030405060708090a0b0c0d0e0f10111213"
key-out = "000102030405060708090a0b0c0d0e0f10111213"
)") + std::string(static_tail).replace(static_tail.find("[tunnel.b]\n") + 11, 0, "interface = \"gre-b\"\n")) ==
          "a.toml:18:13: interface 'gre-b' is already used by [tunnel.c]");

    // Defaulted from the tunnel's name: the error points at the tunnel's header.
    CHECK(error_of(std::string(R"([site]
name = "a"
[tunnel.x]
peer = "b"
interface = "b"
address = "172.16.0.5/30"
)") + std::string(static_tail)) == "a.toml:11:1: interface 'b' is already used by [tunnel.x]");
}

TEST_CASE("two tunnels receiving on one SPI: the later spi-in is the error")
{
    CHECK(error_of(std::string(R"([site]
name = "a"
[tunnel.c]
peer = "b"
address = "172.16.0.5/30"
[tunnel.c.static-sa]
enc-algorithm = "aes-128-gcm"
spi-in = 0x1001
spi-out = 0x2002
key-in = "000102030405060708090a0b0c0d0e0f10111213"
key-out = "000102030405060708090a0b0c0d0e0f10111213"
)") + std::string(static_tail)) == "a.toml:22:10: spi-in 0x00001001 is already used by [tunnel.c]");
}

TEST_CASE("mode gre without an address points at the tunnel's header")
{
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret = "s"

  [tunnel.b]
peer = "b"
mode = "gre"
)") == "a.toml:7:3: missing 'address' in [tunnel.b] (required for mode = \"gre\")");
}

TEST_CASE("mode ip needs both subnet lists; mode gre refuses them")
{
    const std::string head = R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret = "s"
[tunnel.b]
peer = "b"
)";
    CHECK(error_of(head + "mode = \"ip\"\nlocal-subnets = [\"10.1.0.0/24\"]\n") ==
          "a.toml:6:1: missing 'remote-subnets' in [tunnel.b] (required for mode = \"ip\")");
    CHECK(error_of(head + "address = \"172.16.0.1/30\"\nremote-subnets = [\"10.1.0.0/24\"]\n") ==
          "a.toml:9:18: 'remote-subnets' is only used with mode = \"ip\"");
    CHECK(error_of(head + "address = \"172.16.0.1/30\"\nroutes = [\"10.2.0.1/24\"]\n") ==
          "a.toml:9:11: 'routes' entry 10.2.0.1/24 has host bits set (did you mean 10.2.0.0/24?)");
}

TEST_CASE("an interface name Linux would refuse is an error")
{
    const std::string head = R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret = "s"
[tunnel.to-the-far-away-site]
peer = "b"
)";
    CHECK(error_of(head + "address = \"172.16.0.1/30\"\n") ==
          "a.toml:6:1: the tunnel's name 'to-the-far-away-site', the default interface name, is longer than 15 "
          "characters: set 'interface'");
    CHECK(error_of(head + "interface = \"gre b\"\n") ==
          "a.toml:8:13: interface name 'gre b' may not contain '/', ':' or whitespace");
}

TEST_CASE("the MTU of a tunnel that carries IPv6 is at least 1280")
{
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret = "s"
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
routes = ["2001:db8::/32"]
mtu = 1200
)") == "a.toml:10:7: 'mtu' must be at least 1280 on a tunnel that carries IPv6 (RFC 8200 section 5)");
}

TEST_CASE("a peer keyed by IKE needs its secret, or its certificates")
{
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
)") == "a.toml:3:1: missing 'secret' or 'secret-file' in [peer.b] (required for auth-method = \"pre-shared-key\")");

    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
auth-method = "digital-signature"
)") == "a.toml:3:1: missing 'certificate' in [peer.b] (required for auth-method = \"digital-signature\")");

    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret = "s"
secret-file = "b.secret"
)") == "a.toml:6:15: give either 'secret' or 'secret-file', not both");
}

TEST_CASE("digital-signature files are resolved relative to the configuration and must exist")
{
    const TempDir dir;
    using mesh::ike::test_pki::lab;
    dir.write("a.pem", lab().ecdsa_leaf.cert.PEM_encode());
    dir.write("a.key", mesh::ike::test_pki::pkcs8_pem(*lab().ecdsa_leaf.key));
    std::filesystem::permissions(dir.path / "a.key", std::filesystem::perms::owner_read);
    dir.write("ca.pem", lab().root.cert.PEM_encode());
    dir.write("a.toml", R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
auth-method = "digital-signature"
certificate = "a.pem"
private-key = "a.key"
ca = "ca.pem"
my-id = "dn:CN=site-a"
remote-id = "user-fqdn:ops@site-b.example.com"
)");
    const Config c = load(dir.path / "a.toml");
    const Peer& peer = c.peers.at("b");
    CHECK(peer.auth_method == AuthMethod::digital_signature);
    CHECK(peer.certificate == dir.path / "a.pem");
    CHECK(peer.private_key == dir.path / "a.key");
    CHECK(peer.ca == dir.path / "ca.pem");
    CHECK_FALSE(peer.crl);
    CHECK(peer.secret.empty());

    dir.write("a.toml", R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
auth-method = "digital-signature"
certificate = "a.pem"
private-key = "a.key"
ca = "ca.pem"
crl = "ca.crl"
)");
    try {
        (void)load(dir.path / "a.toml");
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()) == (dir.path / "a.toml").string() + ":9:7: 'crl' file " +
                                           (dir.path / "ca.crl").string() + " does not exist");
    }
}

TEST_CASE("identities take one of the RFC 7296 forms")
{
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret = "s"
my-id = "site-a.company.com"
)") == "a.toml:6:9: 'my-id': an identity is address:, fqdn:, user-fqdn:, key-id: or dn: and a value");
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret = "s"
remote-id = "address:site-b"
)") == "a.toml:6:13: 'remote-id': 'site-b' is not an IP address (or \"auto\")");
}

TEST_CASE("a list of algorithms takes only known names, each once")
{
    CHECK(error_of(R"([site]
name = "a"
[profile.default]
dh-group = ["modp2048", "ecp265"]
)") == "a.toml:4:25: 'ecp265' is not a valid 'dh-group' (did you mean 'ecp256'?)");
    CHECK(error_of(R"([site]
name = "a"
[proposal.default]
enc-algorithms = ["aes-128-gcm", "rc4"]
)") == "a.toml:4:34: 'rc4' is not a valid 'enc-algorithms' (expected one of: aes-256-gcm, aes-128-gcm, "
           "aes-256-cbc, aes-128-cbc, chacha20-poly1305)");
    CHECK(error_of(R"([site]
name = "a"
[proposal.default]
pfs-group = ["ecp256", "ecp256"]
)") == "a.toml:4:24: 'ecp256' is listed twice in 'pfs-group'");
    CHECK(error_of(R"([site]
name = "a"
[proposal.default]
pfs-group = ["none", "ecp256"]
)") == "a.toml:4:14: 'none' in 'pfs-group' must stand alone");
    CHECK(error_of(R"([site]
name = "a"
[profile.default]
hash-algorithm = []
)") == "a.toml:4:18: 'hash-algorithm' must not be empty");
}

TEST_CASE("[site] and its name are required; ports must differ")
{
    CHECK(error_of(R"([peer.b]
address = "192.0.2.2"
)") == "a.toml:1:1: missing [site]");
    CHECK(error_of(R"(
[site]
listen = "203.0.1.1"
)") == "a.toml:2:1: missing 'name' in [site]");
    CHECK(error_of(R"([site]
name = "a"
ike-port = 4500
)") == "a.toml:3:12: 'natt-port' and 'ike-port' must differ");
    CHECK(error_of(R"([site]
name = "a"
natt-port = 70000
)") == "a.toml:3:13: 'natt-port' must be between 1 and 65535");
}

TEST_CASE("a TOML syntax error is located like any other")
{
    CHECK(error_of(R"([site]
name = "a"
[site]
)") == "a.toml:3:1: Error while parsing table header: cannot redefine existing table 'site'");
    CHECK(error_of(R"([site]
name = "a
)") == "a.toml:2:10: Error while parsing string: unescaped control characters other than TAB (U+0009) are explicitly prohibited");
}

TEST_CASE("secrets never appear in an error message")
{
    const std::string message = error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret = "hunter2\q"
)");
    CHECK(message.starts_with("a.toml:5:"));
    CHECK(message.find("hunter2") == std::string::npos);
    CHECK(message.find("\\q") == std::string::npos);

    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret = 12345
)") == "a.toml:5:10: expected a string for 'secret', not an integer");
}

TEST_CASE("dpd-interval: milliseconds, at least 50ms, or disable-dpd")
{
    using namespace std::chrono_literals;
    const auto profile_of = [](std::string_view dpd) {
        return parse(std::string("[site]\nname = \"a\"\n[profile.default]\ndpd-interval = \"") + std::string(dpd) +
                         "\"\n",
                     "a.toml")
            .profiles.at("default");
    };
    CHECK(profile_of("200ms").dpd_interval == 200ms);
    CHECK(profile_of("50ms").dpd_interval == 50ms);
    CHECK(profile_of("disable-dpd").dpd_interval == 0ms);
    CHECK(error_of(R"([site]
name = "a"
[profile.default]
dpd-interval = "49ms"
)") == "a.toml:4:16: 'dpd-interval' must be at least 50ms (or \"disable-dpd\")");
}

TEST_CASE("workers: one per core by default, \"auto\", or 1 to 64")
{
    CHECK_FALSE(parse("[site]\nname = \"a\"\n", "a.toml").site.workers);
    CHECK_FALSE(parse("[site]\nname = \"a\"\nworkers = \"auto\"\n", "a.toml").site.workers);
    CHECK(parse("[site]\nname = \"a\"\nworkers = 2\n", "a.toml").site.workers == 2u);
    const std::string fix = "'workers' must be \"auto\" (one per core) or a number of threads from 1 to 64";
    CHECK(error_of("[site]\nname = \"a\"\nworkers = 0\n") == "a.toml:3:11: " + fix);
    CHECK(error_of("[site]\nname = \"a\"\nworkers = 65\n") == "a.toml:3:11: " + fix);
    CHECK(error_of("[site]\nname = \"a\"\nworkers = \"all\"\n") == "a.toml:3:11: " + fix);
}

TEST_CASE("link-down: admin by default, or carrier")
{
    CHECK(parse("[site]\nname = \"a\"\n", "a.toml").site.link_down == mesh::config::LinkDown::admin);
    CHECK(parse("[site]\nname = \"a\"\nlink-down = \"carrier\"\n", "a.toml").site.link_down ==
          mesh::config::LinkDown::carrier);
    CHECK(error_of(R"([site]
name = "a"
link-down = "carier"
)") == "a.toml:3:13: 'carier' is not a valid 'link-down' (did you mean 'carrier'?)");
}

TEST_CASE("worker-priority: realtime by default, or normal; anything else named with the choices")
{
    using mesh::tunnel::WorkerPriority;
    CHECK(parse("[site]\nname = \"a\"\n", "a.toml").site.worker_priority == WorkerPriority::realtime);
    CHECK(parse("[site]\nname = \"a\"\nworker-priority = \"normal\"\n", "a.toml").site.worker_priority ==
          WorkerPriority::normal);
    CHECK(error_of("[site]\nname = \"a\"\nworker-priority = \"\"\n") ==
          "a.toml:3:19: '' is not a valid 'worker-priority' (expected one of: realtime, normal)");
    CHECK(error_of("[site]\nname = \"a\"\nworker-priority = 5\n") ==
          "a.toml:3:19: expected a string for 'worker-priority', not an integer");
}

// ---------------------------------------------------------------------------
// Template peers: a prefix address, a key per branch, an instance per branch

namespace {
constexpr std::string_view template_head = R"([site]
name = "hub"
[peer.branches]
address = "0.0.0.0/0"
passive = true
remote-id = "fqdn:*.branch.example.net"
)";
} // namespace

TEST_CASE("a template peer takes a key per branch from [peer.NAME.secrets] and secrets-file")
{
    const TempDir dir;
    dir.write("branches.secrets", "# branch keys\n\nfqdn:s2.branch.example.net   key two \r\n"
                                  "user-fqdn:ops@s3.branch.example.net\tkey3\n");
    std::filesystem::permissions(dir.path / "branches.secrets", std::filesystem::perms::owner_read);
    dir.write("hub.toml", std::string(template_head) + R"(secrets-file = "branches.secrets"
[peer.branches.secrets]
"fqdn:s1.branch.example.net" = "key one"
[tunnel.branches]
peer = "branches"
interface = "br"
address-pool = "172.16.128.0/17"
)");
    std::filesystem::permissions(dir.path / "hub.toml", std::filesystem::perms::owner_read);
    const Config c = load(dir.path / "hub.toml");
    const Peer& peer = c.peers.at("branches");
    CHECK(peer.is_template());
    CHECK(peer.remote_id == "fqdn:*.branch.example.net");
    REQUIRE(peer.secrets.size() == 3);
    CHECK(peer.secrets[0].first == "fqdn:s1.branch.example.net");
    CHECK(peer.secrets[0].second == bytes("key one"));
    CHECK(peer.secrets[1].first == "fqdn:s2.branch.example.net");
    CHECK(peer.secrets[1].second == bytes("key two"));
    CHECK(peer.secrets[2].first == "user-fqdn:ops@s3.branch.example.net");
    CHECK(peer.secrets[2].second == bytes("key3"));
    CHECK(c.warnings.empty());
    const Tunnel& t = c.tunnels.at("branches");
    CHECK(t.is_template);
    CHECK(t.interface == "br");
    CHECK(t.address_pool == IpPrefix::parse("172.16.128.0/17"));
    CHECK(t.branch_prefix_length == 31);
    CHECK_FALSE(t.address);
}

TEST_CASE("secrets-file mistakes name the file's own line and column, never the key")
{
    const TempDir dir;
    const auto load_with = [&](std::string_view secrets) {
        dir.write("branches.secrets", secrets);
        std::filesystem::permissions(dir.path / "branches.secrets", std::filesystem::perms::owner_read |
                                                                         std::filesystem::perms::owner_write);
        dir.write("hub.toml", std::string(template_head) + "secrets-file = \"branches.secrets\"\n[tunnel.branches]\n"
                                                           "peer = \"branches\"\naddress-pool = \"172.16.128.0/24\"\n");
        try {
            (void)load(dir.path / "hub.toml");
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    const std::string file = (dir.path / "branches.secrets").string();
    CHECK(load_with("fqdn:s1.branch.example.net k1\n  fqdn:s2.branch.example.net\n") ==
          file + ":2:3: expected ID SECRET (an identity, blanks, its key)");
    CHECK(load_with("fqdn:s1.branch.example.net k1\nFQDN:s2 k2\n") ==
          file + ":2:1: unknown identity form 'FQDN': use address:, fqdn:, user-fqdn:, key-id: or dn:");
    CHECK(load_with("fqdn:s1.branch.example.net k1\nfqdn:S1.Branch.example.net k2\n") ==
          file + ":2:1: fqdn:S1.Branch.example.net has a key already");
    CHECK(load_with("fqdn:*.branch.example.net k1\n") ==
          file + ":1:1: a key belongs to one identity, not to a '*' pattern");
    std::filesystem::permissions(dir.path / "branches.secrets", std::filesystem::perms::owner_read |
                                                                     std::filesystem::perms::group_read);
    dir.write("hub.toml", std::string(template_head) + "secrets-file = \"branches.secrets\"\n[tunnel.branches]\n"
                                                       "peer = \"branches\"\naddress-pool = \"172.16.128.0/24\"\n");
    CHECK_THROWS_WITH_AS((void)load(dir.path / "hub.toml"),
                         doctest::Contains("branches.secrets is readable by group"), ConfigError);
}

TEST_CASE("template peer mistakes are located")
{
    const std::string tunnel = "[tunnel.branches]\npeer = \"branches\"\naddress-pool = \"172.16.128.0/17\"\n";
    // 7: the secrets table's first key.
    CHECK(error_of(std::string(template_head) + "[peer.branches.secrets]\n\"fqdn:s1\" = \"\"\n" + tunnel) ==
          "a.toml:8:1: 'fqdn:s1' in [peer.branches.secrets]: the key of fqdn:s1 is empty");
    CHECK(error_of(std::string(template_head) + "[peer.branches.secrets]\n\"s1\" = \"k\"\n" + tunnel) ==
          "a.toml:8:1: 's1' in [peer.branches.secrets]: an identity is address:, fqdn:, user-fqdn:, key-id: or dn: "
          "and a value");
    CHECK(error_of(std::string(template_head) + "secret = \"s\"\n[peer.branches.secrets]\n\"fqdn:s1\" = \"k\"\n" +
                   tunnel) ==
          "a.toml:8:1: 'secrets' and 'secret' both given: a template peer takes a key per branch or one for all, not "
          "both");
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
remote-id = "fqdn:*.example.net"
)") == "a.toml:5:13: 'remote-id': a '*' pattern is only for a passive peer (passive = true), which never names "
       "the identity it expects");
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "0.0.0.0/0"
passive = true
remote-id = "dn:CN=*"
)") == "a.toml:6:13: 'remote-id': a '*' pattern is only for fqdn: and user-fqdn: identities");
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secrets = { "fqdn:s1" = "k" }
)") == "a.toml:5:11: 'secrets' is only for a template peer, whose address is a prefix (\"0.0.0.0/0\"): give a peer "
       "of one address its 'secret'");
    const std::string head = std::string(template_head) + "secrets = { \"fqdn:s1.branch.example.net\" = \"k\" }\n";
    CHECK(error_of(head + "[tunnel.branches]\npeer = \"branches\"\n") ==
          "a.toml:8:1: missing 'address-pool' in [tunnel.branches] (a template tunnel of mode = \"gre\" gives each "
          "branch a block of it)");
    CHECK(error_of(head + "[tunnel.branches]\npeer = \"branches\"\naddress = \"172.16.0.1/30\"\n") ==
          "a.toml:10:11: a template tunnel gives each branch its own address: set 'address-pool' instead of "
          "'address'");
    CHECK(error_of(head + tunnel + "branch-prefix-length = 29\n") ==
          "a.toml:11:24: 'branch-prefix-length' is 31 or 30 for an IPv4 pool");
    CHECK(error_of(head + tunnel + "interface = \"branch-tunnel\"\n") ==
          "a.toml:11:13: interface prefix 'branch-tunnel' with up to 16384 instances makes names like "
          "'branch-tunnel16383', longer than 15 characters: shorten the prefix or the address-pool");
    CHECK(error_of(head + tunnel + "interface = \"br\"\n[peer.x]\naddress = \"192.0.2.9\"\nsecret = \"s\"\n"
                                   "[tunnel.x]\npeer = \"x\"\ninterface = \"br7\"\naddress = \"172.16.0.1/30\"\n") ==
          "a.toml:17:13: interface 'br7' looks like an instance of [tunnel.branches] (prefix 'br')");
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret = "s"
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
address-pool = "172.16.128.0/17"
)") == "a.toml:9:16: 'address-pool' is only for a template tunnel, whose peer's address is a prefix");
}

TEST_CASE("one shared key for every branch of a template is a warning")
{
    const Config c = parse(std::string(template_head) + R"(secret = "for-all"
[tunnel.branches]
peer = "branches"
address-pool = "172.16.128.0/17"
)", "a.toml");
    REQUIRE(c.warnings.size() == 1);
    CHECK(c.warnings[0] == "a.toml:7:10: warning: one pre-shared key for every branch of the template peer "
                           "[peer.branches] lets any branch that knows it pose as any other: give each its own in "
                           "[peer.branches.secrets] or 'secrets-file'");
}

TEST_CASE("ike-cookie-threshold and ike-max-half-open: 30 and 1000 by default, the threshold no higher than the bound")
{
    const auto defaults = parse("[site]\nname = \"a\"\n", "a.toml").site;
    CHECK(defaults.ike_cookie_threshold == 30);
    CHECK(defaults.ike_max_half_open == 1000);
    const auto set = parse("[site]\nname = \"a\"\nike-cookie-threshold = 0\nike-max-half-open = 50\n", "a.toml").site;
    CHECK(set.ike_cookie_threshold == 0);
    CHECK(set.ike_max_half_open == 50);
    CHECK(error_of(R"([site]
name = "a"
ike-max-half-open = 20
)") == "a.toml:3:21: 'ike-cookie-threshold' (30) must not exceed 'ike-max-half-open' (20): no cookie would be "
       "asked for before IKE_SA_INIT is dropped");
    CHECK(error_of(R"([site]
name = "a"
ike-max-half-open = 0
)") == "a.toml:3:21: 'ike-max-half-open' must be between 1 and 1000000");
    CHECK(error_of(R"([site]
name = "a"
ike-cookie-threshold = -1
)") == "a.toml:3:24: 'ike-cookie-threshold' must be between 0 and 1000000");
}
