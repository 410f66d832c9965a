// parse_route_deletions on hand-built rtnetlink messages: what tells a
// route's owner apart (protocol, table, type, metric, interfaces) survives
// the parse, and other or truncated messages are skipped.

#include "routing/route_monitor.hpp"

#include <doctest/doctest.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <vector>

using namespace mesh::routing;

namespace {

struct Message {
    std::vector<std::uint8_t> bytes;

    Message(std::uint16_t type, const rtmsg& header) : bytes(NLMSG_HDRLEN)
    {
        append(&header, sizeof header);
        set_type(type);
    }
    void set_type(std::uint16_t type)
    {
        nlmsghdr header{};
        header.nlmsg_len = static_cast<std::uint32_t>(bytes.size());
        header.nlmsg_type = type;
        std::memcpy(bytes.data(), &header, sizeof header);
    }
    void append(const void* data, std::size_t size)
    {
        const auto* p = static_cast<const std::uint8_t*>(data);
        bytes.insert(bytes.end(), p, p + size);
        bytes.resize(NLMSG_ALIGN(bytes.size()));
    }
    void attribute(std::uint16_t type, const void* data, std::size_t size)
    {
        rtattr header{static_cast<unsigned short>(RTA_LENGTH(size)), type};
        std::vector<std::uint8_t> all(RTA_LENGTH(size));
        std::memcpy(all.data(), &header, sizeof header);
        std::memcpy(all.data() + RTA_LENGTH(0), data, size);
        append(all.data(), all.size());
        set_type(type_);
    }
    std::uint16_t type_ = RTM_DELROUTE;
};

rtmsg route_header(std::uint8_t family, std::uint8_t length, std::uint8_t type)
{
    rtmsg header{};
    header.rtm_family = family;
    header.rtm_dst_len = length;
    header.rtm_table = RT_TABLE_MAIN;
    header.rtm_protocol = 250;
    header.rtm_type = type;
    return header;
}

} // namespace

TEST_CASE("route monitor: an IPv4 blackhole deletion and a multipath one in one datagram")
{
    Message blackhole(RTM_DELROUTE, route_header(AF_INET, 24, RTN_BLACKHOLE));
    const std::uint8_t destination[4] = {10, 2, 0, 0};
    const std::uint32_t metric = 2147483647;
    blackhole.attribute(RTA_DST, destination, sizeof destination);
    blackhole.attribute(RTA_PRIORITY, &metric, sizeof metric);

    Message multipath(RTM_DELROUTE, route_header(AF_INET, 24, RTN_UNICAST));
    multipath.attribute(RTA_DST, destination, sizeof destination);
    std::vector<std::uint8_t> nexthops;
    for (const int ifindex : {7, 9}) {
        rtnexthop nexthop{};
        nexthop.rtnh_len = sizeof nexthop;
        nexthop.rtnh_ifindex = ifindex;
        const auto* p = reinterpret_cast<const std::uint8_t*>(&nexthop);
        nexthops.insert(nexthops.end(), p, p + sizeof nexthop);
    }
    multipath.attribute(RTA_MULTIPATH, nexthops.data(), nexthops.size());

    std::vector<std::uint8_t> datagram = blackhole.bytes;
    datagram.insert(datagram.end(), multipath.bytes.begin(), multipath.bytes.end());
    const auto deletions = parse_route_deletions(datagram);
    REQUIRE(deletions.size() == 2);
    CHECK(deletions[0].prefix.to_string() == "10.2.0.0/24");
    CHECK(deletions[0].blackhole);
    CHECK(deletions[0].metric == metric);
    CHECK(deletions[0].protocol == 250);
    CHECK(deletions[0].table == RT_TABLE_MAIN);
    CHECK(deletions[0].ifindexes.empty());
    CHECK_FALSE(deletions[1].blackhole);
    CHECK(deletions[1].metric == 0);
    CHECK(deletions[1].ifindexes == std::vector<int>{7, 9});
}

TEST_CASE("route monitor: an IPv6 deletion with RTA_OIF and RTA_TABLE")
{
    Message route(RTM_DELROUTE, route_header(AF_INET6, 48, RTN_UNICAST));
    const std::uint8_t destination[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 2};
    const std::uint32_t oif = 5, table = 254, metric = 10;
    route.attribute(RTA_DST, destination, sizeof destination);
    route.attribute(RTA_OIF, &oif, sizeof oif);
    route.attribute(RTA_TABLE, &table, sizeof table);
    route.attribute(RTA_PRIORITY, &metric, sizeof metric);
    const auto deletions = parse_route_deletions(route.bytes);
    REQUIRE(deletions.size() == 1);
    CHECK(deletions[0].prefix.to_string() == "2001:db8:2::/48");
    CHECK(deletions[0].ifindexes == std::vector<int>{5});
    CHECK(deletions[0].metric == 10);
}

TEST_CASE("route monitor: new routes, a truncated message and a wrong-sized RTA_DST are skipped")
{
    const std::uint8_t destination[4] = {10, 2, 0, 0};
    Message added(RTM_NEWROUTE, route_header(AF_INET, 24, RTN_UNICAST));
    added.type_ = RTM_NEWROUTE;
    added.attribute(RTA_DST, destination, sizeof destination);
    CHECK(parse_route_deletions(added.bytes).empty());

    Message bad(RTM_DELROUTE, route_header(AF_INET, 24, RTN_UNICAST));
    bad.attribute(RTA_DST, destination, 3);
    CHECK(parse_route_deletions(bad.bytes).empty());

    Message whole(RTM_DELROUTE, route_header(AF_INET, 24, RTN_UNICAST));
    whole.attribute(RTA_DST, destination, sizeof destination);
    auto truncated = whole.bytes;
    truncated.resize(truncated.size() - 2);
    CHECK(parse_route_deletions(truncated).empty());
    CHECK(parse_route_deletions(whole.bytes).size() == 1);
}
