#pragma once
// SA payloads built from policy, and the choice between them (RFC 7296
// sections 2.7 and 3.3).
//
//   initiator:  ike_proposals / child_proposals   -> SA payload of the request
//               accept_ike_reply / accept_child_reply <- the responder's SA payload
//   responder:  choose_ike / choose_child         <- the offer; -> suite + reply SA payload
//   both:       describe()                        -> "IKE:aes-256-gcm/prf-sha256/ecp256, ..."
//
// The responder picks by OUR order of preference, not the peer's: the first
// cipher of the profile that any acceptable offered proposal contains wins,
// then the PRF, integrity and DH group in our order within that proposal
// (strongSwan's default, prefer_configured_proposals, and RouterOS behave the
// same way). A peer whose first proposal we also accept therefore does not
// decide which one is used: our configuration does, and both ends of a
// mesh-site pair agree without depending on who initiates.

#include "ike/crypto_suite.hpp"
#include "ike/payloads.hpp"
#include "ike/policy.hpp"
#include "ike/sa_payload.hpp"

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::ike {

// ---------------------------------------------------------------------------
// Offers (initiator)

// Proposals for the IKE SA: one with the AEAD ciphers (ENCR + PRF + DH, no
// INTEG) and one with the CBC ciphers (ENCR + INTEG + PRF + DH), because an
// AEAD may not share a proposal with integrity transforms (RFC 5282 section
// 8, RFC 7296 section 3.3). The group holding our most preferred cipher comes
// first; numbered from 1. INTEG follows the PRFs: sha256 gives
// AUTH_HMAC_SHA2_256_128 and so on. `spi` is empty in IKE_SA_INIT and our new
// 8-byte SPI when rekeying the IKE SA (section 1.3.2).
[[nodiscard]] SaPayload ike_proposals(const IkePolicy& policy, std::span<const std::uint8_t> spi = {});

// The policy with the current IKE SA's cipher, PRF and DH group first in
// their lists, when it has them: a rekey offers the suite in use first and
// sends its group's KE (section 2.18), so that a responder keeping the
// offer's order keeps the suite and no INVALID_KE_PAYLOAD round trip follows.
[[nodiscard]] IkePolicy preferring(IkePolicy policy, const IkeSuite& current);

// ESP proposals for a CHILD SA with our inbound SPI: the AEAD ciphers with
// ESN (1, then 0) in one proposal, the CBC ciphers with the integrity
// algorithms and ESN in the other. DH transforms (the PFS groups) only when
// `with_pfs` (a CREATE_CHILD_SA exchange) and the policy has PFS groups: the
// CHILD SA made by IKE_AUTH has no KE payload and so no DH (section 1.2).
[[nodiscard]] SaPayload child_proposals(const ChildPolicy& policy, std::uint32_t spi, bool with_pfs);

// ---------------------------------------------------------------------------
// Choice (responder)

// Nothing offered is acceptable: answer NO_PROPOSAL_CHOSEN and log message().
struct NoProposalChosen {
    std::string ours;     // describe() of what our policy would offer
    std::string theirs;   // describe() of the offer

    // "no suitable proposal found (ours: ..., theirs: ...)"
    [[nodiscard]] std::string message() const;

    friend bool operator==(const NoProposalChosen&, const NoProposalChosen&) = default;
};

// SPIs go onto the wire as bytes and come back as the numbers the rest of
// ike/ keeps: an IKE SPI as the 64-bit value of the header (0: the proposal
// had none, as in IKE_SA_INIT), an ESP SPI as 32 bits.
template <class Suite>
struct SpiOf;
template <>
struct SpiOf<IkeSuite> {
    using type = std::uint64_t;
};
template <>
struct SpiOf<ChildSuite> {
    using type = std::uint32_t;
};
template <class Suite>
using spi_of = typename SpiOf<Suite>::type;

template <class Suite>
struct Chosen {
    Suite suite;
    spi_of<Suite> peer_spi = 0;   // SPI of the chosen proposal: the peer's new IKE SPI (rekey), its inbound ESP SPI
    SaPayload reply;              // the answer: that proposal's number, one transform of each type, our SPI
};

// The proposal to accept from an IKE SA offer: protocol IKE, no transform
// type we do not know, ENCR, PRF and DH present and INTEG too unless the
// cipher is an AEAD, and in each of those types one transform we accept
// (unknown IDs and attributes are skipped, section 3.3.6). A proposal with
// integrity transforms other than NONE accepts only CBC ciphers from it.
//
// `ke_group` is the group of the offer's KE payload. When the chosen
// proposal also lists it and we accept it, it is chosen over our first
// choice of group, which saves the INVALID_KE_PAYLOAD round trip (section
// 1.2 lets the responder pick any group of the proposal). `our_spi` goes into
// the reply: empty in IKE_SA_INIT, our new 8-byte SPI for a rekey.
[[nodiscard]] std::expected<Chosen<IkeSuite>, NoProposalChosen> choose_ike(const SaPayload& offered,
                                                                          const IkePolicy& ours,
                                                                          DhGroup ke_group = DhGroup::none,
                                                                          std::span<const std::uint8_t> our_spi = {});

// The same for an ESP offer: protocol ESP with a 4-byte SPI, ENCR and ESN
// present, INTEG too unless the cipher is an AEAD; ESN preferred to 32-bit
// sequence numbers. Without `with_pfs` (IKE_AUTH) DH transforms are ignored,
// as strongSwan does for peers that send them anyway; with it, a proposal
// must carry one of our PFS groups, or none at all (or NONE) when we have
// none. `our_spi` is our inbound SPI, for the reply.
[[nodiscard]] std::expected<Chosen<ChildSuite>, NoProposalChosen> choose_child(const SaPayload& offered,
                                                                              const ChildPolicy& ours, bool with_pfs,
                                                                              std::uint32_t our_spi,
                                                                              DhGroup ke_group = DhGroup::none);

// ---------------------------------------------------------------------------
// The responder's answer (initiator)

enum class ReplyErrc : std::uint8_t {
    not_one_proposal = 1,   // zero or several proposals in the answer
    wrong_protocol,         // not the protocol we asked for
    bad_spi,                // ESP without a 4-byte SPI, IKE with one neither empty nor 8 bytes
    duplicate_transform,    // two transforms of one type
    missing_transform,      // a type the suite needs is absent
    not_offered,            // a transform or a combination we did not propose
};
[[nodiscard]] std::string_view to_string(ReplyErrc errc) noexcept;

template <class Suite>
struct Accepted {
    Suite suite;
    spi_of<Suite> peer_spi = 0;   // the responder's SPI: its new IKE SPI for a rekey, its inbound ESP SPI
};

// The answer must be one proposal with one transform of each type, all of
// which one proposal of our offer held (INTEG NONE beside an AEAD is taken as
// no INTEG). The proposal number is not held against the peer: the content is
// what must have been offered.
[[nodiscard]] std::expected<Accepted<IkeSuite>, ReplyErrc> accept_ike_reply(const SaPayload& reply,
                                                                           const IkePolicy& ours);
[[nodiscard]] std::expected<Accepted<ChildSuite>, ReplyErrc> accept_child_reply(const SaPayload& reply,
                                                                               const ChildPolicy& ours,
                                                                               bool with_pfs);
// An SPI field as a number (network order on the wire); 0 when empty.
[[nodiscard]] std::uint64_t spi_value(std::span<const std::uint8_t> spi) noexcept;
// An ESP SPI as the 4 bytes of the wire.
[[nodiscard]] std::vector<std::uint8_t> spi_bytes(std::uint32_t spi);
// An IKE SPI as the 8 bytes of a rekey's proposal (section 1.3.2).
[[nodiscard]] std::vector<std::uint8_t> ike_spi_bytes(std::uint64_t spi);

// ---------------------------------------------------------------------------
// INVALID_KE_PAYLOAD (sections 1.2, 1.3 and 3.10.1)

// Responder: the group to ask for in INVALID_KE_PAYLOAD, or nullopt when the
// KE payload already uses the chosen group.
[[nodiscard]] std::optional<DhGroup> invalid_ke_group(DhGroup chosen, DhGroup ke_group) noexcept;
// The notification, its data the two-byte group number.
[[nodiscard]] NotifyPayload invalid_ke_payload(DhGroup wanted);
// Initiator: the group the responder asks for, if it is one we offered and
// not the one we just sent; nullopt otherwise (then the exchange fails rather
// than loops).
[[nodiscard]] std::optional<DhGroup> retry_group(const NotifyPayload& invalid_ke, std::span<const DhGroup> offered,
                                                 DhGroup sent) noexcept;

// ---------------------------------------------------------------------------
// Log text

// Each proposal as PROTOCOL:transforms, the transforms in the order ENCR,
// INTEG, PRF, DH, ESN, several of a type one after the other:
// "IKE:aes-256-gcm/prf-sha256/ecp256, IKE:aes-256-cbc/sha256/prf-sha256/modp2048".
// Ciphers carry ESP's names in both protocols ("aes-256-cbc", not the
// profile's "aes-256") so that a line is unambiguous; unknown transforms
// print as "ENCR_3" or "DH_2".
[[nodiscard]] std::string describe(const SaPayload& sa);
[[nodiscard]] std::string describe(const IkePolicy& policy);
[[nodiscard]] std::string describe(const ChildPolicy& policy, bool with_pfs);
// A negotiated suite in the same words: "aes-256-cbc/sha256/prf-sha256/modp2048",
// "aes-128-gcm/ecp256/esn".
[[nodiscard]] std::string describe_suite(const IkeSuite& suite);
[[nodiscard]] std::string describe_suite(const ChildSuite& suite);

} // namespace mesh::ike
