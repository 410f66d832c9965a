#pragma once
// ZAPI (zserv protocol) frames for FRR 8.4's zebra, version 6: a bounds-checked
// writer and reader, the few messages mesh-site sends (HELLO, ROUTE_ADD,
// ROUTE_DELETE) and receives (ROUTE_NOTIFY_OWNER, CAPABILITIES), and the
// splitter that cuts a unix-stream byte stream into frames.
//
// Flow of the client (routing/zebra_client.hpp, not here):
//   connect -> encode_hello -> [decode_capabilities] -> encode_route(ADD) per owned route
//   socket bytes -> FrameSplitter::feed -> next() per frame -> decode_* by command
//
// Layouts are facts read from FRR 8.4.4's lib/zclient.c and zebra/zapi_msg.c
// (docs/zapi.md has the byte maps); no FRR code is copied. Integers are
// big-endian (lib/stream.c stream_putw/putl) unless a comment says otherwise.

#include "routing/zapi_constants.hpp"
#include "net/ip_address.hpp"

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <string_view>
#include <vector>

namespace mesh::routing {

enum class ZapiError : std::uint8_t {
    // Fewer bytes than a header or than the header's length: wait for more.
    // Only the splitter and decode_header() report it; it is not a fault.
    need_more_bytes = 1,
    // Header byte 2 is not 254: not a zserv stream (or we lost sync). Reconnect.
    bad_marker,
    // Header byte 3 is not 6: a zebra of another ZAPI version. Reconnect/refuse.
    bad_version,
    // Header length below the 10-byte header itself.
    length_too_short,
    // Header length above ZEBRA_MAX_PACKET_SIZ (16384).
    length_too_long,
    // A body ends before a field it must hold.
    truncated,
    // A prefix family that is neither AF_INET nor AF_INET6.
    bad_family,
    // A prefix length beyond 32 (IPv4) or 128 (IPv6).
    bad_prefix_length,
    // A route type zebra does not accept (>= ZEBRA_ROUTE_MAX, or <= CONNECT in HELLO).
    bad_route_type,
    // SAFI outside SAFI_UNICAST..SAFI_MAX-1.
    bad_safi,
    // A value outside its enum (route notify note, nexthop type).
    bad_value,
    // Route message bits this codec does not lay out (SRCPFX, NHG, backup, table, SR-TE, opaque).
    unsupported_message,
    // ROUTE_ADD without nexthops: zebra's zread_route_add() drops it with only a log line.
    no_nexthops,
    // A nexthop whose gateway address does not match its type.
    bad_nexthop,
    // The encoded frame would exceed ZEBRA_MAX_PACKET_SIZ.
    frame_too_large,
    // encode_route() given a command other than ROUTE_ADD / ROUTE_DELETE.
    bad_command,
};

[[nodiscard]] std::string_view describe(ZapiError e) noexcept;

// --- Writer: appends big-endian fields, refusing to grow a frame past the ZAPI limit.
class ZapiWriter {
public:
    explicit ZapiWriter(std::size_t limit = zapi::max_packet_size) : limit_(limit) {}

    void u8(std::uint8_t v) { put(&v, 1); }
    void u16(std::uint16_t v);
    void u32(std::uint32_t v);
    void bytes(std::span<const std::uint8_t> b) { put(b.data(), b.size()); }
    // Overwrite a u16 already written (the header's length).
    void u16_at(std::size_t offset, std::uint16_t v);

    [[nodiscard]] bool overflowed() const noexcept { return overflowed_; }
    [[nodiscard]] std::size_t size() const noexcept { return out_.size(); }
    [[nodiscard]] std::vector<std::uint8_t> take() && { return std::move(out_); }

private:
    void put(const std::uint8_t* p, std::size_t n);

    std::vector<std::uint8_t> out_;
    std::size_t limit_;
    bool overflowed_ = false;
};

// --- Reader: big-endian fields from a span; a read past the end yields 0 and
// sets a sticky failure that the decoder checks before trusting any value.
class ZapiReader {
public:
    explicit ZapiReader(std::span<const std::uint8_t> data) noexcept : data_(data) {}

