// What check-config and run share: load() reads and checks every file the
// daemon would use (certificates, keys, CA, CRL, secret files and their
// permissions), the peers against their tunnels, and nat-traversal; then the
// daemon's IKE peers are built from it (tools/daemon/ike_policy.cpp).
// Files are written to a temporary folder with explicit modes; the PKI is
// made at test time (tests/ike/pki_helpers.hpp).

#include "tools/config/config.hpp"
#include "tools/daemon/ike_policy.hpp"

#include "ike/certificates.hpp"
#include "tests/ike/pki_helpers.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

using namespace mesh::config;
using mesh::ike::test_pki::lab;
using mesh::ike::test_pki::pkcs8_pem;
namespace fs = std::filesystem;

namespace {

constexpr auto owner_only = fs::perms::owner_read | fs::perms::owner_write;
constexpr auto world_readable = owner_only | fs::perms::group_read | fs::perms::others_read;

// A configuration and the files it names, in a folder of their own.
struct Files {
    mesh::ike::test_pki::TempDir dir;

    fs::path write(const std::string& name, const std::string& content, fs::perms perms = owner_only) const
    {
        const fs::path file = dir.write(name, content);
        fs::permissions(file, perms);
        return file;
    }
    // a.pem, a.key (ours: the ECDSA leaf) and ca.pem (the lab's root).
    void write_pki() const
    {
        write("a.pem", lab().ecdsa_leaf.cert.PEM_encode(), world_readable);
        write("a.key", pkcs8_pem(*lab().ecdsa_leaf.key));
        write("ca.pem", lab().root.cert.PEM_encode(), world_readable);
    }
    [[nodiscard]] std::string file(const std::string& name) const { return (dir.path() / name).string(); }

    // what() of load()'s ConfigError, "(no error)" when it loads.
    [[nodiscard]] std::string error_of(const std::string& toml, fs::perms perms = owner_only) const
    {
        write("a.toml", toml, perms);
        try {
            (void)load(dir.path() / "a.toml");
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "(no error)";
    }
    [[nodiscard]] Config load_toml(const std::string& toml, fs::perms perms = owner_only) const
    {
        write("a.toml", toml, perms);
        return load(dir.path() / "a.toml");
    }
};

// A peer authenticating with certificates, line 3; its files on lines 6-9.
std::string certificate_site(const std::string& crl = "")
{
    return R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
auth-method = "digital-signature"
certificate = "a.pem"
private-key = "a.key"
ca = "ca.pem"
)" + (crl.empty() ? "" : "crl = \"" + crl + "\"\n") +
           R"([tunnel.b]
peer = "b"
address = "172.16.0.1/30"
)";
}

bool starts_with(const std::string& text, const std::string& prefix)
{
    INFO(text);
    return text.starts_with(prefix);
}

bool contains(const std::string& text, const std::string& part)
{
    INFO(text);
    return text.find(part) != std::string::npos;
}

std::vector<mesh::ike::PeerConfig> ike_peers_of(const Config& config)
{
    return mesh::daemon::ike_peers(config, [](const Peer&) { return mesh::net::IpAddress{}; });
}

} // namespace

// ---------------------------------------------------------------------------
// Peers without tunnels, peers IKE cannot tell apart

TEST_CASE("a peer with no tunnel is a warning at its header, the same text for check-config and run")
{
    const Files f;
    const Config c = f.load_toml(R"([site]
name = "hub"
[peer.any]
address = "0.0.0.0/0"
passive = true
secret = "s"
)");
    REQUIRE(c.warnings.size() == 1);
    CHECK(c.warnings.front() == f.file("a.toml") +
                                    ":3:1: warning: [peer.any] has no tunnel, so the daemon ignores it: add a "
                                    "[tunnel.NAME] with peer = \"any\", or remove the peer");
    CHECK(ike_peers_of(c).empty());
}

