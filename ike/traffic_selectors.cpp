// Traffic selectors: built from the configuration, narrowed by the
// responder, checked by the initiator. Address ranges are compared as
// big-endian byte strings, which IpAddress's ordering is within one family.

#include "ike/traffic_selectors.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace mesh::ike {
namespace {

using net::IpAddress;

constexpr std::uint16_t max_port = 65535;

TsType ts_type_of(const IpAddress& a) noexcept
{
    return a.is_v4() ? TsType::ipv4_addr_range : TsType::ipv6_addr_range;
}

IpAddress::Family family_of(TsType type) noexcept
{
    return type == TsType::ipv4_addr_range ? IpAddress::Family::v4 : IpAddress::Family::v6;
}

// The first and last address of `address` with `length` bits kept.
std::pair<IpAddress, IpAddress> prefix_range(const IpAddress& address, unsigned length)
{
    std::array<std::uint8_t, 16> first{};
    std::array<std::uint8_t, 16> last{};
    for (std::size_t i = 0; i < address.size(); ++i) {
        const unsigned before = 8 * static_cast<unsigned>(i);   // prefix bits in the bytes before this one
        const unsigned bits_here = length >= before + 8 ? 8U : (length > before ? length - before : 0U);
        const auto mask = static_cast<std::uint8_t>(0xff00U >> bits_here);
        first[i] = static_cast<std::uint8_t>(address.bytes()[i] & mask);
        last[i] = static_cast<std::uint8_t>(address.bytes()[i] | static_cast<std::uint8_t>(~mask));
    }
    return {IpAddress::from_bytes(address.family(), first.data()), IpAddress::from_bytes(address.family(), last.data())};
}

// The prefix length when [start, end] is exactly one prefix.
std::optional<unsigned> prefix_length(const IpAddress& start, const IpAddress& end)
{
    const unsigned bits = static_cast<unsigned>(start.size()) * 8;
    for (unsigned length = 0; length <= bits; ++length) {
        const auto [first, last] = prefix_range(start, length);
        if (first == start && last == end)
            return length;
    }
    return std::nullopt;
}

bool opaque(const TrafficSelector& ts) noexcept
{
    return ts.start_port > ts.end_port;
}

bool all_ports(const TrafficSelector& ts) noexcept
{
    return ts.start_port == 0 && ts.end_port == max_port;
}

bool single_host(const TrafficSelector& ts) noexcept
{
    return ts.start_address == ts.end_address;
}

// Drops duplicates and selectors another one covers: the first selector of an
// offer is often the packet that triggered it (section 2.9), inside the rest.
std::vector<TrafficSelector> minimized(std::vector<TrafficSelector> in)
{
    std::vector<TrafficSelector> out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        bool covered = false;
        for (std::size_t j = 0; j < in.size() && !covered; ++j) {
            if (i == j || !contains(in[j], in[i]))
                continue;
            // Of two equal selectors keep the first.
            covered = !contains(in[i], in[j]) || j < i;
        }
        if (!covered)
            out.push_back(in[i]);
    }
    return out;
}

// Every offered selector met with every one of ours.
std::vector<TrafficSelector> intersect_all(std::span<const TrafficSelector> offered, std::span<const TrafficSelector> ours)
{
    std::vector<TrafficSelector> out;
    for (const TrafficSelector& o : offered)
        for (const TrafficSelector& m : ours)
            if (auto both = intersect(o, m))
                out.push_back(*both);
    return minimized(std::move(out));
}

// Mode gre, responder: an offered selector is taken if it is a single host
// for GRE (or any protocol) and its ports meet ours, and is answered with our
// own address for that side; one whose range holds our address narrows
// normally. See the NAT note of the header.
std::vector<TrafficSelector> narrow_gre(std::span<const TrafficSelector> offered, std::span<const TrafficSelector> ours)
{
    std::vector<TrafficSelector> out;
    for (const TrafficSelector& o : offered) {
        for (const TrafficSelector& m : ours) {
            if (auto both = intersect(o, m)) {
                out.push_back(*both);
                continue;
            }
            if (!is_well_formed(o) || !single_host(o) ||
                (o.ip_protocol != ip_protocol_any && o.ip_protocol != ip_protocol_gre))
                continue;
            TrafficSelector substituted = o;
            substituted.ts_type = m.ts_type;
            substituted.start_address = m.start_address;
            substituted.end_address = m.end_address;
            if (auto both = intersect(substituted, m))
                out.push_back(*both);
        }
    }
    return minimized(std::move(out));
}

