// A RouterOS-ism written into a mesh-site configuration is refused at its
// FILE:LINE:COL with what to write instead (tools/config/routeros_hints.cpp).

#include "tests/tools/config_error.hpp"

#include <doctest/doctest.h>

using mesh::config::test::error_of;

TEST_CASE("RouterOS algorithms mesh-site does not take name what to use instead")
{
    CHECK(error_of(R"([site]
name = "a"
[proposal.default]
enc-algorithms = ["aes-128-gcm", "3des"]
)") == "a.toml:4:34: 3des is not supported: use aes-128-cbc or aes-128-gcm");
    CHECK(error_of(R"([site]
name = "a"
[profile.default]
enc-algorithm = ["3des"]
)") == "a.toml:4:18: 3des is not supported: use aes-128 or aes-128-gcm");
    CHECK(error_of(R"([site]
name = "a"
[profile.default]
dh-group = ["modp1024"]
)") == "a.toml:4:13: modp1024 is too weak and not supported (RFC 8247 section 2.4): use modp2048 or ecp256");
    CHECK(error_of(R"([site]
name = "a"
[proposal.default]
auth-algorithms = ["sha1"]
)") == "a.toml:4:20: sha1 is not supported: use sha256");
    CHECK(error_of(R"([site]
name = "a"
[proposal.default]
enc-algorithms = ["chacha20poly1305"]
)") == "a.toml:4:19: write chacha20-poly1305 (with a dash)");
}

TEST_CASE("RouterOS keys: exchange-mode, a profile's key in a peer, yes/no, [identity.X]")
{
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
exchange-mode = "ike2"
)") == "a.toml:5:1: exchange-mode: mesh-site speaks IKEv2 only, remove it");
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
dpd-interval = "10s"
)") == "a.toml:5:1: dpd-interval belongs in a [profile]: write it in [profile.NAME] and set profile = \"NAME\" "
           "in the [peer]");
    CHECK(error_of(R"([site]
name = "a"
[tunnel.b]
peer = "b"
pfs-group = ["ecp256"]
)") == "a.toml:5:1: pfs-group belongs in a [proposal]: write it in [proposal.NAME] and set proposal = \"NAME\" "
           "in the [tunnel]");
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
passive = "yes"
)") == "a.toml:5:11: expected true or false for 'passive', not \"yes\" (yes/no: write true/false)");
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
passive = yes
)") == "a.toml:5:11: Error while parsing value: could not determine value type (yes/no: write true/false)");
    CHECK(error_of(R"([site]
name = "a"
[identity.b]
secret = "x"
)") == "a.toml:3:2: [identity.b]: identities are part of [peer.b] in mesh-site: move auth-method, secret, "
           "my-id, remote-id and the certificates there");
    CHECK(error_of(R"([site]
name = "a"
[peer.b]
address = "192.0.2.2"
generate-policy = "port-strict"
)").starts_with("a.toml:5:1: generate-policy: a passive peer whose address is a prefix"));
}
