// Traffic selectors (RFC 7296 sections 2.9, 2.23.1, 3.13): built from the
// tunnel's configuration, narrowed by the responder, checked by the initiator.

#include "ike/message.hpp"
#include "ike/traffic_selectors.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace mesh::ike;
using mesh::net::IpAddress;
using mesh::net::IpPrefix;

namespace {

IpAddress ip(const char* text)
{
    return *IpAddress::parse(text);
}

IpPrefix net(const char* text)
{
    return *IpPrefix::parse(text);
}

TrafficSelector range(const char* first, const char* last, std::uint8_t protocol = 0, std::uint16_t start_port = 0,
                      std::uint16_t end_port = 65535)
{
    const IpAddress a = ip(first);
    return TrafficSelector{a.is_v4() ? TsType::ipv4_addr_range : TsType::ipv6_addr_range, protocol, start_port,
                           end_port, a, ip(last)};
}

ChildConfig ip_tunnel(std::vector<IpPrefix> local, std::vector<IpPrefix> remote)
{
    ChildConfig c;
    c.name = "site-b";
    c.mode = ChildMode::tunnel_ip;
    c.local_subnets = std::move(local);
    c.remote_subnets = std::move(remote);
    return c;
}

ChildConfig gre_tunnel()
{
    ChildConfig c;
    c.name = "site-b";
    c.mode = ChildMode::transport_gre;
    return c;
}

// Site A is 10.1.0.0/24 behind 198.51.100.1, site B 10.2.0.0/24 behind 203.0.113.7.
const IpAddress site_a = ip("198.51.100.1");
const IpAddress site_b = ip("203.0.113.7");

ChildSelectors responder_b()
{
    return child_selectors(ip_tunnel({net("10.2.0.0/24")}, {net("10.1.0.0/24")}), site_b, site_a);
}

} // namespace

TEST_CASE("child_selectors: mode gre is the two gateways, GRE only, all ports")
{
    const ChildSelectors s = child_selectors(gre_tunnel(), site_a, site_b);
    CHECK(s.mode == ChildMode::transport_gre);
    CHECK(s.local == std::vector{range("198.51.100.1", "198.51.100.1", 47)});
    CHECK(s.remote == std::vector{range("203.0.113.7", "203.0.113.7", 47)});

    const TsPair ts = initiator_ts(s);
    CHECK(ts.first.selectors == s.local);
    CHECK(ts.second.selectors == s.remote);
    CHECK(traffic_selectors(gre_tunnel(), site_a, site_b) == ts);

    // Through the codec as the peer would see them.
    Message m;
    m.header.exchange_type = ExchangeType::ike_auth;
    m.payloads = {ts.first, ts.second};
    const auto back = parse(serialize(m));
    REQUIRE(back.has_value());
    CHECK(*back->find<TsiPayload>() == ts.first);
    CHECK(*back->find<TsrPayload>() == ts.second);

    const ChildSelectors v6 = child_selectors(gre_tunnel(), ip("2001:db8::1"), ip("2001:db8::2"));
    CHECK(v6.local == std::vector{range("2001:db8::1", "2001:db8::1", 47)});
}

TEST_CASE("child_selectors: mode ip is the subnets as address ranges, any protocol, all ports")
{
    const ChildSelectors s = child_selectors(
        ip_tunnel({net("10.1.0.7/24"), net("2001:db8:1::/48")}, {net("0.0.0.0/0"), net("10.9.9.9/32")}), site_a,
        site_b);
    CHECK(s.mode == ChildMode::tunnel_ip);
    CHECK(s.local == std::vector{range("10.1.0.0", "10.1.0.255"),
                                 range("2001:db8:1::", "2001:db8:1:ffff:ffff:ffff:ffff:ffff")});
    CHECK(s.remote == std::vector{range("0.0.0.0", "255.255.255.255"), range("10.9.9.9", "10.9.9.9")});
    CHECK(prefix_selector(net("172.16.4.0/22")) == range("172.16.4.0", "172.16.7.255"));
    CHECK(prefix_selector(net("10.0.0.0/9")) == range("10.0.0.0", "10.127.255.255"));
}

