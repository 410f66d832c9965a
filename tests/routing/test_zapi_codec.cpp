// ZAPI v6 frames for FRR 8.4.x against byte layouts derived by hand from
// lib/zclient.c (zclient_create_header, zclient_send_hello, zapi_route_encode,
// zapi_nexthop_encode, zapi_route_notify_decode) and zebra/zapi_msg.c
// (route_notify_internal, zsend_capabilities), tag frr-8.4.4. Each expected
// frame carries its field-by-field breakdown; none was produced by our encoder.

#include "routing/zapi_codec.hpp"
#include "tests/hex.hpp"
#include "tests/routing/route_helpers.hpp"

#include <doctest/doctest.h>

#include <bit>
#include <cstdint>
#include <vector>

using namespace mesh::routing;
using mesh::test::hex;
using mesh::test::prefix;
namespace z = mesh::routing::zapi;

namespace {

// The tunnel route of the examples: 10.2.0.0/24 via ifindex 7, distance 10, metric 20.
Route tunnel_route()
{
    Route r;
    r.type = z::RouteType::nhrp;
    r.message = z::message::nexthop | z::message::distance | z::message::metric;
    r.prefix = prefix("10.2.0.0/24");
    r.nexthops = {Nexthop::via_ifindex(7)};
    r.distance = 10;
    r.metric = 20;
    return r;
}

// ROUTE_ADD for tunnel_route(), 44 bytes.
const char* const route_add_hex =
    "002c"       // length 44 = 10 header + 34 body
    "fe"         // marker ZEBRA_HEADER_MARKER 254
    "06"         // version ZSERV_VERSION 6
    "00000000"   // vrf_id VRF_DEFAULT
    "0008"       // command ZEBRA_ROUTE_ADD 8
    "0c"         // type ZEBRA_ROUTE_NHRP 12
    "0000"       // instance 0
    "00000000"   // flags: none (ifindex nexthop, no recursion)
    "00000007"   // message NEXTHOP 0x01 | DISTANCE 0x02 | METRIC 0x04
    "01"         // safi SAFI_UNICAST
    "02"         // family AF_INET
    "18"         // prefixlen 24
    "0a0200"     // PSIZE(24) = 3 bytes: 10.2.0
    "0001"       // nexthop_num 1
    "00000000"   //   nexthop vrf_id 0
    "01"         //   type NEXTHOP_TYPE_IFINDEX 1
    "00"         //   nexthop flags (one octet): none
    "00000007"   //   ifindex 7
    "0a"         // distance 10
    "00000014";  // metric 20

// Same frame, command ZEBRA_ROUTE_DELETE 9: zebra decodes both with zapi_route_decode().
const char* const route_delete_hex =
    "002c" "fe" "06" "00000000"
    "0009"       // command ZEBRA_ROUTE_DELETE 9
    "0c" "0000" "00000000" "00000007" "01"
    "02" "18" "0a0200"
    "0001" "00000000" "01" "00" "00000007"
    "0a" "00000014";

// ROUTE_NOTIFY_OWNER as zebra's route_notify_internal() builds it, 26 bytes.
// The note is an enum stream_put() raw: host order (little-endian here).
std::vector<std::uint8_t> notify_installed_frame()
{
    REQUIRE(std::endian::native == std::endian::little);
    return hex("001a"        // length 26 = 10 + 16
               "fe" "06"
               "00000000"    // vrf_id 0
               "000a"        // command ZEBRA_ROUTE_NOTIFY_OWNER 10
               "02000000"    // note ZAPI_ROUTE_INSTALLED 2, host order
               "02"          // family AF_INET
               "18"          // prefixlen 24
               "0a020000"    // prefix_blen(): all 4 address bytes
               "000000fe"    // table id 254 (main)
               "01"          // afi AFI_IP
               "01");        // safi SAFI_UNICAST
}

} // namespace

