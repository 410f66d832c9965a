// Signals. A signal whose default action ends the process would kill the
// daemon with no Delete sent, its control socket and leak-guard blackholes
// left behind; every one an operator may plausibly send is caught here.
//   SIGTERM, SIGINT, SIGQUIT  clean shutdown: Deletes, routes and socket removed
//   SIGHUP                    reload, as `mesh-site reload` (daemon_reload.cpp)
//   SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPOLL, SIGPWR   logged and ignored

#include "tools/daemon/daemon.hpp"

#include "tools/log/log.hpp"

#include <csignal>
#include <string>

namespace mesh::daemon {

namespace {
std::string signal_name(int signal)
{
    switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGHUP: return "SIGHUP";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGALRM: return "SIGALRM";
    case SIGVTALRM: return "SIGVTALRM";
    case SIGPOLL: return "SIGPOLL";
    case SIGPWR: return "SIGPWR";
    default: return "signal " + std::to_string(signal);
    }
}
} // namespace

void Daemon::catch_signals()
{
    for (const int signal : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPOLL, SIGPWR})
        signals_.add(signal);
}

void Daemon::watch_signals()
{
    signals_.async_wait([this](const boost::system::error_code& error, int signal) {
        if (error)
            return;
        switch (signal) {
        case SIGTERM:
        case SIGINT:
        case SIGQUIT:
            log::daemon()->info("{}: shutting down", signal_name(signal));
            io_.stop();
            return;
        case SIGHUP:
            log::daemon()->info("SIGHUP: reloading {}", config_.path.string());
            (void)reload("SIGHUP");
            break;
        default:
            log::daemon()->info("{} ignored", signal_name(signal));
            break;
        }
        watch_signals();
    });
}

} // namespace mesh::daemon
