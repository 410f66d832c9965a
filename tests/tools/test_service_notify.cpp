// ServiceNotify: what a Type=notify unit's systemd receives on NOTIFY_SOCKET
// (READY=1 with the first STATUS=, STATUS= only on a change, WATCHDOG=1 at
// half WATCHDOG_USEC, STOPPING=1), and nothing at all without NOTIFY_SOCKET.

#include "tools/daemon/service_notify.hpp"

#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

using mesh::daemon::ServiceNotify;

namespace {
// A datagram socket standing in for systemd's notify socket, named by NOTIFY_SOCKET while it lives.
class FakeSystemd {
public:
    FakeSystemd()
        : path_(std::filesystem::temp_directory_path() / ("mesh-notify-" + std::to_string(::getpid())))
    {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        path_.native().copy(address.sun_path, sizeof address.sun_path - 1);
        std::filesystem::remove(path_);
        REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
        ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    }
    ~FakeSystemd()
    {
        ::unsetenv("NOTIFY_SOCKET");
        ::unsetenv("WATCHDOG_USEC");
        ::unsetenv("WATCHDOG_PID");
        ::close(fd_);
        std::filesystem::remove(path_);
    }
    FakeSystemd(const FakeSystemd&) = delete;
    FakeSystemd& operator=(const FakeSystemd&) = delete;

    std::vector<std::string> received()
    {
        std::vector<std::string> out;
        std::array<char, 512> buffer{};
        for (ssize_t n; (n = ::recv(fd_, buffer.data(), buffer.size(), 0)) > 0;)
            out.emplace_back(buffer.data(), static_cast<std::size_t>(n));
        return out;
    }

private:
    std::filesystem::path path_;
    int fd_ = -1;
};
} // namespace

TEST_CASE("service notify: READY with the status, STATUS only when the tunnels up change, STOPPING")
{
    FakeSystemd systemd;
    boost::asio::io_context io;
    ServiceNotify notify(io);
    notify.tunnels(0, 2);   // still starting: ready() reports
    notify.ready(0, 2);
    notify.tunnels(0, 2);
    notify.tunnels(1, 2);
    notify.tunnels(1, 2);
    notify.tunnels(1, 3);
    notify.stopping();
    CHECK(systemd.received() ==
          std::vector<std::string>{"READY=1\nSTATUS=0 of 2 tunnels up", "STATUS=1 of 2 tunnels up",
                                   "STATUS=1 of 3 tunnels up",
                                   "STOPPING=1\nSTATUS=stopping: deleting the SAs with every peer"});
}

TEST_CASE("service notify: the watchdog is fed from the io_context at half WATCHDOG_USEC")
{
    FakeSystemd systemd;
    ::setenv("WATCHDOG_USEC", "200000", 1);
    ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    boost::asio::io_context io;
    ServiceNotify notify(io);
    notify.ready(1, 1);
    io.run_for(std::chrono::milliseconds(350));   // fed at 0, 100, 200 and 300 ms
    const auto messages = systemd.received();
    REQUIRE(messages.size() >= 4);
    CHECK(messages.front() == "READY=1\nSTATUS=1 of 1 tunnels up");
    CHECK(std::count(messages.begin(), messages.end(), "WATCHDOG=1") >= 3);
    notify.stopping();
    io.restart();
    io.run_for(std::chrono::milliseconds(250));
    CHECK(systemd.received() == std::vector<std::string>{"STOPPING=1\nSTATUS=stopping: deleting the SAs with every peer"});
}

TEST_CASE("service notify: without NOTIFY_SOCKET nothing is sent and nothing is scheduled")
{
    ::unsetenv("NOTIFY_SOCKET");
    boost::asio::io_context io;
    ServiceNotify notify(io);
    notify.ready(1, 1);
    notify.tunnels(0, 1);
    notify.stopping();
    CHECK(io.poll() == 0);
}
