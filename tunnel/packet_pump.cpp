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
#include <future>
#include <stdexcept>
#include <system_error>

namespace mesh::tunnel {

namespace {
// A worker's epoll data: a tunnel id (below 2^32), the stop eventfd, or a
// socket: its fd in the low 32 bits and one of these bits above.
constexpr std::uint64_t stop_tag = ~std::uint64_t{0};
constexpr std::uint64_t udp_tag = std::uint64_t{1} << 32;
constexpr std::uint64_t raw_esp_tag = std::uint64_t{1} << 33;
constexpr std::uint64_t priority_tag = std::uint64_t{1} << 34;
constexpr std::uint64_t boost_tag = std::uint64_t{1} << 35;   // a TUN priority queue another thread reads
constexpr std::uint64_t socket_tags = udp_tag | raw_esp_tag | priority_tag;

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
} // namespace

PumpWorker::PumpWorker(SaTable& table, int stop_fd, int notify_fd, PumpDirection direction)
    : table_(table),
      epoll_(make_epoll()),
      notify_fd_(notify_fd),
      reader_(table.quiescent_state().add_reader())
{
    // 4.7 MiB of buffers a worker, so each thread takes only its direction's.
    if (direction == PumpDirection::sending) {
        read_ = std::make_unique<PacketBuffer>();
        sends_ = std::make_unique<UdpGsoBatch>();
    } else {
        batch_ = std::make_unique<Batch>();
        priority_batch_ = std::make_unique<PriorityBatch>();
    }
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

void PumpWorker::watch_tun(TunnelId id, int fd)
{
    epoll_add(epoll_.get(), fd, id);
}

// Edge-triggered: the sending thread drains the queue, this thread only
// hears that a packet arrived.
void PumpWorker::watch_boost(int fd)
{
    epoll_add(epoll_.get(), fd, static_cast<std::uint64_t>(fd) | boost_tag, EPOLLIN | EPOLLET);
}

void PumpWorker::unwatch(int fd)
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
    end_boost();
    const int ready = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), -1);
    if (realtime_budget_)
        apply(realtime_budget_->tick(RealtimeBudget::Clock::now(), thread_cpu_time()));
    if (boost_budget_)
        round_start_cpu_ = thread_cpu_time();
    return ready;
}

void PumpWorker::allow_boosts() noexcept
{
    boost_budget_.emplace(RealtimeBudget::Clock::now(), boosted_cpu_);
    boostable_.store(true, std::memory_order_relaxed);
}

// The policy is set before the flag, so a round that ends between the two
// keeps real time one round longer, never for good.
bool PumpWorker::boost() noexcept
{
    if (!boostable_.load(std::memory_order_relaxed) || boosted_.load(std::memory_order_relaxed))
        return false;
    if (set_thread_realtime(thread_.native_handle(), true)) [[unlikely]] {
        boostable_.store(false, std::memory_order_relaxed);   // refused: RLIMIT_RTPRIO lowered since
        return false;
    }
    boosted_.store(true, std::memory_order_relaxed);
    return true;
}

