#pragma once
// IKE identities (RFC 7296 section 3.5) in the configuration's text forms and
// on the wire, and the check of a peer's identity against the configured one.
//
//   "address:192.0.2.1"    ID_IPV4_ADDR (4 bytes), or ID_IPV6_ADDR for a v6 address
//   "fqdn:site-a.example"  ID_FQDN, the name as ASCII
//   "user-fqdn:ops@a.example"  ID_RFC822_ADDR
//   "key-id:0a0b0c"        ID_KEY_ID, opaque bytes written in hex ("0x" accepted)
//   "dn:C=CH, O=Example, CN=site-a"  ID_DER_ASN1_DN, the DER of the X.501 Name
//
// DN text: attributes separated by ',' (blanks around them ignored), each
// TYPE=value; TYPE is CN, C, O, OU, L, ST, SN (serialNumber), T (title), DC,
// UID, E (emailAddress) or a dotted OID; a value may be quoted ("...") or use
// backslash escapes (\, \" \\ \+ and \XX hex) as in RFC 4514. The RDNs are
// encoded in the order written, as strongSwan does (its "C=CH, O=strongSwan,
// CN=moon" puts C first in the DER too, as `pki --print` and `openssl x509
// -subject` show it), not in RFC 4514's reversed order. Multi-valued RDNs
// ('+') are not supported.

#include "ike/payloads.hpp"
#include "ike/policy.hpp"
#include "net/ip_address.hpp"

#include <expected>
#include <string>
#include <string_view>

namespace mesh::ike {

// The identity written as text, or why the text is none.
[[nodiscard]] std::expected<Identity, std::string> parse_identity(std::string_view text);

// The same text forms; a received identity of another type prints as
// "id-type-N:hex", and bytes a name should not hold as \xNN.
[[nodiscard]] std::string to_string(const Identity& id);

// address:<address>, the default my-id.
[[nodiscard]] Identity identity_of(const net::IpAddress& address);

// Whether the identity the peer sent is the one configured: same type and
// data, except that FQDN and RFC822 names compare without regard to ASCII
// case (DNS names are case-insensitive; strongSwan does the same) and DNs
// compare by value: the same attributes in the same order, values equal
// ignoring case and runs of blanks, whatever ASN.1 string type carries them.
// An undecodable DN matches only the very same bytes.
[[nodiscard]] bool matches(const Identity& expected, const Identity& received);

// A remote-id pattern: an FQDN or user-FQDN with at least one '*'
// ("fqdn:*.branch.example.net", "user-fqdn:*@branch.example.net").
[[nodiscard]] bool is_pattern(const Identity& id) noexcept;

// matches(), where each '*' of an FQDN or user-FQDN pattern stands for one
// or more characters of any kind, dots and '@' included: "*.branch.example.net"
// takes "s1.branch.example.net" and "a.s1.branch.example.net", never
// "branch.example.net" itself. Without a '*' it is matches().
[[nodiscard]] bool matches_pattern(const Identity& pattern, const Identity& received);

template <PayloadType Type>
[[nodiscard]] Identity to_identity(const IdPayload<Type>& payload)
{
    return Identity{payload.id_type, payload.data};
}

// The payload's body as it came or goes on the wire, after the generic
// header: what AUTH covers (RFC 7296 section 2.15, RestOfInitIDPayload).
template <PayloadType Type>
[[nodiscard]] std::vector<std::uint8_t> id_body(const IdPayload<Type>& payload)
{
    std::vector<std::uint8_t> body{static_cast<std::uint8_t>(payload.id_type)};
    body.insert(body.end(), payload.reserved.begin(), payload.reserved.end());
    body.insert(body.end(), payload.data.begin(), payload.data.end());
    return body;
}

// to_payload<IdiPayload>(my_id)
template <class Payload>
[[nodiscard]] Payload to_payload(const Identity& id)
{
    return Payload{id.type, id.data};
}

} // namespace mesh::ike