TEST_CASE("a peer whose tunnels are all keyed by hand is used, not warned of")
{
    const Files f;
    const Config c = f.load_toml(R"([site]
name = "a"
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
)");
    CHECK(c.warnings.empty());
}

TEST_CASE("two IKE peers with one address and no remote-id are refused, naming both and the fix")
{
    const Files f;
    const std::string two_peers = R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret = "s"
[peer.c]
address = "192.0.2.2"
secret = "t"
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
[tunnel.c]
peer = "c"
address = "172.16.0.5/30"
)";
    CHECK(f.error_of(two_peers) ==
          f.file("a.toml") + ":7:11: [peer.b] and [peer.c] both have the address 192.0.2.2/32 and no remote-id, so IKE "
                             "cannot tell them apart: set remote-id (such as \"fqdn:c.example.com\") in one of them, "
                             "or in both");

    std::string same_id = two_peers;
    same_id.insert(same_id.find("[peer.c]"), "remote-id = \"fqdn:x.lab\"\n");
    same_id.insert(same_id.find("[tunnel.b]"), "remote-id = \"fqdn:x.lab\"\n");
    CHECK(f.error_of(same_id) ==
          f.file("a.toml") + ":10:13: [peer.b] and [peer.c] both have the address 192.0.2.2/32 and the same remote-id, "
                             "so IKE cannot tell them apart: give each its own remote-id");
}

TEST_CASE("peers of one address told apart by remote-id load; IKE tries the one with a remote-id first")
{
    const Files f;
    const Config c = f.load_toml(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret = "s"
[peer.c]
address = "192.0.2.2"
secret = "t"
remote-id = "fqdn:c.lab"
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
[tunnel.c]
peer = "c"
address = "172.16.0.5/30"
)");
    const auto peers = ike_peers_of(c);
    REQUIRE(peers.size() == 2);
    CHECK(peers[0].name == "c");
    CHECK(peers[1].name == "b");
}

TEST_CASE("a hub's catch-all range comes after its host peers, whatever their names")
{
    const Files f;
    const Config c = f.load_toml(R"([site]
name = "hub"
[peer.any]
address = "0.0.0.0/0"
passive = true
secrets = { "fqdn:b1.example.net" = "s" }
[peer.branch]
address = "192.0.2.2"
secret = "t"
[tunnel.any]
peer = "any"
address-pool = "172.16.128.0/24"
[tunnel.branch]
peer = "branch"
address = "172.16.0.5/30"
)");
    CHECK(c.warnings.empty());
    const auto peers = ike_peers_of(c);
    REQUIRE(peers.size() == 2);
    CHECK(peers[0].name == "branch");
    CHECK(peers[1].name == "any");
}

// ---------------------------------------------------------------------------
// nat-traversal

TEST_CASE("nat-traversal = false makes IKE leave out NAT-D and ESP unencapsulated; with encapsulation udp it is an error")
{
    const Files f;
    const std::string site = R"([site]
name = "a"
[profile.plain]
nat-traversal = false
[peer.b]
address = "192.0.2.2"
profile = "plain"
secret = "s"
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
)";
    const Config c = f.load_toml(site);
    CHECK(c.peers.at("b").encapsulation == Encapsulation::automatic);
    const auto peers = ike_peers_of(c);
    REQUIRE(peers.size() == 1);
    CHECK_FALSE(peers[0].ike.nat_traversal);
    CHECK_FALSE(peers[0].always_encapsulate);

    std::string udp = site;
    udp.insert(udp.find("[tunnel.b]"), "encapsulation = \"udp\"\n");
    CHECK(f.error_of(udp) == f.file("a.toml") +
                                 ":9:17: encapsulation = \"udp\" needs NAT traversal, which [profile.plain] turns off "
                                 "(nat-traversal = false): set encapsulation = \"auto\" here, or nat-traversal = true "
                                 "in the profile");
}

