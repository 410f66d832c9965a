#pragma once
// How a worker shares itself between its sources in one wake-up, so that no
// tunnel and no direction starves another:
//
//   wake-up:  [sockets] [tun 1] [tun 2] ... [tun 8] [sockets] [tun 9] ...
//
// - Every TUN epoll reports ready gets one turn per wake-up, bounded by a
//   TurnBudget: a tunnel fed 64 KiB TSO super-packets gets no more of the
//   worker than one fed 1400-byte packets gets when it has as much queued.
//   epoll is level-triggered and puts a reported fd at the tail of its ready
//   list, so a tunnel with data left after its turn comes round again, after
//   the others (round robin, like the kernel's NAPI budget per device).
// - The sockets (ESP from every peer of the worker's SAs, all its tunnels'
//   inbound traffic and TCP ACKs) get a turn first and again after every
//   SocketCadence::tunnels_per_turn tunnel turns, while their last read found
//   something: with 100 ready TUNs a socket read once per wake-up overflowed
//   while the TUN turns went on, losing the ACKs that clock every sender.

#include <cstddef>
#include <cstdint>

namespace mesh::tunnel {

// One tunnel's turn: at most max_reads TUN reads, in slices of
// shared_bytes (two 64 KiB TSO super-packets, about 90 ESP datagrams).
// While other tunnels wait their turn in the same wake-up, the first slice
// ends it. A tunnel alone goes on, slice after slice, to its 64 reads: a
// turn is one send batch, and cutting a lone busy tunnel's batches to two
// super-packets cost it a quarter of its throughput in CPU per byte. Its
// priority queue is read again before every slice, so a ping or BFD packet
// waits for no more bulk than one slice either way.
class TurnBudget {
public:
    static constexpr std::size_t max_reads = 64;
    static constexpr std::size_t shared_bytes = 96 * 1024;

    explicit TurnBudget(std::size_t ready_tunnels) noexcept : alone_(ready_tunnels <= 1) {}

    // Whether another read fits in this slice.
    [[nodiscard]] bool allows_read() const noexcept { return reads_ < max_reads && slice_bytes_ < shared_bytes; }
    void spend(std::size_t bytes) noexcept
    {
        ++reads_;
        slice_bytes_ += bytes;
    }
    // Once a slice's reads stopped: whether the turn goes on with another,
    // for a tunnel alone whose slice ended at its bytes, not an empty queue.
    [[nodiscard]] bool next_slice() noexcept
    {
        if (!alone_ || reads_ >= max_reads || slice_bytes_ < shared_bytes)
            return false;
        slice_bytes_ = 0;
        return true;
    }

private:
    bool alone_;
    std::size_t reads_ = 0;
    std::size_t slice_bytes_ = 0;
};

// How many tunnels one wake-up serves, as far as TurnBudget asks: none,
// one, or more (2). A TUN with a priority queue reports its two fds under
// one tunnel id: a tunnel alone with a ping waiting is still alone.
class ReadyTunnels {
public:
    void add(std::uint64_t tunnel) noexcept
    {
        if (count_ == 0) {
            first_ = tunnel;
            count_ = 1;
        } else if (tunnel != first_) {
            count_ = 2;
        }
    }
    [[nodiscard]] std::size_t count() const noexcept { return count_; }

private:
    std::uint64_t first_ = 0;
    std::size_t count_ = 0;
};

// When the sockets get their turns among one wake-up's tunnel turns.
class SocketCadence {
public:
    static constexpr std::size_t tunnels_per_turn = 8;

    // A wake-up begins: whether epoll reported a socket readable.
    explicit SocketCadence(bool socket_ready) noexcept : live_(socket_ready) {}

    // Before the first tunnel turn and after each: whether to read the sockets now.
    [[nodiscard]] bool due() noexcept
    {
        if (!live_ || since_ != 0)
            return false;
        since_ = tunnels_per_turn;
        return true;
    }
    void tunnel_turn() noexcept
    {
        if (since_ > 0)
            --since_;
    }
    // What the sockets' turn found: once they were empty they wait for the
    // next wake-up, which epoll brings as soon as data arrives.
    void sockets_read(bool found_data) noexcept { live_ = found_data; }

private:
    bool live_;
    std::size_t since_ = 0;
};

} // namespace mesh::tunnel
