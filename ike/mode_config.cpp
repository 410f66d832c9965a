// CP attributes <-> ModeConfig; see mode_config.hpp. Value lengths are those
// of RFC 7296 section 3.15.1's table.

#include "ike/mode_config.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace mesh::ike {
namespace {

using net::IpAddress;
using net::IpPrefix;

constexpr std::size_t ip4_bytes = 4;
constexpr std::size_t ip6_bytes = 16;

std::string attribute_name(std::uint16_t type)
{
    switch (type) {
    case cfg_attribute::internal_ip4_address: return "INTERNAL_IP4_ADDRESS";
    case cfg_attribute::internal_ip4_netmask: return "INTERNAL_IP4_NETMASK";
    case cfg_attribute::internal_ip4_dns: return "INTERNAL_IP4_DNS";
    case cfg_attribute::internal_ip6_address: return "INTERNAL_IP6_ADDRESS";
    case cfg_attribute::internal_ip6_dns: return "INTERNAL_IP6_DNS";
    case cfg_attribute::internal_ip4_subnet: return "INTERNAL_IP4_SUBNET";
    case cfg_attribute::internal_ip6_subnet: return "INTERNAL_IP6_SUBNET";
    default: return "attribute " + std::to_string(type);
    }
}

// The value length the type allows besides 0, for the types we read.
std::optional<std::size_t> value_length(std::uint16_t type)
{
    switch (type) {
    case cfg_attribute::internal_ip4_address:
    case cfg_attribute::internal_ip4_netmask:
    case cfg_attribute::internal_ip4_dns: return ip4_bytes;
    case cfg_attribute::internal_ip4_subnet: return 2 * ip4_bytes;      // address, netmask
    case cfg_attribute::internal_ip6_address:
    case cfg_attribute::internal_ip6_subnet: return ip6_bytes + 1;     // address, prefix length
    case cfg_attribute::internal_ip6_dns: return ip6_bytes;
    default: return std::nullopt;
    }
}

IpAddress address_of(const std::vector<std::uint8_t>& value, std::size_t offset, IpAddress::Family family)
{
    return IpAddress::from_bytes(family, value.data() + offset);
}

// The length of a contiguous netmask, or nullopt.
std::optional<std::uint8_t> netmask_length(const IpAddress& mask)
{
    std::uint8_t length = 0;
    bool ended = false;
    for (std::size_t i = 0; i < mask.size(); ++i) {
        for (int bit = 7; bit >= 0; --bit) {
            const bool set = ((mask.bytes()[i] >> bit) & 1U) != 0;
            if (set && ended)
                return std::nullopt;
            if (set)
                ++length;
            else
                ended = true;
        }
    }
    return length;
}

IpAddress netmask(std::uint8_t length)
{
    std::array<std::uint8_t, ip4_bytes> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const unsigned before = 8 * static_cast<unsigned>(i);
        const unsigned here = length >= before + 8 ? 8U : (length > before ? length - before : 0U);
        bytes[i] = static_cast<std::uint8_t>(0xff00U >> here);
    }
    return IpAddress::from_bytes(IpAddress::Family::v4, bytes.data());
}

// Whether any (all: every) bit after the first `length` is set.
bool host_bits_set(const IpAddress& address, unsigned length, bool all = false)
{
    for (std::size_t i = 0; i < address.size(); ++i) {
        const unsigned before = 8 * static_cast<unsigned>(i);
        const unsigned here = length >= before + 8 ? 8U : (length > before ? length - before : 0U);
        const auto host = static_cast<std::uint8_t>(~(0xff00U >> here));
        const auto bits = static_cast<std::uint8_t>(address.bytes()[i] & host);
        if (!all && bits != 0)
            return true;
        if (all && bits != host)
            return false;
    }
    return all;
}

