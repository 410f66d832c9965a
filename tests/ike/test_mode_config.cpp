// Mode config (RFC 7296 section 3.15): the CP attributes as bytes, the checks
// of a CFG_REPLY, and a branch (A, mode-config "request") taking its address
// from a hub (B, serving a pool):
//
//   A (branch) 192.0.2.1                         B (hub) 192.0.2.2
//   IKE_AUTH  HDR, SK{IDi, AUTH, CP(CFG_REQUEST), SAi2, TSi = 0.0.0.0/0, TSr = 10.1.0.0/24}  -->
//                         <--  HDR, SK{IDr, AUTH, CP(CFG_REPLY), SAr2, TSi = 10.99.0.x/32, TSr}
//   or, the pool exhausted:
//                         <--  HDR, SK{IDr, AUTH, N(INTERNAL_ADDRESS_FAILURE)}

#include "codec_helpers.hpp"
#include "pair_steps.hpp"

#include "ike/mode_config.hpp"
#include "net/address_pool.hpp"

#include <doctest/doctest.h>

using namespace exchange_pair;
using namespace std::chrono_literals;
using ike_test::Bytes;
using ike_test::hex;

namespace {

Bytes body_of(const CpPayload& cp)
{
    Message m;
    m.header.exchange_type = ExchangeType::ike_auth;
    m.payloads = {cp};
    const Bytes bytes = serialize(m);
    REQUIRE(bytes.size() >= 32);
    return {bytes.begin() + 32, bytes.end()};   // after the IKE header and the CP's generic header
}

IpPrefix net(const char* text)
{
    return *IpPrefix::parse(text);
}

CpPayload reply_of(std::vector<ConfigAttribute> attributes)
{
    return CpPayload{CfgType::reply, std::move(attributes)};
}

// A mode ip tunnel: the branch's side is the address it gets, the hub's is 10.1.0.0/24.
PeerConfig branch()
{
    PeerConfig p = a_to_b();
    p.mode_config = ModeConfigRole::request;
    p.children.front().mode = ChildMode::tunnel_ip;
    p.children.front().remote_subnets = {net("10.1.0.0/24")};
    return p;
}
PeerConfig hub()
{
    PeerConfig p = b_to_a();
    p.mode_config = ModeConfigRole::serve;
    p.children.front().mode = ChildMode::tunnel_ip;
    p.children.front().local_subnets = {net("10.1.0.0/24")};
    return p;
}

// The hub's host hands out /32s of `pool` by identity, with a split-include.
void serve(Pair& p, mesh::net::AddressPool& pool)
{
    p.b_host.lease = [&pool](const ModeConfigLease& asked) {
        ModeConfig given;
        given.subnets = {net("10.1.0.0/24")};
        if (const auto block = pool.acquire(asked.identity))
            given.address4 = *block;
        return given;
    };
}

} // namespace

TEST_CASE("CP attributes: a CFG_REQUEST asks an empty address and subnet per family (section 3.15.1)")
{
    CHECK_BYTES(body_of(cfg_request({true, false})), hex("01 000000  0001 0000  000d 0000"));
    CHECK_BYTES(body_of(cfg_request({true, true})),
                hex("01 000000  0001 0000  000d 0000  0008 0000  000f 0000"));
    CHECK(requested_families(cfg_request({false, true})) == AddressFamilies{false, true});
    // A suggested address (section 3.15.1 allows one) is a request all the same.
    CHECK(requested_families(CpPayload{CfgType::request, {{cfg_attribute::internal_ip4_address, {10, 0, 0, 9}}}}) ==
          AddressFamilies{true, false});
}

