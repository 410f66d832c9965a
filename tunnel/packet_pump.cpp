#include "tunnel/packet_pump.hpp"

#include "tunnel/pump_schedule.hpp"
#include "tunnel/replay_window.hpp"
#include "tunnel/spi_steering.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <future>
#include <stdexcept>
#include <system_error>

namespace mesh::tunnel {

namespace {
// A worker's epoll data: a tunnel id (below 2^32, low_bits) for its TUN
// priority queue, the id and bulk_tag for its bulk queue, the stop eventfd,
// or a socket: its fd in low_bits and one of these bits above.
constexpr std::uint64_t stop_tag = ~std::uint64_t{0};
constexpr std::uint64_t udp_tag = std::uint64_t{1} << 32;
constexpr std::uint64_t raw_esp_tag = std::uint64_t{1} << 33;
constexpr std::uint64_t priority_tag = std::uint64_t{1} << 34;
constexpr std::uint64_t socket_tags = udp_tag | raw_esp_tag | priority_tag;
constexpr std::uint64_t bulk_tag = std::uint64_t{1} << 35;
constexpr std::uint64_t low_bits = 0xffffffff;

// Reported once, then armed again after its turn (tunnel/deferred_tuns.hpp).
constexpr std::uint32_t bulk_events = EPOLLIN | EPOLLONESHOT;
// epoll reports at most this many a wake-up; the rest of the array holds the
// deferred TUNs that fell due.
constexpr std::size_t reported_events = 256;

// Bulk overtakes a priority datagram that arrived during a batch of the bulk
// socket by that batch at most, as the priority socket is read after each
// (and within it): within the anti-replay window (spi_steering.cpp bounds
// the other way round).
static_assert(pump_batch * max_gro_segments < ReplayWindow::size);

net::FileDescriptor make_epoll()
{
    net::FileDescriptor fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!fd)
        throw std::system_error(errno, std::generic_category(), "epoll_create1");
    return fd;
}

net::FileDescriptor make_eventfd()
{
    net::FileDescriptor fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!fd)
        throw std::system_error(errno, std::generic_category(), "eventfd");
    return fd;
}

void epoll_add(int epoll, int fd, std::uint64_t data, std::uint32_t events = EPOLLIN)
{
    epoll_event event{};
    event.events = events;
    event.data.u64 = data;
    if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) < 0)
        throw std::system_error(errno, std::generic_category(), "epoll_ctl");
}

timespec to_timespec(std::chrono::nanoseconds duration) noexcept
{
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(duration);
    return {static_cast<time_t>(seconds.count()), static_cast<long>((duration - seconds).count())};
}
} // namespace

PumpWorker::PumpWorker(SaTable& table, int stop_fd, int notify_fd)
    : table_(table),
      epoll_(make_epoll()),
      notify_fd_(notify_fd),
      reader_(table.quiescent_state().add_reader()),
      read_(std::make_unique<PacketBuffer>()),
      sends_(std::make_unique<UdpGsoBatch>()),
      batch_(std::make_unique<Batch>()),
      priority_batch_(std::make_unique<PriorityBatch>())
{
    epoll_add(epoll_.get(), stop_fd, stop_tag);
}

PumpWorker::~PumpWorker()
{
    join();
}

void PumpWorker::watch_udp(int fd, int priority_fd)
{
    // Without it every datagram is a receive of its own; a kernel that lacks
    // it (before Linux 5.0) only costs speed.
    const int on = 1;
    ::setsockopt(fd, IPPROTO_UDP, UDP_GRO, &on, sizeof on);
    udp_fd_ = fd;
    epoll_add(epoll_.get(), fd, static_cast<std::uint64_t>(fd) | udp_tag);
    if (priority_fd < 0)
        return;
    ::setsockopt(priority_fd, IPPROTO_UDP, UDP_GRO, &on, sizeof on);
    priority_fd_ = priority_fd;
    epoll_add(epoll_.get(), priority_fd, static_cast<std::uint64_t>(priority_fd) | priority_tag);
}

void PumpWorker::watch_raw_esp(int fd)
{
    epoll_add(epoll_.get(), fd, static_cast<std::uint64_t>(fd) | raw_esp_tag);
}

void PumpWorker::watch_tun(TunnelId id, int fd, int priority_fd)
{
    epoll_add(epoll_.get(), fd, id | bulk_tag, bulk_events);
    if (priority_fd >= 0)
        epoll_add(epoll_.get(), priority_fd, id);
}

