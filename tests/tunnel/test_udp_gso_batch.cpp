// The send batch's runs follow Linux's UDP_SEGMENT rules, and what it sends
// arrives over loopback as the datagrams that were sealed, in order.

#include "tunnel/udp_gso_batch.hpp"
#include "tunnel/udp_socket.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <utility>
#include <system_error>
#include <vector>

using namespace mesh::tunnel;
namespace net = mesh::net;

namespace {

// ESP-in-UDP of one 64 KiB TSO super-packet cut for a 1434-byte tunnel MTU:
// 45 datagrams of 1489 bytes (inner packet, GRE, ESP AES-GCM) but the last.
constexpr std::size_t tso_datagram = 1489;
constexpr std::size_t tso_datagrams = 46;
constexpr std::size_t tso_last = 812;

void add(UdpGsoBatch& batch, std::size_t bytes, std::uint8_t fill, std::uint8_t dscp = 0)
{
    const auto room = batch.prepare(bytes);
    REQUIRE(room.size() == bytes);
    std::memset(room.data(), fill, bytes);
    batch.commit(bytes, dscp);
}

// Asks the receiver to report each datagram's traffic class byte.
void receive_traffic_class(const UdpSocket& receiver, bool ipv6)
{
    const int on = 1;
    REQUIRE(::setsockopt(receiver.fd(), ipv6 ? IPPROTO_IPV6 : IPPROTO_IP, ipv6 ? IPV6_RECVTCLASS : IP_RECVTOS, &on,
                         sizeof on) == 0);
}

struct Received {
    ssize_t bytes = -1;
    std::uint8_t first = 0;
    int traffic_class = -1;   // the outer IP header's DSCP and ECN byte
};

Received receive(const UdpSocket& receiver, std::vector<std::uint8_t>& buffer)
{
    pollfd readable{receiver.fd(), POLLIN, 0};
    REQUIRE(::poll(&readable, 1, 1000) == 1);
    iovec data{buffer.data(), buffer.size()};
    alignas(cmsghdr) std::array<std::uint8_t, 64> control{};
    msghdr header{};
    header.msg_iov = &data;
    header.msg_iovlen = 1;
    header.msg_control = control.data();
    header.msg_controllen = control.size();
    Received received;
    received.bytes = ::recvmsg(receiver.fd(), &header, 0);
    REQUIRE(received.bytes > 0);
    received.first = buffer[0];
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&header); cmsg != nullptr; cmsg = CMSG_NXTHDR(&header, cmsg)) {
        if (cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_TOS) {
            received.traffic_class = *CMSG_DATA(cmsg);
        } else if (cmsg->cmsg_level == IPPROTO_IPV6 && cmsg->cmsg_type == IPV6_TCLASS) {
            int value = 0;
            std::memcpy(&value, CMSG_DATA(cmsg), sizeof value);
            received.traffic_class = value;
        }
    }
    return received;
}

} // namespace

TEST_CASE("a 64 KiB TSO super-packet leaves in two GSO sends: 65507 bytes at most in one")
{
    UdpGsoBatch batch;
    for (std::size_t i = 0; i + 1 < tso_datagrams; ++i)
        add(batch, tso_datagram, 1);
    add(batch, tso_last, 2);
    // 43 * 1489 = 64027 fits, 44 * 1489 = 65516 does not.
    CHECK(batch.messages() == 2);
}

TEST_CASE("a run holds at most 64 datagrams")
{
    UdpGsoBatch batch;
    for (int i = 0; i < 130; ++i)
        add(batch, 60, 1);
    CHECK(batch.messages() == 3);   // 64 + 64 + 2
}

TEST_CASE("a shorter datagram ends its run and a longer one starts the next")
{
    UdpGsoBatch batch;
    add(batch, 100, 1);
    add(batch, 100, 1);
    add(batch, 50, 1);    // joins as the run's last
    CHECK(batch.messages() == 1);
    add(batch, 50, 1);    // may not follow a shorter one
    CHECK(batch.messages() == 2);
    add(batch, 80, 1);    // longer than the run's size
    CHECK(batch.messages() == 3);
}

TEST_CASE("a closed message takes no more datagrams: a priority datagram goes alone")
{
    UdpGsoBatch batch;
    add(batch, 1489, 1);
    add(batch, 1489, 1);
    batch.close_message();
    add(batch, 120, 2);    // would have joined the bulk run as its last
    batch.close_message();
    add(batch, 120, 3);    // would have followed it in a run of equal datagrams
    add(batch, 120, 3);
    CHECK(batch.messages() == 3);
    UdpGsoBatch empty;
    empty.close_message();   // nothing to close
    add(empty, 100, 1);
    add(empty, 100, 1);
    CHECK(empty.messages() == 1);
}

TEST_CASE("without segmentation every datagram is a message of its own")
{
    UdpGsoBatch batch;
    batch.set_segmentation(false);
    for (int i = 0; i < 5; ++i)
        add(batch, 100, 1);
    CHECK(batch.messages() == 5);
}

TEST_CASE("the batch says when it is full")
{
    UdpGsoBatch batch;
    batch.set_segmentation(false);
    for (std::size_t i = 0; i < UdpGsoBatch::max_messages; ++i)
        add(batch, 10, 1);
    CHECK(batch.prepare(10).empty());
    UdpGsoBatch big;
    while (!big.prepare(65000).empty())
        big.commit(65000);
    CHECK(big.messages() == UdpGsoBatch::arena_bytes / 65000);
}

