#include "tunnel/worker_priority.hpp"

#include <sched.h>

namespace mesh::tunnel {

RealtimeBudget::Change RealtimeBudget::busy(Clock::time_point now) noexcept
{
    if (!realtime_ || now - awake_since_ < busy_limit)
        return Change::none;
    realtime_ = false;
    demoted_at_ = now;
    return Change::demote;
}

RealtimeBudget::Change RealtimeBudget::going_to_sleep(Clock::time_point now) noexcept
{
    if (realtime_ || now - demoted_at_ < cooldown)
        return Change::none;
    realtime_ = true;
    return Change::promote;
}

std::error_code set_thread_realtime(pthread_t thread, bool realtime) noexcept
{
    sched_param parameters{};
    parameters.sched_priority = realtime ? sched_get_priority_min(SCHED_FIFO) : 0;
    const int error = ::pthread_setschedparam(thread, realtime ? SCHED_FIFO : SCHED_OTHER, &parameters);
    return {error, std::generic_category()};
}

} // namespace mesh::tunnel
