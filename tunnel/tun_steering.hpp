#pragma once
// The kernel's half of "priority first" (tunnel/traffic_class.hpp): a TUN
// with two queues and a steering program (TUNSETSTEERINGEBPF, Linux 4.16)
// that puts each packet routed into it on queue 1 when classify() would call
// it priority (DSCP CS6 or CS7, or at most small_packet_bytes long and no
// pure TCP ACK) and on queue 0 otherwise. Each queue is a ring of its own,
// so a flood that fills queue 0 neither delays nor drops a BFD or OSPF
// packet; the worker reads queue 1 first.

#include "net/file_descriptor.hpp"

namespace mesh::tunnel {

inline constexpr unsigned bulk_queue = 0;
inline constexpr unsigned priority_queue = 1;

// Loads the program (a BPF_PROG_TYPE_SOCKET_FILTER run on each packet the
// TUN transmits, returning the queue index); an empty descriptor when the
// kernel refuses it (no bpf(2), no privilege): the TUN then runs one queue.
[[nodiscard]] net::FileDescriptor load_steering_program() noexcept;

// The program every TUN of the process attaches, loaded at the first call:
// a load runs the verifier and the JIT (about 125 us here, a tenth of a
// hub's CPU while a burst of branches came up), and each TUN holds its own
// reference to what it attached. error: errno of the load when it failed.
struct SteeringProgram {
    net::FileDescriptor fd;
    int error = 0;
};
[[nodiscard]] const SteeringProgram& shared_steering_program() noexcept;

} // namespace mesh::tunnel