TEST_CASE("CP attributes: a CFG_REPLY with address, netmask, IPv6 address, subnets and DNS in known bytes")
{
    ModeConfig given;
    given.address4 = net("10.99.0.7/31");
    given.address6 = IpPrefix(*IpAddress::parse("2001:db8::7"), 64);
    given.subnets = {net("10.1.0.0/24"), net("2001:db8:1::/48")};
    given.dns = {*IpAddress::parse("192.0.2.53"), *IpAddress::parse("2001:db8::53")};
    const CpPayload cp = cfg_reply(given);
    CHECK_BYTES(body_of(cp), hex("02 000000"
                                 "0001 0004 0a630007"                                  // INTERNAL_IP4_ADDRESS
                                 "0002 0004 fffffffe"                                  // INTERNAL_IP4_NETMASK /31
                                 "0008 0011 20010db8000000000000000000000007 40"       // INTERNAL_IP6_ADDRESS /64
                                 "000d 0008 0a010000 ffffff00"                         // INTERNAL_IP4_SUBNET
                                 "000f 0011 20010db8000100000000000000000000 30"       // INTERNAL_IP6_SUBNET /48
                                 "0003 0004 c0000235"                                  // INTERNAL_IP4_DNS
                                 "000a 0010 20010db8000000000000000000000053"));       // INTERNAL_IP6_DNS
    const auto parsed = parse_cfg_reply(cp);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == given);
    // Without a netmask the address is a host.
    ModeConfig host;
    host.address4 = net("10.99.0.7/32");
    CHECK_BYTES(body_of(cfg_reply(host)), hex("02 000000 0001 0004 0a630007"));
    CHECK(parse_cfg_reply(cfg_reply(host)) == host);
}

TEST_CASE("CP attributes: unknown types and empty values in a CFG_REPLY are ignored")
{
    const auto parsed = parse_cfg_reply(reply_of({{cfg_attribute::internal_ip4_address, {10, 99, 0, 7}},
                                                  {cfg_attribute::internal_ip4_dns, {}},
                                                  {cfg_attribute::application_version, {'x'}},
                                                  {0x6000, {1, 2, 3}}}));
    REQUIRE(parsed.has_value());
    CHECK(parsed->address4 == net("10.99.0.7/32"));
    CHECK(parsed->dns.empty());
}

