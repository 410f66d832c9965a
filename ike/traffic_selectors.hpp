#pragma once
// The traffic selectors of a CHILD SA (RFC 7296 sections 2.9 and 3.13): what
// we propose, how the responder narrows an offer to its policy, and how the
// initiator checks the narrowed answer.
//
//   initiator:  child_selectors -> initiator_ts (TSi = local, TSr = remote)
//               accept_ts_reply <- the responder's TSi/TSr
//   responder:  child_selectors -> narrow(offered TSi/TSr) -> reply TSi/TSr, or TS_UNACCEPTABLE
//
// mode gre (transport_gre): one selector a side, the gateway's address, IP
// protocol 47 (GRE), all ports, the selectors RFC 8994 gives its "IPsec with
// GRE encapsulation" channels.
// mode ip (tunnel_ip): the subnets as address ranges, any protocol, all ports.
//
// NAT and transport mode (RFC 7296 section 2.23.1, RFC 3948 section 5): a
// peer behind a NAT proposes the private address it has, which means nothing
// on our side. For mode gre both roles therefore put the IKE SA's actual
// addresses (as this end sees them) in place of the peer's: the responder
// accepts any single-host selector for GRE (or any protocol, narrowed to GRE)
// and answers with the IKE SA's addresses; the initiator accepts an answer
// of single-host GRE selectors and uses its own view of the addresses. We do
// this whether or not NAT was detected: the SA of mode gre only ever carries
// GRE between the two IKE endpoints (the tunnel's outer addresses), so the
// addresses inside the selectors cannot widen what it protects, and a peer
// cannot name a third party's address to have it protected.

#include "ike/mode_config.hpp"
#include "ike/policy.hpp"
#include "ike/ts_payload.hpp"
#include "net/ip_address.hpp"

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace mesh::ike {

inline constexpr std::uint8_t ip_protocol_any = 0;
inline constexpr std::uint8_t ip_protocol_gre = 47;

// A CHILD SA's traffic from our point of view.
struct ChildSelectors {
    ChildMode mode = ChildMode::transport_gre;
    std::vector<TrafficSelector> local;    // our side: TSi when we initiate, TSr when we respond
    std::vector<TrafficSelector> remote;   // the peer's side

    friend bool operator==(const ChildSelectors&, const ChildSelectors&) = default;
};

// Mode config (RFC 7296 sections 2.9 and 3.15): the addresses an IKE SA's
// CFG exchange gave. In mode ip, the side of the end that was given an
// address is that address; mode gre carries GRE between the gateways, which
// the addresses do not change.
struct VirtualAddresses {
    std::vector<net::IpAddress> local;   // given to us: our side, in place of local-subnets
    AddressFamilies requested;           // asked for in this IKE_AUTH, not known yet: we offer the whole family
    std::vector<net::IpAddress> remote;  // we gave the peer: its side, besides remote-subnets

    friend bool operator==(const VirtualAddresses&, const VirtualAddresses&) = default;
};

// `local` and `remote` are the IKE SA's addresses: the selectors of mode gre;
// mode ip takes the configuration's subnets (and the virtual addresses).
[[nodiscard]] ChildSelectors child_selectors(const ChildConfig& child, const net::IpAddress& local,
                                             const net::IpAddress& remote, const VirtualAddresses& virtual_ips = {});

// first: TSi, second: TSr.
using TsPair = std::pair<TsiPayload, TsrPayload>;

[[nodiscard]] TsPair initiator_ts(const ChildSelectors& ours);
// The same from the tunnel and the IKE SA's addresses.
[[nodiscard]] TsPair traffic_selectors(const ChildConfig& child, const net::IpAddress& local,
                                       const net::IpAddress& remote, const VirtualAddresses& virtual_ips = {});

// The offer and our policy have no traffic in common: answer TS_UNACCEPTABLE
// and log message(). Both sides are written as TSi === TSr.
struct TsUnacceptable {
    std::string ours;
    std::string theirs;

    // "traffic selectors unacceptable (ours: ..., theirs: ...)"
    [[nodiscard]] std::string message() const;

    friend bool operator==(const TsUnacceptable&, const TsUnacceptable&) = default;
};

// Responder: TSi narrowed to our remote selectors and TSr to our local ones,
// selector by selector (address range, protocol with 0 as any, port range),
// leaving out results another result already covers. Either side empty is
// TS_UNACCEPTABLE. Mode gre: see the NAT note above.
[[nodiscard]] std::expected<TsPair, TsUnacceptable> narrow(const TsiPayload& tsi_offered, const TsrPayload& tsr_offered,
                                                           const ChildSelectors& ours);
[[nodiscard]] std::expected<TsPair, TsUnacceptable> narrow(const ChildConfig& child, const TsiPayload& tsi_offered,
                                                           const TsrPayload& tsr_offered,
                                                           const net::IpAddress& local,
                                                           const net::IpAddress& remote,
                                                           const VirtualAddresses& virtual_ips = {});

// Initiator: every selector of the answer lies within one we offered
// (narrowing is the responder's right, widening is not) and neither side is
// empty. Returns the selectors to use: the answer's, or for mode gre our own
// addresses (the NAT note above).
[[nodiscard]] std::expected<TsPair, TsUnacceptable> accept_ts_reply(const TsiPayload& tsi_reply,
                                                                    const TsrPayload& tsr_reply,
                                                                    const ChildSelectors& ours);
[[nodiscard]] std::expected<TsPair, TsUnacceptable> accept_ts_reply(const ChildConfig& child,
                                                                    const TsiPayload& tsi_reply,
                                                                    const TsrPayload& tsr_reply,
                                                                    const net::IpAddress& local,
                                                                    const net::IpAddress& remote,
                                                                    const VirtualAddresses& virtual_ips = {});

// ---------------------------------------------------------------------------
// Building blocks

[[nodiscard]] TrafficSelector prefix_selector(const net::IpPrefix& prefix, std::uint8_t ip_protocol = ip_protocol_any);
[[nodiscard]] TrafficSelector host_selector(const net::IpAddress& address, std::uint8_t ip_protocol = ip_protocol_any);

// Start not after end, and addresses of the family the TS type names.
[[nodiscard]] bool is_well_formed(const TrafficSelector& ts) noexcept;
// Traffic both match, or nullopt when there is none. Ports: start 65535 with
// end 0 is OPAQUE (section 3.13.1), which meets only OPAQUE and all ports.
[[nodiscard]] std::optional<TrafficSelector> intersect(const TrafficSelector& a, const TrafficSelector& b);
// Whether `outer` matches all that `inner` matches.
[[nodiscard]] bool contains(const TrafficSelector& outer, const TrafficSelector& inner) noexcept;

// The fewest prefixes that together cover exactly the address ranges of
// `selectors` (ports and protocol aside): what routes over a tunnel carry.
[[nodiscard]] std::vector<net::IpPrefix> covering_prefixes(std::span<const TrafficSelector> selectors);

// "10.1.0.0/24", "192.0.2.1/32[gre]", "10.0.0.5..10.0.0.9[tcp/80]", joined by ", ".
[[nodiscard]] std::string describe(const TrafficSelector& ts);
[[nodiscard]] std::string describe(std::span<const TrafficSelector> selectors);

} // namespace mesh::ike
