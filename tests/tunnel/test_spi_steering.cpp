// The NAT-T port's SO_REUSEPORT group on loopback: the kernel runs the
// steering program on every datagram, so these check what the daemon gets.

#include "net/byte_order.hpp"
#include "net/file_descriptor.hpp"
#include "tunnel/esp_sa.hpp"
#include "tunnel/packet_pump.hpp"
#include "tunnel/spi_steering.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <utility>
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

std::vector<std::uint8_t> esp_with_spi(std::uint32_t spi, std::size_t bytes = 32)
{
    std::vector<std::uint8_t> esp(bytes, 0x5a);
    net::store_be32(esp.data(), spi);
    return esp;
}

// What one socket has queued, datagram by datagram.
std::vector<std::vector<std::uint8_t>> drain(const UdpSocket& socket, int quiet_ms = 200)
{
    std::vector<std::vector<std::uint8_t>> datagrams;
    std::array<std::uint8_t, 4096> buffer;
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

TEST_CASE("the steering program sends keepalives, IKE and runts to the control socket, small ESP to worker SPI % N's "
          "priority socket and other ESP to its bulk socket")
{
    constexpr std::size_t workers = 3;
    const auto sockets = bind_steered({*net::IpAddress::parse("127.0.0.1"), 0}, workers);
    REQUIRE(sockets.workers.size() == workers);
    REQUIRE(sockets.priority.size() == workers);
    for (const auto& worker : sockets.workers)
        CHECK(worker->local() == sockets.control->local());
    for (const auto& priority : sockets.priority)
        CHECK(priority->local() == sockets.control->local());
    const Sender sender(*sockets.control);
    sender.send(std::array<std::uint8_t, 1>{0xff});                        // NAT keepalive
    sender.send(std::array<std::uint8_t, 12>{0, 0, 0, 0, 1, 2, 3, 4});     // IKE behind the non-ESP marker
    sender.send(std::array<std::uint8_t, 3>{1, 2, 3});                     // too short for an SPI
    std::vector<std::uint8_t> big_ike(1200, 0x11);                         // IKE_AUTH-sized: still IKE
    std::fill_n(big_ike.begin(), 4, std::uint8_t{0});
    sender.send(big_ike);
    // Lengths around the bound, a TSO-sized datagram, and an ESP header alone.
    const std::array<std::size_t, 6> lengths{8, 32, priority_esp_bytes - 1, priority_esp_bytes, priority_esp_bytes + 1, 1500};
    std::vector<std::pair<std::uint32_t, std::size_t>> sent;
    for (std::uint32_t spi = 0x100; spi < 0x110; ++spi)
        sent.emplace_back(spi, lengths[spi % lengths.size()]);
    for (const auto length : lengths)
        sent.emplace_back(0xffffffff, length);
    for (const auto& [spi, length] : sent)
        sender.send(esp_with_spi(spi, length));

    const auto control = drain(*sockets.control);
    REQUIRE(control.size() == 4);
    CHECK(control[0].size() == 1);
    CHECK(control[1].size() == 12);
    CHECK(control[2].size() == 3);
    CHECK(control[3].size() == big_ike.size());
    for (std::size_t w = 0; w < workers; ++w) {
        std::vector<std::pair<std::uint32_t, std::size_t>> bulk, priority, got_bulk, got_priority;
        for (const auto& [spi, length] : sent)
            if (steered_worker(spi, workers) == w)
                (length <= priority_esp_bytes ? priority : bulk).emplace_back(spi, length);
        for (const auto& datagram : drain(*sockets.workers[w]))
            got_bulk.emplace_back(net::load_be32(datagram.data()), datagram.size());
        for (const auto& datagram : drain(*sockets.priority[w]))
            got_priority.emplace_back(net::load_be32(datagram.data()), datagram.size());
        INFO("worker ", w);
        CHECK(!bulk.empty());
        CHECK(!priority.empty());
        CHECK(got_bulk == bulk);
        CHECK(got_priority == priority);
    }
}

// The bound holds the longest ESP that carries a small packet: whatever the
// transform and its padding, a small packet in the longest GRE header fits,
// with less than a cipher block to spare.
TEST_CASE("a small inner packet fits priority_esp_bytes in every ESP transform, and the longest needs nearly all of it")
{
    std::size_t longest = 0;
    for (const auto cipher : {EspCipher::aes128_gcm, EspCipher::aes256_gcm, EspCipher::chacha20_poly1305,
                              EspCipher::aes128_cbc, EspCipher::aes256_cbc}) {
        const auto& c = info(cipher);
        for (const auto integrity : {EspIntegrity::none, EspIntegrity::hmac_sha256_128, EspIntegrity::hmac_sha384_192,
                                     EspIntegrity::hmac_sha512_256}) {
            if (c.aead != (integrity == EspIntegrity::none))
                continue;
            SaParams params;
            params.cipher = cipher;
            params.integrity = integrity;
            params.cipher_key = Botan::secure_vector<std::uint8_t>(c.key_bytes, 1);
            params.integrity_key = Botan::secure_vector<std::uint8_t>(info(integrity).key_bytes, 2);
            const OutboundSa sa(params);
            for (std::size_t inner = 1; inner <= small_packet_bytes; ++inner) {
                const std::size_t payload = inner + mesh::gre::max_header_length;
                longest = std::max(longest, payload + sa.overhead(payload));
            }
        }
    }
    CHECK(longest <= priority_esp_bytes);
    CHECK(longest + 16 > priority_esp_bytes);
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
        pump.watch_udp(w, sockets.workers[w]->fd(), sockets.priority[w]->fd());
    CHECK(!pump.start());

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
        return pump.counters(w).unknown_spi_drops.get() + kernel_drops(sockets.workers[w]->fd()) +
                   kernel_drops(sockets.priority[w]->fd()) ==
               esp_sent[w];
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
