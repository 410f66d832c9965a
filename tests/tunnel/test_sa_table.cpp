#include "tunnel/sa_table.hpp"

#include <doctest/doctest.h>

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
} // namespace

TEST_CASE("a snapshot a reader holds outlives its replacement until the reader is quiescent")
{
    SaTable table;
    auto& reader = table.quiescent_state().add_reader();
    reader.online();
    table.add_tunnel(1, {});
    auto sa = std::make_shared<InboundSa>(params(0x1001));
    const std::weak_ptr<InboundSa> watch = sa;
    table.install_inbound(1, std::move(sa));

    const Snapshot* held = table.snapshot();
    REQUIRE(held->inbound(0x1001) != nullptr);
    table.delete_inbound(0x1001);
    table.reclaim();
    CHECK_FALSE(watch.expired());                      // the reader may still use it
    CHECK(held->inbound(0x1001)->sa->spi() == 0x1001);
    CHECK(table.snapshot()->inbound(0x1001) == nullptr);

    reader.quiescent();
    table.reclaim();
    CHECK(watch.expired());
}

TEST_CASE("an offline reader holds nothing")
{
    SaTable table;
    auto& reader = table.quiescent_state().add_reader();
    reader.offline();
    table.add_tunnel(1, {});
    auto sa = std::make_shared<InboundSa>(params(0x1001));
    const std::weak_ptr<InboundSa> watch = sa;
    table.install_inbound(1, std::move(sa));
    table.delete_inbound(0x1001);
    table.reclaim();
    CHECK(watch.expired());
}

TEST_CASE("inbound lookup by SPI finds each SA and its tunnel; a duplicate SPI is refused")
{
    SaTable table;
    table.add_tunnel(1, {});
    table.add_tunnel(2, {});
    table.install_inbound(2, std::make_shared<InboundSa>(params(0x3000)));
    table.install_inbound(1, std::make_shared<InboundSa>(params(0x1000)));
    table.install_inbound(1, std::make_shared<InboundSa>(params(0x2000)));   // a rekey overlap
    const Snapshot* s = table.snapshot();
    CHECK(s->inbound(0x1000)->tunnel->id == 1);
    CHECK(s->inbound(0x2000)->tunnel->id == 1);
    CHECK(s->inbound(0x3000)->tunnel->id == 2);
    CHECK(s->inbound(0x4000) == nullptr);
    CHECK_THROWS_AS(table.install_inbound(2, std::make_shared<InboundSa>(params(0x1000))), std::invalid_argument);
}

TEST_CASE("a rekey in the daemon's order: the old inbound SA goes after the new outbound one took over, the tunnel keeps it")
{
    SaTable table;
    table.add_tunnel(1, {});
    table.install_inbound(1, std::make_shared<InboundSa>(params(0x1000)));
    table.install_outbound(1, std::make_shared<OutboundSa>(params(0x2000)));
    table.install_inbound(1, std::make_shared<InboundSa>(params(0x1001)));   // decrypts before the peer sends on it
    CHECK(table.snapshot()->tunnel(1)->outbound->spi() == 0x2000);           // still sending on the old SA
    table.install_outbound(1, std::make_shared<OutboundSa>(params(0x2001)));
    table.delete_inbound(0x1000);
    const Snapshot* s = table.snapshot();
    CHECK(s->inbound(0x1000) == nullptr);
    CHECK(s->inbound(0x1001) != nullptr);
    REQUIRE(s->tunnel(1)->outbound != nullptr);
    CHECK(s->tunnel(1)->outbound->spi() == 0x2001);
    CHECK(table.tunnels().at(1).inbound.size() == 1);
}
