// A peer that restarts without INITIAL_CONTACT (libreswan's default) and
// initiates: its new IKE SA re-authenticates the same identity and replaces
// the stale one at once (duplicate_sas.cpp), whichever holds the lowest
// nonce; the nonce rule is for two IKE SAs started at once. And the
// re-initiation backoff starts over whenever an IKE SA with the peer is
// established, whoever initiated it. Two engines stepped in one process.

#include "pair_steps.hpp"

#include <botan/chacha_rng.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

using namespace exchange_pair;
using namespace std::chrono_literals;

namespace {

// A seeded generator whose 32-byte draws (among them every nonce the engine
// makes) start with `lead`: which IKE SA holds the lowest nonce is chosen,
// not drawn.
class SteeredRng final : public Botan::RandomNumberGenerator {
public:
    SteeredRng(std::uint8_t lead, std::uint8_t seed) : lead_(lead), chacha_(Botan::secure_vector<std::uint8_t>(32, seed))
    {
    }
    void randomize(std::uint8_t output[], std::size_t length) override
    {
        chacha_.randomize(output, length);
        if (length == 32)
            output[0] = lead_;
    }
    bool accepts_input() const override { return false; }
    void add_entropy(const std::uint8_t[], std::size_t) override {}
    std::string name() const override { return "steered"; }
    void clear() override {}
    bool is_seeded() const override { return true; }

private:
    std::uint8_t lead_;
    Botan::ChaCha_RNG chacha_;
};

constexpr std::uint8_t low = 0x00, high = 0x80;

// No liveness checks, lifetimes beyond every test: only the restart acts.
PeerConfig quiet(PeerConfig p, bool passive = false)
{
    p.ike.dpd_interval = 0ms;
    p.ike.lifetime = 10'000s;
    p.children.front().policy.lifetime = 10'000s;
    p.passive = passive;
    return p;
}

// The "ike" log topic, kept while the test runs.
struct LogCapture {
    LogCapture()
    {
        spdlog::register_logger(
            std::make_shared<spdlog::logger>("ike", std::make_shared<spdlog::sinks::ostream_sink_mt>(out)));
    }
    ~LogCapture() { spdlog::drop("ike"); }
    [[nodiscard]] bool has(const std::string& words) const { return out.str().find(words) != std::string::npos; }
    std::ostringstream out;
};

// B is killed and started again as a new engine with the same identity,
// its data plane empty, and initiates. A restarted libreswan sends no
// INITIAL_CONTACT; this B leaves it out because a stray IKE_SA_INIT from
// A's address (another engine's) reached it first: it holds a half-open IKE
// SA with A when it sends IKE_AUTH (exchange_auth.cpp).
void restart_b_without_initial_contact(Pair& p, Botan::RandomNumberGenerator& rng)
{
    p.b = std::make_unique<IkeEngine>(p.b_host, std::vector{quiet(b_to_a())}, p.b_ike, p.b_natt, rng);
    p.b_host.inbound.clear();
    p.b_host.sas.clear();
    p.b_host.outbound = 0;
    p.wire.clear();
    p.b->start(p.now);
    for (int i = 0; i < 100 && p.wire.empty(); ++i)
        p.tick(10ms);
    REQUIRE(p.wire.size() == 1);   // B's IKE_SA_INIT, held

    std::deque<Datagram> stray_wire;
    FakeHost stray_host;
    stray_host.wire = &stray_wire;
    IkeEngine stray(stray_host, std::vector{quiet(a_to_b())}, p.a_ike, p.a_natt, p.rng);
    stray.start(p.now);
    stray.on_tick(p.now + 1s);
    REQUIRE(stray_wire.size() == 1);
    p.b->on_datagram(p.b_ike, p.a_ike, stray_wire.front().bytes, p.now);
    REQUIRE(p.wire.size() == 2);
    p.wire.pop_back();             // B's answer to the stray: nobody's

    p.deliver_all();               // B's IKE_SA_INIT and IKE_AUTH, without INITIAL_CONTACT, answered
}

// A's one IKE SA and its one CHILD SA: the tunnel sends on it and receives on it alone.
IkeSaStatus only_ike_sa(const std::vector<IkeSaStatus>& status)
{
    REQUIRE(status.size() == 1);
    REQUIRE(status.front().state == IkeState::established);
    REQUIRE(status.front().child_sas.size() == 1);
    return status.front();
}

// A (passive or not) and B establish, time passes, B restarts without
// INITIAL_CONTACT: A's stale IKE SA goes at once, whichever of the two holds
// the lowest nonce.
void replaced_at_once(bool a_passive, bool stale_holds_lowest, bool rekeyed_just_before = false)
{
    CAPTURE(a_passive);
    CAPTURE(stale_holds_lowest);
    LogCapture log;
    SteeredRng a_rng(high, 1), b_rng(stale_holds_lowest ? low : high, 2),
        restarted_rng(stale_holds_lowest ? high : low, 3);
    Pair p(quiet(a_to_b(), a_passive), quiet(b_to_a()), {}, a_passive);
    p.a = std::make_unique<IkeEngine>(p.a_host, std::vector{quiet(a_to_b(), a_passive)}, p.a_ike, p.a_natt, a_rng);
    p.b = std::make_unique<IkeEngine>(p.b_host, std::vector{quiet(b_to_a(), !a_passive)}, p.b_ike, p.b_natt, b_rng);
    p.a->start(p.now);
    p.b->start(p.now);
    establish(p);
    CHECK(only_ike_sa(p.a->status(p.now)).initiator == !a_passive);
    run_until(p, [] { return false; }, 60s);   // established long before the restart
    if (rekeyed_just_before) {
        // A rekeys the IKE SA: its new SA was established just now, but by no IKE_SA_INIT a restart could cross.
        p.a->rekey_ike("b", p.now);
        run_until(p, [&] { return p.a->counters().ike_rekeys == 1 && p.a->status(p.now).size() == 1; }, 5s);
        REQUIRE(p.a->counters().ike_rekeys == 1);
    }
    const auto stale = only_ike_sa(p.a->status(p.now));
    const std::uint32_t stale_in = stale.child_sas.front().spi_in;

    restart_b_without_initial_contact(p, restarted_rng);
    const auto fresh = only_ike_sa(p.a->status(p.now));
    CHECK(fresh.spi_i != stale.spi_i);
    CHECK_FALSE(fresh.initiator);
    const auto& child = fresh.child_sas.front();
    CHECK(child.state == ChildState::active);
    CHECK(child.spi_in != stale_in);
    CHECK(child.spi_out == p.b_host.installed.back().inbound.spi);
    CHECK(p.a_host.outbound == child.spi_out);                      // the tunnel sends on the new SA
    CHECK(p.a_host.inbound == std::set<std::uint32_t>{child.spi_in});
    CHECK(p.a_host.deleted == std::vector{stale_in});
    CHECK(p.a->counters().ike_sas_replaced == 1);
    CHECK(p.a->counters().initial_contacts == 0);
    CHECK(p.a->counters().duplicate_ike_sas == 0);
    CHECK_FALSE(log.has("both ends started at once"));
    CHECK(log.has("authenticated again"));

    // No churn: nothing more is set up, nothing deleted (B's stray half-open SA times out).
    run_until(p, [] { return false; }, 40s);
    check_one_sa_each(p);
    CHECK(p.a_host.installed.size() == 2);
    CHECK(p.b_host.installed.size() == 2);
    CHECK(p.a_host.deleted.size() == 1);

    // The restarted B rekeys its CHILD SA: answered with a new SA, not refused.
    p.b->rekey_child(p.b_host.outbound, p.now);
    run_until(p, [&] { return p.a->counters().child_rekeys_answered == 1; }, 5s);
    CHECK(p.a->counters().child_rekeys_answered == 1);
    CHECK(p.b->counters().child_rekeys == 1);
    CHECK(p.b->counters().rekey_failures == 0);
    run_until(p, [] { return false; }, 5s);
    check_one_sa_each(p);
    CHECK(p.a_host.outbound == p.b_host.installed.back().inbound.spi);
    CHECK(p.lost == 0);
    CHECK_FALSE(log.has("both ends started at once"));
}

} // namespace

