// listen_guard: a second bind of a held UDP address names its holder, and a
// control socket is taken over only from a daemon that no longer answers.
// Runs in the test's own network namespace on loopback; no root needed.

#include "tools/daemon/listen_guard.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

using namespace mesh;

namespace {
std::string own_name()
{
    std::ifstream in("/proc/self/comm");
    std::string name;
    std::getline(in, name);
    return name;
}

std::filesystem::path temporary_socket_path()
{
    return std::filesystem::temp_directory_path() / ("listen-guard-" + std::to_string(::getpid()) + ".sock");
}
} // namespace

TEST_CASE("listen guard: a second bind of a held address names the process that holds it")
{
    const auto first = daemon::bind_exclusive({*net::IpAddress::parse("127.0.0.1"), 0});
    const net::Endpoint held = first->local();
    const std::string expected = held.to_string() + " is already used by " + own_name() + " (pid " +
                                 std::to_string(::getpid()) + ")";
    CHECK_THROWS_WITH_AS(daemon::bind_exclusive(held), expected.c_str(), std::runtime_error);
    // The wildcard address collides with the held one too.
    const net::Endpoint wildcard{net::IpAddress{}, held.port};
    CHECK(daemon::udp_port_holder(wildcard) == own_name() + " (pid " + std::to_string(::getpid()) + ")");
    CHECK(daemon::udp_port_holder({*net::IpAddress::parse("127.0.0.2"), held.port}).empty());
}

TEST_CASE("listen guard: the workers' SO_REUSEPORT group admits no socket of a second daemon")
{
    const auto first = daemon::bind_steered_exclusive({*net::IpAddress::parse("127.0.0.1"), 0}, 2);
    const net::Endpoint held = first.control->local();
    const std::string refused = held.to_string() + " is already used by ";
    // A child process stands for the second daemon: another pid, so with
    // CAP_SETUID another socket owner and the kernel refuses the bind;
    // without it the pre-check does.
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        try {
            [[maybe_unused]] const auto second = daemon::bind_steered_exclusive(held, 2);
            ::_exit(1);
        } catch (const std::runtime_error& error) {
            ::_exit(std::string(error.what()).starts_with(refused) ? 0 : 2);
        }
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);   // 1: it joined the group, 2: another error
    const std::string expected = refused + own_name() + " (pid " + std::to_string(::getpid()) + ")";
    CHECK_THROWS_WITH_AS(daemon::bind_exclusive(held), expected.c_str(), std::runtime_error);
}

TEST_CASE("listen guard: a control socket file nothing answers on is removed, a live one refused")
{
    const auto path = temporary_socket_path();
    std::filesystem::remove(path);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);

    // Bound but not listening: what a daemon killed with SIGKILL leaves.
    daemon::claim_control_socket(path);
    CHECK_FALSE(std::filesystem::exists(path));

    const int live = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(::bind(live, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(live, 1) == 0);
    CHECK_THROWS_AS(daemon::claim_control_socket(path), std::runtime_error);
    CHECK(std::filesystem::exists(path));
    ::close(live);
    ::close(fd);
    std::filesystem::remove(path);
}
