#pragma once
// One responder (the hub, B at 192.0.2.2) and N initiators (spokes, all at
// 192.0.2.1, spoke i on ports 10000+i and 20000+i), their datagrams on one
// wire, delivered by destination. For what needs many IKE_SA_INIT at once:
// the crypto pool's tests and the IKE_SA_INIT benchmark.

#include "exchange_pair.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace exchange_pair {

struct HubAndSpokes {
    HubAndSpokes(std::size_t spokes, DhGroup group, CryptoExecutor* hub_crypto)
    {
        auto hub_side = b_to_a();
        hub_side.passive = true;
        hub_side.ike.dh_groups = {group};
        hub_side.remote_id.reset();             // "auto": each spoke has its own identity
        IkeLimits limits;
        limits.cookie_threshold = spokes + 1;   // no cookies: every IKE_SA_INIT costs the hub a DH
        limits.max_half_open = spokes + 1;
        limits.max_ike_sas_per_address = spokes + 1;
        hub_host.wire = &wire;
        hub_host.name = 'b';
        hub = std::make_unique<IkeEngine>(hub_host, std::vector{std::move(hub_side)}, hub_ike,
                                          Endpoint{hub_ike.address, 4500}, hub_rng, limits, hub_crypto);
        for (std::size_t i = 0; i < spokes; ++i) {
            auto& spoke = *spokes_.emplace_back(std::make_unique<Spoke>(i));
            spoke.host.wire = &wire;
            const std::string id = "fqdn:spoke-" + std::to_string(i) + ".lab";
            auto side = peer("b", "192.0.2.2", "192.0.2.1", id.c_str(), "fqdn:b.lab", "lab-secret");
            side.ike.dh_groups = {group};
            spoke.engine = std::make_unique<IkeEngine>(spoke.host, std::vector{std::move(side)}, spoke.ike,
                                                       spoke.natt, spoke.rng);
            spoke.engine->start(now);
        }
    }

    // Every spoke sends its IKE_SA_INIT (each starts within half a second).
    void start_all()
    {
        now += std::chrono::milliseconds(1000);
        for (auto& spoke : spokes_)
            spoke->engine->on_tick(now);
    }

    // Every datagram on the wire to its engine, and those they cause, until the wire is empty.
    void deliver_all()
    {
        while (!wire.empty()) {
            Datagram d = std::move(wire.front());
            wire.pop_front();
            deliver(d);
        }
    }

    void deliver(const Datagram& d)
    {
        if (d.to.address == hub_ike.address) {
            hub->on_datagram(d.to, d.from, d.bytes, now);
            return;
        }
        for (auto& spoke : spokes_)
            if (d.to == spoke->ike || d.to == spoke->natt)
                spoke->engine->on_datagram(d.to, d.from, d.bytes, now);
    }

    [[nodiscard]] std::size_t spokes() const noexcept { return spokes_.size(); }
    [[nodiscard]] std::size_t spokes_up() const
    {
        std::size_t up = 0;
        for (const auto& spoke : spokes_)
            up += spoke->host.installed.size() == 1 ? 1 : 0;
        return up;
    }

    test_rng::TestRng hub_rng{"hub"};
    std::deque<Datagram> wire;
    FakeHost hub_host;
    Endpoint hub_ike{*IpAddress::parse("192.0.2.2"), 500};
    Clock::time_point now{};
    std::unique_ptr<IkeEngine> hub;

private:
    struct Spoke {
        explicit Spoke(std::size_t i)
            : rng("spoke-" + std::to_string(i)),
              ike{*IpAddress::parse("192.0.2.1"), static_cast<std::uint16_t>(10000 + i)},
              natt{*IpAddress::parse("192.0.2.1"), static_cast<std::uint16_t>(20000 + i)}
        {
        }
        test_rng::TestRng rng;
        Endpoint ike, natt;
        FakeHost host;
        std::unique_ptr<IkeEngine> engine;
    };

    std::vector<std::unique_ptr<Spoke>> spokes_;
};

} // namespace exchange_pair