void PumpWorker::unwatch_tun(int fd)
{
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

std::error_code PumpWorker::start(WorkerPriority priority)
{
    std::promise<std::error_code> scheduled;
    auto result = scheduled.get_future();
    thread_ = std::thread([this, priority, scheduled = std::move(scheduled)]() mutable {
        scheduled.set_value(schedule(priority));
        run();
    });
    return result.get();
}

std::error_code PumpWorker::schedule(WorkerPriority priority) noexcept
{
    if (priority == WorkerPriority::normal)
        return {};
    if (const auto error = set_thread_realtime(::pthread_self(), true))
        return error;
    realtime_budget_.emplace(RealtimeBudget::Clock::now(), thread_cpu_time());
    scheduling_.store(WorkerScheduling::realtime, std::memory_order_relaxed);
    return {};
}

int PumpWorker::wait(std::span<epoll_event> events) noexcept
{
    timespec timeout{};
    const bool deferred = !deferred_.empty();
    if (deferred)
        timeout = to_timespec(*deferred_.wait_for(DeferredTuns::Clock::now()));
    const int ready = ::epoll_pwait2(epoll_.get(), events.data(), static_cast<int>(events.size()),
                                     deferred ? &timeout : nullptr, nullptr);
    if (realtime_budget_)
        apply(realtime_budget_->tick(RealtimeBudget::Clock::now(), thread_cpu_time()));
    return std::max(ready, 0);   // interrupted (EINTR): nothing reported
}

void PumpWorker::apply(RealtimeBudget::Change change) noexcept
{
    if (change == RealtimeBudget::Change::none)
        return;
    const bool realtime = change == RealtimeBudget::Change::promote;
    if (set_thread_realtime(::pthread_self(), realtime)) [[unlikely]] {
        // Only a promotion can be refused (RLIMIT_RTPRIO lowered since):
        // normal priority from now on.
        realtime_budget_.reset();
        scheduling_.store(WorkerScheduling::normal, std::memory_order_relaxed);
        return;
    }
    if (!realtime)
        counters_.realtime_demotions.add(1);
    scheduling_.store(realtime ? WorkerScheduling::realtime : WorkerScheduling::demoted, std::memory_order_relaxed);
}

void PumpWorker::rearm_bulk(const TunnelPath& path, std::uint64_t data, bool lone_and_drained) noexcept
{
    if (lone_and_drained && path.tun_priority_fd >= 0 && realtime_budget_ && realtime_budget_->realtime() &&
        deferred_.defer(data, DeferredTuns::Clock::now())) {
        counters_.deferred_wakeups.add(1);
        return;
    }
    epoll_event event{};
    event.events = bulk_events;
    event.data.u64 = data;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, path.tun_fd, &event);
}

void PumpWorker::join()
{
    if (thread_.joinable())
        thread_.join();
}

void PumpWorker::run()
{
    // Every ready TUN reported gets its turn before the next epoll_wait
    // (tunnel/pump_schedule.hpp); past 256, the rest come first next time,
    // as epoll moves the reported ones to the tail of its ready list.
    std::array<epoll_event, reported_events + DeferredTuns::capacity> events{};
    struct ReadySocket {
        int fd;
        bool raw_esp;
    };
    std::array<ReadySocket, 2> sockets{};
    for (;;) {
        reader_.offline();
        int ready = wait(std::span(events).first(reported_events));
        reader_.online();
        if (!deferred_.empty()) {
            // As if epoll reported them: their turn arms them again, or defers them.
            for (const std::uint64_t tunnel : deferred_.take_due(DeferredTuns::Clock::now())) {
                events[static_cast<std::size_t>(ready)].events = EPOLLIN;
                events[static_cast<std::size_t>(ready++)].data.u64 = tunnel;
            }
        }
        const Snapshot* snapshot = table_.snapshot();
        std::size_t socket_count = 0;
        ReadyTunnels ready_tunnels;
        bool priority_live = false;
        for (int i = 0; i < ready; ++i) {
            const auto data = events[i].data.u64;
            if (data == stop_tag)
                return;
            if ((data & priority_tag) != 0) {
                priority_live = true;
            } else if ((data & (udp_tag | raw_esp_tag)) != 0) {
                if (socket_count < sockets.size())
                    sockets[socket_count++] = {static_cast<int>(data & low_bits), (data & raw_esp_tag) != 0};
            } else {
                ready_tunnels.add(data & low_bits);
            }
        }
        SocketCadence cadence(socket_count > 0 || priority_live);
        // The priority socket (small ESP: pings, BFD, ACKs) is read first in
        // every socket turn, again after each batch of the others and every
        // priority_check_bytes within one, and before each tunnel turn while
        // its last read found something: what it holds waits for about 64 KiB
        // of bulk to be opened, never for the bulk queued before it
        // (tunnel/spi_steering.hpp).
        const auto read_priority = [&] {
            priority_live = priority_batch(*snapshot) > 0;
            return priority_live;
        };
        const auto read_sockets = [&] {
            bool found = read_priority();
            for (std::size_t s = 0; s < socket_count; ++s) {
                if (inbound_batch(*snapshot, sockets[s].fd, sockets[s].raw_esp) == 0)
                    continue;
                found = true;
                read_priority();
            }
            cadence.sockets_read(found || priority_live);
        };
        for (int i = 0; i < ready; ++i) {
            const bool sockets_due = cadence.due();
            if (sockets_due)
                read_sockets();
            const auto data = events[i].data.u64;
            if ((data & socket_tags) != 0)
                continue;
            if (!sockets_due && priority_live)
                read_priority();
            // A tunnel gone from the snapshot was unwatched before: its bulk
            // queue needs no arming.
            if (const TunnelPath* path = snapshot->tunnel(static_cast<TunnelId>(data & low_bits))) {
                const bool drained = outbound_batch(*snapshot, *path, ready_tunnels.count());
                if ((data & bulk_tag) != 0)
                    rearm_bulk(*path, data, drained && ready_tunnels.count() == 1);
            }
            cadence.tunnel_turn();
        }
        if (cadence.due())
            read_sockets();
        reader_.quiescent();
    }
}

