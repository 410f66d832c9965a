// The NAT-T port's SO_REUSEPORT group on loopback: the kernel runs the
// steering program on every datagram, so these check what the daemon gets.

#include "net/byte_order.hpp"
#include "net/file_descriptor.hpp"
#include "tunnel/packet_pump.hpp"
#include "tunnel/spi_steering.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <vector>

using namespace mesh::tunnel;
namespace net = mesh::net;

namespace {

struct Sender {
    explicit Sender(const UdpSocket& to_socket) : fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0))
    {
        to = to_socket.local().to_sockaddr(length);
        const int buffer = 4 << 20;
        ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    }
    void send(std::span<const std::uint8_t> bytes) const
    {
        // Loopback queues the datagram on the receiver at once; a full
        // sender buffer only waits.
        while (::sendto(fd.get(), bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), length) < 0)
            ::poll(nullptr, 0, 1);
    }
    net::FileDescriptor fd;
    sockaddr_storage to{};
    socklen_t length = 0;
};

std::vector<std::uint8_t> esp_with_spi(std::uint32_t spi)
{
    std::vector<std::uint8_t> esp(32, 0x5a);
    net::store_be32(esp.data(), spi);
    return esp;
}

// What one socket has queued, datagram by datagram.
std::vector<std::vector<std::uint8_t>> drain(const UdpSocket& socket, int quiet_ms = 200)
{
    std::vector<std::vector<std::uint8_t>> datagrams;
    std::array<std::uint8_t, 2048> buffer;
    for (;;) {
        pollfd p{socket.fd(), POLLIN, 0};
        if (::poll(&p, 1, quiet_ms) <= 0)
            return datagrams;
        const auto n = ::recv(socket.fd(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n >= 0)
            datagrams.emplace_back(buffer.begin(), buffer.begin() + n);
    }
}

} // namespace

TEST_CASE("the steering program sends keepalives, IKE and runts to the control socket and ESP to worker SPI % N")
{
    constexpr std::size_t workers = 3;
    const auto sockets = bind_steered({*net::IpAddress::parse("127.0.0.1"), 0}, workers);
    REQUIRE(sockets.workers.size() == workers);
    for (const auto& worker : sockets.workers)
        CHECK(worker->local() == sockets.control->local());
    const Sender sender(*sockets.control);
    sender.send(std::array<std::uint8_t, 1>{0xff});                        // NAT keepalive
    sender.send(std::array<std::uint8_t, 12>{0, 0, 0, 0, 1, 2, 3, 4});     // IKE behind the non-ESP marker
    sender.send(std::array<std::uint8_t, 3>{1, 2, 3});                     // too short for an SPI
    std::vector<std::uint32_t> spis;
    for (std::uint32_t spi = 0x100; spi < 0x110; ++spi)
        spis.push_back(spi);
    spis.push_back(0xffffffff);
    for (const auto spi : spis)
        sender.send(esp_with_spi(spi));

    const auto control = drain(*sockets.control);
    REQUIRE(control.size() == 3);
    CHECK(control[0].size() == 1);
    CHECK(control[1].size() == 12);
    CHECK(control[2].size() == 3);
    for (std::size_t w = 0; w < workers; ++w) {
        std::vector<std::uint32_t> expected, got;
        for (const auto spi : spis)
            if (steered_worker(spi, workers) == w)
                expected.push_back(spi);
        for (const auto& datagram : drain(*sockets.workers[w]))
            got.push_back(net::load_be32(datagram.data()));
        INFO("worker ", w);
        CHECK(got == expected);
    }
}

// Today's cause of IKE retransmits at 200 spokes was a 16-slot ring between
// the data plane and the control thread. Now a burst waits in the control
// socket's own buffer: every message is read or, past the buffer, counted by
// the kernel, while ESP in the same burst still reaches the workers.
TEST_CASE("an IKE burst reaches the control socket whole or as counted kernel drops, none lost between threads")
{
    constexpr std::size_t workers = 2;
    auto sockets = bind_steered({*net::IpAddress::parse("127.0.0.1"), 0}, workers);
    // A small buffer, so that the burst overflows it and the kernel counts.
    const int small = 64 << 10;
    ::setsockopt(sockets.control->fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    SaTable table;
    PacketPump pump(table, workers);
    for (std::size_t w = 0; w < workers; ++w)
        pump.watch_udp(w, sockets.workers[w]->fd());
    pump.start();

    const Sender sender(*sockets.control);
    constexpr std::uint32_t burst = 5000;
    std::array<std::uint8_t, 200> ike{};   // an IKE_SA_INIT-sized message behind the marker
    std::array<std::uint32_t, workers> esp_sent{};
    for (std::uint32_t i = 0; i < burst; ++i) {
        net::store_be32(ike.data() + 4, i);
        sender.send(ike);
        if (i % 50 == 0) {
            const std::uint32_t spi = 0x1000 + i / 50;   // no SA: each is an unknown-SPI drop at its worker
            sender.send(esp_with_spi(spi));
            ++esp_sent[steered_worker(spi, workers)];
        }
    }
    const auto control = drain(*sockets.control);
    const auto dropped = kernel_drops(sockets.control->fd());
    INFO("read ", control.size(), ", kernel drops ", dropped, " of ", burst);
    CHECK(control.size() + dropped == burst);
    CHECK(dropped > 0);
    for (const auto& datagram : control)
        CHECK(net::load_be32(datagram.data()) == 0);
    auto esp_accounted = [&](std::size_t w) {
        return pump.counters(w).unknown_spi_drops.get() + kernel_drops(sockets.workers[w]->fd()) == esp_sent[w];
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((!esp_accounted(0) || !esp_accounted(1)) && std::chrono::steady_clock::now() < deadline)
        ::poll(nullptr, 0, 5);
    for (std::size_t w = 0; w < workers; ++w) {
        INFO("worker ", w, ": ESP sent ", esp_sent[w], ", unknown-SPI drops ", pump.counters(w).unknown_spi_drops.get());
        CHECK(esp_sent[w] > 0);
        CHECK(esp_accounted(w));
        CHECK(pump.counters(w).ike_misrouted_drops.get() == 0);
    }
}