TEST_CASE("HELLO is laid out as zclient_send_hello writes it")
{
    const auto frame = encode_hello(z::RouteType::nhrp, 0, 0, true);
    REQUIRE(frame.has_value());
    CHECK(*frame == hex("0013"      // length 19 = 10 + 9
                        "fe" "06"   // marker, version
                        "00000000"  // vrf_id: HELLO is always VRF_DEFAULT
                        "0012"      // command ZEBRA_HELLO 18
                        "0c"        // redist_default = our type ZEBRA_ROUTE_NHRP 12
                        "0000"      // instance 0
                        "00000000"  // session_id 0
                        "01"        // receive_notify
                        "00"));     // synchronous 0
}

TEST_CASE("HELLO with instance and session id, notifications off")
{
    const auto frame = encode_hello(z::RouteType::nhrp, 0x0102, 0xa1b2c3d4, false);
    REQUIRE(frame.has_value());
    CHECK(*frame == hex("0013fe06000000000012" "0c" "0102" "a1b2c3d4" "00" "00"));
}

TEST_CASE("HELLO refuses types zebra would not bind a client to")
{
    CHECK(encode_hello(z::RouteType::connect, 0, 0, true).error() == ZapiError::bad_route_type);
    CHECK(encode_hello(z::RouteType::kernel, 0, 0, true).error() == ZapiError::bad_route_type);
    CHECK(encode_hello(static_cast<z::RouteType>(31), 0, 0, true).error() == ZapiError::bad_route_type);
}

TEST_CASE("ROUTE_ADD of an IPv4 /24 via ifindex 7, distance 10, metric 20")
{
    const auto frame = encode_route(z::Command::route_add, tunnel_route());
    REQUIRE(frame.has_value());
    CHECK(*frame == hex(route_add_hex));
}

TEST_CASE("ROUTE_DELETE of the same route")
{
    const auto frame = encode_route(z::Command::route_delete, tunnel_route());
    REQUIRE(frame.has_value());
    CHECK(*frame == hex(route_delete_hex));
}

TEST_CASE("ROUTE_ADD with tag and MTU, IPv6 /64, two nexthops put in zapi_nexthop_cmp order")
{
    Route r = tunnel_route();
    r.message |= z::message::tag | z::message::mtu;
    r.prefix = prefix("2001:db8:1::/64");
    r.nexthops = {Nexthop::via_ifindex(9), Nexthop::via_ifindex(7)};
    r.tag = 0x11223344;
    r.mtu = 1400;
    const auto frame = encode_route(z::Command::route_add, r);
    REQUIRE(frame.has_value());
    CHECK(*frame == hex("0043"                 // length 67 = 10 + 12 fixed + 10 prefix + 2 + 2x10 nexthops + 1 + 3x4
                        "fe06" "00000000" "0008"
                        "0c" "0000" "00000000"
                        "0000001f"             // message NEXTHOP|DISTANCE|METRIC|TAG|MTU
                        "01"
                        "0a"                   // family AF_INET6 10
                        "40"                   // prefixlen 64
                        "20010db800010000"     // PSIZE(64) = 8 bytes
                        "0002"                 // nexthop_num 2, sorted by ifindex
                        "00000000" "01" "00" "00000007"
                        "00000000" "01" "00" "00000009"
                        "0a"                   // distance 10
                        "00000014"             // metric 20
                        "11223344"             // tag
                        "00000578"));          // mtu 1400
}

TEST_CASE("ROUTE_ADD of a blackhole (leak protection) at a worse distance")
{
    Route r = tunnel_route();
    r.nexthops = {Nexthop::blackhole_of(z::BlackholeType::null)};
    r.distance = 250;
    const auto frame = encode_route(z::Command::route_add, r);
    REQUIRE(frame.has_value());
    CHECK(*frame == hex("0029" "fe06" "00000000" "0008"   // length 41
                        "0c" "0000" "00000000" "00000007" "01"
                        "02" "18" "0a0200"
                        "0001" "00000000"
                        "06"                              // NEXTHOP_TYPE_BLACKHOLE 6
                        "00"                              // flags
                        "01"                              // BLACKHOLE_NULL 1
                        "fa" "00000014"));
}

