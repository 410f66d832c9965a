#include "tunnel/worker_priority.hpp"

#include <sched.h>
#include <time.h>

namespace mesh::tunnel {

std::string_view to_string(WorkerPriority priority) noexcept
{
    return priority == WorkerPriority::realtime ? "realtime" : "normal";
}

std::string_view to_string(WorkerScheduling scheduling) noexcept
{
    switch (scheduling) {
    case WorkerScheduling::realtime:
        return "realtime";
    case WorkerScheduling::demoted:
        return "demoted";
    case WorkerScheduling::normal:
        break;
    }
    return "normal";
}

RealtimeBudget::Clock::duration thread_cpu_time() noexcept
{
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

RealtimeBudget::Change RealtimeBudget::tick(Clock::time_point now, Clock::duration cpu) noexcept
{
    if (now - window_start_ >= window) {
        window_start_ = now;
        cpu_at_start_ = cpu;
        if (realtime_)
            return Change::none;
        realtime_ = true;
        return Change::promote;
    }
    if (!realtime_ || cpu - cpu_at_start_ < realtime_share)
        return Change::none;
    realtime_ = false;
    return Change::demote;
}

std::error_code set_thread_realtime(pthread_t thread, bool realtime) noexcept
{
    sched_param parameters{};
    parameters.sched_priority = realtime ? sched_get_priority_min(SCHED_FIFO) : 0;
    const int error = ::pthread_setschedparam(thread, realtime ? SCHED_FIFO : SCHED_OTHER, &parameters);
    return {error, std::generic_category()};
}

} // namespace mesh::tunnel
