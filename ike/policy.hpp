#pragma once
// What the daemon tells IKE about a peer: the RouterOS profile (phase 1),
// proposal (phase 2), identities and the CHILD SA's traffic, translated from
// the configuration so ike/ never sees the TOML structures.

#include "ike/constants.hpp"
#include "ike/crypto_suite.hpp"
#include "ike/mode_config.hpp"
#include "tunnel/esp_algorithm.hpp"
#include "net/ip_address.hpp"

#include <botan/secmem.h>

#include <chrono>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mesh::ike {

// An IKE identity (RFC 7296 section 3.5): "address:192.0.2.1",
// "fqdn:site-a.example", "user-fqdn:ops@example", "key-id:0a0b", "dn:CN=..".
struct Identity {
    IdType type = IdType::fqdn;
    std::vector<std::uint8_t> data;

    friend bool operator==(const Identity&, const Identity&) = default;
};

struct IkePolicy {                                // [profile.NAME]
    std::vector<IkeCipher> ciphers;               // in order of preference
    std::vector<PrfId> prfs;                      // hash-algorithm; also gives CBC's integrity
    std::vector<DhGroup> dh_groups;               // the first is sent in KE
    std::chrono::seconds lifetime{8 * 3600};
    // Dead peer detection: a liveness check after this long without a word
    // or an ESP packet from the peer, sent again every interval; the peer is
    // dead after dpd_maximum_failures unanswered. Zero: no liveness checks.
    std::chrono::milliseconds dpd_interval{30'000};
    std::uint32_t dpd_maximum_failures = 3;
    bool nat_traversal = true;                    // false: no NAT-D payloads, so no NAT is ever detected
};

struct ChildPolicy {                              // [proposal.NAME]
    std::vector<tunnel::EspCipher> ciphers;
    std::vector<tunnel::EspIntegrity> integrities;   // for the CBC ciphers
    std::vector<DhGroup> pfs_groups;              // empty: no PFS
    std::chrono::seconds lifetime{3600};
    std::uint64_t lifetime_bytes = 0;             // ESP bytes both ways; 0: no limit
};

// The cipher suite both sides agreed on for a CHILD SA.
struct ChildSuite {
    tunnel::EspCipher cipher = tunnel::EspCipher::aes128_gcm;
    tunnel::EspIntegrity integrity = tunnel::EspIntegrity::none;
    DhGroup pfs = DhGroup::none;
    bool esn = true;

    friend bool operator==(const ChildSuite&, const ChildSuite&) = default;
};

enum class ChildMode : std::uint8_t {
    transport_gre,   // mode gre: transport mode, gateway to gateway, IP protocol 47 only
    tunnel_ip,       // mode ip: tunnel mode between local_subnets and remote_subnets
};

struct ChildConfig {                              // [tunnel.NAME], one CHILD SA
    std::string name;
    ChildMode mode = ChildMode::transport_gre;
    ChildPolicy policy;
    std::vector<net::IpPrefix> local_subnets;  // tunnel_ip only
    std::vector<net::IpPrefix> remote_subnets;
};

struct LocalCredentials;   // certificates.hpp
class TrustAnchor;

enum class PeerAuth : std::uint8_t { pre_shared_key, digital_signature };

// A template peer's pre-shared key for one branch identity.
struct BranchSecret {
    Identity id;
    Botan::secure_vector<std::uint8_t> psk;
};

// Mode config (RFC 7296 section 3.15).
enum class ModeConfigRole : std::uint8_t {
    none,      // a CFG_REQUEST is ignored, none is sent
    serve,     // responder: a CFG_REQUEST is answered with what IkeHost::lease_attributes gives
    request,   // initiator: IKE_AUTH asks for an address; in mode ip the CHILD SAs' TSi is the one given
};

struct PeerConfig {                               // [peer.NAME]
    std::string name;
    net::IpPrefix address;                     // a range only for a passive peer
    std::optional<net::IpAddress> local_address;
    // Named by DNS: the host looks the address up before every initiation
    // (IkeHost::resolve_peer) and gives it with IkeEngine::set_peer_address;
    // until the first answer `address` is unspecified and matches no datagram.
    bool resolve_first = false;
    bool passive = false;
    IkePolicy ike;
    PeerAuth auth = PeerAuth::pre_shared_key;
    Botan::secure_vector<std::uint8_t> psk;       // pre-shared-key
    std::shared_ptr<const LocalCredentials> credentials;   // digital-signature: our certificate and key
    std::shared_ptr<const TrustAnchor> trust;     // digital-signature: the CA (and CRL) the peer's chain must reach
    std::optional<Identity> my_id;                // unset: our certificate's subject, or the local address
    std::optional<Identity> remote_id;            // unset: "auto", any ID that authenticates; may be a
                                                  // pattern (identity.hpp, matches_pattern) on a passive peer
    // A template (address a prefix): every branch identity that authenticates
    // gets its own instance of each tunnel, which the host makes from
    // ChildSaInstall::branch. IKE SAs with one branch replace and duplicate
    // only each other (duplicate_sas.cpp, initial_contact.cpp), as for any peer.
    bool per_branch = false;
    // pre-shared-key, non-empty: each branch's own key; an identity not
    // listed is refused ("no matching identity found"), and psk is unused.
    std::vector<BranchSecret> branch_secrets;
    bool always_encapsulate = true;               // encapsulation "udp"
    ModeConfigRole mode_config = ModeConfigRole::none;
    AddressFamilies request_families{true, false};   // request: the address families asked for
    std::vector<ChildConfig> children;
};

} // namespace mesh::ike
