#include "tunnel/worker_slice.hpp"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace mesh::tunnel {

namespace {
// struct sched_attr of <linux/sched/types.h>, whose struct sched_param
// collides with <sched.h>'s (glibc 2.36 has no sched_setattr of its own).
struct SchedAttr {
    std::uint32_t size;
    std::uint32_t sched_policy;
    std::uint64_t sched_flags;
    std::int32_t sched_nice;
    std::uint32_t sched_priority;
    std::uint64_t sched_runtime;
    std::uint64_t sched_deadline;
    std::uint64_t sched_period;
    std::uint32_t sched_util_min;
    std::uint32_t sched_util_max;
};
} // namespace

bool set_worker_slice(std::chrono::microseconds slice) noexcept
{
    // The thread's own policy and nice value, only the slice changed.
    SchedAttr attr{};
    if (::syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) != 0 || attr.sched_policy != SCHED_OTHER)
        return false;
    attr.sched_runtime = static_cast<std::uint64_t>(std::chrono::nanoseconds(slice).count());
    return ::syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
}

} // namespace mesh::tunnel
