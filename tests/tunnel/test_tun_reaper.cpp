// TUNs against the real kernel. TunReaper: TUNs released at run time go in
// one batch and leave the others alone; the stop deletes every TUN of the
// daemon at once, but never an interface of another daemon that shares its
// group. The steering program: priority packets reach the second queue.
// Needs root: its own binary, labelled netns (tests/tunnel/CMakeLists.txt),
// exits 77 (a skip) without. The namespace belongs to one worker thread
// (unshare(CLONE_NEWNET) is per thread), so nothing outside sees these TUNs.

#include "net/link.hpp"
#include "tunnel/tun_device.hpp"
#include "tunnel/virtio_net_header.hpp"

#include <doctest/doctest.h>

#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
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

TEST_CASE("the steering program puts CS6, CS7 and small packets on the priority queue, the rest on queue 0")
{
    in_private_netns([] {
        net::NetlinkSocket nl;
        tunnel::TunDevice tun("st-0");
        REQUIRE(tun.priority_fd() >= 0);
        net::add_link_address(nl, tun.ifindex(), *net::IpPrefix::parse("10.77.0.1/24"));
        net::set_link_up(nl, tun.ifindex(), true);
        const net::FileDescriptor udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(3784);
        to.sin_addr.s_addr = htonl(0x0a4d0002);   // 10.77.0.2, routed into the TUN
        struct Case {
            int tos;
            std::size_t payload;
            bool priority;
        };
        // 1000 bytes of UDP payload make a 1028-byte packet, 100 a 128-byte one.
        const Case cases[] = {{0, 1000, false}, {48 << 2, 1000, true}, {56 << 2, 1000, true},
                              {46 << 2, 1000, false}, {0, 100, true}, {(48 << 2) | 1, 1000, true}};
        std::vector<std::uint8_t> payload(1000, 0xa5), read(2048);
        for (const Case& c : cases) {
            CAPTURE(c.tos);
            CAPTURE(c.payload);
            REQUIRE(::setsockopt(udp.get(), IPPROTO_IP, IP_TOS, &c.tos, sizeof c.tos) == 0);
            REQUIRE(::sendto(udp.get(), payload.data(), c.payload, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
                    static_cast<ssize_t>(c.payload));
            // Whether the queue holds our IPv4 datagram; the kernel's own IPv6
            // packets (router solicitations, MLD) may come too.
            const auto holds = [&](int fd) {
                bool found = false;
                for (ssize_t n; (n = ::read(fd, read.data(), read.size())) > 0;)
                    found = found || (read[tunnel::VirtioNetHeader::size] >> 4 == 4 &&
                                      n == static_cast<ssize_t>(tunnel::VirtioNetHeader::size + 28 + c.payload));
                return found;
            };
            CHECK(holds(c.priority ? tun.priority_fd() : tun.fd()));
            CHECK_FALSE(holds(c.priority ? tun.fd() : tun.priority_fd()));
        }
    });
}
