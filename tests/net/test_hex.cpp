#include "net/hex.hpp"

#include <doctest/doctest.h>

using namespace mesh::net;

TEST_CASE("Hex digits of both cases have their values; anything else is -1")
{
    CHECK(hex_digit('0') == 0);
    CHECK(hex_digit('9') == 9);
    CHECK(hex_digit('a') == 10);
    CHECK(hex_digit('F') == 15);
    for (const char c : {'g', 'G', ' ', 'x', '/', ':', '@', '`', '\0', static_cast<char>(0xe9)})
        CHECK(hex_digit(c) == -1);
}

TEST_CASE("A 0x or 0X prefix is dropped, and only that")
{
    CHECK(without_0x("0x1001") == "1001");
    CHECK(without_0x("0X1001") == "1001");
    CHECK(without_0x("1001") == "1001");
    CHECK(without_0x("0x") == "");
    CHECK(without_0x("0") == "0");
    CHECK(without_0x("x0") == "x0");
}
