#pragma once
// Every number of the zserv protocol (ZAPI) that mesh-site uses, in one place.
//
// PINNED TO FRR 8.4.x (Debian 12 ships 8.4.4), ZAPI version 6. ZAPI is
// FRR-internal: command and route-type numbers moved between releases while
// the version byte stayed 6 (FRR 8.2 and 10.0 renumbered), so these values
// are only right for the 8.4 branch. Each value names the FRR file it was
// read from (tag frr-8.4.4); nothing here is copied FRR code.

#include <cstddef>
#include <cstdint>

namespace mesh::routing::zapi {

// --- Frame header: lib/zclient.h (struct zmsghdr), lib/zclient.c zclient_create_header()
//
//   0               1               2               3
//   +---------------+---------------+---------------+---------------+
//   |        length (u16, BE)       |  marker 254   |  version 6    |
//   +---------------+---------------+---------------+---------------+
//   |                        vrf_id (u32, BE)                       |
//   +---------------+---------------+---------------+---------------+
//   |       command (u16, BE)       |  body ...
//   +---------------+---------------+
//
// length counts the whole frame, header included.
inline constexpr std::uint8_t header_marker = 254;             // ZEBRA_HEADER_MARKER
inline constexpr std::uint8_t version = 6;                     // ZSERV_VERSION
inline constexpr std::size_t header_size = 10;                 // ZEBRA_HEADER_SIZE
inline constexpr std::size_t max_packet_size = 16384;          // ZEBRA_MAX_PACKET_SIZ
inline constexpr std::uint32_t vrf_default = 0;                // VRF_DEFAULT (lib/vrf.h)

// --- Commands: lib/zclient.h `zebra_message_types_t`, counted from
// ZEBRA_INTERFACE_ADD = 0 (the enum has no explicit values in 8.4).
enum class Command : std::uint16_t {
    interface_add = 0,           // ZEBRA_INTERFACE_ADD
    interface_delete = 1,        // ZEBRA_INTERFACE_DELETE
    interface_address_add = 2,   // ZEBRA_INTERFACE_ADDRESS_ADD
    interface_address_delete = 3,// ZEBRA_INTERFACE_ADDRESS_DELETE
    interface_up = 4,            // ZEBRA_INTERFACE_UP
    interface_down = 5,          // ZEBRA_INTERFACE_DOWN
    route_add = 8,               // ZEBRA_ROUTE_ADD
    route_delete = 9,            // ZEBRA_ROUTE_DELETE
    route_notify_owner = 10,     // ZEBRA_ROUTE_NOTIFY_OWNER
    router_id_update = 17,       // ZEBRA_ROUTER_ID_UPDATE
    hello = 18,                  // ZEBRA_HELLO
    capabilities = 19,           // ZEBRA_CAPABILITIES
    vrf_add = 33,                // ZEBRA_VRF_ADD
    vrf_delete = 34,             // ZEBRA_VRF_DELETE
    error = 118,                 // ZEBRA_ERROR
};

// --- Route types: lib/route_types.txt, in file order (route_types.pl numbers
// them from ZEBRA_ROUTE_SYSTEM = 0; ZEBRA_ROUTE_ALL = 30, so ZEBRA_ROUTE_MAX = 31).
enum class RouteType : std::uint8_t {
    system = 0,      // ZEBRA_ROUTE_SYSTEM
    kernel = 1,      // ZEBRA_ROUTE_KERNEL
    connect = 2,     // ZEBRA_ROUTE_CONNECT
    static_ = 3,     // ZEBRA_ROUTE_STATIC   (never ours: zebra's staticd owns it)
    ospf = 6,        // ZEBRA_ROUTE_OSPF
    bgp = 9,         // ZEBRA_ROUTE_BGP
    nhrp = 12,       // ZEBRA_ROUTE_NHRP     mesh-site's type (docs/zapi.md says why)
    sharp = 23,      // ZEBRA_ROUTE_SHARP
};
inline constexpr std::uint8_t route_type_max = 31; // ZEBRA_ROUTE_MAX
// zebra/zapi_msg.c zread_hello(): only types above CONNECT and below MAX bind
// a client to a protocol (and so get their routes flushed on disconnect).
inline constexpr RouteType our_route_type = RouteType::nhrp;

// --- Route notify owner: lib/zclient.h `enum zapi_route_notify_owner`
enum class RouteNote : std::uint32_t {
    fail_install = 0,     // ZAPI_ROUTE_FAIL_INSTALL
    better_admin_won = 1, // ZAPI_ROUTE_BETTER_ADMIN_WON
    installed = 2,        // ZAPI_ROUTE_INSTALLED
    removed = 3,          // ZAPI_ROUTE_REMOVED
    remove_fail = 4,      // ZAPI_ROUTE_REMOVE_FAIL
};

// --- zapi_route.message bits: lib/zclient.h ZAPI_MESSAGE_*
namespace message {
inline constexpr std::uint32_t nexthop = 0x01;         // ZAPI_MESSAGE_NEXTHOP
inline constexpr std::uint32_t distance = 0x02;        // ZAPI_MESSAGE_DISTANCE
inline constexpr std::uint32_t metric = 0x04;          // ZAPI_MESSAGE_METRIC
inline constexpr std::uint32_t tag = 0x08;             // ZAPI_MESSAGE_TAG
inline constexpr std::uint32_t mtu = 0x10;             // ZAPI_MESSAGE_MTU
inline constexpr std::uint32_t srcpfx = 0x20;          // ZAPI_MESSAGE_SRCPFX
inline constexpr std::uint32_t backup_nexthops = 0x40; // ZAPI_MESSAGE_BACKUP_NEXTHOPS
inline constexpr std::uint32_t nhg = 0x80;             // ZAPI_MESSAGE_NHG
inline constexpr std::uint32_t tableid = 0x0100;       // ZAPI_MESSAGE_TABLEID
inline constexpr std::uint32_t srte = 0x0200;          // ZAPI_MESSAGE_SRTE
inline constexpr std::uint32_t opaque = 0x0400;        // ZAPI_MESSAGE_OPAQUE
// The bits encode_route() knows how to lay out.
inline constexpr std::uint32_t supported = nexthop | distance | metric | tag | mtu;
} // namespace message

// --- zapi_route.flags bits: lib/zclient.h ZEBRA_FLAG_*
namespace route_flag {
inline constexpr std::uint32_t allow_recursion = 0x01; // ZEBRA_FLAG_ALLOW_RECURSION
inline constexpr std::uint32_t selfroute = 0x02;       // ZEBRA_FLAG_SELFROUTE
} // namespace route_flag

// --- Nexthop types: lib/nexthop.h `enum nexthop_types_t` (starts at 1)
enum class NexthopType : std::uint8_t {
    ifindex = 1,          // NEXTHOP_TYPE_IFINDEX
    ipv4 = 2,             // NEXTHOP_TYPE_IPV4
    ipv4_ifindex = 3,     // NEXTHOP_TYPE_IPV4_IFINDEX
    ipv6 = 4,             // NEXTHOP_TYPE_IPV6
    ipv6_ifindex = 5,     // NEXTHOP_TYPE_IPV6_IFINDEX
    blackhole = 6,        // NEXTHOP_TYPE_BLACKHOLE
};

// --- lib/nexthop.h `enum blackhole_type`
enum class BlackholeType : std::uint8_t {
    unspec = 0,       // BLACKHOLE_UNSPEC
    null = 1,         // BLACKHOLE_NULL
    reject = 2,       // BLACKHOLE_REJECT
    admin_prohib = 3, // BLACKHOLE_ADMINPROHIB
};

// --- zapi_nexthop.flags bits (one octet on the wire): lib/zclient.h ZAPI_NEXTHOP_FLAG_*
namespace nexthop_flag {
inline constexpr std::uint8_t onlink = 0x01; // ZAPI_NEXTHOP_FLAG_ONLINK
inline constexpr std::uint8_t label = 0x02;  // ZAPI_NEXTHOP_FLAG_LABEL
inline constexpr std::uint8_t weight = 0x04; // ZAPI_NEXTHOP_FLAG_WEIGHT
} // namespace nexthop_flag

// --- lib/zebra.h `afi_t` / `safi_t`
inline constexpr std::uint8_t afi_ip = 1;       // AFI_IP
inline constexpr std::uint8_t afi_ip6 = 2;      // AFI_IP6
inline constexpr std::uint8_t safi_unicast = 1; // SAFI_UNICAST
inline constexpr std::uint8_t safi_max = 8;     // SAFI_MAX (after SAFI_FLOWSPEC = 7)

// --- Address families on the wire are the host's AF_* (Linux: AF_INET 2, AF_INET6 10):
// zapi_route_encode() writes `prefix.family` as one octet.
inline constexpr std::uint8_t family_inet = 2;   // AF_INET
inline constexpr std::uint8_t family_inet6 = 10; // AF_INET6

} // namespace mesh::routing::zapi