    std::uint8_t u8() noexcept;
    std::uint16_t u16() noexcept;
    std::uint32_t u32() noexcept;
    // Four bytes in the sender's byte order (zebra stream_put()s some enums raw).
    std::uint32_t u32_host() noexcept;
    // n bytes, or an empty span (and failure) if fewer remain.
    std::span<const std::uint8_t> bytes(std::size_t n) noexcept;

    [[nodiscard]] bool ok() const noexcept { return !failed_; }
    [[nodiscard]] std::size_t remaining() const noexcept { return data_.size() - pos_; }

private:
    bool take(std::size_t n) noexcept;

    std::span<const std::uint8_t> data_;
    std::size_t pos_ = 0;
    bool failed_ = false;
};

// --- Header (struct zmsghdr, lib/zclient.h): marker and version are checked, not kept.
struct Header {
    std::uint16_t length = 0; // whole frame, header included
    std::uint32_t vrf_id = 0;
    std::uint16_t command = 0; // a zapi::Command value, or one we do not know

    [[nodiscard]] std::size_t body_size() const noexcept { return length - zapi::header_size; }
    friend bool operator==(const Header&, const Header&) = default;
};

// Checks as zebra/zserv.c zserv_read() and lib/zclient.c zclient_read() do:
// fewer than 10 bytes -> need_more_bytes; then marker, version, 10 <= length <= 16384.
[[nodiscard]] std::expected<Header, ZapiError> decode_header(std::span<const std::uint8_t> bytes) noexcept;

struct Frame {
    Header header;
    std::span<const std::uint8_t> body; // header.body_size() bytes

    [[nodiscard]] zapi::Command command() const noexcept { return static_cast<zapi::Command>(header.command); }
};

// --- Splitter for the unix stream socket: bytes in, whole frames out.
// A partial frame waits for more bytes (need_more_bytes); a bad header is a
// sticky error: the stream has lost sync and the client must reconnect (as
// zebra itself drops a client on the same checks).
class FrameSplitter {
public:
    // Append bytes read from the socket. Invalidates frames returned before.
    void feed(std::span<const std::uint8_t> bytes);
    // The next whole frame (its body points into this splitter's buffer and
    // lives until the next feed() or reset()), need_more_bytes, or a framing error.
    [[nodiscard]] std::expected<Frame, ZapiError> next() noexcept;
    // Drop everything: after a reconnect.
    void reset() noexcept;

    // Bytes of an unfinished frame: non-zero at EOF means zebra closed mid-frame.
    [[nodiscard]] std::size_t pending() const noexcept { return buffer_.size() - start_; }

private:
    std::vector<std::uint8_t> buffer_;
    std::size_t start_ = 0; // first byte not yet returned as a frame
    ZapiError error_ = ZapiError::need_more_bytes; // sticky once a framing error is seen
};

// --- What we send ---

// ZEBRA_HELLO body, lib/zclient.c zclient_send_hello() / zebra/zapi_msg.c zread_hello():
//   u8 route type | u16 instance | u32 session_id | u8 receive_notify | u8 synchronous (0)
// The route type must be a dynamic one (CONNECT < type < ZEBRA_ROUTE_MAX) or
// zebra does not bind the client to it. Header vrf_id is always VRF_DEFAULT.
[[nodiscard]] std::expected<std::vector<std::uint8_t>, ZapiError>
encode_hello(zapi::RouteType route_type, std::uint16_t instance, std::uint32_t session_id, bool receive_notify);

struct Nexthop {
    zapi::NexthopType type = zapi::NexthopType::ifindex;
    std::uint32_t vrf_id = zapi::vrf_default;
    std::int32_t ifindex = 0;  // ifindex_t is a signed int in FRR (lib/zebra.h)
    net::IpAddress gate;    // ipv4*/ipv6* types only
    zapi::BlackholeType blackhole = zapi::BlackholeType::unspec; // blackhole type only

