// TUNs against the real kernel. TunReaper: TUNs released at run time go in
// one batch and leave the others alone; the stop deletes every TUN of the
// daemon at once, but never an interface of another daemon that shares its
// group. The steering program: priority packets reach the second queue, and
// it decides as classify() does (a seeded sweep through BPF_PROG_TEST_RUN).
// Needs root: its own binary, labelled netns (tests/tunnel/CMakeLists.txt),
// exits 77 (a skip) without. The namespace belongs to one worker thread
// (unshare(CLONE_NEWNET) is per thread), so nothing outside sees these TUNs.

#include "net/byte_order.hpp"
#include "net/headers.hpp"
#include "net/link.hpp"
#include "tunnel/traffic_class.hpp"
#include "tunnel/tun_device.hpp"
#include "tunnel/tun_steering.hpp"
#include "tunnel/virtio_net_header.hpp"

#include <doctest/doctest.h>

#include <linux/bpf.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace mesh;

namespace {
void in_private_netns(const std::function<void()>& steps)
{
    if (::geteuid() != 0) {
        std::fputs("SKIP: needs root\n", stderr);
        std::exit(77);
    }
    std::exception_ptr failure;
    std::thread worker([&] {
        try {
            if (::unshare(CLONE_NEWNET) != 0)
                throw std::runtime_error("unshare(CLONE_NEWNET) failed");
            steps();
        } catch (...) {
            failure = std::current_exception();
        }
    });
    worker.join();
    if (failure)
        std::rethrow_exception(failure);
}

bool exists(const std::string& name)
{
    return ::if_nametoindex(name.c_str()) != 0;
}

// n TUNs "rt-0".. adopted by `reaper` and up, as the daemon makes them.
std::vector<std::shared_ptr<tunnel::TunDevice>> make_tuns(net::NetlinkSocket& nl, tunnel::TunReaper& reaper, int n)
{
    std::vector<std::shared_ptr<tunnel::TunDevice>> tuns;
    for (int i = 0; i < n; ++i) {
        tuns.push_back(std::make_shared<tunnel::TunDevice>("rt-" + std::to_string(i)));
        reaper.adopt(*tuns.back());
        net::set_link_up(nl, tuns.back()->ifindex(), true);
    }
    return tuns;
}
} // namespace

TEST_CASE("released TUNs go in one batch at reap(); the others stay; the stop deletes the rest")
{
    in_private_netns([] {
        net::NetlinkSocket nl;
        tunnel::TunReaper reaper(nl, 7);
        auto tuns = make_tuns(nl, reaper, 50);
        CHECK(net::link_group_members(nl, tunnel::tun_groups_live + 7).size() == 50);

        for (int i = 0; i < 20; ++i)
            CHECK(reaper.release(std::exchange(tuns[static_cast<std::size_t>(i)], nullptr)));
        std::erase(tuns, nullptr);
        CHECK(reaper.pending() == 20);
        CHECK(exists("rt-0"));                      // kept until reap()
        CHECK(reaper.reap() == 20);
        CHECK(reaper.pending() == 0);
        CHECK_FALSE(exists("rt-0"));
        CHECK_FALSE(exists("rt-19"));
        CHECK(exists("rt-20"));
        CHECK(reaper.reap() == 0);

        CHECK(reaper.release(tuns.back()));         // released, not yet reaped, at the stop
        tuns.pop_back();
        CHECK(reaper.reap_all(tuns) == 30);
        for (int i = 20; i < 50; ++i)
            CHECK_FALSE(exists("rt-" + std::to_string(i)));
    });
}

TEST_CASE("the stop leaves an interface of another daemon in its live group alone")
{
    in_private_netns([] {
        net::NetlinkSocket nl;
        tunnel::TunReaper reaper(nl, 9);
        const auto tuns = make_tuns(nl, reaper, 5);
        // Another daemon whose instance number is the same.
        tunnel::TunDevice other("other-0");
        net::set_link_group(nl, other.ifindex(), reaper.live_group());
        CHECK(reaper.reap_all(tuns) == 5);
        for (int i = 0; i < 5; ++i)
            CHECK_FALSE(exists("rt-" + std::to_string(i)));
        CHECK(exists("other-0"));
    });
}

