#pragma once
// NAT detection (RFC 7296 section 2.23): each side hashes the addresses it
// sees; a mismatch on receipt means a NAT rewrote them.

#include "net/ip_address.hpp"

#include <cstdint>
#include <vector>

namespace mesh::ike {

// SHA-1(SPIi | SPIr | IP address | port), SPIr zero in the first request.
[[nodiscard]] std::vector<std::uint8_t> nat_detection_hash(std::uint64_t spi_i, std::uint64_t spi_r,
                                                           const net::Endpoint& endpoint);

// The NAT_DETECTION_SOURCE_IP of an end that asks for UDP encapsulation
// whether or not a NAT is on the path (encapsulation = "udp", strongSwan's
// encap = yes): the hash of its own address with the ones' complement of its
// port, which the datagram does not carry. To any peer it is a mismatch, so
// the peer uses UDP as if behind a NAT; a mesh-site peer that finds this
// hash of the address and port the datagram came from knows no NAT rewrote
// them and reports none. The same for the same SPIs, so an IKE_SA_INIT sent
// again is the same message.
[[nodiscard]] std::vector<std::uint8_t> forced_encapsulation_hash(std::uint64_t spi_i, std::uint64_t spi_r,
                                                                  const net::Endpoint& endpoint);

} // namespace mesh::ike