    static Nexthop via_ifindex(std::int32_t ifindex, std::uint32_t vrf_id = zapi::vrf_default) noexcept
    {
        return Nexthop{zapi::NexthopType::ifindex, vrf_id, ifindex, {}, zapi::BlackholeType::unspec};
    }
    static Nexthop blackhole_of(zapi::BlackholeType bh, std::uint32_t vrf_id = zapi::vrf_default) noexcept
    {
        return Nexthop{zapi::NexthopType::blackhole, vrf_id, 0, {}, bh};
    }
    friend bool operator==(const Nexthop&, const Nexthop&) = default;
};

// struct zapi_route (lib/zclient.h), the parts mesh-site uses. `message` says
// which optional fields go on the wire, exactly as in FRR: NEXTHOP, DISTANCE,
// METRIC, TAG, MTU; any other bit is refused.
struct Route {
    zapi::RouteType type = zapi::our_route_type;
    std::uint16_t instance = 0;
    std::uint32_t flags = 0;   // ZEBRA_FLAG_*
    std::uint32_t message = 0; // ZAPI_MESSAGE_*
    std::uint8_t safi = zapi::safi_unicast;
    std::uint32_t vrf_id = zapi::vrf_default; // goes in the header
    net::IpPrefix prefix;
    std::vector<Nexthop> nexthops;
    std::uint8_t distance = 0;
    std::uint32_t metric = 0;
    std::uint32_t tag = 0;
    std::uint32_t mtu = 0;
};

// ZEBRA_ROUTE_ADD / ZEBRA_ROUTE_DELETE, laid out as lib/zclient.c zapi_route_encode():
//   u8 type | u16 instance | u32 flags | u32 message | u8 safi
//   | u8 family | u8 prefixlen | PSIZE(prefixlen) prefix bytes
//   | [NEXTHOP] u16 count, then per nexthop (zapi_nexthop_encode()):
//       u32 vrf_id | u8 type | u8 flags | by type: ifindex u32 / v4 gate + u32 ifindex
//       / v6 gate + u32 ifindex / u8 blackhole type
//   | [DISTANCE] u8 | [METRIC] u32 | [TAG] u32 | [MTU] u32
// Nexthops are sorted as zapi_nexthop_cmp() sorts them (vrf_id, type, gate, ifindex / blackhole type).
[[nodiscard]] std::expected<std::vector<std::uint8_t>, ZapiError> encode_route(zapi::Command command, const Route& route);

// --- What we receive ---

// ZEBRA_ROUTE_NOTIFY_OWNER body, zebra/zapi_msg.c route_notify_internal() /
// lib/zclient.c zapi_route_notify_decode():
//   note (4 bytes, zebra's host byte order: the enum is stream_put() raw)
//   | u8 family | u8 prefixlen | full address (4 or 16 bytes, prefix_blen())
//   | u32 table id | u8 afi | u8 safi
// The header's vrf_id carries the route's VRF.
struct RouteNotify {
    zapi::RouteNote note = zapi::RouteNote::fail_install;
    net::IpPrefix prefix;
    std::uint32_t table = 0;
    std::uint8_t afi = 0;
    std::uint8_t safi = 0;
};
[[nodiscard]] std::expected<RouteNotify, ZapiError> decode_route_notify_owner(std::span<const std::uint8_t> body) noexcept;

// ZEBRA_CAPABILITIES body, zebra/zapi_msg.c zsend_capabilities() / lib/zclient.c zclient_capability_decode():
//   u32 vrf backend | u8 mpls enabled | u32 ecmp (multipath_num) | u8 mlag role
struct Capabilities {
    std::uint32_t vrf_backend = 0;
    bool mpls_enabled = false;
    std::uint32_t ecmp = 0; // most nexthops zebra takes per route
    std::uint8_t mlag_role = 0;
};
[[nodiscard]] std::expected<Capabilities, ZapiError> decode_capabilities(std::span<const std::uint8_t> body) noexcept;

} // namespace mesh::routing
