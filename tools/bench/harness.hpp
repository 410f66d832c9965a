#pragma once
// The timing loop of the micro-benchmarks. A round is `items` operations:
// prepare() runs untimed (refilling buffers that the operation consumed, such
// as sealed packets that opening decrypts in place), run() is timed. Rounds
// repeat for min_total of timed work and the median round is reported.
//
// Why the median of short rounds: the machine's two cores are shared with
// builds. A round lasts microseconds, so most rounds run unpreempted and the
// median ignores those that did not; a long trial's average or minimum would
// carry whatever the scheduler did. (The thread CPU-time clock would exclude
// preemption too, but reading it is a system call of over 1 us here, against
// about 50 ns for steady_clock.)

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace mesh::bench {

// Keeps the compiler from dropping work whose result nothing reads.
inline void keep(const void* p) noexcept { asm volatile("" : : "r"(p) : "memory"); }

using bench_clock = std::chrono::steady_clock;
inline constexpr std::chrono::milliseconds min_total{300};

inline std::int64_t median(std::vector<std::int64_t>& values)
{
    const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
    std::nth_element(values.begin(), middle, values.end());
    return *middle;
}

// The median cost of reading the clock twice, taken off every round.
inline std::int64_t clock_cost_ns()
{
    static const std::int64_t cost = [] {
        std::vector<std::int64_t> samples(10'000);
        for (auto& sample : samples) {
            const auto start = bench_clock::now();
            sample = (bench_clock::now() - start).count();
        }
        return median(samples);
    }();
    return cost;
}

template <class Prepare, class Run>
double ns_per_item(std::size_t items, Prepare&& prepare, Run&& run)
{
    static_assert(std::is_same_v<bench_clock::duration, std::chrono::nanoseconds>);
    const std::int64_t overhead = clock_cost_ns();
    std::vector<std::int64_t> rounds;
    rounds.reserve(1 << 16);
    std::chrono::nanoseconds total{0};
    while (total < min_total) {
        prepare();
        const auto start = bench_clock::now();
        run();
        const auto elapsed = bench_clock::now() - start;
        total += elapsed;
        rounds.push_back(elapsed.count() - overhead);
    }
    return static_cast<double>(median(rounds)) / static_cast<double>(items);
}

} // namespace mesh::bench
