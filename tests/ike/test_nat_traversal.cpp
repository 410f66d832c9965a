// nat-traversal = false, as RouterOS has it: IKE_SA_INIT carries no
// NAT_DETECTION_*_IP notifies either way, IKE stays on port 500 and the CHILD
// SA is plain ESP (RFC 7296 section 2.23 is never entered).

#include "exchange_pair.hpp"

#include "ike/nat_detection.hpp"

#include <doctest/doctest.h>

using namespace exchange_pair;

namespace {

bool has_nat_detection(const Datagram& d)
{
    const auto message = parse(d.bytes);
    REQUIRE(message);
    REQUIRE(message->header.exchange_type == ExchangeType::ike_sa_init);
    return message->find_notify(NotifyType::nat_detection_source_ip) != nullptr ||
           message->find_notify(NotifyType::nat_detection_destination_ip) != nullptr;
}

PeerConfig without_nat_traversal(PeerConfig peer)
{
    peer.ike.nat_traversal = false;
    peer.always_encapsulate = false;   // the configuration makes encapsulation "auto"
    return peer;
}

} // namespace

TEST_CASE("nat-traversal false: no NAT-D payloads in IKE_SA_INIT, IKE on port 500, plain ESP")
{
    Pair p(without_nat_traversal(a_to_b()), without_nat_traversal(b_to_a()));
    p.tick(std::chrono::milliseconds(1000));
    REQUIRE(p.wire.size() == 1);
    CHECK_FALSE(has_nat_detection(p.wire.front()));   // the request
    p.deliver(p.wire.front());
    p.wire.pop_front();
    REQUIRE(p.wire.size() == 1);
    CHECK_FALSE(has_nat_detection(p.wire.front()));   // the response
    CHECK(p.wire.front().from.port == 500);
    p.deliver_all();
    REQUIRE(p.a_host.installed.size() == 1);
    REQUIRE(p.b_host.installed.size() == 1);
    CHECK_FALSE(p.a_host.installed.front().udp_encapsulation);
    CHECK_FALSE(p.b_host.installed.front().udp_encapsulation);
    CHECK(p.a_host.installed.front().remote.port == 500);
}

TEST_CASE("nat-traversal false: the peer's NAT-D payloads are not looked at, so a NAT they show moves nothing")
{
    // B sends NAT-D (nat-traversal on) with encapsulation "udp", whose
    // source hash is made not to match: to A it looks like B is behind a NAT.
    Pair p(without_nat_traversal(a_to_b()), b_to_a());
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    REQUIRE(p.a_host.installed.size() == 1);
    CHECK_FALSE(p.a_host.installed.front().udp_encapsulation);
    CHECK(p.a_host.installed.front().remote.port == 500);
}

TEST_CASE("nat-traversal true (the default): IKE_SA_INIT carries NAT-D both ways")
{
    Pair p(a_to_b(), b_to_a());
    p.tick(std::chrono::milliseconds(1000));
    REQUIRE(p.wire.size() == 1);
    CHECK(has_nat_detection(p.wire.front()));
    p.deliver(p.wire.front());
    p.wire.pop_front();
    REQUIRE(p.wire.size() == 1);
    CHECK(has_nat_detection(p.wire.front()));
}

namespace {

// The NAT-D notifications of an IKE_SA_INIT, source first.
std::pair<std::vector<std::uint8_t>, std::vector<std::uint8_t>> nat_detection_of(const Datagram& d)
{
    const auto message = parse(d.bytes);
    REQUIRE(message);
    const auto* source = message->find_notify(NotifyType::nat_detection_source_ip);
    const auto* destination = message->find_notify(NotifyType::nat_detection_destination_ip);
    REQUIRE(source != nullptr);
    REQUIRE(destination != nullptr);
    return {source->data, destination->data};
}

// Carries the pair's datagrams with a NAT in front of A: A's datagrams leave
// from `outside` (port 500) or `outside` + 1 (4500), the answers to those
// ports reach A's own ports.
void deliver_through_nat(Pair& p, const Endpoint& outside)
{
    for (int guard = 0; !p.wire.empty() && guard < 100; ++guard) {
        Datagram d = std::move(p.wire.front());
        p.wire.pop_front();
        if (d.from.address == p.a_ike.address) {
            d.from = {outside.address, static_cast<std::uint16_t>(outside.port + (d.from.port == 500 ? 0 : 1))};
            p.b->on_datagram(d.to, d.from, d.bytes, p.now);
        } else {
            const Endpoint to = d.to.port == outside.port ? p.a_ike : p.a_natt;
            p.a->on_datagram(to, d.from, d.bytes, p.now);
        }
    }
}

} // namespace

