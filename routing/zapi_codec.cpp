// ZAPI v6 frame codec for FRR 8.4.x. Layout facts and their FRR sources are in
// zapi_codec.hpp and docs/zapi.md; this file is our own encoder and decoder.
//
// Order of this file: writer, reader, header, splitter, encoders, decoders.

#include "routing/zapi_codec.hpp"

#include "net/byte_order.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <tuple>

namespace mesh::routing {

static_assert(AF_INET == zapi::family_inet && AF_INET6 == zapi::family_inet6,
              "ZAPI carries the host's AF_* numbers; these are Linux's");

std::string_view describe(ZapiError e) noexcept
{
    switch (e) {
    case ZapiError::need_more_bytes: return "incomplete frame, need more bytes";
    case ZapiError::bad_marker: return "bad ZAPI header marker (expected 254)";
    case ZapiError::bad_version: return "ZAPI version mismatch (expected 6, FRR 8.4)";
    case ZapiError::length_too_short: return "ZAPI frame length below header size";
    case ZapiError::length_too_long: return "ZAPI frame length above ZEBRA_MAX_PACKET_SIZ";
    case ZapiError::truncated: return "ZAPI message body truncated";
    case ZapiError::bad_family: return "unknown address family in prefix";
    case ZapiError::bad_prefix_length: return "prefix length out of range";
    case ZapiError::bad_route_type: return "route type not accepted by zebra";
    case ZapiError::bad_safi: return "SAFI out of range";
    case ZapiError::bad_value: return "value outside its enum";
    case ZapiError::unsupported_message: return "route message flags not supported by this codec";
    case ZapiError::no_nexthops: return "ROUTE_ADD without nexthops";
    case ZapiError::bad_nexthop: return "nexthop gateway does not match its type";
    case ZapiError::frame_too_large: return "encoded frame exceeds ZEBRA_MAX_PACKET_SIZ";
    case ZapiError::bad_command: return "command not valid here";
    }
    return "unknown ZAPI error";
}

// --- Writer ---

void ZapiWriter::put(const std::uint8_t* p, std::size_t n)
{
    if (overflowed_ || n > limit_ - out_.size()) [[unlikely]] {
        overflowed_ = true;
        return;
    }
    out_.insert(out_.end(), p, p + n);
}

void ZapiWriter::u16(std::uint16_t v)
{
    std::uint8_t b[2];
    net::store_be16(b, v);
    put(b, 2);
}

void ZapiWriter::u32(std::uint32_t v)
{
    std::uint8_t b[4];
    net::store_be32(b, v);
    put(b, 4);
}

void ZapiWriter::u16_at(std::size_t offset, std::uint16_t v)
{
    if (offset > out_.size() || out_.size() - offset < 2) [[unlikely]] {
        overflowed_ = true;
        return;
    }
    net::store_be16(out_.data() + offset, v);
}

// --- Reader ---

bool ZapiReader::take(std::size_t n) noexcept
{
    if (failed_ || n > remaining()) [[unlikely]] {
        failed_ = true;
        return false;
    }
    return true;
}

std::uint8_t ZapiReader::u8() noexcept
{
    if (!take(1))
        return 0;
    return data_[pos_++];
}

std::uint16_t ZapiReader::u16() noexcept
{
    if (!take(2))
        return 0;
    const auto v = net::load_be16(data_.data() + pos_);
    pos_ += 2;
    return v;
}

std::uint32_t ZapiReader::u32() noexcept
{
    if (!take(4))
        return 0;
    const std::uint32_t v = net::load_be32(data_.data() + pos_);
    pos_ += 4;
    return v;
}

std::uint32_t ZapiReader::u32_host() noexcept
{
    if (!take(4))
        return 0;
    std::uint32_t v = 0;
    std::memcpy(&v, data_.data() + pos_, 4);
    pos_ += 4;
    return v;
}

std::span<const std::uint8_t> ZapiReader::bytes(std::size_t n) noexcept
{
    if (!take(n))
        return {};
    const auto s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
}

// --- Header ---

namespace {

void write_header(ZapiWriter& w, zapi::Command command, std::uint32_t vrf_id)
{
    // lib/zclient.c zclient_create_header(): the length is a placeholder that
    // finish_frame() patches once the body is written (stream_putw_at(s, 0, ...)).
    w.u16(static_cast<std::uint16_t>(zapi::header_size));
    w.u8(zapi::header_marker);
    w.u8(zapi::version);
    w.u32(vrf_id);
    w.u16(static_cast<std::uint16_t>(command));
}

std::expected<std::vector<std::uint8_t>, ZapiError> finish_frame(ZapiWriter&& w)
{
    if (w.overflowed()) [[unlikely]]
        return std::unexpected(ZapiError::frame_too_large);
    w.u16_at(0, static_cast<std::uint16_t>(w.size()));
    return std::move(w).take();
}

} // namespace

std::expected<Header, ZapiError> decode_header(std::span<const std::uint8_t> bytes) noexcept
{
    if (bytes.size() < zapi::header_size)
        return std::unexpected(ZapiError::need_more_bytes);
    ZapiReader r(bytes.first(zapi::header_size));
    Header h;
    h.length = r.u16();
    const std::uint8_t marker = r.u8();
    const std::uint8_t version = r.u8();
    h.vrf_id = r.u32();
    h.command = r.u16();
    // Same order of checks as zebra/zserv.c zserv_read().
    if (marker != zapi::header_marker) [[unlikely]]
        return std::unexpected(ZapiError::bad_marker);
    if (version != zapi::version) [[unlikely]]
        return std::unexpected(ZapiError::bad_version);
    if (h.length < zapi::header_size) [[unlikely]]
        return std::unexpected(ZapiError::length_too_short);
    // lib/zclient.c would grow its buffer instead, but every zsend_*() in
    // zebra/zapi_msg.c builds its frame in a ZEBRA_MAX_PACKET_SIZ stream, so a
    // longer frame is not zebra 8.4 talking.
    if (h.length > zapi::max_packet_size) [[unlikely]]
        return std::unexpected(ZapiError::length_too_long);
    return h;
}

// --- Splitter ---

void FrameSplitter::feed(std::span<const std::uint8_t> bytes)
{
    if (start_ > 0) {
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
        start_ = 0;
    }
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

std::expected<Frame, ZapiError> FrameSplitter::next() noexcept
{
    if (error_ != ZapiError::need_more_bytes)
        return std::unexpected(error_);
    const std::span<const std::uint8_t> rest = std::span(buffer_).subspan(start_);
    const auto header = decode_header(rest);
    if (!header) {
        if (header.error() != ZapiError::need_more_bytes)
            error_ = header.error();
        return std::unexpected(header.error());
    }
    if (rest.size() < header->length)
        return std::unexpected(ZapiError::need_more_bytes);
    start_ += header->length;
    return Frame{*header, rest.subspan(zapi::header_size, header->body_size())};
}

void FrameSplitter::reset() noexcept
{
    buffer_.clear();
    start_ = 0;
    error_ = ZapiError::need_more_bytes;
}

// --- Encoders ---

std::expected<std::vector<std::uint8_t>, ZapiError>
encode_hello(zapi::RouteType route_type, std::uint16_t instance, std::uint32_t session_id, bool receive_notify)
{
    // zebra/zapi_msg.c zread_hello() binds the client to the type only if it
    // lies strictly between ZEBRA_ROUTE_CONNECT and ZEBRA_ROUTE_MAX.
    const auto type = static_cast<std::uint8_t>(route_type);
    if (type <= static_cast<std::uint8_t>(zapi::RouteType::connect) || type >= zapi::route_type_max)
        return std::unexpected(ZapiError::bad_route_type);

    ZapiWriter w;
    write_header(w, zapi::Command::hello, zapi::vrf_default);
    w.u8(type);                         // redist_default: the client's route type
    w.u16(instance);
    w.u32(session_id);
    w.u8(receive_notify ? 1 : 0);       // ROUTE_NOTIFY_OWNER wanted
    w.u8(0);                            // synchronous: no, we want CAPABILITIES and events
    return finish_frame(std::move(w));
}

namespace {

std::size_t address_bytes(const net::IpPrefix& p) noexcept { return p.address().size(); }
std::uint8_t max_prefix_length(const net::IpPrefix& p) noexcept { return p.address().is_v4() ? 32 : 128; }

bool nexthop_valid(const Nexthop& nh) noexcept
{
    switch (nh.type) {
    case zapi::NexthopType::ifindex:
        return true;
    case zapi::NexthopType::ipv4:
    case zapi::NexthopType::ipv4_ifindex:
        return nh.gate.is_v4();
    case zapi::NexthopType::ipv6:
    case zapi::NexthopType::ipv6_ifindex:
        return !nh.gate.is_v4();
    case zapi::NexthopType::blackhole:
        return static_cast<std::uint8_t>(nh.blackhole) <= static_cast<std::uint8_t>(zapi::BlackholeType::admin_prohib);
    }
    return false;
}

bool has_gate(zapi::NexthopType t) noexcept
{
    return t == zapi::NexthopType::ipv4 || t == zapi::NexthopType::ipv4_ifindex || t == zapi::NexthopType::ipv6
           || t == zapi::NexthopType::ipv6_ifindex;
}

// lib/zclient.c zapi_nexthop_cmp_no_labels() for nexthops without weight,
// labels, SR-TE colour or backups: vrf_id, type, gateway, then ifindex or blackhole type.
bool nexthop_less(const Nexthop& a, const Nexthop& b) noexcept
{
    if (a.vrf_id != b.vrf_id)
        return a.vrf_id < b.vrf_id;
    if (a.type != b.type)
        return a.type < b.type;
    if (has_gate(a.type)) {
        const int c = std::memcmp(a.gate.bytes(), b.gate.bytes(), a.gate.size());
        if (c != 0)
            return c < 0;
    }
    if (a.type == zapi::NexthopType::blackhole)
        return a.blackhole < b.blackhole;
    if (a.type == zapi::NexthopType::ipv4 || a.type == zapi::NexthopType::ipv6)
        return false;
    return a.ifindex < b.ifindex;
}

// lib/zclient.c zapi_nexthop_encode(): flags are one octet; we never set
// LABEL or WEIGHT, so no label or weight fields follow.
void write_nexthop(ZapiWriter& w, const Nexthop& nh)
{
    w.u32(nh.vrf_id);
    w.u8(static_cast<std::uint8_t>(nh.type));
    w.u8(0);
    switch (nh.type) {
    case zapi::NexthopType::blackhole:
        w.u8(static_cast<std::uint8_t>(nh.blackhole));
        break;
    case zapi::NexthopType::ipv4:
    case zapi::NexthopType::ipv4_ifindex:
    case zapi::NexthopType::ipv6:
    case zapi::NexthopType::ipv6_ifindex:
        w.bytes({nh.gate.bytes(), nh.gate.size()});
        w.u32(static_cast<std::uint32_t>(nh.ifindex));
        break;
    case zapi::NexthopType::ifindex:
        w.u32(static_cast<std::uint32_t>(nh.ifindex));
        break;
    }
}

} // namespace

std::expected<std::vector<std::uint8_t>, ZapiError> encode_route(zapi::Command command, const Route& route)
{
    if (command != zapi::Command::route_add && command != zapi::Command::route_delete)
        return std::unexpected(ZapiError::bad_command);
    if (static_cast<std::uint8_t>(route.type) >= zapi::route_type_max)
        return std::unexpected(ZapiError::bad_route_type);
    if (route.safi < zapi::safi_unicast || route.safi >= zapi::safi_max)
        return std::unexpected(ZapiError::bad_safi);
    if ((route.message & ~zapi::message::supported) != 0)
        return std::unexpected(ZapiError::unsupported_message);
    if (route.prefix.length() > max_prefix_length(route.prefix))
        return std::unexpected(ZapiError::bad_prefix_length);
    const bool with_nexthops = (route.message & zapi::message::nexthop) != 0;
    if (command == zapi::Command::route_add && (!with_nexthops || route.nexthops.empty()))
        return std::unexpected(ZapiError::no_nexthops);
    if (with_nexthops) {
        if (route.nexthops.size() > std::numeric_limits<std::uint16_t>::max())
            return std::unexpected(ZapiError::frame_too_large);
        if (!std::ranges::all_of(route.nexthops, nexthop_valid))
            return std::unexpected(ZapiError::bad_nexthop);
    }

    ZapiWriter w;
    write_header(w, command, route.vrf_id);
    w.u8(static_cast<std::uint8_t>(route.type));
    w.u16(route.instance);
    w.u32(route.flags);
    w.u32(route.message);
    w.u8(route.safi);

    // Prefix: family, length, then only the PSIZE(length) = ceil(length/8)
    // leading bytes. Bits past the length are cleared, as a canonical prefix has them.
    const net::IpPrefix& p = route.prefix;
    w.u8(p.address().is_v4() ? zapi::family_inet : zapi::family_inet6);
    w.u8(p.length());
    const std::size_t psize = (std::size_t{p.length()} + 7) / 8;
    std::uint8_t addr[16] = {};
    std::memcpy(addr, p.address().bytes(), address_bytes(p));
    if (p.length() % 8 != 0)
        addr[psize - 1] &= static_cast<std::uint8_t>(0xff << (8 - p.length() % 8));
    w.bytes({addr, psize});

    if (with_nexthops) {
        std::vector<Nexthop> sorted = route.nexthops;
        std::ranges::stable_sort(sorted, nexthop_less);
        w.u16(static_cast<std::uint16_t>(sorted.size()));
        for (const Nexthop& nh : sorted)
            write_nexthop(w, nh);
    }
    if ((route.message & zapi::message::distance) != 0)
        w.u8(route.distance);
    if ((route.message & zapi::message::metric) != 0)
        w.u32(route.metric);
    if ((route.message & zapi::message::tag) != 0)
        w.u32(route.tag);
    if ((route.message & zapi::message::mtu) != 0)
        w.u32(route.mtu);
    return finish_frame(std::move(w));
}

// --- Decoders ---
// Trailing bytes after the fields we know are ignored, as FRR's decoders do:
// a later 8.4.x may append a field without breaking us.

std::expected<RouteNotify, ZapiError> decode_route_notify_owner(std::span<const std::uint8_t> body) noexcept
{
    ZapiReader r(body);
    RouteNotify n;
    const std::uint32_t note = r.u32_host();
    const std::uint8_t family = r.u8();
    const std::uint8_t length = r.u8();
    if (!r.ok())
        return std::unexpected(ZapiError::truncated);
    if (note > static_cast<std::uint32_t>(zapi::RouteNote::remove_fail))
        return std::unexpected(ZapiError::bad_value);
    n.note = static_cast<zapi::RouteNote>(note);

    net::IpAddress::Family af{};
    std::uint8_t max_length = 0;
    if (family == zapi::family_inet) {
        af = net::IpAddress::Family::v4;
        max_length = 32;
    } else if (family == zapi::family_inet6) {
        af = net::IpAddress::Family::v6;
        max_length = 128;
    } else {
        return std::unexpected(ZapiError::bad_family);
    }
    if (length > max_length)
        return std::unexpected(ZapiError::bad_prefix_length);
    // prefix_blen(): the whole address, not PSIZE(length) as in ROUTE_ADD.
    const auto address = r.bytes(max_length / 8);
    n.table = r.u32();
    n.afi = r.u8();
    n.safi = r.u8();
    if (!r.ok())
        return std::unexpected(ZapiError::truncated);
    n.prefix = net::IpPrefix(net::IpAddress::from_bytes(af, address.data()), length);
    return n;
}

std::expected<Capabilities, ZapiError> decode_capabilities(std::span<const std::uint8_t> body) noexcept
{
    ZapiReader r(body);
    Capabilities c;
    c.vrf_backend = r.u32();
    c.mpls_enabled = r.u8() != 0;
    c.ecmp = r.u32();
    c.mlag_role = r.u8();
    if (!r.ok())
        return std::unexpected(ZapiError::truncated);
    return c;
}

} // namespace mesh::routing
