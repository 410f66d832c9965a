// TUNs deleted in batches (tunnel::TunReaper): the stop deletes every
// tunnel's interface at once, and a TUN released while the daemon runs waits
// reap_delay for others to go with it, so that a thousand branches lost
// together cost the control thread one batch, not 20 ms each.

#include "tools/daemon/daemon.hpp"

#include "tools/log/log.hpp"

namespace mesh::daemon {

namespace {
constexpr auto reap_delay = std::chrono::milliseconds(100);

std::chrono::milliseconds::rep ms_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}
} // namespace

void Daemon::release_tun(std::shared_ptr<tunnel::TunDevice> device)
{
    const std::string name = device->name();
    if (!tun_reaper_->release(std::move(device)))
        log::esp()->warn("interface {}: cannot move it into group {} to delete it with others; "
                         "it goes alone as its fd closes (about 20 ms)",
                         name, tun_reaper_->released_group());
    if (tun_reaper_->pending() == 1) {
        reap_timer_.expires_after(reap_delay);
        reap_timer_.async_wait([this](const boost::system::error_code& error) {
            if (!error)
                reap_tuns();
        });
    }
}

void Daemon::reap_tuns()
{
    reap_timer_.cancel();
    const auto pending = tun_reaper_->pending();
    if (pending == 0)
        return;
    const auto start = std::chrono::steady_clock::now();
    try {
        const auto deleted = tun_reaper_->reap();
        log::esp()->info("deleted {} released interface(s) (group {}) in {} ms", deleted,
                         tun_reaper_->released_group(), ms_since(start));
    } catch (const std::runtime_error& error) {
        log::esp()->warn("cannot delete {} interface(s) in one batch ({}): they go one by one as their fds close",
                         pending, error.what());
    }
}

void Daemon::delete_tuns()
{
    reap_timer_.cancel();
    std::vector<std::shared_ptr<tunnel::TunDevice>> live;
    for (const auto& tunnel : tunnels_)
        live.push_back(tunnel.device);
    const auto start = std::chrono::steady_clock::now();
    try {
        const auto deleted = tun_reaper_->reap_all(live);
        log::esp()->info("deleted {} interface(s) (groups {} and {}) in {} ms", deleted, tun_reaper_->live_group(),
                         tun_reaper_->released_group(), ms_since(start));
    } catch (const std::runtime_error& error) {
        log::esp()->warn("cannot delete the interfaces in one batch ({}): they go one by one as their fds close",
                         error.what());
    }
}

} // namespace mesh::daemon