TEST_CASE("the steering program puts CS6, CS7, small packets but pure TCP ACKs on the priority queue, the rest on queue 0")
{
    in_private_netns([] {
        net::NetlinkSocket nl;
        tunnel::TunDevice tun("st-0");
        REQUIRE(tun.priority_fd() >= 0);
        net::add_link_address(nl, tun.ifindex(), *net::IpPrefix::parse("10.77.0.1/24"));
        net::set_link_up(nl, tun.ifindex(), true);
        const net::FileDescriptor udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        // TCP segments as written: the kernel puts the IPv4 header in front.
        const net::FileDescriptor tcp(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP));
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(3784);
        to.sin_addr.s_addr = htonl(0x0a4d0002);   // 10.77.0.2, routed into the TUN
        constexpr std::uint8_t udp_datagram = 0;
        constexpr std::uint8_t ack = 0x10;
        constexpr std::uint8_t syn = 0x02;
        struct Case {
            int tos;
            std::uint8_t tcp_flags;     // udp_datagram: UDP
            std::size_t tcp_options;    // bytes of TCP options
            std::size_t payload;
            bool priority;
        };
        // 1000 bytes of UDP payload make a 1028-byte packet, 100 a 128-byte one.
        const Case cases[] = {{0, udp_datagram, 0, 1000, false},      {48 << 2, udp_datagram, 0, 1000, true},
                              {56 << 2, udp_datagram, 0, 1000, true}, {46 << 2, udp_datagram, 0, 1000, false},
                              {0, udp_datagram, 0, 100, true},        {(48 << 2) | 1, udp_datagram, 0, 1000, true},
                              {0, ack, 0, 0, false},                  {0, ack, 12, 0, false},
                              {48 << 2, ack, 12, 0, true},            {0, ack, 12, 10, true},
                              {0, syn, 4, 0, true}};
        std::vector<std::uint8_t> payload(1000, 0xa5), read(2048);
        for (const Case& c : cases) {
            CAPTURE(c.tos);
            CAPTURE(c.tcp_flags);
            CAPTURE(c.tcp_options);
            CAPTURE(c.payload);
            const int fd = c.tcp_flags == udp_datagram ? udp.get() : tcp.get();
            REQUIRE(::setsockopt(fd, IPPROTO_IP, IP_TOS, &c.tos, sizeof c.tos) == 0);
            std::vector<std::uint8_t> l4(payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(c.payload));
            if (c.tcp_flags != udp_datagram) {
                std::vector<std::uint8_t> header(net::tcp_min_header_bytes + c.tcp_options, 1);   // NOP options
                net::store_be16(&header[0], 40000);
                net::store_be16(&header[2], 179);
                header[12] = static_cast<std::uint8_t>(header.size() / 4 << 4);
                header[13] = c.tcp_flags;
                l4.insert(l4.begin(), header.begin(), header.end());
            }
            REQUIRE(::sendto(fd, l4.data(), l4.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
                    static_cast<ssize_t>(l4.size()));
            const std::size_t ip_bytes =
                net::ipv4_header_bytes + l4.size() + (c.tcp_flags == udp_datagram ? net::udp_header_bytes : 0);
            // Whether the queue holds our IPv4 packet; the kernel's own IPv6
            // packets (router solicitations, MLD) may come too.
            const auto holds = [&](int queue) {
                bool found = false;
                for (ssize_t n; (n = ::read(queue, read.data(), read.size())) > 0;)
                    found = found || (read[tunnel::VirtioNetHeader::size] >> 4 == 4 &&
                                      n == static_cast<ssize_t>(tunnel::VirtioNetHeader::size + ip_bytes));
                return found;
            };
            CHECK(holds(c.priority ? tun.priority_fd() : tun.fd()));
            CHECK_FALSE(holds(c.priority ? tun.fd() : tun.priority_fd()));
        }
    });
}

namespace {
// The queue the steering program picks for an IP packet, run by the kernel
// (BPF_PROG_TEST_RUN takes a frame: it pulls an Ethernet header first).
unsigned steered_queue(int program, std::span<const std::uint8_t> packet)
{
    std::vector<std::uint8_t> frame(14);
    net::store_be16(&frame[12], packet[0] >> 4 == 6 ? 0x86dd : 0x0800);
    frame.insert(frame.end(), packet.begin(), packet.end());
    bpf_attr attr{};
    attr.test.prog_fd = static_cast<std::uint32_t>(program);
    attr.test.data_in = reinterpret_cast<std::uint64_t>(frame.data());
    attr.test.data_size_in = static_cast<std::uint32_t>(frame.size());
    attr.test.repeat = 1;
    REQUIRE(::syscall(SYS_bpf, BPF_PROG_TEST_RUN, &attr, sizeof attr) == 0);
    return attr.test.retval;
}
} // namespace

