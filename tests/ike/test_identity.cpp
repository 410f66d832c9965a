// Identities (RFC 7296 section 3.5): the configuration's text forms, the ID
// payload, and the match of what a peer sends against what is configured.

#include "ike/identity.hpp"
#include "ike/message.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace mesh::ike;

namespace {

Identity parsed(const std::string& text)
{
    const auto id = parse_identity(text);
    INFO(text);
    REQUIRE(id.has_value());
    return *id;
}

std::vector<std::uint8_t> bytes(std::string_view s)
{
    return {s.begin(), s.end()};
}

// An IDi payload through serialize() and parse().
Identity through_codec(const Identity& id)
{
    Message m;
    m.header.exchange_type = ExchangeType::ike_auth;
    m.payloads = {to_payload<IdiPayload>(id)};
    const auto back = parse(serialize(m));
    REQUIRE(back.has_value());
    const IdiPayload* idi = back->find<IdiPayload>();
    REQUIRE(idi != nullptr);
    return to_identity(*idi);
}

} // namespace

TEST_CASE("identity: address, fqdn and user-fqdn parse to their ID types")
{
    CHECK(parsed("address:192.0.2.1") == Identity{IdType::ipv4_addr, {192, 0, 2, 1}});
    const Identity v6 = parsed("address:2001:db8::1");
    CHECK(v6.type == IdType::ipv6_addr);
    CHECK(v6.data == std::vector<std::uint8_t>{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    CHECK(parsed("fqdn:site-a.example") == Identity{IdType::fqdn, bytes("site-a.example")});
    CHECK(parsed("user-fqdn:ops@site-b.example") == Identity{IdType::rfc822_addr, bytes("ops@site-b.example")});
}

TEST_CASE("identity: key-id is hex, with or without 0x")
{
    CHECK(parsed("key-id:0a0bff") == Identity{IdType::key_id, {0x0a, 0x0b, 0xff}});
    CHECK(parsed("key-id:0x0A0BFF") == Identity{IdType::key_id, {0x0a, 0x0b, 0xff}});
    CHECK(!parse_identity("key-id:0a0").has_value());
    CHECK(!parse_identity("key-id:zz").has_value());
    CHECK(!parse_identity("key-id:0x").has_value());
}

TEST_CASE("identity: dn is the DER of the Name, RDNs in the order written")
{
    const Identity id = parsed("dn:C=CH, O=strongSwan, CN=moon.strongswan.org");
    CHECK(id.type == IdType::der_asn1_dn);
    // SEQUENCE { SET { SEQUENCE { 2.5.4.6, PrintableString "CH" } } ... }: C comes first.
    const std::vector<std::uint8_t> c_first{0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 'C', 'H'};
    REQUIRE(id.data.size() > 2 + c_first.size());
    CHECK(id.data[0] == 0x30);
    CHECK(id.data[1] == id.data.size() - 2);
    CHECK(std::vector<std::uint8_t>(id.data.begin() + 2, id.data.begin() + 2 + 13) == c_first);
    CHECK(to_string(id) == "dn:C=CH, O=strongSwan, CN=moon.strongswan.org");

    // DC and E are IA5Strings (tag 0x16), as RFC 5280 has them.
    const Identity dc = parsed("dn:DC=example,E=ops@example.org");
    CHECK(std::count(dc.data.begin(), dc.data.end(), std::uint8_t{0x16}) == 2);
    CHECK(to_string(dc) == "dn:DC=example, E=ops@example.org");
}

TEST_CASE("identity: dn text with escapes, quotes, blanks and dotted OIDs")
{
    CHECK(to_string(parsed(R"(dn:O=Example\, Inc., CN=a\+b)")) == R"(dn:O=Example\, Inc., CN=a\+b)");
    CHECK(to_string(parsed(R"(dn:O="Example, Inc.",CN=  spaced  out  )")) == R"(dn:O=Example\, Inc., CN=spaced  out)");
    CHECK(to_string(parsed(R"(dn:CN=\41\42)")) == "dn:CN=AB");
    CHECK(to_string(parsed("dn:cn=lower case type")) == "dn:CN=lower case type");
    CHECK(to_string(parsed("dn:2.5.4.3=by oid, 1.3.6.1.4.1.99999.1=private")) ==
          "dn:CN=by oid, 1.3.6.1.4.1.99999.1=private");
    CHECK(to_string(parsed("dn:SN=42, serialNumber=43")) == "dn:SN=42, SN=43");

    for (const char* bad : {"dn:", "dn:CN", "dn:XX=1", "dn:CN=", "dn:CN=a+OU=b", "dn:CN=\"open", "dn:CN=a\\",
                            "dn:CN=\"q\" x", "dn:=x", "dn:E=caf\xc3\xa9@x"}) {
        INFO(bad);
        CHECK(!parse_identity(bad).has_value());
    }
}

TEST_CASE("identity: every form round-trips through text and the ID payload")
{
    for (const char* text : {"address:192.0.2.1", "address:2001:db8::1", "fqdn:site-a.example",
                             "user-fqdn:ops@site-b.example", "key-id:0a0bff", "dn:C=CH, O=Example, CN=site-a",
                             "dn:CN=\\#hash\\, and \\\"quotes\\\""}) {
        INFO(text);
        const Identity id = parsed(text);
        CHECK(to_string(id) == text);
        CHECK(parsed(to_string(id)) == id);
        const Identity back = through_codec(id);
        CHECK(back == id);
        CHECK(matches(id, back));
    }
}

TEST_CASE("identity: bad text names what is wrong")
{
    for (const char* bad : {"site-a", "address:", "address:300.1.1.1", "address:site-a", "user-fqdn:ops",
                            "ip:192.0.2.1", "fqdn:"}) {
        INFO(bad);
        const auto id = parse_identity(bad);
        REQUIRE(!id.has_value());
        CHECK(!id.error().empty());
    }
}

TEST_CASE("identity: to_string of what a peer may send")
{
    CHECK(to_string(Identity{IdType::fqdn, {'a', 0x01, '\\'}}) == "fqdn:a\\x01\\x5c");
    CHECK(to_string(Identity{IdType::der_asn1_gn, {0xa0, 0x01}}) == "id-type-10:a001");
    CHECK(to_string(Identity{IdType::der_asn1_dn, {0x30, 0x05}}) == "id-type-9:3005");   // not DER
    CHECK(to_string(Identity{IdType::ipv4_addr, {1, 2, 3}}) == "id-type-1:010203");
    CHECK(to_string(identity_of(*mesh::net::IpAddress::parse("203.0.1.1"))) == "address:203.0.1.1");
}

TEST_CASE("identity: matches wants the same type and data")
{
    CHECK(matches(parsed("address:192.0.2.1"), parsed("address:192.0.2.1")));
    CHECK(!matches(parsed("address:192.0.2.1"), parsed("address:192.0.2.2")));
    CHECK(!matches(parsed("fqdn:192.0.2.1"), parsed("address:192.0.2.1")));
    CHECK(!matches(parsed("fqdn:a@b"), parsed("user-fqdn:a@b")));
    CHECK(matches(parsed("key-id:0a0b"), parsed("key-id:0A0B")));
    CHECK(!matches(parsed("key-id:0a0b"), parsed("key-id:0a0c")));
    // Names are case-insensitive, but not otherwise loose.
    CHECK(matches(parsed("fqdn:Site-A.Example"), parsed("fqdn:site-a.example")));
    CHECK(matches(parsed("user-fqdn:Ops@Example"), parsed("user-fqdn:ops@example")));
    CHECK(!matches(parsed("fqdn:site-a.example"), parsed("fqdn:site-a.example.")));
}

TEST_CASE("identity: DNs match by value, not by encoding")
{
    const Identity configured = parsed("dn:C=CH, O=strongSwan, CN=moon");
    // Same attributes: other case, other blanks, UTF8String instead of PrintableString.
    CHECK(matches(configured, parsed("dn:C=ch,O=STRONGSWAN,   CN=  moon")));
    const Identity utf8{IdType::der_asn1_dn,
                        {0x30, 0x31, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 'C', 'H',
                         0x31, 0x13, 0x30, 0x11, 0x06, 0x03, 0x55, 0x04, 0x0a, 0x0c, 0x0a, 's', 't', 'r', 'o', 'n',
                         'g', 'S', 'w', 'a', 'n', 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x04,
                         'm', 'o', 'o', 'n'}};
    CHECK(configured.data != utf8.data);
    CHECK(matches(configured, utf8));

    CHECK(!matches(configured, parsed("dn:C=CH, O=strongSwan, CN=sun")));
    CHECK(!matches(configured, parsed("dn:C=CH, O=strongSwan")));
    CHECK(!matches(configured, parsed("dn:CN=moon, O=strongSwan, C=CH")));   // the order counts
    CHECK(!matches(configured, parsed("fqdn:moon")));
    // Garbage matches only itself.
    const Identity garbage{IdType::der_asn1_dn, {0x30, 0x05, 0x01}};
    CHECK(matches(garbage, garbage));
    CHECK(!matches(configured, garbage));
}

TEST_CASE("identity: a '*' of a remote-id pattern takes one or more characters, dots included")
{
    const Identity branches = parsed("fqdn:*.branch.example.net");
    CHECK(is_pattern(branches));
    CHECK(!is_pattern(parsed("fqdn:s1.branch.example.net")));
    CHECK(!is_pattern(parsed("key-id:2a")));   // a '*' byte of a key-id is no pattern
    CHECK(matches_pattern(branches, parsed("fqdn:s1.branch.example.net")));
    CHECK(matches_pattern(branches, parsed("fqdn:S1.Branch.Example.NET")));
    CHECK(matches_pattern(branches, parsed("fqdn:a.s1.branch.example.net")));
    CHECK(!matches_pattern(branches, parsed("fqdn:branch.example.net")));
    CHECK(matches_pattern(branches, parsed("fqdn:x.branch.example.net")));
    CHECK(!matches_pattern(branches, parsed("fqdn:s1.branch.example.net.evil")));
    CHECK(!matches_pattern(branches, parsed("fqdn:s1xbranch.example.net")));
    CHECK(!matches_pattern(branches, parsed("user-fqdn:s1@x.branch.example.net")));
    const Identity users = parsed("user-fqdn:*@branch.example.net");
    CHECK(matches_pattern(users, parsed("user-fqdn:ops@branch.example.net")));
    CHECK(!matches_pattern(users, parsed("user-fqdn:@branch.example.net")));
    CHECK(!matches_pattern(users, parsed("user-fqdn:ops@other.example.net")));
    const Identity middle = parsed("fqdn:s*-*.example.net");
    CHECK(matches_pattern(middle, parsed("fqdn:s1-2.example.net")));
    CHECK(matches_pattern(middle, parsed("fqdn:s1-2-3.example.net")));
    CHECK(!matches_pattern(middle, parsed("fqdn:s-2.example.net")));
    CHECK(!matches_pattern(middle, parsed("fqdn:s1-.example.net")));
    // Without a '*' it is matches().
    CHECK(matches_pattern(parsed("fqdn:Hub.example.net"), parsed("fqdn:hub.example.net")));
}