TEST_CASE("intersect: address ranges, protocols with 0 as any, ports")
{
    // Addresses: the overlap.
    CHECK(intersect(range("10.0.0.0", "10.0.0.255"), range("10.0.0.128", "10.0.1.255")) ==
          range("10.0.0.128", "10.0.0.255"));
    CHECK(!intersect(range("10.0.0.0", "10.0.0.255"), range("10.0.1.0", "10.0.1.255")).has_value());
    CHECK(!intersect(range("0.0.0.0", "255.255.255.255"), range("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
               .has_value());

    // Protocol: 0 gives way to the other; two different ones do not meet.
    CHECK(intersect(range("10.0.0.1", "10.0.0.1", 0), range("10.0.0.1", "10.0.0.1", 6))->ip_protocol == 6);
    CHECK(intersect(range("10.0.0.1", "10.0.0.1", 47), range("10.0.0.1", "10.0.0.1", 0))->ip_protocol == 47);
    CHECK(!intersect(range("10.0.0.1", "10.0.0.1", 6), range("10.0.0.1", "10.0.0.1", 17)).has_value());

    // Ports: the overlap; OPAQUE (65535-0) meets only OPAQUE and all ports.
    const auto ports = intersect(range("10.0.0.1", "10.0.0.1", 6, 80, 90), range("10.0.0.1", "10.0.0.1", 6, 85, 100));
    REQUIRE(ports.has_value());
    CHECK(ports->start_port == 85);
    CHECK(ports->end_port == 90);
    CHECK(!intersect(range("10.0.0.1", "10.0.0.1", 6, 80, 80), range("10.0.0.1", "10.0.0.1", 6, 443, 443))
               .has_value());
    const TrafficSelector opaque = range("10.0.0.1", "10.0.0.1", 17, 65535, 0);
    CHECK(intersect(opaque, range("10.0.0.0", "10.0.0.255", 17)) == opaque);
    CHECK(intersect(opaque, opaque) == opaque);
    CHECK(!intersect(opaque, range("10.0.0.1", "10.0.0.1", 17, 53, 53)).has_value());

    // A reversed range matches nothing.
    CHECK(!intersect(range("10.0.0.9", "10.0.0.1"), range("0.0.0.0", "255.255.255.255")).has_value());
}

TEST_CASE("narrow: an offer inside our policy is kept as offered")
{
    const auto narrowed = narrow(TsiPayload{{range("10.1.0.0", "10.1.0.127")}},
                                 TsrPayload{{range("10.2.0.16", "10.2.0.31", 6, 443, 443)}}, responder_b());
    REQUIRE(narrowed.has_value());
    CHECK(narrowed->first.selectors == std::vector{range("10.1.0.0", "10.1.0.127")});
    CHECK(narrowed->second.selectors == std::vector{range("10.2.0.16", "10.2.0.31", 6, 443, 443)});
}

TEST_CASE("narrow: an offer wider than our policy is narrowed to it")
{
    const auto narrowed = narrow(TsiPayload{{range("10.0.0.0", "10.255.255.255")}},
                                 TsrPayload{{range("0.0.0.0", "255.255.255.255")}}, responder_b());
    REQUIRE(narrowed.has_value());
    CHECK(narrowed->first.selectors == std::vector{range("10.1.0.0", "10.1.0.255")});
    CHECK(narrowed->second.selectors == std::vector{range("10.2.0.0", "10.2.0.255")});
}

TEST_CASE("narrow: the triggering packet's selector is dropped when a wider result covers it")
{
    // Section 2.9: the first selectors may be the packet that caused the request.
    const auto narrowed =
        narrow(TsiPayload{{range("10.1.0.5", "10.1.0.5", 6, 40000, 40000), range("10.1.0.0", "10.1.0.255")}},
               TsrPayload{{range("10.2.0.9", "10.2.0.9", 6, 22, 22), range("10.2.0.0", "10.2.0.255")}}, responder_b());
    REQUIRE(narrowed.has_value());
    CHECK(narrowed->first.selectors == std::vector{range("10.1.0.0", "10.1.0.255")});
    CHECK(narrowed->second.selectors == std::vector{range("10.2.0.0", "10.2.0.255")});
}

TEST_CASE("narrow: disjoint subnets are TS_UNACCEPTABLE, with both sides for the log")
{
    const auto refused = narrow(TsiPayload{{range("10.1.0.0", "10.1.0.255")}}, TsrPayload{{range("10.3.0.0", "10.3.0.255")}},
                                responder_b());
    REQUIRE(!refused.has_value());
    CHECK(refused.error().message() ==
          "traffic selectors unacceptable (ours: 10.1.0.0/24 === 10.2.0.0/24, theirs: 10.1.0.0/24 === 10.3.0.0/24)");

    // One side fitting is not enough; an empty side is not either.
    CHECK(!narrow(TsiPayload{{range("10.7.0.0", "10.7.0.255")}}, TsrPayload{{range("10.2.0.0", "10.2.0.255")}},
                  responder_b())
               .has_value());
    CHECK(!narrow(TsiPayload{}, TsrPayload{{range("10.2.0.0", "10.2.0.255")}}, responder_b()).has_value());
    // Another address family.
    CHECK(!narrow(TsiPayload{{range("2001:db8::", "2001:db8::ffff")}}, TsrPayload{{range("10.2.0.0", "10.2.0.255")}},
                  responder_b())
               .has_value());
}

TEST_CASE("narrow: protocols and ports meet or are refused")
{
    // Ours is GRE between the gateways: a TCP offer has nothing in common.
    const ChildSelectors gre = child_selectors(gre_tunnel(), site_b, site_a);
    CHECK(!narrow(TsiPayload{{range("198.51.100.1", "198.51.100.1", 6)}},
                  TsrPayload{{range("203.0.113.7", "203.0.113.7", 6)}}, gre)
               .has_value());

    // Any protocol and ports offered for a GRE policy: narrowed to GRE.
    const auto any = narrow(TsiPayload{{range("198.51.100.1", "198.51.100.1")}},
                            TsrPayload{{range("203.0.113.7", "203.0.113.7")}}, gre);
    REQUIRE(any.has_value());
    CHECK(any->first.selectors == gre.remote);
    CHECK(any->second.selectors == gre.local);

    // Ports narrowed selector by selector.
    ChildSelectors web = responder_b();
    web.local = {range("10.2.0.0", "10.2.0.255", 6, 80, 443)};
    const auto ports = narrow(TsiPayload{{range("10.1.0.0", "10.1.0.255")}},
                              TsrPayload{{range("10.2.0.0", "10.2.0.255", 0, 0, 100)}}, web);
    REQUIRE(ports.has_value());
    CHECK(ports->second.selectors == std::vector{range("10.2.0.0", "10.2.0.255", 6, 80, 100)});
    CHECK(!narrow(TsiPayload{{range("10.1.0.0", "10.1.0.255")}},
                  TsrPayload{{range("10.2.0.0", "10.2.0.255", 0, 1000, 2000)}}, web)
               .has_value());
}

TEST_CASE("narrow: mode gre under NAT answers a peer's private address with the IKE SA's addresses")
{
    // Site A sits behind a NAT as 10.0.0.5 and is seen as 198.51.100.1; it
    // proposes its private address, and ours as it knows it.
    const ChildSelectors ours = child_selectors(gre_tunnel(), site_b, site_a);
    const auto narrowed = narrow(TsiPayload{{range("10.0.0.5", "10.0.0.5", 47)}},
                                 TsrPayload{{range("203.0.113.7", "203.0.113.7", 47)}}, ours);
    REQUIRE(narrowed.has_value());
    CHECK(narrowed->first.selectors == std::vector{range("198.51.100.1", "198.51.100.1", 47)});
    CHECK(narrowed->second.selectors == std::vector{range("203.0.113.7", "203.0.113.7", 47)});
    CHECK(narrow(gre_tunnel(), TsiPayload{{range("10.0.0.5", "10.0.0.5", 47)}},
                 TsrPayload{{range("203.0.113.7", "203.0.113.7", 47)}}, site_b, site_a) == narrowed);

    // Both ends behind NATs, and any protocol asked for: the same answer.
    const auto both = narrow(TsiPayload{{range("10.0.0.5", "10.0.0.5")}}, TsrPayload{{range("192.168.1.2", "192.168.1.2")}},
                             ours);
    REQUIRE(both.has_value());
    CHECK(both->first.selectors == ours.remote);
    CHECK(both->second.selectors == ours.local);

    // But only single hosts, and only GRE.
    CHECK(!narrow(TsiPayload{{range("10.0.0.0", "10.0.0.255", 47)}}, TsrPayload{{range("203.0.113.7", "203.0.113.7", 47)}},
                  ours)
               .has_value());
    CHECK(!narrow(TsiPayload{{range("10.0.0.5", "10.0.0.5", 17)}}, TsrPayload{{range("203.0.113.7", "203.0.113.7", 47)}},
                  ours)
               .has_value());
}

TEST_CASE("accept_ts_reply: the answer must lie within the offer; narrowing is accepted")
{
    const ChildSelectors ours = child_selectors(ip_tunnel({net("10.1.0.0/24")}, {net("10.2.0.0/16")}), site_a, site_b);

    const auto same = accept_ts_reply(TsiPayload{ours.local}, TsrPayload{ours.remote}, ours);
    REQUIRE(same.has_value());
    CHECK(*same == initiator_ts(ours));

    const auto narrower = accept_ts_reply(TsiPayload{{range("10.1.0.0", "10.1.0.127")}},
                                          TsrPayload{{range("10.2.3.0", "10.2.3.255", 6, 80, 80)}}, ours);
    REQUIRE(narrower.has_value());
    CHECK(narrower->second.selectors == std::vector{range("10.2.3.0", "10.2.3.255", 6, 80, 80)});

    // Wider, elsewhere, or empty: refused.
    const auto wider = accept_ts_reply(TsiPayload{{range("10.1.0.0", "10.1.1.255")}}, TsrPayload{ours.remote}, ours);
    REQUIRE(!wider.has_value());
    CHECK(wider.error().message() == "traffic selectors unacceptable (ours: 10.1.0.0/24 === 10.2.0.0/16, "
                                     "theirs: 10.1.0.0/23 === 10.2.0.0/16)");
    CHECK(!accept_ts_reply(TsiPayload{ours.local}, TsrPayload{{range("10.3.0.0", "10.3.0.255")}}, ours).has_value());
    CHECK(!accept_ts_reply(TsiPayload{ours.local}, TsrPayload{}, ours).has_value());
    // One good and one wider selector: the whole answer is refused.
    CHECK(!accept_ts_reply(TsiPayload{ours.local}, TsrPayload{{range("10.2.0.0", "10.2.0.255"), range("10.9.0.0", "10.9.0.0")}},
                           ours)
               .has_value());
}

TEST_CASE("accept_ts_reply: mode gre takes single-host GRE answers as our own addresses")
{
    // We are behind a NAT: the responder answers with the address it sees for us.
    const ChildSelectors ours = child_selectors(gre_tunnel(), ip("10.0.0.5"), site_b);
    const auto accepted = accept_ts_reply(TsiPayload{{range("198.51.100.1", "198.51.100.1", 47)}},
                                          TsrPayload{{range("203.0.113.7", "203.0.113.7", 47)}}, ours);
    REQUIRE(accepted.has_value());
    CHECK(*accepted == initiator_ts(ours));
    CHECK(accept_ts_reply(gre_tunnel(), TsiPayload{{range("198.51.100.1", "198.51.100.1", 47)}},
                          TsrPayload{{range("203.0.113.7", "203.0.113.7", 47)}}, ip("10.0.0.5"), site_b) == accepted);

    // Not GRE, or not a single host: refused.
    CHECK(!accept_ts_reply(TsiPayload{{range("198.51.100.1", "198.51.100.1")}}, TsrPayload{ours.remote}, ours)
               .has_value());
    CHECK(!accept_ts_reply(TsiPayload{{range("10.0.0.0", "10.0.0.255", 47)}}, TsrPayload{ours.remote}, ours)
               .has_value());
}

TEST_CASE("describe: prefixes, ranges, protocols and ports")
{
    CHECK(describe(range("10.1.0.0", "10.1.0.255")) == "10.1.0.0/24");
    CHECK(describe(range("0.0.0.0", "255.255.255.255")) == "0.0.0.0/0");
    CHECK(describe(range("192.0.2.1", "192.0.2.1", 47)) == "192.0.2.1/32[gre]");
    CHECK(describe(range("10.0.0.5", "10.0.0.9", 6, 80, 80)) == "10.0.0.5..10.0.0.9[tcp/80]");
    CHECK(describe(range("10.0.0.0", "10.0.0.255", 17, 1000, 2000)) == "10.0.0.0/24[udp/1000-2000]");
    CHECK(describe(range("10.0.0.0", "10.0.0.255", 0, 53, 53)) == "10.0.0.0/24[any/53]");
    CHECK(describe(range("10.0.0.0", "10.0.0.255", 17, 65535, 0)) == "10.0.0.0/24[udp/OPAQUE]");
    CHECK(describe(range("2001:db8::", "2001:db8::ffff", 99)) == "2001:db8::/112[99]");
    CHECK(describe(std::vector{range("10.1.0.0", "10.1.0.255"), range("10.3.0.0", "10.3.0.255")}) ==
          "10.1.0.0/24, 10.3.0.0/24");
    CHECK(describe(std::vector<TrafficSelector>{}) == "none");
}

TEST_CASE("covering_prefixes: a range becomes the fewest prefixes that cover exactly it")
{
    const auto range = [](const char* start, const char* end) {
        TrafficSelector ts = prefix_selector(*mesh::net::IpPrefix::parse(start));
        ts.start_address = *mesh::net::IpAddress::parse(start);
        ts.end_address = *mesh::net::IpAddress::parse(end);
        return ts;
    };
    const auto texts = [](const std::vector<mesh::net::IpPrefix>& prefixes) {
        std::vector<std::string> out;
        for (const auto& p : prefixes)
            out.push_back(p.to_string());
        return out;
    };
    using List = std::vector<std::string>;
    const std::vector<TrafficSelector> one{prefix_selector(*mesh::net::IpPrefix::parse("10.8.0.0/16"))};
    CHECK(texts(covering_prefixes(one)) == List{"10.8.0.0/16"});
    const std::vector<TrafficSelector> odd{range("10.0.0.1", "10.0.0.6")};
    CHECK(texts(covering_prefixes(odd)) == List{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"});
    const std::vector<TrafficSelector> all{range("0.0.0.0", "255.255.255.255"), range("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")};
    CHECK(texts(covering_prefixes(all)) == List{"0.0.0.0/0", "::/0"});
    const std::vector<TrafficSelector> tail{range("255.255.255.254", "255.255.255.255"), range("fd00::", "fd00::1:ffff")};
    CHECK(texts(covering_prefixes(tail)) == List{"255.255.255.254/31", "fd00::/111"});
}
