#pragma once
// The data plane: N worker threads (tunnel/pump_worker.hpp), each both
// directions for a share of the tunnels and SAs:
//
//   a tunnel's TUN is read by one worker, the one with the fewest TUNs when
//   it was added, which owns its outbound SA (the sequence numbers);
//   ESP reaches the worker its SPI steers to (tunnel/spi_steering.hpp),
//   which opens the inbound SA (the anti-replay window).
//
// Workers read the SA table's current Snapshot and never wait for the
// control thread or each other; what the control thread must hear (events)
// goes through one lock-free ring per worker and wakes it through
// notify_fd(). IKE on the NAT-T port never passes through here: the kernel
// steers it to a socket the control thread reads itself.

#include "net/file_descriptor.hpp"
#include "tunnel/pump_worker.hpp"
#include "tunnel/sa_table.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

namespace mesh::tunnel {

class PacketPump {
public:
    // 1 to max_workers (tunnel/spi_steering.hpp) worker threads.
    explicit PacketPump(SaTable& table, std::size_t workers = 1);
    ~PacketPump();
    PacketPump(const PacketPump&) = delete;
    PacketPump& operator=(const PacketPump&) = delete;

    // Control thread, before start(): the worker's ESP-in-UDP socket, which
    // receives the SPIs steered to it and sends its tunnels' ESP-in-UDP, and
    // its priority socket (-1: none), which receives their small ESP.
    // Also turns on UDP GRO for them: only the worker may read them then.
    void watch_udp(std::size_t worker, int fd, int priority_fd = -1);
    // Control thread; may be called while the threads run.
    // A raw IP-protocol-50 socket (RawEspSocket): plain ESP, read by worker 0.
    void watch_raw_esp(int fd);
    // fd and its priority queue's (-1: none) go to one worker, the owner of
    // the tunnel's outbound SA; unwatch_tun(fd) stops both.
    void watch_tun(TunnelId id, int fd, int priority_fd = -1);
    void unwatch_tun(int fd);
    // Starts the workers at priority; real time refused leaves them at
    // normal priority and returns why (tunnel/worker_priority.hpp).
    [[nodiscard]] std::error_code start(WorkerPriority priority = WorkerPriority::normal);
    void stop();

    [[nodiscard]] std::size_t workers() const noexcept { return workers_.size(); }
    // Readable while events wait; read it to re-arm.
    [[nodiscard]] int notify_fd() const noexcept { return notify_.get(); }
    // Consumer side, control thread only: front() then release().
    EventRing& events(std::size_t worker) noexcept { return workers_[worker]->events(); }
    [[nodiscard]] const PumpCounters& counters(std::size_t worker) const noexcept { return workers_[worker]->counters(); }
    [[nodiscard]] WorkerScheduling scheduling(std::size_t worker) const noexcept { return workers_[worker]->scheduling(); }
    // A counter summed over the workers.
    [[nodiscard]] std::uint64_t total(Counter PumpCounters::*counter) const noexcept;
    // The worker that reads this TUN (control thread); nullopt when none does.
    [[nodiscard]] std::optional<std::size_t> worker_of_tun(int fd) const;

private:
    net::FileDescriptor stop_;
    net::FileDescriptor notify_;
    std::atomic<bool> stopping_{false};
    std::vector<std::unique_ptr<PumpWorker>> workers_;
    // Control thread: which worker reads each TUN, and how many each reads.
    std::map<int, std::size_t> tun_workers_;
    std::vector<std::size_t> tun_counts_;
    std::map<int, int> tun_priority_fds_;   // a TUN's queue 0 -> its queue 1
};

} // namespace mesh::tunnel
