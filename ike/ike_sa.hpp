#pragma once
// One IKE SA and what it carries: keys, message-ID windows, the request in
// flight, the last response (answered again for a retransmitted request) and
// its CHILD SAs. Owned by IkeEngine on the control thread.

#include "ike/dh_group.hpp"
#include "ike/fragmentation.hpp"
#include "ike/key_material.hpp"
#include "ike/message.hpp"
#include "ike/policy.hpp"
#include "ike/prf.hpp"
#include "ike/sk_cipher.hpp"
#include "ike/traffic_selectors.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mesh::ike {

using Clock = std::chrono::steady_clock;

enum class IkeState : std::uint8_t {
    init_sent,       // initiator: IKE_SA_INIT request out
    init_done,       // responder: IKE_SA_INIT answered, waiting for IKE_AUTH
    auth_sent,       // initiator: IKE_AUTH request out
    established,
    rekeyed,         // replaced by a rekey (section 2.18), or the redundant new SA of a collision:
                     // no CHILD SAs, waits for its Delete (ours or the peer's); or the redundant
                     // one of two started at once: its CHILD SAs decrypt until our Delete is answered
    deleting,        // our Delete is out
    dead,            // to be removed
};

[[nodiscard]] const char* to_string(IkeState state) noexcept;

enum class ChildState : std::uint8_t {
    active,         // both directions in use
    inbound_only,   // made by the peer's rekey: decrypting, our outbound waits for the old SA's Delete
    superseded,     // a newer SA carries the traffic (or will): decrypts until deleted
    deleting,       // our Delete for it is out, or queued
    retiring,       // deleted at both ends after a rekey: decrypts what is still on its way, a moment more
};

[[nodiscard]] const char* to_string(ChildState state) noexcept;

struct ChildSa {
    const ChildConfig* config = nullptr;
    ChildSuite suite;
    std::uint32_t spi_in = 0;
    std::uint32_t spi_out = 0;
    Clock::time_point installed_at{};
    Clock::time_point rekey_at = Clock::time_point::max();     // soft lifetime, jittered (section 2.8)
    Clock::time_point expires_at = Clock::time_point::max();   // hard lifetime
    Clock::time_point retire_at = Clock::time_point::max();    // retiring: when its inbound half goes
    std::uint64_t rekey_bytes = 0;                             // soft byte lifetime, jittered; 0: none
    std::uint64_t expire_bytes = 0;                            // hard byte lifetime (ESP bytes both ways)
    ChildState state = ChildState::active;
    // Rekeyed by the peer (we answered): the new SA's inbound SPI, and the
    // lowest nonce of that exchange for the collision rule of section 2.8.1.
    std::uint32_t successor = 0;
    std::vector<std::uint8_t> successor_lowest_nonce;
};

// Our CREATE_CHILD_SA rekeying a CHILD SA (section 2.8), from request to answer.
struct ChildRekey {
    const ChildConfig* config = nullptr;
    std::uint32_t old_spi_in = 0;                 // the SA being replaced, by the SPI we receive on
    std::uint32_t spi_in = 0;                     // the new SA's inbound SPI, in our proposal
    std::vector<std::uint8_t> nonce_i;
    std::optional<DhKeyExchange> dh;              // with PFS
};

// Our CREATE_CHILD_SA rekeying the IKE SA (section 1.3.2), from request to answer.
struct IkeRekey {
    std::uint64_t spi = 0;                        // our SPI of the new IKE SA, in our proposal
    std::vector<std::uint8_t> nonce_i;
    std::optional<DhKeyExchange> dh;
};

// The IKE SA the peer's rekey made of this one (we answered it), by its
// SPIs, and the lowest nonce of that exchange for the collision rule of
// section 2.8.1.
struct IkeSuccessor {
    std::uint64_t spi_i = 0;
    std::uint64_t spi_r = 0;
    std::vector<std::uint8_t> lowest_nonce;
};

// The datagrams of one IKE message: one, or its fragments (RFC 7383).
using Datagrams = std::vector<std::vector<std::uint8_t>>;

// A request this end sent and waits to have answered (RFC 7296 section 2.1).
struct OutstandingRequest {
    std::uint32_t message_id = 0;
    ExchangeType exchange = ExchangeType::informational;
    Datagrams datagrams;
    int retransmits = 0;                          // a liveness check: unanswered intervals in a row
    Clock::time_point next_send{};
    bool liveness_check = false;                  // resent every dpd-interval, not with backoff
    std::vector<std::uint32_t> deleting;          // INFORMATIONAL {D(ESP)}: our inbound SPIs it names
    bool deletes_ike = false;                     // INFORMATIONAL {D(IKE)} of a rekeyed SA: answered, it is gone
};

