#pragma once
// Every limit of the IKEv2 layer in one place: the ones RFC 7296 fixes, and the
// caps this implementation puts on what a peer may make it parse, so that no
// message can make the codec allocate without bound or loop for long. Each cap
// is far above what strongSwan, libreswan or RouterOS send.

#include <cstddef>

namespace mesh::ike::limits {

// RFC 7296 section 3.1: the fixed IKE header.
inline constexpr std::size_t header_length = 28;
// RFC 7296 section 3.2: the generic payload header.
inline constexpr std::size_t payload_header_length = 4;

// RFC 7296 section 3.9: "Nonce Data MUST be between 16 and 256 octets".
inline constexpr std::size_t min_nonce_length = 16;
inline constexpr std::size_t max_nonce_length = 256;

// RFC 7296 section 3.13.1: selector lengths of TS_IPV4_ADDR_RANGE and TS_IPV6_ADDR_RANGE.
inline constexpr std::size_t ts_ipv4_length = 16;
inline constexpr std::size_t ts_ipv6_length = 40;

// Caps of this implementation (a message over one is rejected as too_many).
inline constexpr std::size_t max_payloads = 64;           // per payload chain (outer, or inside SK)
inline constexpr std::size_t max_proposals = 64;          // per SA payload
inline constexpr std::size_t max_transforms = 128;        // per proposal
inline constexpr std::size_t max_transform_attributes = 8;
inline constexpr std::size_t max_traffic_selectors = 64;  // per TS payload
inline constexpr std::size_t max_config_attributes = 64;  // per CP payload
inline constexpr std::size_t max_delete_spis = 1024;      // per Delete payload

} // namespace mesh::ike::limits
