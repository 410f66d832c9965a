// open_files: the descriptors a configuration needs, the RLIMIT_NOFILE set
// for them, and the one line a daemon that cannot get them stops with.

#include "tools/daemon/open_files.hpp"

#include <doctest/doctest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

using namespace mesh;
using daemon::FileLimit;

namespace {
// n tunnels with static SAs (and one keyed by IKE when `ike`), each to its own peer.
config::Config hub(int n, bool ike)
{
    std::string text = "[site]\nname = \"hub\"\n";
    for (int i = 0; i < n; ++i) {
        const std::string name = "s" + std::to_string(i);
        text += "[peer." + name + "]\naddress = \"198.18." + std::to_string(i / 250) + "." +
                std::to_string(i % 250 + 1) + "\"\n";
        text += "[tunnel." + name + "]\npeer = \"" + name + "\"\naddress = \"172.16.0.1/30\"\n";
        text += "[tunnel." + name + ".static-sa]\nenc-algorithm = \"aes-128-gcm\"\nspi-in = " +
                std::to_string(0x1000 + i) + "\nspi-out = " + std::to_string(0x2000 + i) +
                "\nkey-in = \"00112233445566778899aabbccddeeff01020304\"\n"
                "key-out = \"00112233445566778899aabbccddeeff01020304\"\n";
    }
    if (ike)
        text += "[peer.ike]\naddress = \"198.18.1.1\"\nsecret = \"a-secret-of-some-length\"\n"
                "[tunnel.ike]\npeer = \"ike\"\naddress = \"172.16.1.1/30\"\n";
    return config::parse(text, "hub.toml");
}
} // namespace

TEST_CASE("open files: two TUN queues per tunnel, the sockets, the control socket's connections and a margin")
{
    const auto need = daemon::open_files_needed(hub(3, false));
    CHECK(need.tun == 6);
    CHECK(need.sockets == 5);   // UDP 4500 (the control thread's, one worker's bulk and priority), netlink, route monitor
    CHECK(need.control == 33);  // listener and 32 connections
    CHECK(need.other == daemon::open_files_other);
    CHECK(need.total() == 6 + 5 + 33 + daemon::open_files_other);
    CHECK(need.to_string() == std::to_string(need.total()) + " (6 TUN, 5 sockets, 33 control, 64 other)");
    CHECK(daemon::open_files_needed(hub(3, false), 4).sockets == 11);   // two NAT-T sockets per worker
}

TEST_CASE("open files: IKE adds port 500 and the raw ESP socket")
{
    const auto need = daemon::open_files_needed(hub(3, true));
    CHECK(need.tun == 8);
    CHECK(need.sockets == 7);
}

TEST_CASE("open files: 1010 tunnels need more than systemd's soft limit of 1024")
{
    CHECK(daemon::open_files_needed(hub(1010, false)).total() > 1024);
}

TEST_CASE("open files: the limit set for a need")
{
    struct Case {
        int line;
        std::uint64_t need;
        FileLimit current;
        FileLimit expected;
    };
    const Case cases[] = {
        // 1 systemd's default: the soft limit goes up to the hard one
        {1, 1110, {1024, 524288}, {524288, 524288}},
        // 2 a small need still gets the hard limit, for TUNs made at run time
        {2, 100, {1024, 4096}, {4096, 4096}},
        // 3 the hard limit below the need: both up to the need (CAP_SYS_RESOURCE)
        {3, 1110, {1024, 1024}, {1110, 1110}},
        // 4 enough already: unchanged
        {4, 100, {4096, 4096}, {4096, 4096}},
        // 5 an unlimited hard limit: the soft one up to the need only
        {5, 1110, {1024, RLIM_INFINITY}, {1110, RLIM_INFINITY}},
        // 6 never lowered
        {6, 10, {8192, RLIM_INFINITY}, {8192, RLIM_INFINITY}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.line);
        CHECK(daemon::file_limit_for(c.need, c.current) == c.expected);
    }
}

TEST_CASE("open files: the refusal is one line with the numbers and both fixes")
{
    const auto need = daemon::open_files_needed(hub(1010, false));
    const std::string total = std::to_string(need.total());
    const std::string line = daemon::file_limit_refusal(need, {1024, 1024});
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.find("needs " + total + " (2020 TUN") != std::string::npos);
    CHECK(line.find("RLIMIT_NOFILE is 1024 with a hard limit of 1024") != std::string::npos);
    CHECK(line.find("LimitNOFILE=" + total) != std::string::npos);
    CHECK(line.find("ulimit -n " + total) != std::string::npos);
}

TEST_CASE("open files: raise_file_limit lifts the soft limit to the hard one")
{
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
    const rlimit low{64, saved.rlim_max};
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    const FileLimit before = daemon::raise_file_limit(daemon::open_files_needed(hub(3, false)));
    rlimit now{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &now) == 0);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
    CHECK(before.soft == 64);
    CHECK(now.rlim_cur == (saved.rlim_max == RLIM_INFINITY ? 1024 : saved.rlim_max));
}

TEST_CASE("open files: a hard limit below the need is raised, or the daemon refuses with the line")
{
    // In a child: a lowered hard limit cannot be raised again without CAP_SYS_RESOURCE.
    const auto need = daemon::open_files_needed(hub(1010, false));
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        const rlimit low{200, 200};
        if (::setrlimit(RLIMIT_NOFILE, &low) != 0)
            ::_exit(10);
        try {
            daemon::raise_file_limit(need);
            rlimit now{};
            ::getrlimit(RLIMIT_NOFILE, &now);
            ::_exit(now.rlim_max >= need.total() && now.rlim_cur >= need.total() ? 0 : 11);
        } catch (const std::runtime_error& error) {
            ::_exit(std::string(error.what()) == daemon::file_limit_refusal(need, {200, 200}) ? 0 : 12);
        }
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("open files: a template's instances come later, counted apart as its pool's blocks")
{
    const auto config = config::parse(R"([site]
name = "hub"
[peer.branches]
address = "0.0.0.0/0"
passive = true
secrets = { "fqdn:s1.branch.example.net" = "a-secret-of-some-length" }
[tunnel.branches]
peer = "branches"
interface = "br"
address-pool = "172.16.128.0/22"
)",
                                       "hub.toml");
    CHECK(daemon::open_files_needed(config).tun == 0);
    CHECK(daemon::template_instances(config) == 512);   // a /22 in /31 blocks
}
