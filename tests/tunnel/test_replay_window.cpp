// The anti-replay window (RFC 4303 section 3.4.3, Appendix A2) as numbered
// tables of offers, in the manner of Linux WireGuard's counter self-test, and
// against a deliberately naive reference that keeps every number it saw.

#include "tunnel/replay_window.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <set>
#include <vector>

using mesh::tunnel::ReplayWindow;

namespace {

constexpr std::uint64_t w = ReplayWindow::size;
constexpr std::uint64_t two32 = std::uint64_t{1} << 32;

// What the receiver does with a packet whose ICV verifies: check, then accept.
bool offer(ReplayWindow& window, std::uint64_t seq)
{
    const auto claimed = window.check(static_cast<std::uint32_t>(seq));
    if (!claimed || *claimed != seq)
        return false;
    window.accept(*claimed);
    return true;
}

struct Offer {
    int number;
    std::uint64_t seq;
    bool accepted;
};

void run(ReplayWindow& window, const std::vector<Offer>& table)
{
    for (const Offer& o : table) {
        CAPTURE(o.number);
        CAPTURE(o.seq);
        CHECK(offer(window, o.seq) == o.accepted);
    }
}

} // namespace

TEST_CASE("replay window without ESN: the numbered edge cases")
{
    ReplayWindow window(false);
    run(window, {
        {1, 0, false},              // zero is never valid
        {2, 1, true},               // the first packet
        {3, 1, false},              // its duplicate
        {4, 9, true},               // a gap
        {5, 8, true},               // filled from the right
        {6, 7, true},
        {7, 7, false},
        {8, 0, false},              // still never valid
        {9, w, true},               // the window slides right
        {10, w - 1, true},          // just left of the top
        {11, w - 1, false},
        {12, 1, false},             // seen, and still inside the window
        {13, w + 1, true},
        {14, 2, true},              // exactly at the left edge: top - seq = size - 1
        {15, 2, false},
        {16, 1, false},             // one beyond the edge: too old
        {17, 2 * w, true},          // slide by a whole window
        {18, w + 1, false},         // seen before the slide, still inside: remembered
        {19, w + 2, true},          // unseen, inside
        {20, w, false},             // one beyond the edge
        {21, 2 * w + 64, true},     // the next word
        {22, 2 * w + 63, true},     // back into the previous word
        {23, 1'000'000, true},      // a far-future jump clears everything
        {24, 1'000'000 - w + 1, true},  // left edge after the jump: not a stale bit
        {25, 1'000'000 - w, false},     // one beyond
        {26, 999'999, true},
        {27, 5, false},             // the far past
        {28, UINT32_MAX, true},     // the last number a 32-bit SA can carry
        {29, UINT32_MAX, false},
        {30, UINT32_MAX - w + 1, true},
        {31, UINT32_MAX - w, false},
    });
    CHECK(window.highest() == UINT32_MAX);
}

TEST_CASE("replay window: a jump of exactly one ring of words leaves no stale bit")
{
    ReplayWindow window(false);
    for (std::uint64_t seq = 1; seq <= w; ++seq)
        REQUIRE(offer(window, seq));
    // Every word holds bits now; move the top by the ring's w / 64 + 1 words.
    const std::uint64_t top = w + (w / 64 + 1) * 64;
    REQUIRE(offer(window, top));
    for (std::uint64_t seq = top - w + 1; seq < top; ++seq) {
        CAPTURE(seq);
        REQUIRE(window.check(static_cast<std::uint32_t>(seq)) == seq);
    }
}

TEST_CASE("replay window: check() changes nothing, so a packet that fails its ICV leaves no trace")
{
    ReplayWindow window(true);
    REQUIRE(offer(window, 10));
    // Check without accept, as InboundSa does when the ICV then fails.
    REQUIRE(window.check(11) == 11u);
    REQUIRE(window.check(5000) == 5000u);
    CHECK(window.highest() == 10);
    CHECK(offer(window, 11));
    CHECK(offer(window, 5));
}

TEST_CASE("replay window with ESN: high bits inferred per RFC 4303 Appendix A2")
{
    ReplayWindow window(true);
    CHECK(window.check(0) == std::nullopt);                  // 1: seq 0 is never valid
    CHECK(window.check(UINT32_MAX) == std::nullopt);         // 2: would be Th - 1 = -1
    run(window, {
        {3, 1, true},
        {4, 0x8000'0000, true},                // case B (Tl < W - 1), right of the window: Th
        {5, 0xffff'fff6, true},                // case A, same subspace
        {6, two32 + 5, true},                  // case A, left of Tl - W + 1: Th + 1, wrapped
        {7, 0xffff'fff0, true},                // case B, right part of the low subspace: Th - 1
        {8, 0xffff'fff6, false},               // Th - 1 and seen
        {9, two32, true},                      // low half 0 is valid above 2^32
        {10, two32 + 3, true},                 // case B, inside the window: Th
        {11, two32 + 5 - (w - 1), true},       // the left edge, Th - 1
        {12, two32 + 5 - w, false},            // one beyond it
        {13, two32 + 4, true},
        {14, two32 + 4, false},
    });
    CHECK(window.highest() == two32 + 5);
    // Left of the edge the low half reads as the far future (Th), as the RFC
    // assumes; the ICV then decides.
    const auto beyond = static_cast<std::uint32_t>(two32 + 5 - w);
    CHECK(window.check(beyond) == two32 + beyond);
}

TEST_CASE("replay window with ESN: case A moves to Th + 1 only while the window sits high in its subspace")
{
    ReplayWindow window(true);
    window.accept(5 * two32 + 0x10000);  // Th = 5, Tl = 0x10000 (case A)
    CHECK(window.check(0x10000 - (w - 1)) == 5 * two32 + 0x10000 - (w - 1));  // left edge: Th
    CHECK(window.check(0x10000 - w) == 6 * two32 + 0x10000 - w);              // one beyond: Th + 1
    CHECK(window.check(0x10001) == 5 * two32 + 0x10001);                      // to the right: Th
    CHECK(window.check(0) == 6 * two32);                                      // low half 0 after the wrap
}

TEST_CASE("replay window with ESN: no number beyond 2^64 - 1 is inferred")
{
    ReplayWindow window(true);
    window.accept(UINT64_MAX - 10);  // Th = 0xffffffff, case A
    CHECK(window.check(UINT32_MAX) == UINT64_MAX);
    CHECK(window.check(3) == std::nullopt);  // Th + 1 would wrap to 0
    window.accept(UINT64_MAX);
    CHECK(window.check(UINT32_MAX) == std::nullopt);
    CHECK(window.highest() == UINT64_MAX);
}

TEST_CASE("replay window agrees with a naive reference over random traffic")
{
    std::mt19937_64 random(4303);
    for (const bool esn : {false, true}) {
        ReplayWindow window(esn);
        std::set<std::uint64_t> seen;
        std::uint64_t top = 0;
        std::uint64_t next = 1;
        for (int i = 0; i < 200'000; ++i) {
            // Mostly in order, with reordering, duplicates, stale packets and jumps.
            std::uint64_t seq = next;
            switch (random() % 8) {
            case 0: seq = next > 3 * w ? next - random() % (3 * w) : next; break;
            case 1: seq = top > 70 ? top - random() % 70 : top; break;
            case 2: seq = next + random() % (2 * w); break;
            case 3: if (random() % 200 == 0) seq = next + random() % 100'000; break;
            default: break;
            }
            if (!esn)
                seq = static_cast<std::uint32_t>(seq);
            const bool expected = seq != 0 && !seen.contains(seq) && (seq > top || top - seq < w);
            CAPTURE(esn);
            CAPTURE(i);
            CAPTURE(seq);
            REQUIRE(offer(window, seq) == expected);
            if (expected) {
                seen.insert(seq);
                top = std::max(top, seq);
            }
            next = std::max(next, top + 1);
        }
        CHECK(window.highest() == top);
    }
}
