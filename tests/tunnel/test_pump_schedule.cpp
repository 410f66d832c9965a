// The worker's turns within one wake-up (tunnel/pump_schedule.hpp): a
// tunnel's turn ends at its budget, and the sockets are read between tunnel
// turns while they have data, so neither a busy tunnel nor 100 ready TUNs
// keep the others or the inbound direction waiting.

#include "tunnel/pump_schedule.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <string>

using mesh::tunnel::ReadyTunnels;
using mesh::tunnel::SocketCadence;
using mesh::tunnel::TurnBudget;

namespace {

// Reads of `size` bytes until the budget refuses one: how many it allowed.
std::size_t reads_allowed(std::size_t size, std::size_t ready_tunnels = 2)
{
    TurnBudget budget(ready_tunnels);
    std::size_t reads = 0;
    do {
        while (budget.allows_read()) {
            budget.spend(size);
            ++reads;
        }
    } while (budget.next_slice());
    return reads;
}

// One wake-up with `tunnels` ready TUNs: "s" for a socket turn, "t" for a
// tunnel turn; the sockets find data the first `socket_reads` times.
std::string wake_up(std::size_t tunnels, bool socket_ready, std::size_t socket_reads)
{
    SocketCadence cadence(socket_ready);
    std::string turns;
    const auto sockets = [&] {
        turns += 's';
        cadence.sockets_read(socket_reads > 0);
        if (socket_reads > 0)
            --socket_reads;
    };
    for (std::size_t i = 0; i < tunnels; ++i) {
        if (cadence.due())
            sockets();
        turns += 't';
        cadence.tunnel_turn();
    }
    if (cadence.due())
        sockets();
    return turns;
}

} // namespace

TEST_CASE("a turn reads 64 small packets, or two 64 KiB super-packets while other tunnels wait")
{
    CHECK(reads_allowed(100) == TurnBudget::max_reads);
    CHECK(reads_allowed(1500) == TurnBudget::max_reads);
    CHECK(reads_allowed(65535) == 2);
    // The read that crosses the byte budget is the last one.
    CHECK(reads_allowed(TurnBudget::shared_bytes - 1) == 2);
    CHECK(reads_allowed(TurnBudget::shared_bytes) == 1);
    // Alone in its wake-up, a tunnel's turn is one whole send batch.
    CHECK(reads_allowed(65535, 1) == TurnBudget::max_reads);
    CHECK(reads_allowed(100, 1) == TurnBudget::max_reads);
}

TEST_CASE("a lone tunnel's turn goes on in slices of two super-packets, and only while its queue has data")
{
    TurnBudget alone(1);
    std::size_t slices = 0;
    do {
        ++slices;
        while (alone.allows_read())
            alone.spend(65535);
    } while (alone.next_slice());
    CHECK(slices == TurnBudget::max_reads / 2);
    // A slice that ended on an empty queue ends the turn.
    TurnBudget drained(1);
    drained.spend(65535);
    CHECK_FALSE(drained.next_slice());
    // Others waiting: one slice.
    TurnBudget shared(2);
    shared.spend(TurnBudget::shared_bytes);
    CHECK_FALSE(shared.allows_read());
    CHECK_FALSE(shared.next_slice());
}

TEST_CASE("a wake-up counts a tunnel once, both of its TUN queues ready")
{
    ReadyTunnels ready;
    CHECK(ready.count() == 0);
    ready.add(7);
    ready.add(7);   // its priority queue
    CHECK(ready.count() == 1);
    CHECK(reads_allowed(65535, ready.count()) == TurnBudget::max_reads);
    ready.add(9);
    ready.add(7);
    CHECK(ready.count() == 2);
    CHECK(reads_allowed(65535, ready.count()) == 2);
    ReadyTunnels zero_first;
    zero_first.add(0);   // tunnel id 0 is a tunnel too
    zero_first.add(0);
    CHECK(zero_first.count() == 1);
    zero_first.add(1);
    CHECK(zero_first.count() == 2);
}

TEST_CASE("the sockets are read first and after every 8 tunnel turns while they find data")
{
    const std::string eight(SocketCadence::tunnels_per_turn, 't');
    CHECK(wake_up(20, true, 100) == "s" + eight + "s" + eight + "s" + "tttt");
    CHECK(wake_up(16, true, 100) == "s" + eight + "s" + eight + "s");
    CHECK(wake_up(3, true, 100) == "sttt");
}

TEST_CASE("sockets found empty wait for the next wake-up; sockets not ready are never read")
{
    const std::string eight(SocketCadence::tunnels_per_turn, 't');
    CHECK(wake_up(30, true, 2) == "s" + eight + "s" + eight + "s" + std::string(14, 't'));
    CHECK(wake_up(30, true, 0) == "s" + std::string(30, 't'));
    CHECK(wake_up(30, false, 100) == std::string(30, 't'));
    CHECK(wake_up(0, true, 100) == "s");
}
