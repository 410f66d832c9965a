#pragma once
// Real-time scheduling for the data-plane workers, bounded in time.
//
// A kernel data plane (WireGuard, kernel ESP) runs in softirq, ahead of every
// process. A worker at a normal priority waits behind the gateway's busy
// processes at each wake-up instead, and a round trip through two gateways
// wakes four workers: in the lab a ping under iperf3 --bidir took 1.5 ms with
// the workers at nice -10 and 0.3 ms with them at SCHED_FIFO (0.34 ms idle).
// So workers run SCHED_FIFO at the lowest real-time priority, which no normal
// process preempts.
//
// Softirq hands its work to ksoftirqd, a normal thread, when it runs too
// long; a worker alike drops to the normal policy (keeping its nice value,
// the service's -10) once it has gone busy_limit without sleeping, and goes
// back to real time when it next goes to sleep, cooldown after the drop at
// the earliest. So a worker holds a core at real-time priority for at most
// busy_limit at a time and about half the time under saturation: routing
// daemons, BFD and a shell keep running (and the kernel's own real-time
// throttling, 95% by default, stays behind that).

#include <pthread.h>

#include <chrono>
#include <cstdint>
#include <system_error>

namespace mesh::tunnel {

// [site] worker-priority.
enum class WorkerPriority : std::uint8_t { normal, realtime };

// What a worker's scheduling is now: status' "scheduling".
enum class WorkerScheduling : std::uint8_t { normal, realtime, demoted };

// When a real-time worker drops to the normal policy and when it returns.
// Pure bookkeeping over the times it is given (the worker calls it around
// epoll_wait); the system calls are set_thread_realtime's.
class RealtimeBudget {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr Clock::duration busy_limit = std::chrono::milliseconds(10);
    static constexpr Clock::duration cooldown = std::chrono::milliseconds(10);
    enum class Change : std::uint8_t { none, demote, promote };

    explicit RealtimeBudget(Clock::time_point now) noexcept : awake_since_(now) {}
    // After a sleep.
    void woke(Clock::time_point now) noexcept { awake_since_ = now; }
    // After a look that found work waiting, without sleeping.
    [[nodiscard]] Change busy(Clock::time_point now) noexcept;
    // Before going to sleep.
    [[nodiscard]] Change going_to_sleep(Clock::time_point now) noexcept;
    [[nodiscard]] bool realtime() const noexcept { return realtime_; }

private:
    bool realtime_ = true;
    Clock::time_point awake_since_;
    Clock::time_point demoted_at_{};
};

// SCHED_FIFO at priority 1, or back to SCHED_OTHER (the thread keeps its
// nice value). Refused (EPERM) without CAP_SYS_NICE or an RLIMIT_RTPRIO of 1
// (systemd's LimitRTPRIO=), or under systemd's RestrictRealtime=yes.
std::error_code set_thread_realtime(pthread_t thread, bool realtime) noexcept;

} // namespace mesh::tunnel
