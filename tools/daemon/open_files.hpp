#pragma once
// File descriptors the daemon holds at once, and RLIMIT_NOFILE raised to fit
// them. A hub of a thousand tunnels holds a thousand TUN fds, while systemd,
// like a login shell, starts a service with a soft limit of 1024 (and a hard
// limit of 524288, which a process may raise its soft limit to).

#include "tools/config/config.hpp"

#include <cstdint>
#include <string>

namespace mesh::daemon {

// The descriptors of one configuration, by what holds them.
struct OpenFiles {
    std::uint64_t tun = 0;      // per tunnel, one per TUN queue
    std::uint64_t sockets = 0;  // UDP for ESP and IKE, raw ESP, netlink, zebra
    std::uint64_t control = 0;  // the control socket, the metrics port, their connections
    std::uint64_t other = 0;    // stdio, epoll, eventfds, timers, signals, files read at run time

    [[nodiscard]] std::uint64_t total() const noexcept { return tun + sockets + control + other; }
    // "1111 (1010 TUN, 4 sockets, 33 control, 64 other)"
    [[nodiscard]] std::string to_string() const;
};

// Held besides TUNs and sockets: 3 stdio, 2 epoll and 2 eventfds of the
// data plane, the control thread's epoll, eventfd, timerfd and signal pipe,
// dups of watched fds, sockets opened for a moment (path probes, interface
// lookups) and files read at run time (secrets, certificates, /proc).
inline constexpr std::uint64_t open_files_other = 64;

// What `config` needs at start with `workers` data-plane workers (a NAT-T
// socket each). A template's instances come later, each with a TUN: see
// template_instances.
[[nodiscard]] OpenFiles open_files_needed(const config::Config& config, std::size_t workers = 1);

// How many instances the configuration's templates may make at most (a TUN
// each). Not in open_files_needed: a /17 pool's 16384 must not stop a hub
// of 50 branches, but the daemon warns when they would not fit its limit.
[[nodiscard]] std::uint64_t template_instances(const config::Config& config);

struct FileLimit {
    std::uint64_t soft = 0;
    std::uint64_t hard = 0;
    friend bool operator==(const FileLimit&, const FileLimit&) = default;
};

// The RLIMIT_NOFILE to set for `need` given `current`: the soft limit up to
// the hard one (room for TUNs made at run time), and both up to `need` when
// the hard limit is lower (which takes CAP_SYS_RESOURCE). Never lowers either.
[[nodiscard]] FileLimit file_limit_for(std::uint64_t need, FileLimit current) noexcept;

// The one line a daemon that cannot raise its hard limit stops with, naming
// the numbers and the fix.
[[nodiscard]] std::string file_limit_refusal(const OpenFiles& need, FileLimit current);

// Sets RLIMIT_NOFILE for `need` (file_limit_for) and returns the limit it
// had before; throws std::runtime_error(file_limit_refusal) when the hard
// limit is too low and cannot be raised.
FileLimit raise_file_limit(const OpenFiles& need);

} // namespace mesh::daemon