// Unspecified, loopback (127/8, ::1), multicast (224/4 and above, ff00::/8).
bool unicast_host(const IpAddress& a)
{
    if (a.is_unspecified())
        return false;
    const std::uint8_t first = a.bytes()[0];
    if (a.is_v4())
        return first != 127 && first < 224;
    const bool loopback = std::all_of(a.bytes(), a.bytes() + 15, [](std::uint8_t b) { return b == 0; }) &&
                          a.bytes()[15] == 1;
    return !loopback && first != 0xff;
}

void append(std::vector<std::uint8_t>& value, const IpAddress& a)
{
    value.insert(value.end(), a.bytes(), a.bytes() + a.size());
}

std::string joined(const auto& items)
{
    std::string out;
    for (const auto& item : items)
        out += (out.empty() ? "" : " ") + item.to_string();
    return out;
}

} // namespace

std::string ModeConfig::describe() const
{
    std::string out;
    const auto add = [&](const std::string& part) { out += (out.empty() ? "" : ", ") + part; };
    if (address4)
        add("address " + address4->to_string());
    if (address6)
        add("address " + address6->to_string());
    if (!subnets.empty())
        add("subnets " + joined(subnets));
    if (!dns.empty())
        add("dns " + joined(dns));
    return out.empty() ? "nothing" : out;
}

CpPayload cfg_request(AddressFamilies families)
{
    CpPayload cp{CfgType::request, {}};
    if (families.ip4) {
        cp.attributes.push_back({cfg_attribute::internal_ip4_address, {}});
        cp.attributes.push_back({cfg_attribute::internal_ip4_subnet, {}});
    }
    if (families.ip6) {
        cp.attributes.push_back({cfg_attribute::internal_ip6_address, {}});
        cp.attributes.push_back({cfg_attribute::internal_ip6_subnet, {}});
    }
    return cp;
}

AddressFamilies requested_families(const CpPayload& request)
{
    AddressFamilies families;
    for (const ConfigAttribute& a : request.attributes) {
        families.ip4 = families.ip4 || a.type == cfg_attribute::internal_ip4_address;
        families.ip6 = families.ip6 || a.type == cfg_attribute::internal_ip6_address;
    }
    return families;
}

CpPayload cfg_reply(const ModeConfig& given)
{
    CpPayload cp{CfgType::reply, {}};
    if (given.address4) {
        ConfigAttribute address{cfg_attribute::internal_ip4_address, {}};
        append(address.value, given.address4->address());
        cp.attributes.push_back(std::move(address));
        // Section 3.15.1: the netmask goes only with an INTERNAL_IP4_ADDRESS.
        if (given.address4->length() != 32) {
            ConfigAttribute mask{cfg_attribute::internal_ip4_netmask, {}};
            append(mask.value, netmask(given.address4->length()));
            cp.attributes.push_back(std::move(mask));
        }
    }
    if (given.address6) {
        ConfigAttribute address{cfg_attribute::internal_ip6_address, {}};
        append(address.value, given.address6->address());
        address.value.push_back(given.address6->length());
        cp.attributes.push_back(std::move(address));
    }
    for (const IpPrefix& subnet : given.subnets) {
        if (subnet.address().is_v4()) {
            ConfigAttribute a{cfg_attribute::internal_ip4_subnet, {}};
            append(a.value, subnet.address());
            append(a.value, netmask(subnet.length()));
            cp.attributes.push_back(std::move(a));
        } else {
            ConfigAttribute a{cfg_attribute::internal_ip6_subnet, {}};
            append(a.value, subnet.address());
            a.value.push_back(subnet.length());
            cp.attributes.push_back(std::move(a));
        }
    }
    for (const IpAddress& server : given.dns) {
        ConfigAttribute a{server.is_v4() ? cfg_attribute::internal_ip4_dns : cfg_attribute::internal_ip6_dns, {}};
        append(a.value, server);
        cp.attributes.push_back(std::move(a));
    }
    return cp;
}