// Mode gre, initiator: single-host GRE selectors within our ports, taken as
// our own address for that side.
std::vector<TrafficSelector> accept_gre(std::span<const TrafficSelector> reply, std::span<const TrafficSelector> ours,
                                        bool& widened)
{
    std::vector<TrafficSelector> out;
    for (const TrafficSelector& r : reply) {
        const auto fits = std::find_if(ours.begin(), ours.end(), [&](const TrafficSelector& m) {
            TrafficSelector substituted = r;
            substituted.ts_type = m.ts_type;
            substituted.start_address = m.start_address;
            substituted.end_address = m.end_address;
            return is_well_formed(r) && single_host(r) && contains(m, substituted);
        });
        if (fits == ours.end()) {
            widened = true;
            continue;
        }
        TrafficSelector used = r;
        used.ts_type = fits->ts_type;
        used.start_address = fits->start_address;
        used.end_address = fits->end_address;
        out.push_back(used);
    }
    return minimized(std::move(out));
}

std::vector<TrafficSelector> accept_within(std::span<const TrafficSelector> reply,
                                           std::span<const TrafficSelector> ours, bool& widened)
{
    std::vector<TrafficSelector> out;
    for (const TrafficSelector& r : reply) {
        const bool fits = is_well_formed(r) && std::any_of(ours.begin(), ours.end(), [&](const TrafficSelector& m) {
                              return contains(m, r);
                          });
        if (fits)
            out.push_back(r);
        else
            widened = true;
    }
    return out;
}

std::string pair_text(std::span<const TrafficSelector> tsi, std::span<const TrafficSelector> tsr)
{
    return describe(tsi) + " === " + describe(tsr);
}

std::string protocol_text(std::uint8_t protocol)
{
    switch (protocol) {
    case ip_protocol_any: return "any";
    case 1: return "icmp";
    case 6: return "tcp";
    case 17: return "udp";
    case ip_protocol_gre: return "gre";
    case 58: return "ipv6-icmp";
    default: return std::to_string(protocol);
    }
}

} // namespace

// ---------------------------------------------------------------------------

TrafficSelector prefix_selector(const net::IpPrefix& prefix, std::uint8_t ip_protocol)
{
    const auto [first, last] = prefix_range(prefix.address(), prefix.length());
    return TrafficSelector{ts_type_of(first), ip_protocol, 0, max_port, first, last};
}

TrafficSelector host_selector(const IpAddress& address, std::uint8_t ip_protocol)
{
    return TrafficSelector{ts_type_of(address), ip_protocol, 0, max_port, address, address};
}

ChildSelectors child_selectors(const ChildConfig& child, const IpAddress& local, const IpAddress& remote,
                               const VirtualAddresses& virtual_ips)
{
    ChildSelectors s;
    s.mode = child.mode;
    switch (child.mode) {
    case ChildMode::transport_gre:
        s.local.push_back(host_selector(local, ip_protocol_gre));
        s.remote.push_back(host_selector(remote, ip_protocol_gre));
        break;
    case ChildMode::tunnel_ip:
        if (!virtual_ips.local.empty()) {
            for (const IpAddress& a : virtual_ips.local)
                s.local.push_back(host_selector(a));
        } else if (virtual_ips.requested.any()) {
            // Section 2.9: the initiator does not know its address yet and
            // offers the whole family; the responder narrows it to the address.
            if (virtual_ips.requested.ip4)
                s.local.push_back(prefix_selector({IpAddress(), 0}));
            if (virtual_ips.requested.ip6)
                s.local.push_back(prefix_selector({*IpAddress::parse("::"), 0}));
        } else {
            for (const net::IpPrefix& p : child.local_subnets)
                s.local.push_back(prefix_selector(p));
        }
        for (const net::IpPrefix& p : child.remote_subnets)
            s.remote.push_back(prefix_selector(p));
        for (const IpAddress& a : virtual_ips.remote)
            s.remote.push_back(host_selector(a));
        break;
    }
    return s;
}

