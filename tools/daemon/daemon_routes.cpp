// The kernel route sink (sites without FRR) and its watch: a RouteMonitor
// on the control thread hands every route deletion to the sink, which puts
// back its own routes and blackholes that someone else removed.

#include "tools/daemon/daemon.hpp"

#include "routing/kernel_routes.hpp"
#include "tools/daemon/listen_guard.hpp"
#include "tools/log/log.hpp"

#include <unistd.h>

namespace mesh::daemon {

void Daemon::start_kernel_routes(const net::Endpoint& local)
{
    auto sink = std::make_unique<routing::KernelRouteSink>(netlink_, daemon_instance(local));
    kernel_routes_ = sink.get();
    route_sink_ = std::move(sink);
    route_monitor_ = std::make_unique<routing::RouteMonitor>();
    route_events_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, ::dup(route_monitor_->fd()));
    log::routing()->info("routes go to the kernel's main table (proto {}, leak-guard blackholes at metric {})",
                         routing::route_protocol, kernel_routes_->blackhole_metric());
    watch_routes();
}

void Daemon::watch_routes()
{
    route_events_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                              [this](const boost::system::error_code& error) {
                                  if (error)
                                      return;
                                  const auto batch = route_monitor_->read();
                                  for (const auto& deleted : batch.deleted)
                                      kernel_routes_->on_route_deleted(deleted);
                                  if (batch.overflowed)
                                      kernel_routes_->restore_all();
                                  watch_routes();
                              });
}

} // namespace mesh::daemon