TEST_CASE("a peer restarted without INITIAL_CONTACT: its new IKE SA replaces the stale one at once, the stale one "
          "holding the lowest nonce")
{
    replaced_at_once(false, true);
}

TEST_CASE("a peer restarted without INITIAL_CONTACT: its new IKE SA replaces the stale one at once, the new one "
          "holding the lowest nonce")
{
    replaced_at_once(false, false);
}

TEST_CASE("a passive site: a peer restarted without INITIAL_CONTACT replaces its IKE SA, no 'both ends started at once'")
{
    replaced_at_once(true, true);
    replaced_at_once(true, false);
}

TEST_CASE("a peer restarted without INITIAL_CONTACT just after our IKE rekey: its new IKE SA replaces the rekeyed one")
{
    replaced_at_once(false, true, true);
    replaced_at_once(false, false, true);
}

TEST_CASE("the re-initiation backoff starts over when the peer brings the tunnel up itself")
{
    LogCapture log;
    Pair p(quiet(a_to_b()), quiet(b_to_a(), true));
    const auto drop_all = [](const Datagram&) { return true; };
    // B unreachable: A's attempts fail, the backoff grows to 4 s (1, 2, 4).
    run_until(p, [&] { return p.a->counters().peers_dead == 3; }, 200s, drop_all);
    REQUIRE(p.a->counters().peers_dead == 3);
    CHECK(log.has("next attempt in 4000 ms"));
    p.wire.clear();

    // B is back and initiates before A's next attempt: A answers.
    p.b = std::make_unique<IkeEngine>(p.b_host, std::vector{quiet(b_to_a())}, p.b_ike, p.b_natt, p.rng);
    p.b->start(p.now);
    run_until(p, [&] { return p.a_host.outbound != 0; }, 3s);
    const auto up = only_ike_sa(p.a->status(p.now));
    CHECK_FALSE(up.initiator);

    // B goes away again (it deletes the IKE SA), and stays silent.
    p.b->shutdown();
    p.deliver_all();
    REQUIRE(p.a->status(p.now).empty());
    const auto lost_at = p.now;
    const auto sent = p.a->counters().messages_out;
    run_until(p, [&] { return p.a->counters().messages_out > sent; }, 20s, drop_all);
    // The first step again (1 s, up to a quarter more), not 8 s.
    CHECK(p.now - lost_at >= 1s);
    CHECK(p.now - lost_at <= 1250ms + 100ms);
}