TEST_CASE("ROUTE_ADD clears host bits past the prefix length")
{
    Route r = tunnel_route();
    r.prefix = prefix("10.2.0.255/25");
    const auto frame = encode_route(z::Command::route_add, r);
    REQUIRE(frame.has_value());
    // family, prefixlen 25, PSIZE(25) = 4 bytes with the 7 host bits cleared
    CHECK(std::vector<std::uint8_t>(frame->begin() + 22, frame->begin() + 28) == hex("02" "19" "0a020080"));
}

TEST_CASE("encode_route refuses what zebra would drop or we cannot lay out")
{
    Route r = tunnel_route();
    CHECK(encode_route(z::Command::hello, r).error() == ZapiError::bad_command);

    Route no_nh = r;
    no_nh.nexthops.clear();
    CHECK(encode_route(z::Command::route_add, no_nh).error() == ZapiError::no_nexthops);
    CHECK(encode_route(z::Command::route_delete, no_nh).has_value());

    Route srcpfx = r;
    srcpfx.message |= z::message::srcpfx;
    CHECK(encode_route(z::Command::route_add, srcpfx).error() == ZapiError::unsupported_message);

    Route safi = r;
    safi.safi = 0;
    CHECK(encode_route(z::Command::route_add, safi).error() == ZapiError::bad_safi);
    safi.safi = z::safi_max;
    CHECK(encode_route(z::Command::route_add, safi).error() == ZapiError::bad_safi);

    Route type = r;
    type.type = static_cast<z::RouteType>(z::route_type_max);
    CHECK(encode_route(z::Command::route_add, type).error() == ZapiError::bad_route_type);

    Route gate = r;
    gate.nexthops = {Nexthop{z::NexthopType::ipv6_ifindex, 0, 7, {}, z::BlackholeType::unspec}};
    CHECK(encode_route(z::Command::route_add, gate).error() == ZapiError::bad_nexthop);
}

TEST_CASE("encode_route refuses a frame above ZEBRA_MAX_PACKET_SIZ")
{
    Route r = tunnel_route();
    // 34 bytes without nexthops (route_add_hex less its 10-byte nexthop) + 10 per
    // ifindex nexthop: 1636 make 16394 > 16384, 1635 make exactly 16384.
    r.nexthops.assign(1636, Nexthop::via_ifindex(7));
    CHECK(encode_route(z::Command::route_add, r).error() == ZapiError::frame_too_large);
    r.nexthops.resize(1635);
    const auto at_limit = encode_route(z::Command::route_add, r);
    REQUIRE(at_limit.has_value());
    CHECK(at_limit->size() == 16384);
}

TEST_CASE("ROUTE_NOTIFY_OWNER decodes as zapi_route_notify_decode reads it")
{
    const auto frame = notify_installed_frame();
    const auto header = decode_header(frame);
    REQUIRE(header.has_value());
    CHECK(header->length == 26);
    CHECK(header->vrf_id == 0);
    CHECK(header->command == static_cast<std::uint16_t>(z::Command::route_notify_owner));

    const auto note = decode_route_notify_owner(std::span(frame).subspan(z::header_size));
    REQUIRE(note.has_value());
    CHECK(note->note == z::RouteNote::installed);
    CHECK(note->prefix == prefix("10.2.0.0/24"));
    CHECK(note->table == 254);
    CHECK(note->afi == z::afi_ip);
    CHECK(note->safi == z::safi_unicast);
}

TEST_CASE("ROUTE_NOTIFY_OWNER for IPv6 carries all 16 address bytes")
{
    REQUIRE(std::endian::native == std::endian::little);
    const auto body = hex("04000000"                          // ZAPI_ROUTE_REMOVE_FAIL 4
                          "0a" "40"                           // AF_INET6, /64
                          "20010db8000100000000000000000000"  // prefix_blen() = 16
                          "000000fe" "02" "01");              // table, AFI_IP6, SAFI_UNICAST
    const auto note = decode_route_notify_owner(body);
    REQUIRE(note.has_value());
    CHECK(note->note == z::RouteNote::remove_fail);
    CHECK(note->prefix == prefix("2001:db8:1::/64"));
    CHECK(note->afi == z::afi_ip6);
}

