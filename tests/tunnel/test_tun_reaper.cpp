// TunReaper against the real kernel: TUNs released at run time go in one
// batch and leave the others alone; the stop deletes every TUN of the daemon
// at once, but never an interface of another daemon that shares its group.
// Needs root: its own binary, labelled netns (tests/tunnel/CMakeLists.txt),
// exits 77 (a skip) without. The namespace belongs to one worker thread
// (unshare(CLONE_NEWNET) is per thread), so nothing outside sees these TUNs.

#include "net/link.hpp"
#include "tunnel/tun_device.hpp"

#include <doctest/doctest.h>

#include <net/if.h>
#include <sched.h>
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