// ---------------------------------------------------------------------------
// Certificates, keys, CA and CRL: loaded as run loads them

TEST_CASE("a good certificate, key and CA load into the peer; IKE gets those very objects")
{
    const Files f;
    f.write_pki();
    f.write("ca.crl", lab().crl.PEM_encode(), world_readable);
    const Config c = f.load_toml(certificate_site("ca.crl"));
    CHECK(c.warnings.empty());
    const Peer& peer = c.peers.at("b");
    REQUIRE(peer.credentials);
    REQUIRE(peer.trust);
    CHECK(peer.credentials->certificate == lab().ecdsa_leaf.cert);
    CHECK(peer.trust->crl().has_value());
    const auto peers = ike_peers_of(c);
    REQUIRE(peers.size() == 1);
    CHECK(peers[0].credentials == peer.credentials);
    CHECK(peers[0].trust == peer.trust);
}

TEST_CASE("a certificate file that does not parse is an error at 'certificate'")
{
    const Files f;
    f.write_pki();
    f.write("a.pem", "-----BEGIN-----\n", world_readable);
    CHECK(starts_with(f.error_of(certificate_site()), f.file("a.toml") + ":6:15: " + f.file("a.pem") + ": "));
    f.write("a.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", world_readable);
    CHECK(starts_with(f.error_of(certificate_site()),
                      f.file("a.toml") + ":6:15: " + f.file("a.pem") + ": not a valid X.509 certificate"));
}

TEST_CASE("a private key that does not parse, or is not the certificate's, is an error at 'private-key'")
{
    const Files f;
    f.write_pki();
    f.write("a.key", "garbage\n");
    CHECK(starts_with(f.error_of(certificate_site()),
                      f.file("a.toml") + ":7:15: " + f.file("a.key") + ": cannot load the private key"));
    f.write("a.key", pkcs8_pem(*lab().p384_leaf.key));
    CHECK(f.error_of(certificate_site()) == f.file("a.toml") + ":7:15: " + f.file("a.key") +
                                                ": the private key is not the one of the certificate in " +
                                                f.file("a.pem"));
}

TEST_CASE("a CA file that is not a CA, and a CRL that does not parse or is another CA's, are errors at their keys")
{
    const Files f;
    f.write_pki();
    f.write("ca.pem", "not a certificate", world_readable);
    CHECK(starts_with(f.error_of(certificate_site()), f.file("a.toml") + ":8:6: " + f.file("ca.pem") + ": "));
    f.write("ca.pem", lab().ecdsa_leaf.cert.PEM_encode(), world_readable);
    const std::string not_a_ca = f.error_of(certificate_site());
    CHECK(starts_with(not_a_ca, f.file("a.toml") + ":8:6: " + f.file("ca.pem") + ": "));
    CHECK(contains(not_a_ca, "is not a CA certificate"));

    f.write("ca.pem", lab().root.cert.PEM_encode(), world_readable);
    f.write("ca.crl", "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", world_readable);
    CHECK(starts_with(f.error_of(certificate_site("ca.crl")),
                      f.file("a.toml") + ":9:7: " + f.file("ca.crl") + ": not a valid CRL"));
    const auto other_crl = mesh::ike::test_pki::make_crl(lab().other_root, {});
    f.write("ca.crl", other_crl.PEM_encode(), world_readable);
    CHECK(f.error_of(certificate_site("ca.crl")) == f.file("a.toml") + ":9:7: " + f.file("ca.crl") +
                                                         ": the CRL is not signed by the CA in " + f.file("ca.pem"));
}