TEST_CASE("ROUTE_NOTIFY_OWNER with bad values")
{
    REQUIRE(std::endian::native == std::endian::little);
    CHECK(decode_route_notify_owner(hex("05000000" "02" "18" "0a020000" "000000fe" "0101")).error()
          == ZapiError::bad_value);
    CHECK(decode_route_notify_owner(hex("02000000" "07" "18" "0a020000" "000000fe" "0101")).error()
          == ZapiError::bad_family);
    CHECK(decode_route_notify_owner(hex("02000000" "02" "21" "0a020000" "000000fe" "0101")).error()
          == ZapiError::bad_prefix_length);
}

TEST_CASE("every truncation of a ROUTE_NOTIFY_OWNER body is an error")
{
    const auto frame = notify_installed_frame();
    const auto body = std::span(frame).subspan(z::header_size);
    for (std::size_t n = 0; n < body.size(); ++n) {
        CAPTURE(n);
        const auto r = decode_route_notify_owner(body.first(n));
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == ZapiError::truncated);
    }
}

TEST_CASE("CAPABILITIES decodes as zclient_capability_decode reads it")
{
    const auto body = hex("00000001"   // vrf backend (lib/vrf.h vrf_get_backend(), opaque to us)
                          "00"         // mpls_enabled
                          "00000100"   // ecmp = multipath_num 256
                          "00");       // mlag role
    const auto caps = decode_capabilities(body);
    REQUIRE(caps.has_value());
    CHECK(caps->vrf_backend == 1);
    CHECK_FALSE(caps->mpls_enabled);
    CHECK(caps->ecmp == 256);
    for (std::size_t n = 0; n < body.size(); ++n)
        CHECK(decode_capabilities(std::span(body).first(n)).error() == ZapiError::truncated);
}

TEST_CASE("header errors")
{
    const auto good = hex(route_add_hex);
    SUBCASE("bad marker")
    {
        auto f = good;
        f[2] = 0xff;
        CHECK(decode_header(f).error() == ZapiError::bad_marker);
    }
    SUBCASE("bad version: FRR 7.x spoke 5, say")
    {
        auto f = good;
        f[3] = 5;
        CHECK(decode_header(f).error() == ZapiError::bad_version);
    }
    SUBCASE("length below the header")
    {
        auto f = good;
        f[0] = 0x00;
        f[1] = 0x09;
        CHECK(decode_header(f).error() == ZapiError::length_too_short);
    }
    SUBCASE("length above ZEBRA_MAX_PACKET_SIZ")
    {
        auto f = good;
        f[0] = 0x40; // 0x4001 = 16385
        f[1] = 0x01;
        CHECK(decode_header(f).error() == ZapiError::length_too_long);
        f[1] = 0x00; // exactly 16384 is allowed
        CHECK(decode_header(f).has_value());
    }
    SUBCASE("every header shorter than 10 bytes needs more bytes")
    {
        for (std::size_t n = 0; n < z::header_size; ++n)
            CHECK(decode_header(std::span(good).first(n)).error() == ZapiError::need_more_bytes);
    }
}

TEST_CASE("splitter: a frame fed in two pieces, at every split point")
{
    const auto frame = hex(route_add_hex);
    for (std::size_t cut = 0; cut <= frame.size(); ++cut) {
        CAPTURE(cut);
        FrameSplitter s;
        s.feed(std::span(frame).first(cut));
        if (cut < frame.size()) {
            CHECK(s.next().error() == ZapiError::need_more_bytes);
            CHECK(s.pending() == cut);
        }
        s.feed(std::span(frame).subspan(cut));
        const auto f = s.next();
        REQUIRE(f.has_value());
        CHECK(f->command() == z::Command::route_add);
        CHECK(f->header.length == frame.size());
        CHECK(std::vector<std::uint8_t>(f->body.begin(), f->body.end())
              == std::vector<std::uint8_t>(frame.begin() + 10, frame.end()));
        CHECK(s.next().error() == ZapiError::need_more_bytes);
        CHECK(s.pending() == 0);
    }
}

