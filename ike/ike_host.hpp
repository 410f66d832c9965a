#pragma once
// The narrow interface through which IKE reaches the rest of the daemon
// (docs/architecture.md: ike/ drives tunnel/ only through SA install and delete): it
// sends datagrams, hands out inbound SPIs and installs the CHILD SAs it
// negotiates. The daemon implements it; tests implement it in memory.

#include "ike/policy.hpp"
#include "ike/mode_config.hpp"
#include "tunnel/esp_sa.hpp"
#include "net/ip_address.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace mesh::ike {

struct ChildSaInstall {
    std::string tunnel;            // ChildConfig::name
    std::string peer;              // PeerConfig::name
    // A template peer's (PeerConfig::per_branch): the branch's authenticated
    // identity. The host keeps one instance of the tunnel per branch and
    // knows the CHILD SA by its inbound SPI in the calls that follow.
    std::optional<Identity> branch;
    // Mode ip: the traffic selectors the CHILD SA was narrowed to, the
    // peer's side (its networks, routed over the tunnel) and ours.
    std::vector<net::IpPrefix> remote_subnets;
    std::vector<net::IpPrefix> local_subnets;
    tunnel::SaParams inbound;
    tunnel::SaParams outbound;
    net::Endpoint remote;       // where the ESP goes (the port only matters with UDP)
    bool udp_encapsulation = true; // ESP-in-UDP (RFC 3948); false: plain ESP, IP protocol 50
    // false: installed, but the tunnel sends on it only after use_outbound. The
    // responder of a rekey decrypts on the new SA at once but keeps sending on
    // the old one until the initiator deletes it (RFC 7296 section 2.8), so
    // no packet reaches the peer on an SA it does not have yet.
    bool use_outbound = true;
    // A rekey's (REKEY_SA, RFC 7296 section 2.8): the inbound SPI of the CHILD
    // SA this one replaces; 0 for a new CHILD SA, a duplicate of a
    // simultaneous initiation included.
    std::uint32_t rekeys_spi_in = 0;
};

class IkeHost {
public:
    virtual ~IkeHost() = default;

    // Sends one IKE message from local to remote. On the NAT-T port the host
    // puts the four-byte non-ESP marker in front (RFC 3948 section 2.2).
    virtual void send(const net::Endpoint& local, const net::Endpoint& remote,
                      std::span<const std::uint8_t> message) = 0;
    // A fresh inbound ESP SPI (>= 256), unused by any installed SA.
    virtual std::uint32_t allocate_spi() = 0;
    // Installs both directions of a CHILD SA; false if the data plane refused.
    virtual bool install_child(const ChildSaInstall& child) = 0;
    // Starts sending the tunnel's ESP on the outbound half of the CHILD SA
    // with this inbound SPI (one installed with use_outbound = false, or one
    // that stopped sending), in place of the SA used so far. The host keeps
    // each SA's outbound half until the SA is deleted, so its sequence
    // numbers carry on.
    virtual void use_outbound(const std::string& tunnel, std::uint32_t inbound_spi, const net::Endpoint& remote,
                              bool udp_encapsulation) = 0;
    // Removes the CHILD SA with this inbound SPI, both directions. If the
    // tunnel sent on it, its newest other CHILD SA takes over; the tunnel goes
    // down with its last one. During a rekey the old SA is removed after the
    // new one took over, and the tunnel stays up.
    virtual void delete_child(const std::string& tunnel, std::uint32_t inbound_spi) = 0;
    // The peer of the tunnel's CHILD SA with this inbound SPI is now at
    // remote (its NAT mapping moved, RFC 7296 section 2.23): ESP goes there
    // from now on.
    virtual void move_child(const std::string& tunnel, std::uint32_t inbound_spi, const net::Endpoint& remote) = 0;
    // Packets authenticated so far on the inbound SA with this SPI (0 when
    // there is none): inbound ESP proves the peer alive, so a busy tunnel
    // needs no liveness checks (RFC 7296 section 2.4).
    [[nodiscard]] virtual std::uint64_t inbound_packets(std::uint32_t inbound_spi) const = 0;
    // ESP payload bytes the CHILD SA with this inbound SPI carried so far,
    // both ways (0 when there is none): its byte lifetime.
    [[nodiscard]] virtual std::uint64_t child_bytes(std::uint32_t inbound_spi) const = 0;
    // The MTU of the path to remote, which IKE messages must fit once cut
    // into fragments (RFC 7383 section 2.5.1).
    [[nodiscard]] virtual std::uint32_t path_mtu(const net::Endpoint& remote) const = 0;
    // The engine is about to (re-)initiate to a peer with PeerConfig::resolve_first:
    // the host looks its name up without blocking and answers, when it has
    // an address, with IkeEngine::set_peer_address. No host without named peers is asked.
    virtual void resolve_peer(const std::string& peer) { static_cast<void>(peer); }

    // Mode config, the responder (a peer with PeerConfig::mode_config serve):
    // what to answer the peer's CFG_REQUEST with. An answer without an
    // address is refused with INTERNAL_ADDRESS_FAILURE (section 3.15.4; the
    // host logs why, an exhausted pool). An answer with one is a lease, held
    // until lease_ended is called with the same lease: once the IKE SA is
    // gone (an IKE rekey carries the lease to the new SA). The same identity
    // may hold two leases at once (a peer re-authenticating) and must then
    // get the same address.
    [[nodiscard]] virtual ModeConfig lease_attributes(const ModeConfigLease&) { return {}; }
    virtual void lease_ended(const ModeConfigLease&) {}
    // Mode config, the initiator (mode_config request): the checked
    // attributes the peer's CFG_REPLY gave, before the first CHILD SA is
    // installed. false: the host cannot use them (it logged why), and the
    // IKE SA is given up.
    [[nodiscard]] virtual bool attributes_received(const std::string& /*peer*/, const ModeConfig&) { return true; }
};

} // namespace mesh::ike
