// What a hub pays for N IKE_SA_INIT arriving at once: the responder's DH on
// the control thread (InlineExecutor, the reference) against a CryptoPool of
// one thread per core, in the same run. Prints, per DH group, the time until
// all N are answered and the control thread's CPU time meanwhile: what the
// control thread cannot spend on other peers' IKE, DPD, ZAPI and status.
//
// usage: build/tests/ike/bench_ike_init [SPOKES (default 200)] [THREADS (default: cores)]

#include "tests/ike/hub_and_spokes.hpp"

#include "ike/crypto_pool.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

using namespace exchange_pair;

namespace {

double thread_cpu_ms()
{
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

double ms_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

struct Figures {
    double all_answered_ms;
    double control_cpu_ms;
};

// The N requests are on the wire before the clock starts; answers are counted, not delivered.
Figures answer_all(std::size_t spokes, DhGroup group, CryptoExecutor* crypto, boost::asio::io_context& control)
{
    HubAndSpokes net(spokes, group, crypto);
    net.start_all();
    const std::deque<Datagram> requests = std::move(net.wire);
    net.wire.clear();
    // Work, so that waiting for the pool blocks as the daemon's io_context
    // does; the last run's guard going stopped it.
    control.restart();
    const auto work = boost::asio::make_work_guard(control);
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = thread_cpu_ms();
    for (const auto& request : requests)
        net.deliver(request);
    while (net.wire.size() < spokes)
        control.run_one_for(std::chrono::milliseconds(100));
    return {ms_since(start), thread_cpu_ms() - cpu_start};
}

} // namespace

int main(int argc, char** argv)
{
    spdlog::set_level(spdlog::level::warn);
    const std::size_t spokes = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 200;
    const unsigned threads = argc > 2 ? static_cast<unsigned>(std::strtoul(argv[2], nullptr, 10))
                                      : std::max(1u, std::thread::hardware_concurrency());
    std::printf("%zu IKE_SA_INIT at once, answered by one responder; pool of %u threads (machine: %u cores)\n",
                spokes, threads, std::thread::hardware_concurrency());
    std::printf("%-10s %-8s %16s %18s\n", "group", "DH on", "all answered ms", "control CPU ms");
    boost::asio::io_context control;
    for (const auto group : {DhGroup::ecp256, DhGroup::curve25519, DhGroup::modp2048, DhGroup::modp3072}) {
        const std::string name = transform_name(TransformType::dh, static_cast<std::uint16_t>(group), 0, SuiteFor::ike);
        const auto reference = answer_all(spokes, group, nullptr, control);
        CryptoPool pool(control, threads);
        const auto pooled = answer_all(spokes, group, &pool, control);
        std::printf("%-10s %-8s %16.1f %18.1f\n", name.c_str(), "control", reference.all_answered_ms, reference.control_cpu_ms);
        std::printf("%-10s %-8s %16.1f %18.1f\n", name.c_str(), "pool", pooled.all_answered_ms, pooled.control_cpu_ms);
    }
    return 0;
}
