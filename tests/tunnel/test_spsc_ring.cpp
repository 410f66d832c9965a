// SpscRing between two real threads, as the pump's threads use it to hand
// events and IKE datagrams to the control thread: every item arrives once,
// in order, and intact (tests/run-all.sh runs this under ThreadSanitizer).

#include "tunnel/spsc_ring.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <thread>

using mesh::tunnel::SpscRing;

namespace {

struct Item {
    std::uint64_t sequence = 0;
    std::array<std::uint64_t, 7> copies{};   // a payload wider than one atomic store
};

} // namespace

TEST_CASE("a producer and a consumer thread pass 200,000 items in order through a ring of 16")
{
    constexpr std::uint64_t count = 200'000;
    SpscRing<Item, 16> ring;
    std::thread producer([&] {
        for (std::uint64_t i = 0; i < count;) {
            Item* slot = ring.prepare();
            if (!slot) {
                std::this_thread::yield();
                continue;
            }
            slot->sequence = i;
            slot->copies.fill(i);
            ring.commit();
            ++i;
        }
    });
    std::uint64_t expected = 0, wrong = 0;
    while (expected < count) {
        const Item* item = ring.front();
        if (!item) {
            std::this_thread::yield();
            continue;
        }
        for (const auto copy : item->copies)
            wrong += copy != expected;
        wrong += item->sequence != expected;
        ring.release();
        ++expected;
    }
    producer.join();
    CHECK(wrong == 0);
    CHECK(ring.front() == nullptr);
}
