// Identities: text <-> Identity, and the match of a received one.

#include "ike/identity.hpp"

#include "net/hex.hpp"

#include <botan/asn1_obj.h>
#include <botan/ber_dec.h>
#include <botan/pkix_types.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <utility>
#include <vector>

namespace mesh::ike {
namespace {

// ---------------------------------------------------------------------------
// Distinguished names

struct DnAttribute {
    std::string_view name;       // the first of an OID's names is the one printed
    std::string_view oid;
    bool ia5;                    // IA5String (RFC 5280: emailAddress, domainComponent); else Printable or UTF8
};

constexpr std::array<DnAttribute, 15> dn_attributes{{
    {"CN", "2.5.4.3", false},
    {"SN", "2.5.4.5", false},
    {"serialNumber", "2.5.4.5", false},
    {"C", "2.5.4.6", false},
    {"L", "2.5.4.7", false},
    {"ST", "2.5.4.8", false},
    {"O", "2.5.4.10", false},
    {"OU", "2.5.4.11", false},
    {"T", "2.5.4.12", false},
    {"title", "2.5.4.12", false},
    {"DC", "0.9.2342.19200300.100.1.25", true},
    {"UID", "0.9.2342.19200300.100.1.1", false},
    {"E", "1.2.840.113549.1.9.1", true},
    {"emailAddress", "1.2.840.113549.1.9.1", true},
    {"Email", "1.2.840.113549.1.9.1", true},
}};

bool iequals(std::string_view a, std::string_view b) noexcept
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

bool is_blank(char c) noexcept
{
    return c == ' ' || c == '\t';
}

bool is_dotted_oid(std::string_view s) noexcept
{
    if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string_view::npos ||
        s.find('.') == std::string_view::npos)
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}


std::string_view trim(std::string_view s) noexcept
{
    while (!s.empty() && is_blank(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back()))
        s.remove_suffix(1);
    return s;
}

// One TYPE=value of the text, the value unescaped.
struct Ava {
    std::string type;
    std::string value;
};

// Splits "C=CH, O=Example\, Inc, CN=\"a b\"" into its attributes.
std::expected<std::vector<Ava>, std::string> split_dn(std::string_view text)
{
    std::vector<Ava> out;
    std::size_t i = 0;
    while (true) {
        const std::size_t eq = text.find('=', i);
        if (eq == std::string_view::npos)
            return std::unexpected("expected TYPE=value at '" + std::string(text.substr(i)) + "'");
        Ava ava{std::string(trim(text.substr(i, eq - i))), {}};
        if (ava.type.empty())
            return std::unexpected(std::string("an attribute has no type"));
        i = eq + 1;
        while (i < text.size() && is_blank(text[i]))
            ++i;

        bool quoted = i < text.size() && text[i] == '"';
        if (quoted)
            ++i;
        std::size_t kept = 0;   // value length up to its last character that trailing-blank trimming keeps
        bool closed = false;
        for (; i < text.size(); ++i) {
            const char c = text[i];
            if (c == '\\') {
                if (i + 1 >= text.size())
                    return std::unexpected(std::string("a '\\' ends the text"));
                const int hi = net::hex_digit(text[i + 1]);
                const int lo = i + 2 < text.size() ? net::hex_digit(text[i + 2]) : -1;
                if (hi >= 0 && lo >= 0) {
                    ava.value.push_back(static_cast<char>(hi << 4 | lo));
                    i += 2;
                } else {
                    ava.value.push_back(text[++i]);
                }
                kept = ava.value.size();
                continue;
            }
            if (quoted) {
                if (c == '"') {
                    closed = true;
                    ++i;
                    break;
                }
                ava.value.push_back(c);
                kept = ava.value.size();
                continue;
            }
            if (c == ',')
                break;
            if (c == '+')
                return std::unexpected(std::string("multi-valued RDNs ('+') are not supported; escape it as \\+"));
            if (c == '"')
                return std::unexpected(std::string("a '\"' inside an unquoted value; escape it as \\\""));
            ava.value.push_back(c);
            if (!is_blank(c))
                kept = ava.value.size();
        }
        if (quoted && !closed)
            return std::unexpected(std::string("a quoted value is not closed"));
        if (quoted) {
            while (i < text.size() && is_blank(text[i]))
                ++i;
            if (i < text.size() && text[i] != ',')
                return std::unexpected(std::string("text after a quoted value"));
        } else {
            ava.value.resize(kept);
        }
        if (ava.value.empty())
            return std::unexpected("attribute " + ava.type + " has an empty value");
        out.push_back(std::move(ava));
        if (i >= text.size())
            return out;
        ++i;   // the ','
    }
}

std::expected<std::vector<std::uint8_t>, std::string> encode_dn(std::string_view text)
{
    const auto avas = split_dn(text);
    if (!avas)
        return std::unexpected(avas.error());
    Botan::X509_DN dn;
    try {
        for (const Ava& ava : *avas) {
            const auto known = std::find_if(dn_attributes.begin(), dn_attributes.end(),
                                            [&](const DnAttribute& a) { return iequals(a.name, ava.type); });
            if (known == dn_attributes.end() && !is_dotted_oid(ava.type))
                return std::unexpected("unknown DN attribute type '" + ava.type + "'");
            const Botan::OID oid(known != dn_attributes.end() ? std::string(known->oid) : ava.type);
            const bool ia5 = known != dn_attributes.end() && known->ia5;
            if (ia5 && std::any_of(ava.value.begin(), ava.value.end(), [](char c) { return (c & 0x80) != 0; }))
                return std::unexpected("attribute " + ava.type + " must be ASCII");
            dn.add_attribute(oid, ia5 ? Botan::ASN1_String(ava.value, Botan::IA5_STRING) : Botan::ASN1_String(ava.value));
        }
        return dn.BER_encode();
    } catch (const std::exception& e) {
        return std::unexpected(std::string("cannot encode the DN: ") + e.what());
    }
}

std::optional<Botan::X509_DN> decode_dn(const std::vector<std::uint8_t>& der)
{
    try {
        Botan::X509_DN dn;
        Botan::BER_Decoder(der).decode(dn).verify_end();
        return dn;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// RFC 4514 section 2.4 escaping, so that the text parses back to the value.
std::string escape_dn_value(const std::string& value)
{
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        const bool edge_blank = c == ' ' && (i == 0 || i + 1 == value.size());
        if (c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' || edge_blank ||
            (i == 0 && c == '#'))
            out.push_back('\\');
        out.push_back(c);
    }
    return out;
}

std::string dn_text(const Botan::X509_DN& dn)
{
    std::string out;
    for (const auto& [oid, value] : dn.dn_info()) {
        if (!out.empty())
            out += ", ";
        const std::string dotted = oid.to_string();
        const auto known = std::find_if(dn_attributes.begin(), dn_attributes.end(),
                                        [&](const DnAttribute& a) { return a.oid == dotted; });
        out += known != dn_attributes.end() ? std::string(known->name) : dotted;
        out += '=';
        out += escape_dn_value(value.value());
    }
    return out;
}

// Case folded, blank runs collapsed to one, blanks at the ends dropped: the
// comparison of RFC 5280 section 7.1, short of full Unicode folding.
std::string normalized(std::string_view s)
{
    std::string out;
    for (const char c : trim(s)) {
        if (is_blank(c) && !out.empty() && out.back() == ' ')
            continue;
        out.push_back(is_blank(c) ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
}

bool same_dn(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b)
{
    if (a == b)
        return true;
    const auto da = decode_dn(a);
    const auto db = decode_dn(b);
    if (!da || !db || da->dn_info().size() != db->dn_info().size())
        return false;
    return std::equal(da->dn_info().begin(), da->dn_info().end(), db->dn_info().begin(),
                      [](const auto& x, const auto& y) {
                          return x.first == y.first && normalized(x.second.value()) == normalized(y.second.value());
                      });
}

// ---------------------------------------------------------------------------
// The other forms

std::vector<std::uint8_t> bytes_of(std::string_view s)
{
    return {s.begin(), s.end()};
}

std::expected<std::vector<std::uint8_t>, std::string> parse_hex(std::string_view s)
{
    s = net::without_0x(s);
    if (s.empty() || s.size() % 2 != 0)
        return std::unexpected(std::string("key-id must be an even number of hex digits"));
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i < s.size(); i += 2) {
        const int hi = net::hex_digit(s[i]);
        const int lo = net::hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0)
            return std::unexpected(std::string("key-id must be hex"));
        out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
    return out;
}

std::string hex_text(const std::vector<std::uint8_t>& data)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const std::uint8_t b : data) {
        out.push_back(digits[b >> 4]);
        out.push_back(digits[b & 15]);
    }
    return out;
}

// A name as text; what a log line should not carry raw becomes \xNN.
std::string printable(const std::vector<std::uint8_t>& data)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const std::uint8_t b : data) {
        if (b >= 0x20 && b < 0x7f && b != '\\') {
            out.push_back(static_cast<char>(b));
        } else {
            out += "\\x";
            out.push_back(digits[b >> 4]);
            out.push_back(digits[b & 15]);
        }
    }
    return out;
}

