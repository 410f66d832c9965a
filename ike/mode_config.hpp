#pragma once
// Mode config (RFC 7296 section 3.15): the attributes of a CP payload as
// values, and the checks a CFG_REPLY must pass before a branch uses it.
//
//   initiator:  cfg_request(families)   -> CP(CFG_REQUEST) in IKE_AUTH
//               parse_cfg_reply(CP)     <- the responder's CP(CFG_REPLY): checked, or refused with the reason
//   responder:  requested_families(CP)  <- the initiator's CP(CFG_REQUEST)
//               cfg_reply(attributes)   -> CP(CFG_REPLY)
//
// The addresses themselves come from the daemon (IkeHost::lease_attributes),
// never from a pool inside ike/.

#include "ike/cp_payload.hpp"
#include "net/ip_address.hpp"

#include <expected>
#include <optional>
#include <string>
#include <vector>

namespace mesh::ike {

// What a CFG_REPLY carries: given by a hub, taken by a branch.
struct ModeConfig {
    // INTERNAL_IP4_ADDRESS with the length of INTERNAL_IP4_NETMASK (32 without one).
    std::optional<net::IpPrefix> address4;
    // INTERNAL_IP6_ADDRESS with its prefix length.
    std::optional<net::IpPrefix> address6;
    // INTERNAL_IP4_SUBNET and INTERNAL_IP6_SUBNET: the networks reached through the
    // responder (section 3.15.2), a split-include list.
    std::vector<net::IpPrefix> subnets;
    // INTERNAL_IP4_DNS and INTERNAL_IP6_DNS.
    std::vector<net::IpAddress> dns;

    [[nodiscard]] bool has_address() const noexcept { return address4.has_value() || address6.has_value(); }
    // "address 10.99.0.7/32, subnets 10.1.0.0/24, dns 192.0.2.53", for the log.
    [[nodiscard]] std::string describe() const;

    friend bool operator==(const ModeConfig&, const ModeConfig&) = default;
};

// The address families a CFG_REQUEST asks an address for.
struct AddressFamilies {
    bool ip4 = false;
    bool ip6 = false;

    [[nodiscard]] bool any() const noexcept { return ip4 || ip6; }

    friend bool operator==(const AddressFamilies&, const AddressFamilies&) = default;
};

// A CFG_REQUEST the responder answers, from a peer that authenticated in
// IKE_AUTH (IkeHost::lease_attributes).
struct ModeConfigLease {
    std::string peer;           // PeerConfig::name
    std::string identity;       // its authenticated IKE identity ("fqdn:branch-7.example"): the lease's key
    AddressFamilies families;   // what it asked an address for

    friend bool operator==(const ModeConfigLease&, const ModeConfigLease&) = default;
};

// CFG_REQUEST: an empty INTERNAL_IPx_ADDRESS and INTERNAL_IPx_SUBNET per family.
[[nodiscard]] CpPayload cfg_request(AddressFamilies families);
// Which families a CFG_REQUEST asks an address for (with or without a
// suggested value, which we do not honour).
[[nodiscard]] AddressFamilies requested_families(const CpPayload& request);

[[nodiscard]] CpPayload cfg_reply(const ModeConfig& given);

// A CFG_REPLY's attributes, or why it is refused: a length its type does not
// allow, an address attribute or netmask twice, a repeated subnet or DNS
// server, an address that is not a unicast host address (unspecified,
// loopback, multicast, broadcast), a netmask that is not contiguous, a subnet
// with host bits set (an address outside its own netmask). Unknown attribute
// types and empty values are ignored.
[[nodiscard]] std::expected<ModeConfig, std::string> parse_cfg_reply(const CpPayload& reply);

} // namespace mesh::ike
