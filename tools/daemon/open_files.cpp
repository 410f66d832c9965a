#include "tools/daemon/open_files.hpp"

#include "tools/daemon/control_server.hpp"
#include "tools/metrics/metrics_server.hpp"
#include "tunnel/tun_device.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <stdexcept>

namespace mesh::daemon {

std::string OpenFiles::to_string() const
{
    return std::to_string(total()) + " (" + std::to_string(tun) + " TUN, " + std::to_string(sockets) + " sockets, " +
           std::to_string(control) + " control, " + std::to_string(other) + " other)";
}

OpenFiles open_files_needed(const config::Config& config, std::size_t workers)
{
    OpenFiles need;
    need.tun = tunnel::tun_queues * static_cast<std::uint64_t>(std::ranges::count_if(
                                        config.tunnels, [](const auto& entry) { return !entry.second.is_template; }));
    const bool ike = std::ranges::any_of(config.tunnels, [](const auto& entry) { return !entry.second.static_sa; });
    // ESP-in-UDP 4500 (control, and a bulk and a priority socket per worker);
    // with IKE, port 500 and a raw ESP socket (encapsulation "auto"); the
    // netlink socket, and the route monitor's or zebra's.
    need.sockets = 1 + 2 * workers + (ike ? 2 : 0) + 2;
    need.control = 1 + ControlServer::Limits{}.connections;
    // The metrics port, its connections and the one accepted beyond them to be closed.
    if (config.site.metrics_listen)
        need.control += 2 + metrics::MetricsServer::Limits{}.connections;
    need.other = open_files_other;
    return need;
}

std::uint64_t template_instances(const config::Config& config)
{
    std::uint64_t instances = 0;
    for (const auto& [name, tunnel] : config.tunnels)
        if (tunnel.is_template)
            instances += config::instance_capacity(tunnel);
    return instances;
}

FileLimit file_limit_for(std::uint64_t need, FileLimit current) noexcept
{
    const std::uint64_t hard = std::max(current.hard, need);
    // An unlimited hard limit is no soft one: the kernel caps it at fs.nr_open.
    const std::uint64_t soft = hard == RLIM_INFINITY ? std::max(current.soft, need) : hard;
    return {std::max(current.soft, soft), hard};
}

std::string file_limit_refusal(const OpenFiles& need, FileLimit current)
{
    const std::string total = std::to_string(need.total());
    return "open files: this configuration needs " + need.to_string() + " file descriptors, but RLIMIT_NOFILE is " +
           std::to_string(current.soft) + " with a hard limit of " + std::to_string(current.hard) +
           " that mesh-site may not raise (no CAP_SYS_RESOURCE): set LimitNOFILE=" + total +
           " (or more) in its systemd unit, or run `ulimit -n " + total + "` before starting it";
}

FileLimit raise_file_limit(const OpenFiles& need)
{
    rlimit now{};
    if (::getrlimit(RLIMIT_NOFILE, &now) < 0)
        throw std::runtime_error("open files: cannot read RLIMIT_NOFILE");
    const FileLimit current{now.rlim_cur, now.rlim_max};
    const FileLimit wanted = file_limit_for(need.total(), current);
    if (wanted == current)
        return current;
    const rlimit next{wanted.soft, wanted.hard};
    if (::setrlimit(RLIMIT_NOFILE, &next) == 0)
        return current;
    // EPERM: raising the hard limit takes CAP_SYS_RESOURCE, and stays below fs.nr_open.
    if (need.total() > current.hard)
        throw std::runtime_error(file_limit_refusal(need, current));
    throw std::runtime_error("open files: cannot raise RLIMIT_NOFILE from " + std::to_string(current.soft) + " to " +
                             std::to_string(wanted.soft));
}

} // namespace mesh::daemon