void PumpWorker::post(const DataplaneEvent& event) noexcept
{
    if (DataplaneEvent* slot = events_.prepare()) {
        *slot = event;
        events_.commit();
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto written = ::write(notify_fd_, &one, sizeof one);
    }
}

PacketPump::PacketPump(SaTable& table, std::size_t workers)
    : stop_(make_eventfd()), notify_(make_eventfd()), tun_counts_(workers, 0)
{
    if (workers == 0 || workers > max_workers)
        throw std::invalid_argument("the packet pump runs 1 to 64 workers");
    for (std::size_t i = 0; i < workers; ++i)
        workers_.push_back(std::make_unique<PumpWorker>(table, stop_.get(), notify_.get()));
}

PacketPump::~PacketPump()
{
    stop();
}

void PacketPump::watch_udp(std::size_t worker, int fd, int priority_fd)
{
    workers_.at(worker)->watch_udp(fd, priority_fd);
}

void PacketPump::watch_raw_esp(int fd)
{
    workers_.front()->watch_raw_esp(fd);
}

void PacketPump::watch_tun(TunnelId id, int fd, int priority_fd)
{
    const auto fewest = static_cast<std::size_t>(std::ranges::min_element(tun_counts_) - tun_counts_.begin());
    workers_[fewest]->watch_tun(id, fd, priority_fd);
    if (priority_fd >= 0)
        tun_priority_fds_[fd] = priority_fd;
    tun_workers_[fd] = fewest;
    ++tun_counts_[fewest];
}

void PacketPump::unwatch_tun(int fd)
{
    const auto it = tun_workers_.find(fd);
    if (it == tun_workers_.end())
        return;
    workers_[it->second]->unwatch_tun(fd);
    if (const auto priority = tun_priority_fds_.find(fd); priority != tun_priority_fds_.end()) {
        workers_[it->second]->unwatch_tun(priority->second);
        tun_priority_fds_.erase(priority);
    }
    --tun_counts_[it->second];
    tun_workers_.erase(it);
}

std::optional<std::size_t> PacketPump::worker_of_tun(int fd) const
{
    const auto it = tun_workers_.find(fd);
    return it == tun_workers_.end() ? std::nullopt : std::optional{it->second};
}

std::error_code PacketPump::start(WorkerPriority priority)
{
    std::error_code refused;
    for (auto& worker : workers_) {
        if (const auto error = worker->start(priority))
            refused = error;
    }
    return refused;
}

void PacketPump::stop()
{
    if (stopping_.exchange(true))
        return;
    // Level-triggered and never read: every worker's epoll sees it.
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(stop_.get(), &one, sizeof one);
    for (auto& worker : workers_)
        worker->join();
}

std::uint64_t PacketPump::total(Counter PumpCounters::*counter) const noexcept
{
    std::uint64_t sum = 0;
    for (const auto& worker : workers_)
        sum += (worker->counters().*counter).get();
    return sum;
}

} // namespace mesh::tunnel