bool iequals_bytes(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) noexcept
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](std::uint8_t x, std::uint8_t y) {
               return std::tolower(x) == std::tolower(y);
           });
}

} // namespace

std::expected<Identity, std::string> parse_identity(std::string_view text)
{
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos)
        return std::unexpected(std::string("an identity is address:, fqdn:, user-fqdn:, key-id: or dn: and a value"));
    const std::string_view form = text.substr(0, colon);
    const std::string_view value = text.substr(colon + 1);
    if (value.empty())
        return std::unexpected("the " + std::string(form) + ": identity is empty");

    if (form == "address") {
        const auto address = net::IpAddress::parse(value);
        if (!address)
            return std::unexpected("'" + std::string(value) + "' is not an IP address");
        return identity_of(*address);
    }
    if (form == "fqdn")
        return Identity{IdType::fqdn, bytes_of(value)};
    if (form == "user-fqdn") {
        if (value.find('@') == std::string_view::npos)
            return std::unexpected(std::string("a user-fqdn identity is USER@NAME"));
        return Identity{IdType::rfc822_addr, bytes_of(value)};
    }
    if (form == "key-id") {
        auto data = parse_hex(value);
        if (!data)
            return std::unexpected(data.error());
        return Identity{IdType::key_id, std::move(*data)};
    }
    if (form == "dn") {
        auto der = encode_dn(value);
        if (!der)
            return std::unexpected(der.error());
        return Identity{IdType::der_asn1_dn, std::move(*der)};
    }
    return std::unexpected("unknown identity form '" + std::string(form) +
                           "': use address:, fqdn:, user-fqdn:, key-id: or dn:");
}

