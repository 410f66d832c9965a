#pragma once
// IKE fragmentation (RFC 7383). An IKE_AUTH with certificates outgrows the
// path MTU; IP fragments of it are dropped by many firewalls and NATs, so
// IKE cuts the message itself: each fragment is an IKE message of its own
// with an Encrypted Fragment payload (SKF), sealed and authenticated alone,
// all under one Message ID.
//
//   negotiated  N(IKEV2_FRAGMENTATION_SUPPORTED) in IKE_SA_INIT, both ways
//               (section 2.3); IKE_SA_INIT itself is never fragmented
//   sending     only a message that would not fit the path MTU (section
//               2.5.1), retransmitted as the same fragments (2.6.1)
//   receiving   each fragment's ICV checked before it is kept (2.6.2);
//               bounded in count and bytes; the message is processed once
//               all are in, as if it had come whole

#include "ike/constants.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace mesh::ike {

// Fragments of one message at most, and their decrypted bytes together:
// enough for a chain of large certificates at the smallest MTU, and a bound
// on what a peer can make us hold.
inline constexpr std::uint16_t max_fragments = 128;
inline constexpr std::size_t max_reassembled_bytes = 64 * 1024;

// The largest IKE message (IKE header on) that fits one datagram on a path
// of this MTU: the IP and UDP headers off, and the non-ESP marker when on
// the NAT-T port.
[[nodiscard]] std::size_t ike_message_limit(std::uint32_t path_mtu, bool ipv6, bool natt_port) noexcept;

// One message's fragments as they come in, any order, duplicates ignored.
class FragmentReassembly {
public:
    enum class Outcome : std::uint8_t {
        incomplete,   // kept (or a duplicate): more to come
        complete,     // all fragments in: take() the message
        refused,      // over the bounds, or inconsistent with the fragments so far: dropped
    };

    // `content` is fragment `number`'s decrypted content; `first_payload`
    // counts only in fragment 1. Fragments of another Message ID or
    // direction than those held start over (the earlier message was
    // abandoned); a larger Total Fragments for the same message starts over
    // too (the sender cut it smaller, section 2.6.2), a smaller one is refused.
    Outcome add(std::uint32_t message_id, bool response, std::uint16_t number, std::uint16_t total,
                PayloadType first_payload, std::span<const std::uint8_t> content);
    // The inner payload chain of the completed message and its first type; empties this.
    [[nodiscard]] std::vector<std::uint8_t> take(PayloadType& first_payload);
    [[nodiscard]] bool holds(std::uint32_t message_id, bool response) const noexcept
    {
        return !chunks_.empty() && message_id_ == message_id && response_ == response;
    }
    void clear() noexcept;

private:
    std::uint32_t message_id_ = 0;
    bool response_ = false;
    PayloadType first_payload_ = PayloadType::none;
    std::size_t bytes_ = 0;
    std::size_t received_ = 0;
    std::vector<std::optional<std::vector<std::uint8_t>>> chunks_;   // by Fragment Number - 1
};

} // namespace mesh::ike
