#include "net/byte_order.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>

using namespace mesh::net;

TEST_CASE("Loads read the most significant byte first")
{
    constexpr std::array<std::uint8_t, 8> bytes{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    CHECK(load_be16(bytes.data()) == 0x0123);
    CHECK(load_be32(bytes.data()) == 0x01234567u);
    CHECK(load_be64(bytes.data()) == 0x0123456789abcdefull);
    CHECK(load_be32(bytes.data() + 4) == 0x89abcdefu);
}

TEST_CASE("Stores write exactly their width, most significant byte first")
{
    std::array<std::uint8_t, 10> bytes{};
    bytes.fill(0x55);
    store_be64(bytes.data() + 1, 0x0123456789abcdefull);
    CHECK(bytes == std::array<std::uint8_t, 10>{0x55, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x55});
    store_be32(bytes.data() + 1, 0xfffefdfcu);
    store_be16(bytes.data() + 5, 0x0102);
    CHECK(bytes == std::array<std::uint8_t, 10>{0x55, 0xff, 0xfe, 0xfd, 0xfc, 0x01, 0x02, 0xcd, 0xef, 0x55});
}

TEST_CASE("A store read back by the load of its width gives the value")
{
    std::array<std::uint8_t, 8> bytes{};
    for (const std::uint64_t value : {0ull, 1ull, 0x8000000000000000ull, 0xffffffffffffffffull, 0x00ff00ff00ff00ffull}) {
        store_be64(bytes.data(), value);
        CHECK(load_be64(bytes.data()) == value);
        store_be32(bytes.data(), static_cast<std::uint32_t>(value));
        CHECK(load_be32(bytes.data()) == static_cast<std::uint32_t>(value));
        store_be16(bytes.data(), static_cast<std::uint16_t>(value));
        CHECK(load_be16(bytes.data()) == static_cast<std::uint16_t>(value));
    }
}
