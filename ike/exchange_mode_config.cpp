// Mode config in IKE_AUTH (RFC 7296 section 3.15):
//   HDR, SK {IDi, [CERT,] [IDr,] AUTH, CP(CFG_REQUEST), SAi2, TSi = 0.0.0.0/0, TSr}  -->
//                     <--  HDR, SK {IDr, [CERT,] AUTH, CP(CFG_REPLY), SAr2, TSi = the address, TSr}
// or, with no address to give (sections 2.19 and 3.15.4), the IKE SA without a CHILD SA:
//                     <--  HDR, SK {IDr, [CERT,] AUTH, N(INTERNAL_ADDRESS_FAILURE)}
// The address comes from the daemon (IkeHost::lease_attributes), which holds
// it until the IKE SA is gone (end_lease); an IKE rekey carries no CP and
// hands the lease and the assigned address to the new SA (hand_over).

#include "ike/ike_engine.hpp"

#include "ike/identity.hpp"
#include "ike/ike_log.hpp"

namespace mesh::ike {

void IkeEngine::append_cfg_request(const IkeSa& sa, std::vector<Payload>& inner) const
{
    if (sa.peer->mode_config == ModeConfigRole::request)
        inner.push_back(cfg_request(sa.peer->request_families));
}

VirtualAddresses IkeEngine::offered_addresses(const IkeSa& sa)
{
    VirtualAddresses offered;
    if (sa.peer->mode_config == ModeConfigRole::request)
        offered.requested = sa.peer->request_families;
    return offered;
}

bool IkeEngine::answer_cfg_request(IkeSa& sa, const std::vector<Payload>& request, std::vector<Payload>& answer,
                                   Clock::time_point now)
{
    const auto* cp = find<CpPayload>(request);
    if (cp == nullptr || cp->cfg_type != CfgType::request || sa.peer->mode_config != ModeConfigRole::serve)
        return true;
    ModeConfigLease lease{sa.peer->name, to_string(*sa.remote_identity), requested_families(*cp)};
    ModeConfig given = host_.lease_attributes(lease);
    const bool leased = given.has_address();
    // Only the families asked for; the host's lease, if any, ends with the SA all the same.
    if (!lease.families.ip4)
        given.address4.reset();
    if (!lease.families.ip6)
        given.address6.reset();
    if (leased) {
        sa.lease = lease;
        sa.leased = given;
    }
    if (lease.families.any() && !given.has_address()) {
        ++counters_.internal_address_failures;
        report(now, sa.peer->name, "mode config: no address for {} ({}): answered INTERNAL_ADDRESS_FAILURE",
               lease.identity, sa.remote.to_string());
        NotifyPayload failure;
        failure.protocol_id = ProtocolId::none;
        failure.notify_type = NotifyType::internal_address_failure;
        answer.push_back(std::move(failure));
        return false;
    }
    ike_log()->info("{}: mode config for {}: {}", sa.peer->name, lease.identity, given.describe());
    answer.push_back(cfg_reply(given));
    return true;
}

bool IkeEngine::take_cfg_reply(IkeSa& sa, const std::vector<Payload>& response, Clock::time_point now)
{
    const PeerConfig& peer = *sa.peer;
    if (find_notify(response, NotifyType::internal_address_failure) != nullptr) {
        ++counters_.internal_address_failures;
        report(now, peer.name, "mode config: {} has no address for us (INTERNAL_ADDRESS_FAILURE): the tunnel stays "
               "down", sa.remote.to_string());
        return false;
    }
    const auto* cp = find<CpPayload>(response);
    if (cp == nullptr) {
        ++counters_.cfg_replies_refused;
        report(now, peer.name, "mode config: {} answered without a CFG_REPLY (it assigns no address): the tunnel "
               "stays down", sa.remote.to_string());
        return false;
    }
    auto given = parse_cfg_reply(*cp);
    if (given && !peer.request_families.ip4)
        given->address4.reset();
    if (given && !peer.request_families.ip6)
        given->address6.reset();
    if (given && !given->has_address())
        given = std::unexpected("it gives no address");
    if (!given) {
        ++counters_.cfg_replies_refused;
        report(now, peer.name, "mode config: CFG_REPLY from {} refused: {}", sa.remote.to_string(), given.error());
        return false;
    }
    if (!host_.attributes_received(peer.name, *given)) {
        ++counters_.cfg_replies_refused;
        failures_[peer.name] = {"mode config: the attributes " + sa.remote.to_string() + " gave are unusable", now};
        return false;
    }
    ike_log()->info("{}: mode config from {}: {}", peer.name, sa.remote.to_string(), given->describe());
    sa.assigned = std::move(*given);
    return true;
}

void IkeEngine::end_lease(IkeSa& sa)
{
    if (!sa.lease)
        return;
    host_.lease_ended(*sa.lease);
    sa.lease.reset();
}

} // namespace mesh::ike
