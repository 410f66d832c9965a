// INFORMATIONAL (RFC 7296 section 1.4):
//   HDR, SK {D(IKE)}              -->  <--  HDR, SK {}          the IKE SA and its children go
//                                       (a rekeyed IKE SA has none left: it goes alone)
//   HDR, SK {D(ESP, SPIs)}        -->  <--  HDR, SK {D(ESP, our SPIs)}
//                                       the old SA of a rekey, a redundant one (section 2.8.1), an expired one
//   HDR, SK {}                    -->  <--  HDR, SK {}          liveness (section 2.4)
//   HDR, SK {N(AUTHENTICATION_FAILED)} --> <-- HDR, SK {}       the initiator refused us (section 2.21.2)

#include "ike/ike_engine.hpp"

#include "ike/ike_log.hpp"

#include <algorithm>

namespace mesh::ike {

void IkeEngine::on_informational_request(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                                         Clock::time_point now)
{
    if (find_notify(inner, NotifyType::authentication_failed) != nullptr) {
        ++counters_.authentication_failed;
        report(now, sa.peer->name, "authentication failed: {} refused our AUTH (key, certificate or identity)",
               sa.remote.to_string());
        send_response(sa, header, {});
        fail(sa, now);
        return;
    }
    std::vector<Payload> answer;
    for (const auto* del : find_all<DeletePayload>(inner)) {
        if (del->protocol_id == ProtocolId::ike && (sa.state == IkeState::rekeyed || sa.successor)) {
            // Rekeyed by the peer: when both ends rekeyed it at once and the
            // answer to ours is lost, the CHILD SAs are still here (they wait
            // for the outcome); the peer's Delete says its new SA stays.
            hand_over_to_successor(sa, now);
            ike_log()->info("{}: peer {} deleted the rekeyed IKE SA {:016x}/{:016x}", sa.peer->name,
                            sa.remote.to_string(), sa.spi_i, sa.spi_r);
            send_response(sa, header, {});
            remove_children(sa);          // none, unless the peer's new SA is gone too
            sa.state = IkeState::dead;    // its successor carries on: no re-initiation
            return;
        }
        if (del->protocol_id == ProtocolId::ike) {
            ike_log()->info("{}: peer {} deleted the IKE SA {:016x}/{:016x}", sa.peer->name, sa.remote.to_string(),
                            sa.spi_i, sa.spi_r);
            send_response(sa, header, {});
            fail(sa, now);
            return;
        }
        if (del->protocol_id != ProtocolId::esp)
            continue;
        DeletePayload ours{ProtocolId::esp, {}};
        for (const std::uint32_t spi : del->spis) {
            const ChildSa* child = sa.child_out(spi);
            if (child == nullptr)
                continue;
            const std::uint32_t spi_in = child->spi_in;
            ike_log()->info("{}: peer deletes CHILD SA {} (in 0x{:08x}, out 0x{:08x})", sa.peer->name,
                            child->config->name, spi_in, spi);
            // Section 1.4.1: when both ends delete it at once, neither answer
            // names it again (our own request is then answered with nothing).
            if (child->state != ChildState::deleting)
                ours.spis.push_back(spi_in);
            std::erase(sa.queued_deletes, spi_in);
            retire_child(sa, spi_in, now);
        }
        if (!ours.spis.empty())
            answer.push_back(std::move(ours));
    }
    send_response(sa, header, std::move(answer));
}

void IkeEngine::on_informational_response(IkeSa& sa, const OutstandingRequest& request, const std::vector<Payload>&,
                                          Clock::time_point now)
{
    if (request.deletes_ike) {
        // A rekeyed IKE SA (no CHILD SAs left), or the redundant one of two
        // started at once, whose CHILD SAs decrypted until now.
        remove_children(sa);
        sa.state = IkeState::dead;
        return;
    }
    // An answer is all a liveness check needs. Our Delete was answered: the
    // peer no longer sends on those SAs, so their inbound halves go now.
    for (const std::uint32_t spi : request.deleting)
        retire_child(sa, spi, now);
    send_queued_deletes(sa, now);
}

} // namespace mesh::ike
