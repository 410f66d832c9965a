#pragma once
// A pump worker's CPU time slice. Under EEVDF (Linux 6.6; a slice of one's
// own since 6.12) a thread that asks for a short slice gets an early virtual
// deadline when it wakes, so it preempts a CPU-bound process (iperf3, a
// backup job) instead of waiting out that process's slice: the packets
// behind the wake-up wait microseconds, not milliseconds. The thread's share
// of the CPU does not change, only how it is cut.

#include <chrono>

namespace mesh::tunnel {

// The shortest the kernel takes (its default, sched_base_slice, is 0.75 ms
// times 1 + log2 of the CPUs, up to 3 ms).
inline constexpr std::chrono::microseconds worker_slice{100};

// Sets the calling thread's slice (sched_setattr: its SCHED_OTHER policy and
// nice value kept, sched_runtime set); false when the thread runs under
// another policy or the kernel refuses (before Linux 6.12 it ignores the
// value, which is harmless).
bool set_worker_slice(std::chrono::microseconds slice) noexcept;

} // namespace mesh::tunnel