TEST_CASE("the steering program decides as classify() for any whole IP header (seeded, the seed printed on failure)")
{
    in_private_netns([] {
        const auto program = tunnel::load_steering_program();
        REQUIRE(program.get() >= 0);
        const std::uint32_t seed = 0xac4b01;
        CAPTURE(seed);
        std::uint32_t state = seed;
        const auto next = [&](std::uint32_t below) {
            state = state * 1664525u + 1013904223u;
            return (state >> 8) % below;
        };
        constexpr std::uint8_t dscps[] = {0, 46, tunnel::dscp_cs6, tunnel::dscp_cs7};
        constexpr std::uint8_t protocols[] = {net::protocol_tcp, net::protocol_tcp, net::protocol_udp, 1};
        std::size_t small_bulk = 0;
        std::size_t priority = 0;
        for (int round = 0; round < 20000; ++round) {
            CAPTURE(round);
            // Random bytes behind a version, DSCP, IHL and protocol a TUN may
            // see, TCP's data offset and flags in reach, lengths around
            // small_packet_bytes, and IP length fields true, random, or
            // naming a pure ACK.
            const bool v6 = next(2) == 1;
            const std::size_t options = next(3) == 0 ? next(11) : 0;   // IPv4 options, 4-byte words
            const std::size_t ip_header = v6 ? net::ipv6_header_bytes : 4 * (5 + options);
            std::vector<std::uint8_t> packet(ip_header + net::tcp_min_header_bytes + next(tunnel::small_packet_bytes));
            for (auto& b : packet)
                b = static_cast<std::uint8_t>(next(256));
            const auto dscp = next(5) == 0 ? next(64) : dscps[next(4)];
            const auto ecn = next(4);
            if (v6) {
                packet[0] = static_cast<std::uint8_t>(0x60 | dscp >> 2);
                packet[1] = static_cast<std::uint8_t>((dscp & 3) << 6 | ecn << 4 | (packet[1] & 0x0f));
            } else {
                packet[0] = static_cast<std::uint8_t>(0x40 | ip_header / 4);
                packet[1] = static_cast<std::uint8_t>(dscp << 2 | ecn);
            }
            packet[v6 ? 6 : 9] = next(5) == 0 ? static_cast<std::uint8_t>(next(256)) : protocols[next(4)];
            const std::size_t tcp_header = 4 * (next(4) == 0 ? next(16) : 5 + next(11));
            packet[ip_header + 12] = static_cast<std::uint8_t>(tcp_header / 4 << 4 | next(16));
            if (next(2) == 0)
                packet[ip_header + 13] = next(2) == 0 ? 0x10 : 0x18;
            const auto ends = [&](std::size_t length) {
                return static_cast<std::uint16_t>(v6 ? length - net::ipv6_header_bytes : length);
            };
            switch (next(3)) {
            case 0:
                packet.resize(std::max(ip_header + tcp_header, ip_header + 14));
                net::store_be16(&packet[v6 ? 4 : 2], ends(ip_header + tcp_header));
                break;
            case 1:
                net::store_be16(&packet[v6 ? 4 : 2], ends(packet.size()));
                break;
            default:
                net::store_be16(&packet[v6 ? 4 : 2], static_cast<std::uint16_t>(next(65536)));
            }
            // Cut anywhere behind the fixed IP header, TCP's too.
            if (next(4) == 0)
                packet.resize(std::max<std::size_t>(v6 ? 40 : 20, next(static_cast<std::uint32_t>(packet.size()) + 1)));
            CAPTURE(packet.size());
            const auto decided = tunnel::classify(packet, v6 ? net::protocol_ipv6 : net::protocol_ipv4);
            CHECK(steered_queue(program.get(), packet) ==
                  (decided == tunnel::TrafficClass::priority ? tunnel::priority_queue : tunnel::bulk_queue));
            priority += decided == tunnel::TrafficClass::priority;
            small_bulk += decided == tunnel::TrafficClass::bulk && packet.size() <= tunnel::small_packet_bytes;
        }
        // Both answers came often, and small packets that are bulk (pure ACKs, cut TCP headers).
        CHECK(priority > 2000);
        CHECK(small_bulk > 1000);
    });
}
