#include "tunnel/replay_window.hpp"

namespace mesh::tunnel {

namespace {

constexpr std::uint64_t bits_per_word = 64;

// RFC 4303 Appendix A2.2: the high 32 bits of an extended sequence number are
// never sent; the receiver takes them from the top of its window (Th, Tl),
// assuming the packet lies within the window or to its right. Returns 0, a
// number never valid, when the inferred value would leave the 64-bit space.
std::uint64_t infer_esn(std::uint64_t top, std::uint32_t seq_low) noexcept
{
    constexpr auto w = static_cast<std::uint32_t>(ReplayWindow::size);
    const auto tl = static_cast<std::uint32_t>(top);
    const auto th = static_cast<std::uint32_t>(top >> 32);
    std::uint32_t seq_high = th;
    if (tl >= w - 1) {
        // Case A: the window lies within one 2^32 subspace; anything left of it
        // has wrapped into the next subspace.
        if (seq_low < tl - w + 1) {
            if (th == UINT32_MAX)
                return 0;
            seq_high = th + 1;
        }
    } else if (seq_low >= tl - w + 1) {
        // Case B: the window spans two subspaces (tl - w + 1 wraps modulo 2^32),
        // and this packet sits in its left part, in the previous subspace.
        if (th == 0)
            return 0;
        seq_high = th - 1;
    }
    return (std::uint64_t{seq_high} << 32) | seq_low;
}

} // namespace

std::optional<std::uint64_t> ReplayWindow::check(std::uint32_t seq_low) const noexcept
{
    const std::uint64_t seq = esn_ ? infer_esn(top_, seq_low) : seq_low;
    if (seq == 0) [[unlikely]]
        return std::nullopt;
    if (seq > top_)
        return seq;
    if (top_ - seq >= size) [[unlikely]]
        return std::nullopt;
    const std::uint64_t word = bitmap_[(seq / bits_per_word) % words];
    if ((word >> (seq % bits_per_word)) & 1) [[unlikely]]
        return std::nullopt;
    return seq;
}

void ReplayWindow::accept(std::uint64_t seq) noexcept
{
    if (seq > top_) {
        // Clear the words the window slides over; a jump of a whole ring or
        // more clears every word once.
        const std::uint64_t current = top_ / bits_per_word;
        const std::uint64_t target = seq / bits_per_word;
        const std::uint64_t slide = target - current < words ? target - current : words;
        for (std::uint64_t i = 1; i <= slide; ++i)
            bitmap_[(current + i) % words] = 0;
        top_ = seq;
    } else if (top_ - seq >= size) [[unlikely]] {
        return;  // left the window since check(): its bit now belongs to a newer number
    }
    bitmap_[(seq / bits_per_word) % words] |= std::uint64_t{1} << (seq % bits_per_word);
}

} // namespace mesh::tunnel