TEST_CASE("GSO sends arrive as the datagrams they were made of, in order")
{
    const net::Endpoint loopback{*net::IpAddress::parse("127.0.0.1"), 0};
    UdpSocket sender(loopback);
    UdpSocket receiver(loopback);
    socklen_t to_length = 0;
    const auto to = receiver.local().to_sockaddr(to_length);

    UdpGsoBatch batch;
    std::vector<std::size_t> sizes(tso_datagrams - 1, tso_datagram);
    sizes.push_back(tso_last);
    sizes.insert(sizes.end(), {60, 60, 60});   // pure ACKs of another flow
    for (std::size_t i = 0; i < sizes.size(); ++i)
        add(batch, sizes[i], static_cast<std::uint8_t>(i));
    REQUIRE(batch.messages() == 3);
    const auto result = batch.send(sender.fd(), to, to_length, 100);
    CHECK(result.refused == 0);
    CHECK_FALSE(result.gso_refused);
    CHECK(batch.empty());

    std::vector<std::uint8_t> buffer(70000);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        CAPTURE(i);
        const auto received = receive(receiver, buffer);
        REQUIRE(received.bytes == static_cast<ssize_t>(sizes[i]));
        CHECK(received.first == static_cast<std::uint8_t>(i));
        CHECK(buffer[static_cast<std::size_t>(received.bytes) - 1] == static_cast<std::uint8_t>(i));
    }
}

TEST_CASE("a datagram of another DSCP than the run's starts the next message")
{
    UdpGsoBatch batch;
    add(batch, 100, 0);
    add(batch, 100, 1);
    add(batch, 100, 2, 46);
    add(batch, 100, 3, 46);
    add(batch, 100, 4);
    CHECK(batch.messages() == 3);
}

TEST_CASE("each datagram leaves with its inner packet's DSCP in the outer header (RFC 4301 section 5.1.2.1)")
{
    for (const char* address : {"127.0.0.1", "::1"}) {
        CAPTURE(address);
        const bool ipv6 = address[0] == ':';
        const net::Endpoint loopback{*net::IpAddress::parse(address), 0};
        std::optional<UdpSocket> sender;
        std::optional<UdpSocket> receiver;
        try {
            sender.emplace(loopback);
            receiver.emplace(loopback);
        } catch (const std::system_error& error) {
            REQUIRE_MESSAGE(ipv6, error.what());
            MESSAGE("no IPv6 loopback here: ", error.what());
            continue;
        }
        receive_traffic_class(*receiver, ipv6);
        socklen_t to_length = 0;
        const auto to = receiver->local().to_sockaddr(to_length);

        // A GSO run of network control (CS6), pure ACKs at DSCP 0, and one
        // expedited-forwarding packet (EF, 46); then the same batch again in
        // another order, its messages' control rooms reused.
        UdpGsoBatch batch;
        std::vector<std::pair<std::size_t, std::uint8_t>> datagrams{
            {1000, 48}, {1000, 48}, {1000, 48}, {60, 0}, {60, 0}, {60, 46}};
        std::vector<std::uint8_t> buffer(2000);
        for (int round = 0; round < 2; ++round) {
            CAPTURE(round);
            for (std::size_t i = 0; i < datagrams.size(); ++i)
                add(batch, datagrams[i].first, static_cast<std::uint8_t>(i), datagrams[i].second);
            REQUIRE(batch.messages() == 3);
            const auto result = batch.send(sender->fd(), to, to_length, 100);
            CHECK(result.refused == 0);
            CHECK_FALSE(result.gso_refused);
            for (std::size_t i = 0; i < datagrams.size(); ++i) {
                CAPTURE(i);
                const auto received = receive(*receiver, buffer);
                CHECK(received.bytes == static_cast<ssize_t>(datagrams[i].first));
                CHECK(received.first == i);
                CHECK(received.traffic_class == datagrams[i].second << 2);
            }
            std::reverse(datagrams.begin(), datagrams.end());
        }
    }
}

TEST_CASE("only UDP sockets may segment")
{
    UdpSocket udp(net::Endpoint{*net::IpAddress::parse("127.0.0.1"), 0});
    CHECK(is_udp_socket(udp.fd()));
    int pair[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) == 0);
    CHECK_FALSE(is_udp_socket(pair[0]));
    ::close(pair[0]);
    ::close(pair[1]);
}

TEST_CASE("when the kernel refuses GSO the datagrams still go, one by one, and segmentation stays off")
{
    const net::Endpoint loopback{*net::IpAddress::parse("127.0.0.1"), 0};
    UdpSocket sender(loopback);
    UdpSocket receiver(loopback);
    // A socket that sends without UDP checksums may not segment (EINVAL).
    const int no_check = 1;
    REQUIRE(::setsockopt(sender.fd(), SOL_SOCKET, SO_NO_CHECK, &no_check, sizeof no_check) == 0);
    socklen_t to_length = 0;
    const auto to = receiver.local().to_sockaddr(to_length);

    receive_traffic_class(receiver, false);

    UdpGsoBatch batch;
    for (std::uint8_t i = 0; i < 5; ++i)
        add(batch, 1000, i, 48);
    REQUIRE(batch.messages() == 1);
    const auto result = batch.send(sender.fd(), to, to_length, 100);
    CHECK(result.gso_refused);
    CHECK(result.refused == 0);
    CHECK_FALSE(batch.segmentation());
    std::vector<std::uint8_t> buffer(2000);
    for (std::uint8_t i = 0; i < 5; ++i) {
        const auto received = receive(receiver, buffer);
        CHECK(received.bytes == 1000);
        CHECK(received.first == i);
        CHECK(received.traffic_class == 48 << 2);   // one by one, still with their DSCP
    }
    add(batch, 1000, 9);
    add(batch, 1000, 9);
    CHECK(batch.messages() == 2);
}