TEST_CASE("NAT-D: the hashes are over the addresses and ports the datagrams carry (RFC 7296 section 2.23)")
{
    auto a_side = a_to_b();
    a_side.always_encapsulate = false;
    Pair p(std::move(a_side), b_to_a());
    p.tick(std::chrono::milliseconds(1000));
    REQUIRE(p.wire.size() == 1);
    const auto request = p.wire.front();
    const auto spi_i = parse(request.bytes)->header.spi_i;
    const auto [source, destination] = nat_detection_of(request);
    CHECK(source == nat_detection_hash(spi_i, 0, p.a_ike));
    CHECK(destination == nat_detection_hash(spi_i, 0, p.b_ike));
    p.deliver(request);
    p.wire.pop_front();
    REQUIRE(p.wire.size() == 1);
    const auto response = parse(p.wire.front().bytes);
    REQUIRE(response);
    // B has encapsulation "udp": its source hash is the forced one, over its real address and port.
    const auto [b_source, b_destination] = nat_detection_of(p.wire.front());
    CHECK(b_source == forced_encapsulation_hash(spi_i, response->header.spi_r, p.b_ike));
    CHECK(b_destination == nat_detection_hash(spi_i, response->header.spi_r, p.a_ike));
}

TEST_CASE("encapsulation udp at both ends and no NAT on the path: ESP-in-UDP on port 4500, no NAT reported")
{
    Pair p(a_to_b(), b_to_a());
    p.tick(std::chrono::milliseconds(1000));
    p.deliver_all();
    REQUIRE(p.a_host.installed.size() == 1);
    REQUIRE(p.b_host.installed.size() == 1);
    CHECK(p.a_host.installed.front().udp_encapsulation);
    CHECK(p.b_host.installed.front().udp_encapsulation);
    CHECK(p.a_host.installed.front().remote.port == 4500);
    CHECK(p.b_host.installed.front().remote.port == 4500);
    for (const auto* engine : {p.a.get(), p.b.get()}) {
        const auto status = engine->status(p.now);
        REQUIRE(status.size() == 1);
        CHECK_FALSE(status.front().nat_detected);
        CHECK_FALSE(status.front().behind_nat);
    }
}

TEST_CASE("a NAT in front of the initiator is detected by both ends, whatever its encapsulation")
{
    for (const bool always_encapsulate : {true, false}) {
        CAPTURE(always_encapsulate);
        auto a_side = a_to_b();
        a_side.always_encapsulate = always_encapsulate;
        const Endpoint outside{*IpAddress::parse("203.0.113.9"), 40500};
        auto b_side = b_to_a();
        b_side.always_encapsulate = false;
        b_side.address = IpPrefix(outside.address, 32);   // B knows A by the NAT's address
        Pair p(std::move(a_side), std::move(b_side));
        p.tick(std::chrono::milliseconds(1000));
        deliver_through_nat(p, outside);
        REQUIRE(p.b_host.installed.size() == 1);
        CHECK(p.b_host.installed.front().udp_encapsulation);
        CHECK(p.b_host.installed.front().remote == Endpoint{outside.address, 40501});
        const auto a_status = p.a->status(p.now);
        const auto b_status = p.b->status(p.now);
        REQUIRE(a_status.size() == 1);
        REQUIRE(b_status.size() == 1);
        CHECK(a_status.front().behind_nat);   // A sends the keepalives
        CHECK(b_status.front().nat_detected);
        CHECK_FALSE(b_status.front().behind_nat);
    }
}
