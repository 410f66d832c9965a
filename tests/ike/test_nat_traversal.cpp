// nat-traversal = false, as RouterOS has it: IKE_SA_INIT carries no
// NAT_DETECTION_*_IP notifies either way, IKE stays on port 500 and the CHILD
// SA is plain ESP (RFC 7296 section 2.23 is never entered).

#include "exchange_pair.hpp"

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