// A round lifted after it began is charged from its start: the budget errs
// towards the normal policy.
void PumpWorker::end_boost() noexcept
{
    if (!boost_budget_)
        return;
    const bool boosted = boosted_.exchange(false, std::memory_order_relaxed);
    if (boosted) {
        (void)set_thread_realtime(::pthread_self(), false);
        const auto cpu = thread_cpu_time();
        boosted_cpu_ += cpu - round_start_cpu_;
        round_start_cpu_ = cpu;
    } else if (boostable_.load(std::memory_order_relaxed)) {
        return;
    }
    switch (boost_budget_->tick(RealtimeBudget::Clock::now(), boosted_cpu_)) {
    case RealtimeBudget::Change::demote: boostable_.store(false, std::memory_order_relaxed); break;
    case RealtimeBudget::Change::promote: boostable_.store(true, std::memory_order_relaxed); break;
    case RealtimeBudget::Change::none: break;
    }
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

void PumpWorker::join()
{
    if (thread_.joinable())
        thread_.join();
}

void PumpWorker::run()
{
    // A thread has either sockets (receiving) or TUNs (sending). Every ready
    // TUN reported gets its turn before the next epoll_wait; past 256, the
    // rest come first next time, as epoll moves the reported ones to the
    // tail of its ready list.
    std::array<epoll_event, 256> events{};
    struct ReadySocket {
        int fd;
        bool raw_esp;
    };
    std::array<ReadySocket, 2> sockets{};
    for (;;) {
        reader_.offline();
        const int ready = wait(events);
        reader_.online();
        const Snapshot* snapshot = table_.snapshot();
        std::size_t socket_count = 0;
        ReadyTunnels ready_tunnels;
        bool priority_live = false;
        for (int i = 0; i < ready; ++i) {
            const auto data = events[i].data.u64;
            if (data == stop_tag)
                return;
            if ((data & boost_tag) != 0) {
                if (boosted_thread_->boost())
                    counters_.realtime_boosts.add(1);
            } else if ((data & priority_tag) != 0) {
                priority_live = true;
            } else if ((data & (udp_tag | raw_esp_tag)) != 0) {
                if (socket_count < sockets.size())
                    sockets[socket_count++] = {static_cast<int>(data & 0xffffffff), (data & raw_esp_tag) != 0};
            } else {
                ready_tunnels.add(data);
            }
        }
        // Receiving: the priority socket (small ESP: pings, BFD, ACKs) first,
        // again after each batch of the others and every
        // priority_check_bytes within one: what it holds waits for about
        // 64 KiB of bulk to be opened, never for the bulk queued before it
        // (tunnel/spi_steering.hpp).
        if (socket_count > 0 || priority_live) {
            priority_batch(*snapshot);
            for (std::size_t s = 0; s < socket_count; ++s)
                if (inbound_batch(*snapshot, sockets[s].fd, sockets[s].raw_esp) > 0)
                    priority_batch(*snapshot);
        }
        // Sending: every ready TUN's turn (tunnel/pump_schedule.hpp).
        for (int i = 0; i < ready; ++i) {
            const auto data = events[i].data.u64;
            if ((data & (socket_tags | boost_tag)) != 0)
                continue;
            if (const TunnelPath* path = snapshot->tunnel(static_cast<TunnelId>(data)))
                outbound_batch(*path, ready_tunnels.count());
        }
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
    // Receiving threads first: thread i < workers is worker i's receiving one.
    for (const auto direction : {PumpDirection::receiving, PumpDirection::sending})
        for (std::size_t i = 0; i < workers; ++i)
            threads_.push_back(std::make_unique<PumpWorker>(table, stop_.get(), notify_.get(), direction));
}

PacketPump::~PacketPump()
{
    stop();
}

void PacketPump::watch_udp(std::size_t worker, int fd, int priority_fd)
{
    receiving(worker).watch_udp(fd, priority_fd);
    sending(worker).send_by(fd);
}

void PacketPump::watch_raw_esp(int fd)
{
    receiving(0).watch_raw_esp(fd);
}

void PacketPump::watch_tun(TunnelId id, int fd, int priority_fd)
{
    const auto fewest = static_cast<std::size_t>(std::ranges::min_element(tun_counts_) - tun_counts_.begin());
    sending(fewest).watch_tun(id, fd);
    if (priority_fd >= 0) {
        sending(fewest).watch_tun(id, priority_fd);
        if (boosts_)
            receiving(fewest).watch_boost(priority_fd);
        tun_priority_fds_[fd] = priority_fd;
    }
    tun_workers_[fd] = fewest;
    ++tun_counts_[fewest];
}

void PacketPump::unwatch_tun(int fd)
{
    const auto it = tun_workers_.find(fd);
    if (it == tun_workers_.end())
        return;
    sending(it->second).unwatch(fd);
    if (const auto priority = tun_priority_fds_.find(fd); priority != tun_priority_fds_.end()) {
        sending(it->second).unwatch(priority->second);
        receiving(it->second).unwatch(priority->second);
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
    // Sending threads run at normal priority: woken by each packet the stack
    // hands the TUN, one at real time preempts the very process or softirq
    // still producing the next and carries a super-packet a wake-up
    // (docs/data-plane.md, "Worker priority"). At real time, a packet in a
    // TUN's priority queue lifts them for a round.
    boosts_ = priority == WorkerPriority::realtime;
    for (std::size_t i = 0; i < workers(); ++i) {
        if (boosts_) {
            sending(i).allow_boosts();
            receiving(i).boost_with(sending(i));
        }
        (void)sending(i).start(WorkerPriority::normal);
    }
    if (boosts_)
        for (const auto& [fd, priority_fd] : tun_priority_fds_)
            receiving(tun_workers_.at(fd)).watch_boost(priority_fd);
    std::error_code refused;
    for (std::size_t i = 0; i < workers(); ++i) {
        if (const auto error = receiving(i).start(priority))
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
    for (auto& thread : threads_)
        thread->join();
}

std::uint64_t PacketPump::total(Counter PumpCounters::*counter) const noexcept
{
    std::uint64_t sum = 0;
    for (const auto& thread : threads_)
        sum += (thread->counters().*counter).get();
    return sum;
}

} // namespace mesh::tunnel