TsPair initiator_ts(const ChildSelectors& ours)
{
    return TsPair{TsiPayload{ours.local}, TsrPayload{ours.remote}};
}

TsPair traffic_selectors(const ChildConfig& child, const IpAddress& local, const IpAddress& remote,
                         const VirtualAddresses& virtual_ips)
{
    return initiator_ts(child_selectors(child, local, remote, virtual_ips));
}

std::string TsUnacceptable::message() const
{
    return "traffic selectors unacceptable (ours: " + ours + ", theirs: " + theirs + ")";
}

std::expected<TsPair, TsUnacceptable> narrow(const TsiPayload& tsi_offered, const TsrPayload& tsr_offered,
                                             const ChildSelectors& ours)
{
    // TSi is the initiator's side: the peer's, our remote.
    const bool gre = ours.mode == ChildMode::transport_gre;
    TsPair out;
    auto& [tsi, tsr] = out;
    tsi.selectors = gre ? narrow_gre(tsi_offered.selectors, ours.remote) : intersect_all(tsi_offered.selectors, ours.remote);
    tsr.selectors = gre ? narrow_gre(tsr_offered.selectors, ours.local) : intersect_all(tsr_offered.selectors, ours.local);
    if (tsi.selectors.empty() || tsr.selectors.empty())
        return std::unexpected(TsUnacceptable{pair_text(ours.remote, ours.local),
                                              pair_text(tsi_offered.selectors, tsr_offered.selectors)});
    return out;
}

std::expected<TsPair, TsUnacceptable> accept_ts_reply(const TsiPayload& tsi_reply, const TsrPayload& tsr_reply,
                                                      const ChildSelectors& ours)
{
    const bool gre = ours.mode == ChildMode::transport_gre;
    bool widened = false;
    TsPair out;
    auto& [tsi, tsr] = out;
    tsi.selectors =
        gre ? accept_gre(tsi_reply.selectors, ours.local, widened) : accept_within(tsi_reply.selectors, ours.local, widened);
    tsr.selectors =
        gre ? accept_gre(tsr_reply.selectors, ours.remote, widened) : accept_within(tsr_reply.selectors, ours.remote, widened);
    if (widened || tsi.selectors.empty() || tsr.selectors.empty())
        return std::unexpected(
            TsUnacceptable{pair_text(ours.local, ours.remote), pair_text(tsi_reply.selectors, tsr_reply.selectors)});
    return out;
}

std::expected<TsPair, TsUnacceptable> narrow(const ChildConfig& child, const TsiPayload& tsi_offered,
                                             const TsrPayload& tsr_offered, const IpAddress& local,
                                             const IpAddress& remote, const VirtualAddresses& virtual_ips)
{
    return narrow(tsi_offered, tsr_offered, child_selectors(child, local, remote, virtual_ips));
}

std::expected<TsPair, TsUnacceptable> accept_ts_reply(const ChildConfig& child, const TsiPayload& tsi_reply,
                                                      const TsrPayload& tsr_reply, const IpAddress& local,
                                                      const IpAddress& remote, const VirtualAddresses& virtual_ips)
{
    return accept_ts_reply(tsi_reply, tsr_reply, child_selectors(child, local, remote, virtual_ips));
}

bool is_well_formed(const TrafficSelector& ts) noexcept
{
    return (ts.ts_type == TsType::ipv4_addr_range || ts.ts_type == TsType::ipv6_addr_range) &&
           ts.start_address.family() == family_of(ts.ts_type) && ts.end_address.family() == family_of(ts.ts_type) &&
           ts.start_address <= ts.end_address;
}

std::optional<TrafficSelector> intersect(const TrafficSelector& a, const TrafficSelector& b)
{
    if (!is_well_formed(a) || !is_well_formed(b) || a.ts_type != b.ts_type)
        return std::nullopt;
    TrafficSelector out = a;

    if (a.ip_protocol == ip_protocol_any)
        out.ip_protocol = b.ip_protocol;
    else if (b.ip_protocol != ip_protocol_any && b.ip_protocol != a.ip_protocol)
        return std::nullopt;

    if (opaque(a) || opaque(b)) {
        // OPAQUE meets itself and "all ports" only.
        const TrafficSelector& other = opaque(a) ? b : a;
        if (!opaque(other) && !all_ports(other))
            return std::nullopt;
        out.start_port = max_port;
        out.end_port = 0;
    } else {
        out.start_port = std::max(a.start_port, b.start_port);
        out.end_port = std::min(a.end_port, b.end_port);
        if (out.start_port > out.end_port)
            return std::nullopt;
    }

    out.start_address = std::max(a.start_address, b.start_address);
    out.end_address = std::min(a.end_address, b.end_address);
    if (out.start_address > out.end_address)
        return std::nullopt;
    return out;
}

