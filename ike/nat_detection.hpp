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

} // namespace mesh::ike