TEST_CASE("splitter: two frames in one buffer, and byte by byte")
{
    auto stream = notify_installed_frame();
    const auto hello = *encode_hello(z::RouteType::nhrp, 0, 0, true);
    stream.insert(stream.end(), hello.begin(), hello.end());

    SUBCASE("one feed")
    {
        FrameSplitter s;
        s.feed(stream);
        const auto a = s.next();
        const auto b = s.next(); // a's body stays valid: no feed in between
        REQUIRE(a.has_value());
        REQUIRE(b.has_value());
        CHECK(a->command() == z::Command::route_notify_owner);
        CHECK(decode_route_notify_owner(a->body)->note == z::RouteNote::installed);
        CHECK(b->command() == z::Command::hello);
        CHECK(b->body.size() == 9);
        CHECK(s.next().error() == ZapiError::need_more_bytes);
    }
    SUBCASE("every split point of the pair")
    {
        for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
            CAPTURE(cut);
            FrameSplitter s;
            std::vector<std::uint16_t> commands;
            s.feed(std::span(stream).first(cut));
            for (auto f = s.next(); f; f = s.next())
                commands.push_back(f->header.command);
            s.feed(std::span(stream).subspan(cut));
            for (auto f = s.next(); f; f = s.next())
                commands.push_back(f->header.command);
            CHECK(commands == std::vector<std::uint16_t>{10, 18});
            CHECK(s.pending() == 0);
        }
    }
    SUBCASE("one byte at a time")
    {
        FrameSplitter s;
        int frames = 0;
        for (const std::uint8_t byte : stream) {
            s.feed(std::span(&byte, 1));
            for (auto f = s.next(); f; f = s.next())
                ++frames;
        }
        CHECK(frames == 2);
    }
}

TEST_CASE("splitter: garbage is a sticky error until reset")
{
    FrameSplitter s;
    auto frame = hex(route_add_hex);
    s.feed(frame);
    s.feed(hex("002cfe05000000000008")); // a second frame from a version-5 peer
    REQUIRE(s.next().has_value());
    CHECK(s.next().error() == ZapiError::bad_version);
    s.feed(frame);
    CHECK(s.next().error() == ZapiError::bad_version); // lost sync: the client reconnects
    s.reset();
    s.feed(frame);
    CHECK(s.next().has_value());
}

TEST_CASE("splitter: a length above ZEBRA_MAX_PACKET_SIZ fails at once instead of waiting for the bytes")
{
    FrameSplitter s;
    s.feed(hex("4001fe06000000000008")); // 16385: one byte too long, only the header here
    CHECK(s.next().error() == ZapiError::length_too_long);
    FrameSplitter t;
    t.feed(hex("0009fe06000000000008")); // 9: shorter than its own header
    CHECK(t.next().error() == ZapiError::length_too_short);
}

TEST_CASE("splitter: zebra closing mid-frame leaves bytes pending")
{
    const auto frame = hex(route_add_hex);
    FrameSplitter s;
    s.feed(std::span(frame).first(frame.size() - 1));
    CHECK(s.next().error() == ZapiError::need_more_bytes);
    CHECK(s.pending() == frame.size() - 1); // at EOF: a truncated frame, count it and reconnect
}

TEST_CASE("every truncation of a valid frame is an error, never a crash")
{
    for (const auto& frame : {hex(route_add_hex), notify_installed_frame()}) {
        for (std::size_t n = 0; n < frame.size(); ++n) {
            CAPTURE(n);
            const auto cut = std::span(frame).first(n);
            FrameSplitter s;
            s.feed(cut);
            CHECK(s.next().error() == ZapiError::need_more_bytes);
            const auto h = decode_header(cut);
            if (n < z::header_size) {
                CHECK(h.error() == ZapiError::need_more_bytes);
                continue;
            }
            REQUIRE(h.has_value());
            // A decoder handed the partial body (as a careless caller might) fails cleanly.
            CHECK_FALSE(decode_route_notify_owner(cut.subspan(z::header_size)).has_value());
        }
    }
}
