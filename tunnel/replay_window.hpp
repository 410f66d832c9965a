#pragma once
// The anti-replay window of RFC 4303 section 3.4.3 with 64-bit extended
// sequence numbers (section 2.2.1, Appendix A2): a bitmap of `size` packets
// to the left of the highest authenticated sequence number.
//
// Two steps, as the RFC orders them: check() before the ICV is verified (it
// only reads, and infers the high 32 bits of an ESN from the low ones on the
// wire), accept() after, which slides the window and marks the packet.

#include <array>
#include <cstdint>
#include <optional>

namespace mesh::tunnel {

class ReplayWindow {
public:
    // Wide enough that small ESP, which the kernel queues apart from bulk
    // (tunnel/spi_steering.hpp), never pushes the bulk of its SA out of it
    // (RFC 4301 section 4.1); 2 KiB of bitmap per inbound SA.
    static constexpr std::uint64_t size = 16384;

    explicit ReplayWindow(bool esn = true) noexcept : esn_(esn) {}

    // The full sequence number the packet claims, or nullopt if it is a
    // duplicate or too old. Sequence number 0 is never valid.
    [[nodiscard]] std::optional<std::uint64_t> check(std::uint32_t seq_low) const noexcept;
    // Marks seq (a value check() returned) as received.
    void accept(std::uint64_t seq) noexcept;

    [[nodiscard]] std::uint64_t highest() const noexcept { return top_; }

private:
    // A ring of 64-bit words, as in Linux WireGuard's counter: one word more
    // than the window, because the window's oldest and newest words are partly
    // used, so `size` packets touch size / 64 + 1 words.
    static constexpr std::uint64_t words = size / 64 + 1;
    bool esn_;
    std::uint64_t top_ = 0;                      // highest accepted sequence number
    std::array<std::uint64_t, words> bitmap_{};  // bit seq % 64 of word (seq / 64) % words set: seq seen
};

} // namespace mesh::tunnel
