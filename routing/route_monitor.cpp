#include "routing/route_monitor.hpp"

#include "net/os_error.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <system_error>

namespace mesh::routing {

namespace {
// Notifications are small; 1 MiB holds a burst of a few thousand.
constexpr int receive_buffer_bytes = 1 << 20;

template <class T>
T load(const std::uint8_t* p) noexcept
{
    T value;
    std::memcpy(&value, p, sizeof value);
    return value;
}

// The nexthops of RTA_MULTIPATH: a sequence of struct rtnexthop.
void add_multipath(std::span<const std::uint8_t> payload, std::vector<int>& ifindexes)
{
    while (payload.size() >= sizeof(rtnexthop)) {
        const auto nexthop = load<rtnexthop>(payload.data());
        if (nexthop.rtnh_len < sizeof(rtnexthop) || nexthop.rtnh_len > payload.size())
            return;
        ifindexes.push_back(nexthop.rtnh_ifindex);
        payload = payload.subspan(std::min<std::size_t>(RTNH_ALIGN(nexthop.rtnh_len), payload.size()));
    }
}

std::optional<RouteDeletion> parse_deletion(std::span<const std::uint8_t> body)
{
    if (body.size() < sizeof(rtmsg))
        return std::nullopt;
    const auto header = load<rtmsg>(body.data());
    if (header.rtm_family != AF_INET && header.rtm_family != AF_INET6)
        return std::nullopt;
    RouteDeletion deletion;
    deletion.table = header.rtm_table;
    deletion.protocol = header.rtm_protocol;
    deletion.blackhole = header.rtm_type == RTN_BLACKHOLE;
    const auto family = header.rtm_family == AF_INET ? net::IpAddress::Family::v4 : net::IpAddress::Family::v6;
    const std::size_t address_bytes = header.rtm_family == AF_INET ? 4 : 16;
    std::array<std::uint8_t, 16> destination{};
    auto attributes = body.subspan(std::min<std::size_t>(NLMSG_ALIGN(sizeof(rtmsg)), body.size()));
    while (attributes.size() >= sizeof(rtattr)) {
        const auto attribute = load<rtattr>(attributes.data());
        if (attribute.rta_len < sizeof(rtattr) || attribute.rta_len > attributes.size())
            return std::nullopt;
        const auto payload = attributes.subspan(RTA_LENGTH(0), attribute.rta_len - RTA_LENGTH(0));
        switch (attribute.rta_type) {
        case RTA_DST:
            if (payload.size() != address_bytes)
                return std::nullopt;
            std::memcpy(destination.data(), payload.data(), address_bytes);
            break;
        case RTA_TABLE:
            if (payload.size() >= 4)
                deletion.table = load<std::uint32_t>(payload.data());
            break;
        case RTA_PRIORITY:
            if (payload.size() >= 4)
                deletion.metric = load<std::uint32_t>(payload.data());
            break;
        case RTA_OIF:
            if (payload.size() >= 4)
                deletion.ifindexes.push_back(load<std::int32_t>(payload.data()));
            break;
        case RTA_MULTIPATH:
            add_multipath(payload, deletion.ifindexes);
            break;
        default:
            break;
        }
        attributes = attributes.subspan(std::min<std::size_t>(RTA_ALIGN(attribute.rta_len), attributes.size()));
    }
    deletion.prefix = {net::IpAddress::from_bytes(family, destination.data()), header.rtm_dst_len};
    return deletion;
}
} // namespace

std::vector<RouteDeletion> parse_route_deletions(std::span<const std::uint8_t> datagram)
{
    std::vector<RouteDeletion> deletions;
    while (datagram.size() >= sizeof(nlmsghdr)) {
        const auto header = load<nlmsghdr>(datagram.data());
        if (header.nlmsg_len < sizeof(nlmsghdr) || header.nlmsg_len > datagram.size())
            break;
        if (header.nlmsg_type == RTM_DELROUTE)
            if (auto deletion = parse_deletion(datagram.subspan(NLMSG_HDRLEN, header.nlmsg_len - NLMSG_HDRLEN)))
                deletions.push_back(std::move(*deletion));
        datagram = datagram.subspan(std::min<std::size_t>(NLMSG_ALIGN(header.nlmsg_len), datagram.size()));
    }
    return deletions;
}

RouteMonitor::RouteMonitor()
    : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE))
{
    if (!fd_)
        net::throw_os_error("rtnetlink socket");
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
    sockaddr_nl address{};
    address.nl_family = AF_NETLINK;
    address.nl_groups = RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
    if (::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) < 0)
        throw std::system_error(errno, std::generic_category(), "joining the rtnetlink route groups");
}

RouteMonitor::Batch RouteMonitor::read()
{
    Batch batch;
    std::array<std::uint8_t, 32768> buffer;
    for (;;) {
        const auto n = ::recv(fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == ENOBUFS) {
                batch.overflowed = true;
                continue;
            }
            if (errno == EINTR)
                continue;
            return batch;
        }
        for (auto& deletion : parse_route_deletions({buffer.data(), static_cast<std::size_t>(n)}))
            batch.deleted.push_back(std::move(deletion));
    }
}

} // namespace mesh::routing
