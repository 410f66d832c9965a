#pragma once
// Whether this process may run a thread at SCHED_FIFO 1: root, or an
// RLIMIT_RTPRIO of 1 or more (tunnel/worker_priority.hpp).

#include <sys/resource.h>
#include <unistd.h>

namespace mesh::test {

inline bool realtime_allowed()
{
    rlimit rtprio{};
    ::getrlimit(RLIMIT_RTPRIO, &rtprio);
    return ::geteuid() == 0 || rtprio.rlim_cur >= 1;
}

} // namespace mesh::test
