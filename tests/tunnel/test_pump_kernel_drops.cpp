// kernel_drops (SO_MEMINFO): datagrams the kernel dropped because the
// socket's receive buffer was full are counted, so that every datagram sent
// is accounted for, read by the pump or dropped (loopback UDP, no root).

#include "tunnel/packet_pump.hpp"
#include "tunnel/udp_socket.hpp"

#include <doctest/doctest.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <thread>

using namespace mesh::tunnel;
namespace net = mesh::net;

namespace {

template <class Condition>
bool wait_until(Condition condition)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

} // namespace

TEST_CASE("datagrams dropped on a full receive buffer are counted as the socket's kernel drops")
{
    SaTable table;
    PacketPump pump(table);
    UdpSocket socket(net::Endpoint{*net::IpAddress::parse("127.0.0.1"), 0});
    // The smallest buffer the kernel allows: a few datagrams fill it.
    const int small = 1;
    ::setsockopt(socket.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    pump.watch_udp(0, socket.fd());

    net::FileDescriptor sender(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    REQUIRE(sender);
    socklen_t length = 0;
    const auto to = socket.local().to_sockaddr(length);
    // ESP for an SPI nobody has: each one read is an unknown-SPI drop.
    const std::array<std::uint8_t, 16> esp{0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1};
    auto send_one = [&] {
        REQUIRE(::sendto(sender.get(), esp.data(), esp.size(), 0, reinterpret_cast<const sockaddr*>(&to), length) ==
                static_cast<ssize_t>(esp.size()));
    };
    constexpr std::uint64_t flood = 500;
    for (std::uint64_t i = 0; i < flood; ++i)
        send_one();   // the pump is not reading yet: most of them are dropped

    const auto& counters = pump.counters(0);
    CHECK(!pump.start());
    REQUIRE(wait_until([&] {
        int queued = 0;
        return counters.unknown_spi_drops.get() > 0 && ::ioctl(socket.fd(), SIOCINQ, &queued) == 0 && queued == 0;
    }));
    CHECK(wait_until([&] { return counters.unknown_spi_drops.get() + kernel_drops(socket.fd()) == flood; }));
    CHECK(kernel_drops(socket.fd()) > 0);
    CHECK(counters.unknown_spi_drops.get() < flood);
    MESSAGE("read ", counters.unknown_spi_drops.get(), ", kernel drops ", kernel_drops(socket.fd()));
    pump.stop();
}
