// os_error: EMFILE names the open-files limit, and the codes still compare
// equal to the generic ones.

#include "net/os_error.hpp"

#include <doctest/doctest.h>

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

using namespace mesh;

TEST_CASE("os error: EMFILE reads 'too many open files (limit N)' and is std::errc::too_many_files_open")
{
    const std::error_code code(EMFILE, net::os_category());
    CHECK((code == std::errc::too_many_files_open));
    CHECK(code.message() == "too many open files (limit " + std::to_string(net::open_files_limit()) + ")");
    CHECK(std::error_code(ENFILE, net::os_category()).message().starts_with("too many open files in the system (fs.file-max "));
    CHECK(std::error_code(ENOENT, net::os_category()).message() == std::generic_category().message(ENOENT));
}

TEST_CASE("os error: a socket refused at the limit names the resource and the limit")
{
    // In a child, whose lowered limit the test runner does not inherit.
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        rlimit original{};
        ::getrlimit(RLIMIT_NOFILE, &original);
        const rlimit tight{0, original.rlim_max};
        ::setrlimit(RLIMIT_NOFILE, &tight);
        try {
            const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
            if (fd >= 0)
                ::_exit(10);
            net::throw_os_error("UDP socket");
        } catch (const std::system_error& error) {
            // Back first: UBSan checks the call below through a pipe, which
            // needs descriptors (a false "invalid vptr" at limit 0).
            ::setrlimit(RLIMIT_NOFILE, &original);
            ::_exit(std::string(error.what()) == "UDP socket: too many open files (limit 0)" ? 0 : 11);
        }
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}
