// Real-time workers (tunnel/worker_priority.hpp): when a worker drops to the
// normal policy and when it returns, and that a pump started at real-time
// priority runs its workers under SCHED_FIFO when the system lets it (root
// or RLIMIT_RTPRIO), and says why not otherwise.

#include "tunnel/packet_pump.hpp"
#include "tunnel/worker_priority.hpp"

#include <doctest/doctest.h>
#include <sched.h>
#include <sys/resource.h>

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

TEST_CASE("a real-time worker drops to normal priority after busy_limit without sleep, and returns at a sleep after cooldown")
{
    const RealtimeBudget::Clock::time_point start{};
    RealtimeBudget budget(start);
    CHECK(budget.realtime());
    CHECK(budget.busy(start + RealtimeBudget::busy_limit - 1us) == Change::none);
    CHECK(budget.busy(start + RealtimeBudget::busy_limit) == Change::demote);
    CHECK_FALSE(budget.realtime());
    CHECK(budget.busy(start + 3 * RealtimeBudget::busy_limit) == Change::none);

    // A sleep within the cooldown keeps it at normal priority; the next one after it returns it.
    const auto demoted = start + RealtimeBudget::busy_limit;
    CHECK(budget.going_to_sleep(demoted + RealtimeBudget::cooldown - 1us) == Change::none);
    budget.woke(demoted + RealtimeBudget::cooldown);
    CHECK(budget.going_to_sleep(demoted + RealtimeBudget::cooldown) == Change::promote);
    CHECK(budget.realtime());
    CHECK(budget.going_to_sleep(demoted + 5 * RealtimeBudget::cooldown) == Change::none);

    // Busy time counts from the last wake-up, not from the demotion.
    const auto woke = demoted + 10 * RealtimeBudget::cooldown;
    budget.woke(woke);
    CHECK(budget.busy(woke + RealtimeBudget::busy_limit / 2) == Change::none);
    CHECK(budget.busy(woke + RealtimeBudget::busy_limit) == Change::demote);
}

TEST_CASE("a pump started at real-time priority runs its workers under SCHED_FIFO, or says why it may not")
{
    SaTable table;
    const int before = fifo_threads();
    rlimit rtprio{};
    ::getrlimit(RLIMIT_RTPRIO, &rtprio);
    const bool allowed = ::geteuid() == 0 || rtprio.rlim_cur >= 1;
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