TEST_CASE("CP attributes: a CFG_REPLY with garbage is refused with the reason")
{
    using A = ConfigAttribute;
    const Bytes ip6(16, 0x20);
    struct Case {
        int number;
        CpPayload reply;
        const char* reason;
    };
    const std::vector<Case> cases{
        {1, reply_of({A{1, {10, 99, 0}}}), "INTERNAL_IP4_ADDRESS of 3 bytes (4 expected)"},
        {2, reply_of({A{8, ip6}}), "INTERNAL_IP6_ADDRESS of 16 bytes (17 expected)"},
        {3, reply_of({A{13, {10, 1, 0, 0, 255, 255, 255}}}), "INTERNAL_IP4_SUBNET of 7 bytes (8 expected)"},
        {4, reply_of({A{1, {10, 99, 0, 7}}, A{1, {10, 99, 0, 8}}}), "INTERNAL_IP4_ADDRESS given twice"},
        {5, reply_of({A{1, {0, 0, 0, 0}}}), "INTERNAL_IP4_ADDRESS 0.0.0.0 is not a unicast host address"},
        {6, reply_of({A{1, {224, 0, 0, 1}}}), "INTERNAL_IP4_ADDRESS 224.0.0.1 is not a unicast host address"},
        {7, reply_of({A{1, {127, 0, 0, 1}}}), "INTERNAL_IP4_ADDRESS 127.0.0.1 is not a unicast host address"},
        {8, reply_of({A{1, {10, 99, 0, 7}}, A{2, {255, 0, 255, 0}}}),
         "INTERNAL_IP4_NETMASK 255.0.255.0 is not a contiguous netmask"},
        {9, reply_of({A{1, {10, 99, 0, 0}}, A{2, {255, 255, 255, 0}}}),
         "INTERNAL_IP4_ADDRESS 10.99.0.0 is the network or broadcast address of its /24"},
        {10, reply_of({A{1, {10, 99, 0, 255}}, A{2, {255, 255, 255, 0}}}),
         "INTERNAL_IP4_ADDRESS 10.99.0.255 is the network or broadcast address of its /24"},
        {11, reply_of({A{2, {255, 255, 255, 0}}}), "INTERNAL_IP4_NETMASK without INTERNAL_IP4_ADDRESS"},
        {12, reply_of({A{13, {10, 1, 0, 5, 255, 255, 255, 0}}}),
         "INTERNAL_IP4_SUBNET 10.1.0.5/24 has host bits set (an address outside its netmask)"},
        {13, reply_of({A{13, {10, 1, 0, 0, 255, 255, 255, 0}}, A{13, {10, 1, 0, 0, 255, 255, 255, 0}}}),
         "INTERNAL_IP4_SUBNET 10.1.0.0/24 given twice"},
        {14, reply_of({A{3, {192, 0, 2, 53}}, A{3, {192, 0, 2, 53}}}), "INTERNAL_IP4_DNS 192.0.2.53 given twice"},
        {15, reply_of({A{15, Bytes(17, 0xff)}}), "INTERNAL_IP6_SUBNET for ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                                                 "has no valid netmask or prefix length"},
        {16, CpPayload{CfgType::set, {}}, "a CP of type 3, not CFG_REPLY"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.number);
        const auto parsed = parse_cfg_reply(c.reply);
        REQUIRE_FALSE(parsed.has_value());
        CHECK(parsed.error() == c.reason);
    }
}

TEST_CASE("mode config: selectors of mode ip with a virtual address (section 2.9); mode gre keeps the gateways")
{
    ChildConfig ip;
    ip.mode = ChildMode::tunnel_ip;
    ip.local_subnets = {net("10.1.0.0/24")};
    ip.remote_subnets = {net("10.2.0.0/24")};
    const IpAddress a = *IpAddress::parse("192.0.2.1");
    const IpAddress b = *IpAddress::parse("192.0.2.2");
    const IpAddress vip = *IpAddress::parse("10.99.0.7");

    VirtualAddresses asking;   // IKE_AUTH's offer: the whole of each family asked for
    asking.requested = {true, true};
    CHECK(describe(child_selectors(ip, a, b, asking).local) == "0.0.0.0/0, ::/0");
    VirtualAddresses given;    // after: the address given, in place of local-subnets
    given.local = {vip};
    CHECK(describe(child_selectors(ip, a, b, given).local) == "10.99.0.7/32");
    CHECK(describe(child_selectors(ip, a, b, given).remote) == "10.2.0.0/24");
    VirtualAddresses leased;   // the hub: the branch's side also holds the address it leased
    leased.remote = {vip};
    CHECK(describe(child_selectors(ip, a, b, leased).remote) == "10.2.0.0/24, 10.99.0.7/32");
    CHECK(describe(child_selectors(ip, a, b, leased).local) == "10.1.0.0/24");
    // The hub narrows an offered 0.0.0.0/0 to the leased address.
    const auto narrowed = narrow(ip, TsiPayload{{prefix_selector(net("0.0.0.0/0"))}},
                                 TsrPayload{{prefix_selector(net("10.1.0.0/24"))}}, b, a, leased);
    REQUIRE(narrowed.has_value());
    CHECK(describe(narrowed->first.selectors) == "10.2.0.0/24, 10.99.0.7/32");

    ChildConfig gre;
    CHECK(child_selectors(gre, a, b, given) == child_selectors(gre, a, b));
}

TEST_CASE("mode config: the branch asks, the hub leases an address by identity, TSi is that address")
{
    mesh::net::AddressPool pool(net("10.99.0.0/24"), 32);
    Pair p(branch(), hub());
    serve(p, pool);
    establish(p);

    REQUIRE(p.a_host.received.size() == 1);
    const ModeConfig& given = p.a_host.received.front();
    REQUIRE(given.address4);
    CHECK(given.address4 == pool.held("fqdn:a.lab"));
    CHECK(given.subnets == std::vector{net("10.1.0.0/24")});
    REQUIRE(p.a_host.installed.size() == 1);
    REQUIRE(p.b_host.installed.size() == 1);
    const auto a = p.a->status(p.now);
    const auto b = p.b->status(p.now);
    REQUIRE(a.size() == 1);
    REQUIRE(b.size() == 1);
    CHECK(a.front().assigned == given);
    CHECK_FALSE(a.front().leased);
    REQUIRE(b.front().leased);
    CHECK(b.front().leased->address4 == given.address4);
    CHECK(p.a->failures().empty());
    CHECK(p.b->failures().empty());

    // A CHILD SA rekey narrows TSi to the same address at both ends (no CP in CREATE_CHILD_SA).
    p.a->rekey_child(p.a_host.installed.front().inbound.spi, p.now);
    run_until(p, [&] { return p.a_host.deleted.size() == 1 && p.b_host.deleted.size() == 1; }, 10s);
    CHECK(p.a_host.installed.size() == 2);
    CHECK(p.b_host.installed.size() == 2);
    CHECK(p.a->counters().rekey_failures == 0);
    CHECK(p.b->counters().ts_unacceptable == 0);
}

TEST_CASE("mode config: an IKE rekey keeps the address and the lease, and asks for nothing")
{
    mesh::net::AddressPool pool(net("10.99.0.0/24"), 32);
    Pair p(branch(), hub());
    serve(p, pool);
    establish(p);
    const auto before = p.a->status(p.now).front();
    p.a->rekey_ike("b", p.now);
    run_until(p, [&] {
        const auto a = p.a->status(p.now);
        return a.size() == 1 && a.front().spi_i != before.spi_i && p.b->status(p.now).size() == 1;
    }, 10s);
    const auto a = p.a->status(p.now).front();
    const auto b = p.b->status(p.now).front();
    CHECK(a.assigned == before.assigned);
    REQUIRE(b.leased);
    CHECK(b.leased->address4 == before.assigned->address4);
    CHECK(p.a_host.received.size() == 1);
    CHECK(p.b_host.leases_ended.empty());
    CHECK(pool.in_use() == 1);
    // The new IKE SA carries a CHILD SA rekey with the same selectors.
    p.b->rekey_child(p.b_host.installed.front().inbound.spi, p.now);
    run_until(p, [&] { return p.a_host.installed.size() == 2 && p.b_host.deleted.size() == 1; }, 10s);
    CHECK(p.a->counters().ts_unacceptable == 0);
    CHECK(p.b->counters().rekey_failures == 0);
}

TEST_CASE("mode config: the lease ends with the IKE SA, and the branch gets the same address after a reconnect")
{
    mesh::net::AddressPool pool(net("10.99.0.0/24"), 32);
    std::optional<IpPrefix> first;
    {
        Pair p(branch(), hub());
        serve(p, pool);
        establish(p);
        first = p.a_host.received.at(0).address4;
        // Another branch takes an address meanwhile.
        REQUIRE(pool.acquire("fqdn:other.lab"));
        p.a->shutdown();   // the branch stops: its Delete reaches the hub
        p.deliver_all();
        p.tick(100ms);
        REQUIRE(p.b_host.leases_ended.size() == 1);
        CHECK(p.b_host.leases_ended.front().identity == "fqdn:a.lab");
        CHECK(p.b_host.leases_ended.front().families == AddressFamilies{true, false});
        pool.release(p.b_host.leases_ended.front().identity);
    }
    Pair p(branch(), hub());
    serve(p, pool);
    establish(p);
    REQUIRE(p.a_host.received.size() == 1);
    CHECK(p.a_host.received.front().address4 == first);
}

TEST_CASE("mode config: an exhausted pool answers INTERNAL_ADDRESS_FAILURE, the branch gives the IKE SA up")
{
    Pair p(branch(), hub());
    p.b_host.lease = [](const ModeConfigLease&) { return ModeConfig{}; };
    p.tick(1000ms);   // A initiates after its start jitter
    p.deliver_all();

    CHECK(p.a_host.installed.empty());
    CHECK(p.b_host.installed.empty());
    CHECK(p.a_host.received.empty());
    CHECK(p.b->counters().internal_address_failures == 1);
    CHECK(p.a->counters().internal_address_failures == 1);
    REQUIRE(p.a->failures().contains("b"));
    CHECK(p.a->failures().at("b").text.find("INTERNAL_ADDRESS_FAILURE") != std::string::npos);
    CHECK(p.b->failures().at("a").text.find("no address for fqdn:a.lab") != std::string::npos);
    // The branch deleted the IKE SA at the hub, which held no lease.
    p.tick(100ms);
    CHECK(p.a->status(p.now).empty());
    CHECK(p.b->status(p.now).empty());
    CHECK(p.b_host.leases_ended.empty());
}

TEST_CASE("mode config: a CFG_REPLY with garbage is refused and counted, nothing is installed")
{
    mesh::net::AddressPool pool(net("10.99.0.0/24"), 32);
    Pair p(branch(), hub());
    p.b_host.lease = [&pool](const ModeConfigLease& asked) {
        ModeConfig given;
        given.address4 = pool.acquire(asked.identity);
        given.subnets = {net("10.1.0.0/24"), net("10.1.0.0/24")};
        return given;
    };
    p.tick(1000ms);   // A initiates after its start jitter
    p.deliver_all();

    CHECK(p.a_host.installed.empty());
    CHECK(p.a_host.received.empty());
    CHECK(p.a->counters().cfg_replies_refused == 1);
    REQUIRE(p.a->failures().contains("b"));
    CHECK(p.a->failures().at("b").text ==
          "mode config: CFG_REPLY from 192.0.2.2:4500 refused: INTERNAL_IP4_SUBNET 10.1.0.0/24 given twice");
    // The hub heard the Delete: its SA, CHILD SA and lease are gone.
    p.tick(100ms);
    CHECK(p.b->status(p.now).empty());
    CHECK(p.b_host.deleted.size() == 1);
    CHECK(p.b_host.leases_ended.size() == 1);
}

TEST_CASE("mode config: a hub without mode config answers no CFG_REPLY, and the branch refuses to go on")
{
    PeerConfig plain = hub();
    plain.mode_config = ModeConfigRole::none;
    plain.children.front().remote_subnets = {net("10.99.0.0/24")};
    Pair p(branch(), plain);
    p.tick(1000ms);   // A initiates after its start jitter
    p.deliver_all();
    CHECK(p.a_host.installed.empty());
    CHECK(p.a->counters().cfg_replies_refused == 1);
    CHECK(p.a->failures().at("b").text.find("without a CFG_REPLY") != std::string::npos);
}

TEST_CASE("mode config: an IPv6 address from an IPv6 pool, TSi narrowed from ::/0 to it")
{
    mesh::net::AddressPool pool(net("fd00:99::/64"), 128);
    PeerConfig a = branch();
    a.request_families = {false, true};
    a.children.front().remote_subnets = {net("fd00:1::/64")};
    PeerConfig b = hub();
    b.children.front().local_subnets = {net("fd00:1::/64")};
    Pair p(a, b);
    p.b_host.lease = [&pool](const ModeConfigLease& asked) {
        ModeConfig given;
        CHECK(asked.families == AddressFamilies{false, true});
        given.address6 = pool.acquire(asked.identity);
        return given;
    };
    establish(p);
    REQUIRE(p.a_host.received.size() == 1);
    CHECK_FALSE(p.a_host.received.front().address4);
    REQUIRE(p.a_host.received.front().address6);
    CHECK(p.a_host.received.front().address6 == pool.held("fqdn:a.lab"));
    CHECK(p.a_host.received.front().address6->length() == 128);
    CHECK(p.a->failures().empty());
    CHECK(p.b->counters().ts_unacceptable == 0);
}
