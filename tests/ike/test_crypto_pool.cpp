// The responder's IKE_SA_INIT keys computed on a CryptoPool: off the control
// thread, answered when the control thread runs the continuation, never
// computed twice for a retransmission, and every IKE SA still only touched
// on the control thread (tests/run-all.sh runs these under ThreadSanitizer).

#include "hub_and_spokes.hpp"

#include "ike/crypto_pool.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>

using namespace exchange_pair;
using namespace std::chrono_literals;

namespace {

// Runs continuations until `done`, or fails after 30 s of waiting for them.
void run_continuations_until(boost::asio::io_context& control, const std::function<bool()>& done)
{
    const auto work = boost::asio::make_work_guard(control);   // so that waiting blocks
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (!done() && std::chrono::steady_clock::now() < until)
        control.run_one_for(100ms);
    REQUIRE(done());
}

} // namespace

TEST_CASE("crypto pool: IKE_SA_INIT is answered once its keys come back to the control thread; a retransmission "
          "meanwhile is not computed again")
{
    boost::asio::io_context control;
    CryptoPool pool(control, 2);
    HubAndSpokes net(1, DhGroup::ecp256, &pool);
    net.start_all();
    REQUIRE(net.wire.size() == 1);
    const Datagram init = net.wire.front();
    net.deliver_all();
    CHECK(net.wire.empty());                    // nothing until the control thread runs the continuation
    net.deliver(init);                          // the spoke's retransmission
    CHECK(net.wire.empty());
    CHECK(net.hub->counters().init_retransmits == 1);
    run_continuations_until(control, [&] { return !net.wire.empty(); });
    CHECK(net.wire.size() == 1);
    CHECK(net.hub->status(net.now).size() == 1);
    net.deliver_all();
    CHECK(net.spokes_up() == 1);
    CHECK(net.hub->counters().authentication_failed == 0);
}

TEST_CASE("crypto pool: 40 spokes at once, their keys computed on 4 threads, all come up")
{
    boost::asio::io_context control;
    CryptoPool pool(control, 4);
    HubAndSpokes net(40, DhGroup::ecp256, &pool);
    net.start_all();
    REQUIRE(net.wire.size() == 40);
    net.deliver_all();
    run_continuations_until(control, [&] {
        net.deliver_all();
        return net.spokes_up() == net.spokes();
    });
    CHECK(net.hub->counters().authentication_failed == 0);
    CHECK(net.hub->counters().init_retransmits == 0);
    CHECK(net.hub_host.installed.size() == 40);
}

TEST_CASE("crypto pool: a continuation that comes back after its engine is gone does nothing")
{
    boost::asio::io_context control;
    CryptoPool pool(control, 1);
    auto net = std::make_unique<HubAndSpokes>(1, DhGroup::ecp256, &pool);
    net->start_all();
    net->deliver_all();
    net.reset();
    const auto work = boost::asio::make_work_guard(control);
    std::size_t ran = 0;                         // the job finishes and posts; its engine is gone
    const auto until = std::chrono::steady_clock::now() + 30s;
    while (ran == 0 && std::chrono::steady_clock::now() < until)
        ran = control.run_one_for(100ms);
    CHECK(ran == 1);
}