std::string to_string(const Identity& id)
{
    switch (id.type) {
    case IdType::ipv4_addr:
    case IdType::ipv6_addr: {
        const bool v4 = id.type == IdType::ipv4_addr;
        if (id.data.size() != (v4 ? 4U : 16U))
            break;
        const auto family = v4 ? net::IpAddress::Family::v4 : net::IpAddress::Family::v6;
        return "address:" + net::IpAddress::from_bytes(family, id.data.data()).to_string();
    }
    case IdType::fqdn: return "fqdn:" + printable(id.data);
    case IdType::rfc822_addr: return "user-fqdn:" + printable(id.data);
    case IdType::key_id: return "key-id:" + hex_text(id.data);
    case IdType::der_asn1_dn:
        if (const auto dn = decode_dn(id.data))
            return "dn:" + dn_text(*dn);
        break;
    case IdType::der_asn1_gn: break;
    }
    return "id-type-" + std::to_string(static_cast<unsigned>(id.type)) + ":" + hex_text(id.data);
}

Identity identity_of(const net::IpAddress& address)
{
    return Identity{address.is_v4() ? IdType::ipv4_addr : IdType::ipv6_addr,
                    {address.bytes(), address.bytes() + address.size()}};
}

bool matches(const Identity& expected, const Identity& received)
{
    if (expected.type != received.type)
        return false;
    switch (expected.type) {
    case IdType::fqdn:
    case IdType::rfc822_addr: return iequals_bytes(expected.data, received.data);
    case IdType::der_asn1_dn: return same_dn(expected.data, received.data);
    default: return expected.data == received.data;
    }
}

bool is_pattern(const Identity& id) noexcept
{
    return (id.type == IdType::fqdn || id.type == IdType::rfc822_addr) &&
           std::find(id.data.begin(), id.data.end(), '*') != id.data.end();
}

bool matches_pattern(const Identity& pattern, const Identity& received)
{
    if (!is_pattern(pattern))
        return matches(pattern, received);
    if (pattern.type != received.type)
        return false;
    // Glob with one-or-more '*', ASCII case ignored; the classic greedy walk
    // that backtracks to the last '*' only, linear in practice.
    const auto& p = pattern.data;
    const auto& s = received.data;
    std::size_t i = 0, j = 0;
    std::optional<std::size_t> star, star_j;
    while (j < s.size()) {
        if (i < p.size() && p[i] == '*') {
            star = i++;
            star_j = ++j;   // the '*' takes at least this character
        } else if (i < p.size() && std::tolower(p[i]) == std::tolower(s[j])) {
            ++i;
            ++j;
        } else if (star) {
            i = *star + 1;
            j = ++*star_j;
        } else {
            return false;
        }
    }
    return i == p.size();
}

} // namespace mesh::ike
