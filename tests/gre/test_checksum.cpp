// The Internet checksum against RFC 1071's worked example, and the RFC 1624
// incremental update against full recomputation.

#include "gre/checksum.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <random>
#include <vector>

namespace {

using mesh::gre::checksum_update;
using mesh::gre::internet_checksum;
using mesh::gre::ones_complement_sum;

// The obvious RFC 1071 loop, 16 bits at a time, as the reference.
std::uint16_t naive_sum(const std::vector<std::uint8_t>& bytes)
{
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
        const std::uint32_t low = i + 1 < bytes.size() ? bytes[i + 1] : 0;
        sum += std::uint32_t{bytes[i]} << 8 | low;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}

std::vector<std::uint8_t> random_bytes(std::mt19937& rng, std::size_t n)
{
    std::uniform_int_distribution<unsigned> byte(0, 255);
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) {
        b = static_cast<std::uint8_t>(byte(rng));
    }
    return v;
}

} // namespace

TEST_CASE("RFC 1071 section 3 example sums to 0xddf2")
{
    const std::array<std::uint8_t, 8> bytes{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK(ones_complement_sum(bytes) == 0xddf2);
    CHECK(internet_checksum(bytes) == 0x220d);
}

TEST_CASE("an odd trailing byte is padded with a zero byte")
{
    const std::array<std::uint8_t, 3> bytes{0x12, 0x34, 0x56};
    CHECK(ones_complement_sum(bytes) == 0x6834);   // 0x1234 + 0x5600
}

TEST_CASE("empty input sums to the initial value")
{
    CHECK(ones_complement_sum({}) == 0);
    CHECK(ones_complement_sum({}, 0x1234) == 0x1234);
}

TEST_CASE("the initial value chains partial sums of even-length parts")
{
    std::mt19937 rng(1071);
    const auto bytes = random_bytes(rng, 1000);
    const std::span<const std::uint8_t> all(bytes);
    const std::uint16_t first = ones_complement_sum(all.first(500));
    CHECK(ones_complement_sum(all.subspan(500), first) == ones_complement_sum(all));
}

TEST_CASE("the word-at-a-time sum equals the 16-bit reference for every length and alignment")
{
    std::mt19937 rng(42);
    const auto bytes = random_bytes(rng, 300);
    for (std::size_t start = 0; start < 8; ++start) {
        for (std::size_t length = 0; start + length <= bytes.size(); ++length) {
            const std::vector<std::uint8_t> part(bytes.begin() + static_cast<std::ptrdiff_t>(start),
                                                 bytes.begin() + static_cast<std::ptrdiff_t>(start + length));
            REQUIRE(ones_complement_sum(part) == naive_sum(part));
        }
    }
}

TEST_CASE("all-ones data folds its carries correctly")
{
    const std::vector<std::uint8_t> ones(65536, 0xff);
    CHECK(ones_complement_sum(ones) == 0xffff);
    CHECK(ones_complement_sum(ones) == naive_sum(ones));
}

TEST_CASE("a buffer with its checksum in place sums to 0xffff")
{
    std::mt19937 rng(7);
    auto bytes = random_bytes(rng, 64);
    bytes[10] = 0;
    bytes[11] = 0;
    const std::uint16_t checksum = internet_checksum(bytes);
    bytes[10] = static_cast<std::uint8_t>(checksum >> 8);
    bytes[11] = static_cast<std::uint8_t>(checksum);
    CHECK(ones_complement_sum(bytes) == 0xffff);
}

TEST_CASE("RFC 1624 incremental update equals full recomputation on random data")
{
    std::mt19937 rng(1624);
    std::uniform_int_distribution<std::size_t> word(0, 31);
    std::uniform_int_distribution<unsigned> value(0, 0xffff);
    for (int round = 0; round < 10000; ++round) {
        auto bytes = random_bytes(rng, 64);
        const std::uint16_t before = internet_checksum(bytes);
        const std::size_t at = word(rng) * 2;
        const auto old_value = static_cast<std::uint16_t>(bytes[at] << 8 | bytes[at + 1]);
        // Every tenth round rewrites the word with itself or with 0 and 0xffff,
        // the values where -0 and +0 could get mixed up.
        std::uint16_t new_value = static_cast<std::uint16_t>(value(rng));
        if (round % 10 == 0) {
            const std::array<std::uint16_t, 3> edge{old_value, 0x0000, 0xffff};
            new_value = edge[static_cast<std::size_t>(round / 10) % edge.size()];
        }
        bytes[at] = static_cast<std::uint8_t>(new_value >> 8);
        bytes[at + 1] = static_cast<std::uint8_t>(new_value);
        REQUIRE(checksum_update(before, old_value, new_value) == internet_checksum(bytes));
    }
}

TEST_CASE("incremental update reaching a zero checksum gives +0 like a recomputation")
{
    // Data whose sum is 0xffff has checksum 0x0000; getting there by an
    // update must not produce 0xffff (RFC 1624 section 3).
    std::array<std::uint8_t, 4> bytes{0x12, 0x34, 0x00, 0x00};
    const std::uint16_t before = internet_checksum(bytes);
    bytes[2] = 0xed;
    bytes[3] = 0xcb;   // 0x1234 + 0xedcb = 0xffff
    const std::uint16_t after = checksum_update(before, 0x0000, 0xedcb);
    CHECK(after == internet_checksum(bytes));
    CHECK(after == 0x0000);
}
