#pragma once
// A branch's block of a template tunnel's address-pool (docs/configuration.md,
// "Template peers"), as values: which address each end takes, and what mode
// config (RFC 7296 section 3.15) answers the branch that asks for its own.
//
//   block 172.16.128.6/31 -> hub 172.16.128.6/31, branch 172.16.128.7/31
//   block 172.16.128.4/30 -> hub 172.16.128.5/30, branch 172.16.128.6/30
//   CFG_REQUEST for IPv4 -> INTERNAL_IP4_ADDRESS 172.16.128.7, INTERNAL_IP4_NETMASK 255.255.255.254

#include "ike/identity.hpp"
#include "ike/mode_config.hpp"
#include "net/ip_address.hpp"

#include <string>

namespace mesh::config {
struct Config;
struct Tunnel;
} // namespace mesh::config

namespace mesh::daemon {

struct BlockEnds {
    net::IpPrefix ours;     // the hub's address on the instance, with the block's length
    net::IpPrefix theirs;   // the branch's
};

// A /31 (/127) both its addresses, hub first (RFC 3021); a /30 (/126) the
// two that are neither its network nor its broadcast address.
[[nodiscard]] BlockEnds block_ends(const net::IpPrefix& block);

// The branch's end of its block as the CFG_REPLY's address, with the block's
// length as its netmask (or IPv6 prefix length), when the branch asked for
// an address of the block's family; nothing else.
[[nodiscard]] ike::ModeConfig block_mode_config(const net::IpPrefix& block, ike::AddressFamilies asked);

// A branch's key in a template's pool: its identity as text, names in lower
// case, as IKE compares them (ike/identity.hpp, matches). The text form is
// what a mode config lease names (ike::ModeConfigLease::identity).
[[nodiscard]] std::string branch_key(const ike::Identity& id);
[[nodiscard]] std::string branch_key(std::string_view identity);

// The template tunnel of a peer that hands each branch a block of its
// address-pool and answers its CFG_REQUEST with the branch's end (a mode gre
// template with address-pool); nullptr for any other peer.
[[nodiscard]] const config::Tunnel* pooled_template(const config::Config& config, const std::string& peer);

} // namespace mesh::daemon
