#pragma once
// The Internet checksum (RFC 1071) and its incremental update (RFC 1624), the
// one implementation for GRE, IP and TCP headers.

#include <cstdint>
#include <span>

namespace mesh::gre {

// One's-complement sum of the bytes (odd length padded with a zero byte),
// folded to 16 bits, not complemented; `initial` chains partial sums.
[[nodiscard]] std::uint16_t ones_complement_sum(std::span<const std::uint8_t> bytes, std::uint32_t initial = 0) noexcept;
// The checksum to store: ~ones_complement_sum(bytes).
[[nodiscard]] std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes) noexcept;
// RFC 1624 eqn. 3: the checksum after a 16-bit field changed from old_value to new_value.
[[nodiscard]] std::uint16_t checksum_update(std::uint16_t checksum, std::uint16_t old_value, std::uint16_t new_value) noexcept;

} // namespace mesh::gre
