#include "tunnel/sa_table.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace mesh::tunnel;

namespace {
SaParams params(std::uint32_t spi)
{
    SaParams p;
    p.spi = spi;
    p.cipher = EspCipher::aes128_gcm;
    p.cipher_key.assign(info(p.cipher).key_bytes, 1);
    return p;
}

// A CHILD SA receiving on spi_in and sending on spi_in + 0x1000.
SaTable::InstalledSa child(std::uint32_t spi_in)
{
    return {std::make_shared<InboundSa>(params(spi_in)), std::make_shared<OutboundSa>(params(spi_in + 0x1000)), {}};
}

std::uint32_t sending(const SaTable& table, TunnelId id)
{
    const OutboundSa* out = table.snapshot()->tunnel(id)->outbound;
    return out == nullptr ? 0 : out->spi();
}
} // namespace

TEST_CASE("a snapshot a reader holds outlives its replacement until the reader is quiescent")
{
    SaTable table;
    auto& reader = table.quiescent_state().add_reader();
    reader.online();
    table.add_tunnel(1, {});
    auto sa = child(0x1001);
    const std::weak_ptr<InboundSa> watch = sa.inbound;
    table.install(1, std::move(sa), true);

    const Snapshot* held = table.snapshot();
    REQUIRE(held->inbound(0x1001) != nullptr);
    table.remove(0x1001);
    table.reclaim();
    CHECK_FALSE(watch.expired());                      // the reader may still use it
    CHECK(held->inbound(0x1001)->sa->spi() == 0x1001);
    CHECK(table.snapshot()->inbound(0x1001) == nullptr);

    reader.quiescent();
    table.reclaim();
    CHECK(watch.expired());
}

// The pump's reading pattern on two threads (online, read a snapshot,
// quiescent; now and then offline as before epoll_wait) against the control
// thread's installs, removes and reclaims: a snapshot or SA freed while a
// reader can still see it is a use after free that ThreadSanitizer reports
// (tests/run-all.sh runs this binary under it).
TEST_CASE("readers on two threads never see a freed snapshot while SAs come and go")
{
    SaTable table;
    table.add_tunnel(1, {});
    std::atomic<bool> stop{false};
    std::atomic<std::uint64_t> seen{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) {
        readers.emplace_back([&, &reader = table.quiescent_state().add_reader()] {
            std::uint64_t batches = 0, sum = 0;
            while (!stop.load(std::memory_order_relaxed)) {
                reader.online();
                for (int batch = 0; batch < 8; ++batch) {
                    const Snapshot* snapshot = table.snapshot();
                    for (std::uint32_t spi = 0x1000; spi < 0x1008; ++spi)
                        if (const auto* entry = snapshot->inbound(spi))
                            sum += entry->sa->spi() + (entry->tunnel->outbound ? entry->tunnel->outbound->spi() : 0);
                    reader.quiescent();
                    ++batches;
                }
                reader.offline();
            }
            seen.fetch_add(batches + (sum & 1), std::memory_order_relaxed);
        });
    }
    for (std::uint32_t i = 0; i < 4000; ++i) {
        const std::uint32_t spi = 0x1000 + i % 8;
        table.install(1, child(spi), true);
        if (i >= 4)
            table.remove(0x1000 + (i - 4) % 8);
        table.reclaim();
    }
    stop = true;
    for (auto& reader : readers)
        reader.join();
    CHECK(seen.load() > 0);
    CHECK(table.quiescent_state().reclaim() == 0);
}

TEST_CASE("an offline reader holds nothing")
{
    SaTable table;
    auto& reader = table.quiescent_state().add_reader();
    reader.offline();
    table.add_tunnel(1, {});
    auto sa = child(0x1001);
    const std::weak_ptr<InboundSa> watch = sa.inbound;
    table.install(1, std::move(sa), true);
    table.remove(0x1001);
    table.reclaim();
    CHECK(watch.expired());
}

TEST_CASE("inbound lookup by SPI finds each SA and its tunnel; a duplicate SPI is refused")
{
    SaTable table;
    table.add_tunnel(1, {});
    table.add_tunnel(2, {});
    table.install(2, child(0x3000), true);
    table.install(1, child(0x1000), true);
    table.install(1, child(0x2000), false);   // a rekey overlap
    const Snapshot* s = table.snapshot();
    CHECK(s->inbound(0x1000)->tunnel->id == 1);
    CHECK(s->inbound(0x2000)->tunnel->id == 1);
    CHECK(s->inbound(0x3000)->tunnel->id == 2);
    CHECK(s->inbound(0x4000) == nullptr);
    CHECK_THROWS_AS(table.install(2, child(0x1000), false), std::invalid_argument);
    CHECK_THROWS_AS(table.send_on(2, 0x1000), std::invalid_argument);   // another tunnel's SA
}

TEST_CASE("a rekey in the daemon's order: the old SA goes after the new one took over, the tunnel keeps sending")
{
    SaTable table;
    table.add_tunnel(1, {});
    table.install(1, child(0x1000), true);
    table.install(1, child(0x1001), false);   // decrypts before the peer sends on it
    CHECK(sending(table, 1) == 0x2000);       // still sending on the old SA
    table.send_on(1, 0x1001);
    table.remove(0x1000);
    const Snapshot* s = table.snapshot();
    CHECK(s->inbound(0x1000) == nullptr);
    CHECK(s->inbound(0x1001) != nullptr);
    CHECK(sending(table, 1) == 0x2001);
    CHECK(table.tunnels().at(1).sas.size() == 1);
}

TEST_CASE("the SA that sent goes: the newest other one takes over with its own sequence numbers; the last takes all")
{
    SaTable table;
    table.add_tunnel(1, {});
    table.install(1, child(0x1000), true);
    table.install(1, child(0x1001), true);    // a duplicate of a simultaneous start, sending now
    OutboundSa& first = *table.tunnels().at(1).sas.front().outbound;
    auto packet = std::make_unique<PacketBuffer>();
    packet->reset();
    packet->set_size(64);
    REQUIRE(first.seal(*packet, 4).has_value());   // the first SA sent a packet before it stopped
    CHECK(sending(table, 1) == 0x2001);

    table.remove(0x1001);
    CHECK(sending(table, 1) == 0x2000);
    CHECK(table.snapshot()->tunnel(1)->outbound == &first);   // the same object: no sequence number again
    CHECK(first.next_sequence() == 2);

    table.install(1, child(0x1002), false);
    table.remove(0x1002);                     // a non-sending SA goes: nothing changes
    CHECK(sending(table, 1) == 0x2000);
    table.remove(0x1000);
    CHECK(sending(table, 1) == 0);
    CHECK(table.tunnels().at(1).sas.empty());
}

TEST_CASE("tunnels removed together leave the others and their SAs in the snapshot")
{
    SaTable table;
    for (TunnelId id = 1; id <= 4; ++id) {
        table.add_tunnel(id, {});
        table.install(id, child(0x1000 * id), true);
    }
    const std::vector<TunnelId> gone{1, 3};
    table.remove_tunnels(gone);
    const Snapshot* s = table.snapshot();
    CHECK(s->tunnel(1) == nullptr);
    CHECK(s->tunnel(3) == nullptr);
    CHECK(sending(table, 2) == 0x2000 + 0x1000);
    CHECK(sending(table, 4) == 0x4000 + 0x1000);
    CHECK(s->inbound(0x1000) == nullptr);
    CHECK(s->inbound(0x3000) == nullptr);
    CHECK(s->inbound(0x4000)->tunnel->id == 4);
}
