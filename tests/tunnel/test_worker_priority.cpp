// Real-time workers (tunnel/worker_priority.hpp): when a worker drops to the
// normal policy and when it returns, and that a pump started at real-time
// priority runs its workers under SCHED_FIFO when the system lets it (root
// or RLIMIT_RTPRIO), and says why not otherwise.

#include "tests/tunnel/realtime_allowed.hpp"
#include "tunnel/packet_pump.hpp"
#include "tunnel/worker_priority.hpp"

#include <doctest/doctest.h>
#include <sched.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace mesh::tunnel;
using Change = RealtimeBudget::Change;
using namespace std::chrono_literals;

namespace {

// The threads of this process whose policy (field 41 of /proc/.../stat) is SCHED_FIFO.
int fifo_threads()
{
    int count = 0;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream file(task.path() / "stat");
        std::string stat((std::istreambuf_iterator<char>(file)), {});
        // After the command's closing parenthesis: field 3 onwards.
        std::istringstream fields(stat.substr(stat.rfind(')') + 2));
        std::string field;
        for (int number = 3; number <= 41 && fields >> field; ++number) {
            if (number == 41 && std::stoi(field) == SCHED_FIFO)
                ++count;
        }
    }
    return count;
}

} // namespace

TEST_CASE("a real-time worker drops to normal priority once it used its share of a window, and returns with the next")
{
    using Clock = RealtimeBudget::Clock;
    constexpr auto window = RealtimeBudget::window;
    constexpr auto share = RealtimeBudget::realtime_share;
    const Clock::time_point start{};
    RealtimeBudget budget(start, 5s);
    CHECK(budget.realtime());
    // Bursts that stay under the share: real time throughout.
    CHECK(budget.tick(start + window / 2, 5s + share - 1us) == Change::none);
    CHECK(budget.realtime());
    // The share used, continuously or in bursts: normal priority for the rest of the window.
    CHECK(budget.tick(start + window - 1us, 5s + share) == Change::demote);
    CHECK_FALSE(budget.realtime());
    CHECK(budget.tick(start + window - 1us, 5s + 2 * share) == Change::none);
    // The next window: real time again, its CPU counted from its start.
    CHECK(budget.tick(start + window, 5s + 2 * share) == Change::promote);
    CHECK(budget.realtime());
    CHECK(budget.tick(start + window + window / 2, 5s + 3 * share - 1us) == Change::none);
    CHECK(budget.tick(start + window + window / 2, 5s + 3 * share) == Change::demote);
    // A long sleep: one wake-up starts a fresh window.
    CHECK(budget.tick(start + 100 * window, 5s + 3 * share) == Change::promote);
    CHECK(budget.tick(start + 100 * window + 1us, 5s + 3 * share) == Change::none);
    CHECK(budget.realtime());
}

TEST_CASE("a pump started at real-time priority runs its workers under SCHED_FIFO, or says why it may not")
{
    SaTable table;
    const int before = fifo_threads();
    const bool allowed = mesh::test::realtime_allowed();
    {
        PacketPump pump(table, 2);
        const auto refused = pump.start(WorkerPriority::realtime);
        if (allowed) {
            CHECK_FALSE(refused);
            CHECK(pump.scheduling(0) == WorkerScheduling::realtime);
            CHECK(pump.scheduling(1) == WorkerScheduling::realtime);
            CHECK(fifo_threads() == before + 2);
        } else {
            CHECK(refused == std::errc::operation_not_permitted);
            CHECK(pump.scheduling(0) == WorkerScheduling::normal);
            CHECK(fifo_threads() == before);
        }
        CHECK(pump.counters(0).realtime_demotions.get() == 0);
    }
    PacketPump normal(table, 1);
    CHECK_FALSE(normal.start(WorkerPriority::normal));
    CHECK(normal.scheduling(0) == WorkerScheduling::normal);
    CHECK(fifo_threads() == before);
}
