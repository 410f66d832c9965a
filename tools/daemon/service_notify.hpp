#pragma once
// The systemd service protocol (sd_notify(3)) for a Type=notify unit:
//   READY=1      once the daemon listens and its tunnels are configured
//   STATUS=      "N of M tunnels up", sent again whenever that changes
//   WATCHDOG=1   from the control thread every half WatchdogSec=, so a hung
//                control thread misses it and systemd restarts the service
//   STOPPING=1   when shutdown starts (the Deletes follow)
// Without NOTIFY_SOCKET (not started by systemd) every call does nothing.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mesh::daemon {

class ServiceNotify {
public:
    explicit ServiceNotify(boost::asio::io_context& io);

    // READY=1 with the first STATUS=; starts feeding the watchdog when the unit has one.
    void ready(std::size_t tunnels_up, std::size_t tunnels);
    // STATUS=, when the counts differ from the last ones sent.
    void tunnels(std::size_t tunnels_up, std::size_t tunnels);
    void stopping();

    // "N of M tunnels up": what STATUS= says, for the tests.
    [[nodiscard]] static std::string status_line(std::size_t tunnels_up, std::size_t tunnels);

private:
    void send(std::string_view state);
    void feed_watchdog();

    bool enabled_;                                   // NOTIFY_SOCKET is set
    bool ready_ = false;
    std::chrono::microseconds watchdog_interval_{};  // WatchdogSec=, zero when off
    boost::asio::steady_timer watchdog_timer_;
    std::optional<std::pair<std::size_t, std::size_t>> reported_;
};

} // namespace mesh::daemon
