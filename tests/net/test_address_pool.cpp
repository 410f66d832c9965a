#include "net/address_pool.hpp"

#include <doctest/doctest.h>

#include <set>
#include <stdexcept>
#include <string>

using namespace mesh::net;

namespace {
IpPrefix prefix(const char* text)
{
    return *IpPrefix::parse(text);
}
} // namespace

TEST_CASE("A pool hands out distinct blocks inside itself until it is full")
{
    AddressPool pool(prefix("172.16.128.0/28"), 31);
    CHECK(pool.capacity() == 8);
    std::set<IpPrefix> seen;
    for (int i = 0; i < 8; ++i) {
        const auto block = pool.acquire("fqdn:s" + std::to_string(i) + ".branch.example.net");
        REQUIRE(block);
        CHECK(block->length() == 31);
        CHECK(prefix("172.16.128.0/28").contains(block->address()));
        CHECK(block->address().bytes()[3] % 2 == 0);
        seen.insert(*block);
    }
    CHECK(seen.size() == 8);
    CHECK(pool.in_use() == 8);
    CHECK_FALSE(pool.acquire("fqdn:one-too-many"));
}

TEST_CASE("A key keeps its block while it holds it and gets it back after a reconnect")
{
    AddressPool pool(prefix("172.16.128.0/17"), 31);
    const auto first = pool.acquire("fqdn:s1.branch.example.net");
    REQUIRE(first);
    CHECK(pool.acquire("fqdn:s1.branch.example.net") == first);
    CHECK(pool.held("fqdn:s1.branch.example.net") == first);
    pool.release("fqdn:s1.branch.example.net");
    CHECK_FALSE(pool.held("fqdn:s1.branch.example.net"));
    for (int i = 0; i < 1000; ++i)
        REQUIRE(pool.acquire("fqdn:other" + std::to_string(i)));
    CHECK(pool.acquire("fqdn:s1.branch.example.net") == first);
}

TEST_CASE("The same key gets the same block in a new pool (a restarted hub)")
{
    AddressPool one(prefix("172.16.128.0/17"), 30);
    AddressPool two(prefix("172.16.128.0/17"), 30);
    for (const char* key : {"fqdn:a.example", "fqdn:b.example", "dn:CN=branch 7"})
        CHECK(one.acquire(key) == two.acquire(key));
}

TEST_CASE("A released block goes to another key only when no never-used block is left")
{
    AddressPool pool(prefix("10.0.0.0/30"), 32);
    const auto a = pool.acquire("a");
    REQUIRE(a);
    pool.release("a");
    for (const char* key : {"b", "c", "d"})
        CHECK(pool.acquire(key) != a);
    CHECK(pool.acquire("e") == a);   // the last free one, a's old block
    pool.release("e");
    CHECK(pool.acquire("a") == a);   // free again, so a gets it back
}

TEST_CASE("Blocks and addresses are computed in IPv6 too, past 64 bits")
{
    AddressPool pool(prefix("2001:db8::/32"), 127);
    CHECK(pool.capacity() == AddressPool::max_blocks);
    const auto block = pool.acquire("fqdn:v6.example");
    REQUIRE(block);
    CHECK(prefix("2001:db8::/32").contains(block->address()));
    CHECK(AddressPool::address_in(prefix("2001:db8::fffe/127"), 1).to_string() == "2001:db8::ffff");
    CHECK(AddressPool::address_in(prefix("192.0.2.252/30"), 2).to_string() == "192.0.2.254");
    CHECK(AddressPool::address_in(prefix("10.0.0.255/32"), 1).to_string() == "10.0.1.0");
    AddressPool wide(prefix("2001:db8::/48"), 64);
    const auto net64 = wide.acquire("fqdn:branch");
    REQUIRE(net64);
    CHECK(net64->length() == 64);
    CHECK(prefix("2001:db8::/48").contains(net64->address()));
}

TEST_CASE("Blocks that do not fit the pool are refused")
{
    CHECK_THROWS_AS(AddressPool(prefix("10.0.0.0/24"), 16), std::invalid_argument);
    CHECK_THROWS_AS(AddressPool(prefix("10.0.0.0/24"), 33), std::invalid_argument);
}
