#include "net/ip_address.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>

using namespace mesh::net;

TEST_CASE("Addresses parse from dotted quads and RFC 5952 text and print back the same")
{
    for (const char* text : {"192.0.2.1", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::", "fe80::1:2"}) {
        const auto address = IpAddress::parse(text);
        REQUIRE(address);
        CHECK(address->to_string() == text);
    }
    CHECK(IpAddress::parse("192.0.2.1")->is_v4());
    CHECK_FALSE(IpAddress::parse("2001:db8::1")->is_v4());
    CHECK(IpAddress::parse("0.0.0.0")->is_unspecified());
}

TEST_CASE("Text that is no address is refused")
{
    for (const char* text : {"", "192.0.2", "192.0.2.256", "192.0.2.1/24", " 192.0.2.1", "host.example", "2001:db8:::1",
                             "1.2.3.4.5"})
        CHECK_FALSE(IpAddress::parse(text));
}

TEST_CASE("Prefixes contain the addresses under their length; a bare address is a host prefix")
{
    const auto prefix = IpPrefix::parse("10.1.0.0/24");
    REQUIRE(prefix);
    CHECK(prefix->contains(*IpAddress::parse("10.1.0.77")));
    CHECK_FALSE(prefix->contains(*IpAddress::parse("10.1.1.1")));
    CHECK_FALSE(prefix->contains(*IpAddress::parse("::ffff:10.1.0.1")));
    CHECK(IpPrefix::parse("0.0.0.0/0")->contains(*IpAddress::parse("203.0.113.9")));
    CHECK(IpPrefix::parse("192.0.2.1")->length() == 32);
    CHECK(IpPrefix::parse("2001:db8::/32")->contains(*IpAddress::parse("2001:db8:ffff::1")));
    CHECK_FALSE(IpPrefix::parse("10.0.0.0/33"));
    CHECK_FALSE(IpPrefix::parse("2001:db8::/129"));
}

TEST_CASE("Endpoints go to a socket address and back unchanged")
{
    for (const Endpoint endpoint : {Endpoint{*IpAddress::parse("192.0.2.1"), 4500},
                                    Endpoint{*IpAddress::parse("2001:db8::7"), 500}}) {
        socklen_t length = 0;
        const auto storage = endpoint.to_sockaddr(length);
        const auto back = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&storage), length);
        REQUIRE(back);
        CHECK(*back == endpoint);
    }
    sockaddr_storage unix_family{};
    unix_family.ss_family = AF_UNIX;
    CHECK_FALSE(Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&unix_family), sizeof unix_family));
}
