// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// The one's-complement sum does not depend on byte order (RFC 1071 section
// 2(B)): we add 64-bit words in the machine's order, fold, and swap once at the
// end. Each word is added as two 32-bit halves into a 64-bit accumulator so no
// carry is lost and no add depends on the previous add's carry (RFC 1071
// section 2(C), "deferred carries").

#include "gre/checksum.hpp"

#include <bit>
#include <cstddef>
#include <cstring>

namespace mesh::gre {
namespace {

// Two halves of at most 2^32 - 1 each: 2^31 words (16 GiB) fit in 64 bits
// before the accumulator must be folded.
constexpr std::size_t words_per_fold = std::size_t{1} << 30;

constexpr std::uint64_t fold_to_32(std::uint64_t sum) noexcept
{
    sum = (sum & 0xffff'ffffU) + (sum >> 32);
    return (sum & 0xffff'ffffU) + (sum >> 32);
}

constexpr std::uint16_t fold_to_16(std::uint64_t sum) noexcept
{
    sum = fold_to_32(sum);
    sum = (sum & 0xffffU) + (sum >> 16);
    sum = (sum & 0xffffU) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

// The loop, inlined into both versions below.
[[gnu::always_inline]] inline std::uint64_t add_words_loop(const std::uint8_t* p, std::size_t words,
                                                           std::uint64_t sum) noexcept
{
    for (std::size_t i = 0; i < words; ++i, p += 8) {
        std::uint64_t w;
        std::memcpy(&w, p, sizeof w);
        sum += (w & 0xffff'ffffU) + (w >> 32);
    }
    return sum;
}

std::uint64_t add_words_baseline(const std::uint8_t* p, std::size_t words, std::uint64_t sum) noexcept
{
    return add_words_loop(p, words, sum);
}

[[gnu::target("avx2")]] std::uint64_t add_words_avx2(const std::uint8_t* p, std::size_t words,
                                                     std::uint64_t sum) noexcept
{
    return add_words_loop(p, words, sum);
}

// Every inner TCP/UDP segment is summed at least once on its way through
// (checksums completed on send, verified before coalescing on receive), a
// tenth of the data plane's CPU with scalar adds. The loop vectorises (the
// build asks GCC for its full cost model on this file), and where the CPU
// has AVX2 that version sums about 4x faster than SSE2's. Picked here, not by
// an ifunc (target_clones): an ifunc's resolver runs before ThreadSanitizer's
// runtime is set up, and crashes it.
std::uint64_t add_words(const std::uint8_t* p, std::size_t words, std::uint64_t sum) noexcept
{
    static const bool avx2 = __builtin_cpu_supports("avx2");
    return avx2 ? add_words_avx2(p, words, sum) : add_words_baseline(p, words, sum);
}

} // namespace

std::uint16_t ones_complement_sum(std::span<const std::uint8_t> bytes, std::uint32_t initial) noexcept
{
    const std::uint8_t* p = bytes.data();
    std::size_t words = bytes.size() / 8;
    std::uint64_t sum = 0;
    while (words > 0) {
        const std::size_t n = words < words_per_fold ? words : words_per_fold;
        sum = fold_to_32(add_words(p, n, sum));
        p += n * 8;
        words -= n;
    }
    // The tail as one zero-padded word keeps every byte at its position
    // within a 16-bit word, which is also RFC 1071's padding of an odd byte.
    if (const std::size_t tail = bytes.size() % 8; tail != 0) {
        std::uint64_t w = 0;
        std::memcpy(&w, p, tail);
        sum += (w & 0xffff'ffffU) + (w >> 32);
    }
    std::uint16_t folded = fold_to_16(sum);
    if constexpr (std::endian::native == std::endian::little) {
        folded = std::byteswap(folded);
    }
    return fold_to_16(std::uint64_t{folded} + initial);
}

std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes) noexcept
{
    return static_cast<std::uint16_t>(~ones_complement_sum(bytes));
}

std::uint16_t checksum_update(std::uint16_t checksum, std::uint16_t old_value, std::uint16_t new_value) noexcept
{
    // HC' = ~(~HC + ~m + m'), RFC 1624 eqn. 3: like a full recomputation it
    // never yields 0xffff (-0), which RFC 1141's HC + m + ~m' could (section 3).
    const std::uint64_t sum = std::uint64_t{static_cast<std::uint16_t>(~checksum)}
                            + static_cast<std::uint16_t>(~old_value) + new_value;
    return static_cast<std::uint16_t>(~fold_to_16(sum));
}

} // namespace mesh::gre