TEST_CASE("our certificate not verifying against ca, and a stale CRL, are warnings at their keys")
{
    const Files f;
    f.write_pki();
    f.write("a.pem", lab().other_leaf.cert.PEM_encode(), world_readable);
    f.write("a.key", pkcs8_pem(*lab().other_leaf.key));
    using mesh::ike::test_pki::Clock;
    const auto stale = mesh::ike::test_pki::make_crl(lab().root, {}, Clock::now() - std::chrono::hours(48),
                                                     std::chrono::hours(24));
    f.write("ca.crl", stale.PEM_encode(), world_readable);
    const Config c = f.load_toml(certificate_site("ca.crl"));
    REQUIRE(c.warnings.size() == 2);
    CHECK(starts_with(c.warnings[0], f.file("a.toml") + ":6:15: warning: certificate " + f.file("a.pem") +
                                         " does not verify against ca " + f.file("ca.pem") +
                                         " (not signed by the configured CA"));
    CHECK(contains(c.warnings[0], "a peer that trusts only that CA will refuse it"));
    CHECK(starts_with(c.warnings[1], f.file("a.toml") + ":9:7: warning: crl " + f.file("ca.crl") +
                                         " is past its next update"));
}

// ---------------------------------------------------------------------------
// Permissions of secrets (OpenSSH's rule: the owner's alone)

TEST_CASE("a private key that group or others can read is refused with the chmod that fixes it")
{
    const Files f;
    f.write_pki();
    fs::permissions(f.dir.path() / "a.key", world_readable);
    CHECK(f.error_of(certificate_site()) == f.file("a.toml") + ":7:15: " + f.file("a.key") +
                                                " is readable by group and others (mode 0644): chmod 600 " +
                                                f.file("a.key"));
    fs::permissions(f.dir.path() / "a.key", owner_only | fs::perms::group_read);
    CHECK(f.error_of(certificate_site()) == f.file("a.toml") + ":7:15: " + f.file("a.key") +
                                                " is readable by group (mode 0640): chmod 600 " + f.file("a.key"));
    fs::permissions(f.dir.path() / "a.key", fs::perms::owner_read | fs::perms::others_write);
    CHECK(f.error_of(certificate_site()) == f.file("a.toml") + ":7:15: " + f.file("a.key") +
                                                " is writable by others (mode 0402): chmod 400 " + f.file("a.key"));
    fs::permissions(f.dir.path() / "a.key", fs::perms::owner_read);
    CHECK(f.error_of(certificate_site()) == "(no error)");
}

TEST_CASE("a secret-file that group or others can read is refused with the chmod that fixes it")
{
    const Files f;
    const std::string site = R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret-file = "b.secret"
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
)";
    f.write("b.secret", "s3cret\n", world_readable);
    CHECK(f.error_of(site) == f.file("a.toml") + ":5:15: " + f.file("b.secret") +
                                  " is readable by group and others (mode 0644): chmod 600 " + f.file("b.secret"));
    fs::permissions(f.dir.path() / "b.secret", owner_only);
    CHECK(f.error_of(site) == "(no error)");
}

TEST_CASE("a configuration holding a secret that group or others can read is a warning at the secret")
{
    const Files f;
    const std::string site = R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
secret = "s3cret"
[tunnel.b]
peer = "b"
address = "172.16.0.1/30"
)";
    const Config c = f.load_toml(site, world_readable);
    REQUIRE(c.warnings.size() == 1);
    CHECK(c.warnings.front() == f.file("a.toml") + ":5:10: warning: " + f.file("a.toml") +
                                    " holds a secret and is readable by group and others (mode 0644): chmod 600 " + f.file("a.toml"));
    CHECK(f.load_toml(site, owner_only).warnings.empty());

    // Static SA keys are secrets too; a file without any is not warned of.
    const Config keyed = f.load_toml(R"([site]
name = "a"
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
)",
                                     world_readable);
    REQUIRE(keyed.warnings.size() == 1);
    CHECK(starts_with(keyed.warnings.front(), f.file("a.toml") + ":12:10: warning: " + f.file("a.toml") + " holds a secret"));
    CHECK(f.load_toml("[site]\nname = \"a\"\n", world_readable).warnings.empty());
}