std::expected<ModeConfig, std::string> parse_cfg_reply(const CpPayload& reply)
{
    using Refused = std::unexpected<std::string>;
    if (reply.cfg_type != CfgType::reply)
        return Refused("a CP of type " + std::to_string(static_cast<int>(reply.cfg_type)) + ", not CFG_REPLY");
    ModeConfig out;
    std::optional<IpAddress> address4;
    std::optional<std::uint8_t> mask4;
    for (const ConfigAttribute& a : reply.attributes) {
        const auto expected = value_length(a.type);
        if (!expected || a.value.empty())
            continue;
        const std::string name = attribute_name(a.type);
        if (a.value.size() != *expected)
            return Refused(name + " of " + std::to_string(a.value.size()) + " bytes (" + std::to_string(*expected) +
                           " expected)");
        switch (a.type) {
        case cfg_attribute::internal_ip4_address:
        case cfg_attribute::internal_ip6_address: {
            const bool v4 = a.type == cfg_attribute::internal_ip4_address;
            if (v4 ? address4.has_value() : out.address6.has_value())
                return Refused(name + " given twice");
            const IpAddress address = address_of(a.value, 0, v4 ? IpAddress::Family::v4 : IpAddress::Family::v6);
            if (!unicast_host(address))
                return Refused(name + " " + address.to_string() + " is not a unicast host address");
            if (v4) {
                address4 = address;
            } else {
                if (a.value.back() > 128)
                    return Refused(name + " with prefix length " + std::to_string(a.value.back()));
                out.address6 = IpPrefix(address, a.value.back());
            }
            break;
        }
        case cfg_attribute::internal_ip4_netmask: {
            if (mask4)
                return Refused(name + " given twice");
            const auto length = netmask_length(address_of(a.value, 0, IpAddress::Family::v4));
            if (!length)
                return Refused(name + " " + address_of(a.value, 0, IpAddress::Family::v4).to_string() +
                               " is not a contiguous netmask");
            mask4 = *length;
            break;
        }
        case cfg_attribute::internal_ip4_subnet:
        case cfg_attribute::internal_ip6_subnet: {
            const bool v4 = a.type == cfg_attribute::internal_ip4_subnet;
            const IpAddress network = address_of(a.value, 0, v4 ? IpAddress::Family::v4 : IpAddress::Family::v6);
            std::optional<std::uint8_t> length;
            if (v4)
                length = netmask_length(address_of(a.value, ip4_bytes, IpAddress::Family::v4));
            else if (a.value.back() <= 128)
                length = a.value.back();
            if (!length)
                return Refused(name + " for " + network.to_string() + " has no valid netmask or prefix length");
            const IpPrefix subnet(network, *length);
            if (host_bits_set(network, *length))
                return Refused(name + " " + subnet.to_string() + " has host bits set (an address outside its netmask)");
            if (std::ranges::find(out.subnets, subnet) != out.subnets.end())
                return Refused(name + " " + subnet.to_string() + " given twice");
            out.subnets.push_back(subnet);
            break;
        }
        default: {   // the DNS servers
            const IpAddress server = address_of(
                a.value, 0, a.type == cfg_attribute::internal_ip4_dns ? IpAddress::Family::v4 : IpAddress::Family::v6);
            if (!unicast_host(server))
                return Refused(name + " " + server.to_string() + " is not a unicast host address");
            if (std::ranges::find(out.dns, server) != out.dns.end())
                return Refused(name + " " + server.to_string() + " given twice");
            out.dns.push_back(server);
            break;
        }
        }
    }
    if (mask4 && !address4)
        return Refused("INTERNAL_IP4_NETMASK without INTERNAL_IP4_ADDRESS");
    if (address4) {
        const std::uint8_t length = mask4.value_or(32);
        // Section 3.15.1's netmask names the internal network, which needs
        // its network and broadcast addresses unless it is a /31 (RFC 3021).
        if (length < 31 && (!host_bits_set(*address4, length) || host_bits_set(*address4, length, true)))
            return Refused("INTERNAL_IP4_ADDRESS " + address4->to_string() +
                           " is the network or broadcast address of its /" + std::to_string(length));
        out.address4 = IpPrefix(*address4, length);
    }
    return out;
}

} // namespace mesh::ike