struct IkeSa {
    const PeerConfig* peer = nullptr;
    bool initiator = false;                       // the original initiator
    std::uint64_t spi_i = 0;
    std::uint64_t spi_r = 0;
    net::Endpoint local;
    net::Endpoint remote;
    IkeState state = IkeState::init_sent;
    Clock::time_point created_at{};
    Clock::time_point established_at{};

    // IKE_SA_INIT
    IkeSuite suite{};
    std::optional<DhKeyExchange> dh;
    std::vector<std::uint8_t> nonce_i;
    std::vector<std::uint8_t> nonce_r;
    std::vector<std::uint8_t> init_request;       // RealMessage1, signed by the initiator's AUTH
    // Initiator: our IKE_SA_INIT request's payloads but the cookie, made once
    // (its NAT-D source hash may be random): sent again after a COOKIE, and
    // after INVALID_KE_PAYLOAD with only the KE changed (sections 1.2, 2.6).
    std::vector<Payload> init_payloads;
    std::vector<std::uint8_t> init_response;      // RealMessage2, signed by the responder's AUTH
    std::vector<std::uint8_t> cookie;             // echoed after a COOKIE answer
    std::optional<std::vector<std::uint8_t>> peer_hash_algorithms;   // its SIGNATURE_HASH_ALGORITHMS (RFC 7427)
    bool nat_local = false;                       // a NAT rewrote our address
    bool nat_remote = false;                      // a NAT is in front of the peer
    bool peer_forces_udp = false;                 // no NAT, but the peer asks for UDP encapsulation (nat_detection.hpp)
    bool fragmentation = false;                   // both ends announced IKE fragmentation (RFC 7383)
    FragmentReassembly reassembly;                // the fragments of the message coming in

    // Keys, once IKE_SA_INIT completed.
    std::optional<Prf> prf;
    IkeSaKeys keys;
    std::optional<SkCipher> sk;

    // Message IDs (section 2.3, window size 1).
    std::uint32_t next_request_id = 0;            // for requests this end sends
    std::uint32_t next_peer_request_id = 0;       // the peer's next request we expect
    std::optional<OutstandingRequest> outstanding;
    std::optional<std::uint32_t> last_response_id;
    Datagrams last_response;                      // sent again for a retransmitted request

    // Dead peer detection (section 2.4)
    Clock::time_point last_heard{};               // the last authenticated message or new inbound ESP
    std::uint64_t inbound_esp = 0;                // the CHILD SAs' inbound packets when last counted

    // IKE_AUTH
    std::optional<Identity> remote_identity;
    std::vector<ChildSa> children;
    std::uint32_t pending_child_spi = 0;          // initiator: our SPI offered in IKE_AUTH
    const ChildConfig* pending_child = nullptr;

    // Mode config (section 3.15): asked for in IKE_AUTH only; an IKE rekey
    // carries both to the new SA, which asks nothing again.
    std::optional<ModeConfig> assigned;           // initiator: what the peer's CFG_REPLY gave us
    std::optional<ModeConfigLease> lease;         // responder: held from the host until this SA goes
    ModeConfig leased;                            // responder: what the lease gave the peer

    // CREATE_CHILD_SA and Delete of CHILD SAs (sections 1.3.3, 1.4.1)
    std::optional<ChildRekey> rekey;              // ours, in flight
    std::vector<std::uint32_t> queued_deletes;    // our inbound SPIs to delete at the peer when the window is free

    // Lifetime and rekeying of the IKE SA itself (sections 1.3.2, 2.18)
    Clock::time_point rekey_at = Clock::time_point::max();     // soft lifetime, jittered
    Clock::time_point expires_at = Clock::time_point::max();   // hard lifetime; rekeyed: dropped then if not deleted
    std::optional<IkeRekey> ike_rekey;            // ours, in flight
    std::optional<IkeSuccessor> successor;        // the peer rekeyed it (we answered)

    // The addresses the CFG exchange gave, for the CHILD SAs' selectors.
    [[nodiscard]] VirtualAddresses virtual_addresses() const
    {
        VirtualAddresses out;
        const auto add = [](std::vector<net::IpAddress>& to, const ModeConfig& from) {
            if (from.address4)
                to.push_back(from.address4->address());
            if (from.address6)
                to.push_back(from.address6->address());
        };
        if (assigned)
            add(out.local, *assigned);
        if (lease)
            add(out.remote, leased);
        return out;
    }

    [[nodiscard]] std::uint64_t local_spi() const noexcept { return initiator ? spi_i : spi_r; }
    // The CHILD SA by the SPI we receive on, or by the one the peer receives on.
    [[nodiscard]] ChildSa* child_in(std::uint32_t spi) noexcept
    {
        for (auto& child : children)
            if (child.spi_in == spi)
                return &child;
        return nullptr;
    }
    [[nodiscard]] ChildSa* child_out(std::uint32_t spi) noexcept
    {
        for (auto& child : children)
            if (child.spi_out == spi)
                return &child;
        return nullptr;
    }
};

} // namespace mesh::ike