bool contains(const TrafficSelector& outer, const TrafficSelector& inner) noexcept
{
    if (!is_well_formed(outer) || !is_well_formed(inner) || outer.ts_type != inner.ts_type)
        return false;
    if (outer.ip_protocol != ip_protocol_any && outer.ip_protocol != inner.ip_protocol)
        return false;
    const bool ports = all_ports(outer) || (opaque(outer) && opaque(inner)) ||
                       (!opaque(outer) && !opaque(inner) && outer.start_port <= inner.start_port &&
                        inner.end_port <= outer.end_port);
    return ports && outer.start_address <= inner.start_address && inner.end_address <= outer.end_address;
}

std::vector<net::IpPrefix> covering_prefixes(std::span<const TrafficSelector> selectors)
{
    __extension__ typedef unsigned __int128 Wide;
    std::vector<net::IpPrefix> out;
    for (const auto& ts : selectors) {
        const IpAddress::Family family = family_of(ts.ts_type);
        const unsigned bits = family == IpAddress::Family::v4 ? 32 : 128;
        const auto to_wide = [&](const IpAddress& a) {
            Wide w = 0;
            for (std::size_t i = 0; i < a.size(); ++i)
                w = (w << 8) | a.bytes()[i];
            return w;
        };
        const auto to_address = [&](Wide w) {
            std::array<std::uint8_t, 16> bytes{};
            const std::size_t n = bits / 8;
            for (std::size_t i = 0; i < n; ++i)
                bytes[n - 1 - i] = static_cast<std::uint8_t>(w >> (8 * i));
            return IpAddress::from_bytes(family, bytes.data());
        };
        if (!is_well_formed(ts))
            continue;
        Wide start = to_wide(ts.start_address);
        const Wide end = to_wide(ts.end_address);
        // Each step the largest aligned block that starts at `start` and ends by `end`.
        for (;;) {
            unsigned size_bits = 0;   // the block holds 2^size_bits addresses
            while (size_bits < bits) {
                const unsigned next = size_bits + 1;
                const Wide mask = next == 128 ? ~Wide{0} : (Wide{1} << next) - 1;
                if ((start & mask) != 0 || mask > end - start)
                    break;
                size_bits = next;
            }
            out.emplace_back(to_address(start), static_cast<std::uint8_t>(bits - size_bits));
            const Wide span = size_bits == 128 ? ~Wide{0} : (Wide{1} << size_bits) - 1;
            if (span >= end - start)
                break;
            start += span + 1;
        }
    }
    return out;
}

std::string describe(const TrafficSelector& ts)
{
    std::string out;
    if (!is_well_formed(ts))
        out = ts.start_address.to_string() + ".." + ts.end_address.to_string();
    else if (const auto length = prefix_length(ts.start_address, ts.end_address))
        out = ts.start_address.to_string() + "/" + std::to_string(*length);
    else
        out = ts.start_address.to_string() + ".." + ts.end_address.to_string();

    if (ts.ip_protocol == ip_protocol_any && all_ports(ts))
        return out;
    out += "[" + protocol_text(ts.ip_protocol);
    if (opaque(ts))
        out += "/OPAQUE";
    else if (ts.start_port == ts.end_port)
        out += "/" + std::to_string(ts.start_port);
    else if (!all_ports(ts))
        out += "/" + std::to_string(ts.start_port) + "-" + std::to_string(ts.end_port);
    return out + "]";
}

std::string describe(std::span<const TrafficSelector> selectors)
{
    if (selectors.empty())
        return "none";
    std::string out;
    for (const TrafficSelector& ts : selectors)
        out += (out.empty() ? "" : ", ") + describe(ts);
    return out;
}

} // namespace mesh::ike
