#include "tools/daemon/service_notify.hpp"

#include "tools/log/log.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace mesh::daemon {

ServiceNotify::ServiceNotify(boost::asio::io_context& io)
    : enabled_(std::getenv("NOTIFY_SOCKET") != nullptr),
      watchdog_timer_(io)
{
    std::uint64_t usec = 0;
    // Only for us: WATCHDOG_PID names the main process (sd_watchdog_enabled(3)).
    if (enabled_ && ::sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        watchdog_interval_ = std::chrono::microseconds(usec);
}

std::string ServiceNotify::status_line(std::size_t tunnels_up, std::size_t tunnels)
{
    return std::to_string(tunnels_up) + " of " + std::to_string(tunnels) + " tunnels up";
}

void ServiceNotify::ready(std::size_t tunnels_up, std::size_t tunnels)
{
    if (!enabled_)
        return;
    reported_ = {tunnels_up, tunnels};
    send("READY=1\nSTATUS=" + status_line(tunnels_up, tunnels));
    ready_ = true;
    if (watchdog_interval_.count() > 0) {
        log::daemon()->info("systemd watchdog: fed every {} ms from the control thread",
                            (watchdog_interval_ / 2).count() / 1000);
        feed_watchdog();
    }
}

void ServiceNotify::tunnels(std::size_t tunnels_up, std::size_t tunnels)
{
    // Before READY=1 the start is still setting tunnels down one by one; ready() reports the outcome.
    if (!enabled_ || !ready_ || reported_ == std::pair{tunnels_up, tunnels})
        return;
    reported_ = {tunnels_up, tunnels};
    send("STATUS=" + status_line(tunnels_up, tunnels));
}

void ServiceNotify::stopping()
{
    if (!enabled_)
        return;
    watchdog_timer_.cancel();
    send("STOPPING=1\nSTATUS=stopping: deleting the SAs with every peer");
}

void ServiceNotify::send(std::string_view state)
{
    const std::string text(state);
    if (const int result = ::sd_notify(0, text.c_str()); result < 0)
        log::daemon()->warn("systemd notify ({}): {}", text.substr(0, text.find('=')), std::strerror(-result));
}

void ServiceNotify::feed_watchdog()
{
    send("WATCHDOG=1");
    // Half the interval, as sd_watchdog_enabled(3) advises: one late tick is no restart.
    watchdog_timer_.expires_after(watchdog_interval_ / 2);
    watchdog_timer_.async_wait([this](const boost::system::error_code& error) {
        if (!error)
            feed_watchdog();
    });
}

} // namespace mesh::daemon
