#pragma once
// The CHILD SA part that IKE_AUTH and CREATE_CHILD_SA share (RFC 7296
// sections 1.2 and 1.3): the same proposal, selector and mode rules whether
// the SA is the first one or a rekey.
//
//   initiator:  append_child_offer  -> SA, TSi, TSr, [N(USE_TRANSPORT_MODE)]
//               check_child_answer  <- the responder's SA, TSi, TSr, [N(USE_TRANSPORT_MODE)]
//   responder:  choose_child_sa     <- the offer: mode, proposal (proposal.hpp), selectors (narrowed)
//               append_child_answer -> SA, TSi, TSr, [N(USE_TRANSPORT_MODE)]
//
// with_pfs: a CREATE_CHILD_SA, whose proposals carry the pfs-groups (section
// 1.3); IKE_AUTH has no KE and so no DH in its proposals.

#include "ike/message.hpp"
#include "ike/policy.hpp"
#include "ike/proposal.hpp"
#include "ike/traffic_selectors.hpp"

#include <cstdint>
#include <expected>
#include <string>
#include <vector>

namespace mesh::ike {

void append_child_offer(std::vector<Payload>& payloads, const ChildConfig& child, std::uint32_t spi_in,
                        bool with_pfs, const net::IpAddress& local, const net::IpAddress& remote,
                        const VirtualAddresses& virtual_ips = {});

// Responder: what to answer with, or the notification that refuses the SA.
struct ChildChoice {
    Chosen<ChildSuite> chosen;
    TsPair ts;
};
struct ChildRefusal {
    NotifyType error = NotifyType::no_proposal_chosen;   // or TS_UNACCEPTABLE, INVALID_SYNTAX
    std::string reason;                                  // for the log
};
[[nodiscard]] std::expected<ChildChoice, ChildRefusal> choose_child_sa(const std::vector<Payload>& request,
                                                                       const ChildConfig& child, bool with_pfs,
                                                                       std::uint32_t spi_in, DhGroup ke_group,
                                                                       const net::IpAddress& local,
                                                                       const net::IpAddress& remote,
                                                                       const VirtualAddresses& virtual_ips = {});
void append_child_answer(std::vector<Payload>& payloads, const ChildConfig& child, ChildChoice choice);

// Initiator: the suite and the responder's SPI, or why the answer is refused.
[[nodiscard]] std::expected<Accepted<ChildSuite>, std::string> check_child_answer(
    const std::vector<Payload>& response, const ChildConfig& child, bool with_pfs, const net::IpAddress& local,
    const net::IpAddress& remote, const VirtualAddresses& virtual_ips = {});

} // namespace mesh::ike
