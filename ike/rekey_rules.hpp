#pragma once
// What rekeying a CHILD SA (exchange_create_child.cpp) and rekeying the IKE
// SA (exchange_rekey_ike.cpp) share: the collision rule of RFC 7296 section
// 2.8.1, which section 2.18 applies to IKE SAs too, and the words the log
// uses for the peer's refusals.

#include "ike/constants.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace mesh::ike {

// Trying again after a refused or unusable answer: soon, but not in a loop
// (section 2.25: not at once after TEMPORARY_FAILURE).
inline constexpr auto rekey_retry = std::chrono::seconds(10);

// How long an IKE SA that waits for its Delete (rekeyed, or redundant) is
// kept when no Delete comes.
inline constexpr auto rekeyed_linger = std::chrono::seconds(60);

// How long the inbound half of a rekeyed CHILD SA outlives its Delete:
// the peer's data plane may hold packets sealed with it (a batch being
// sent) after the peer's control plane switched, and the Delete overtakes
// them. strongSwan keeps it 5 s (delete_rekeyed_delay); a batch takes
// milliseconds.
inline constexpr auto retire_delay = std::chrono::seconds(2);

// The lower of an exchange's two nonces, octet by octet, a nonce that ends
// first being the lower.
[[nodiscard]] inline std::vector<std::uint8_t> lowest_nonce(std::span<const std::uint8_t> a,
                                                            std::span<const std::uint8_t> b)
{
    const auto low = std::ranges::lexicographical_compare(a, b) ? a : b;
    return {low.begin(), low.end()};
}

// Of two exchanges that rekeyed one SA at once, the one holding the lowest
// of the four nonces made the redundant SA, and its initiator deletes it.
[[nodiscard]] inline bool holds_lowest_nonce(std::span<const std::uint8_t> ours_lowest,
                                             std::span<const std::uint8_t> theirs_lowest)
{
    return std::ranges::lexicographical_compare(ours_lowest, theirs_lowest);
}

} // namespace mesh::ike
