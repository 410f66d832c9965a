#pragma once
// Real-time scheduling for the data-plane workers, bounded in time.
//
// A kernel data plane (WireGuard, kernel ESP) runs in softirq, ahead of every
// process. A worker at a normal priority waits behind the gateway's busy
// processes at each wake-up instead, and a round trip through two gateways
// wakes four workers: in the lab a ping under iperf3 --bidir took 1.5 ms with
// the workers at nice -10 and 0.3 ms with them at SCHED_FIFO.
// So workers run SCHED_FIFO at the lowest real-time priority, which no normal
// process preempts.
//
// Bounded, so that a gateway's other processes (FRR, bfdd, a shell) keep
// running whatever the traffic: a worker that has used realtime_share of CPU
// within the current window drops to the normal policy (keeping its nice
// value, the service's -10) until the window ends. So a worker holds at most
// half a core at real-time priority over every 20 ms, continuously busy or
// in bursts (the kernel's own real-time throttling, 95% per second, is far
// behind that and too coarse for BFD's 150 ms). The budget is kept at each
// wake-up, so one round (every ready tunnel's turn) may run past it.

#include <pthread.h>

#include <chrono>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace mesh::tunnel {

// [site] worker-priority.
enum class WorkerPriority : std::uint8_t { normal, realtime };

// What a worker's scheduling is now: status' "scheduling".
enum class WorkerScheduling : std::uint8_t { normal, realtime, demoted };

// The configuration's and status' words: "normal", "realtime", "demoted".
[[nodiscard]] std::string_view to_string(WorkerPriority priority) noexcept;
[[nodiscard]] std::string_view to_string(WorkerScheduling scheduling) noexcept;

// When a real-time worker drops to the normal policy and when it returns.
// Pure bookkeeping over the times it is given (the worker calls it after each
// wake-up with the clock and its own CPU time); the system calls are
// set_thread_realtime's.
class RealtimeBudget {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr Clock::duration window = std::chrono::milliseconds(20);
    static constexpr Clock::duration realtime_share = std::chrono::milliseconds(10);
    enum class Change : std::uint8_t { none, demote, promote };

    RealtimeBudget(Clock::time_point now, Clock::duration cpu) noexcept : window_start_(now), cpu_at_start_(cpu) {}
    // now: the clock; cpu: the thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
    [[nodiscard]] Change tick(Clock::time_point now, Clock::duration cpu) noexcept;
    [[nodiscard]] bool realtime() const noexcept { return realtime_; }

private:
    bool realtime_ = true;
    Clock::time_point window_start_;
    Clock::duration cpu_at_start_;
};

// The calling thread's CPU time.
RealtimeBudget::Clock::duration thread_cpu_time() noexcept;

// SCHED_FIFO at priority 1, or back to SCHED_OTHER (the thread keeps its
// nice value). Refused (EPERM) without CAP_SYS_NICE or an RLIMIT_RTPRIO of 1
// (systemd's LimitRTPRIO=), or under systemd's RestrictRealtime=yes.
std::error_code set_thread_realtime(pthread_t thread, bool realtime) noexcept;

} // namespace mesh::tunnel
