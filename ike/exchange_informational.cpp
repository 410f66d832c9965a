// INFORMATIONAL (RFC 7296 section 1.4):
//   HDR, SK {D(IKE)}              -->  <--  HDR, SK {}          the IKE SA and its children go
//   HDR, SK {D(ESP, SPIs)}        -->  <--  HDR, SK {D(ESP, our SPIs)}
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
            const auto child = std::find_if(sa.children.begin(), sa.children.end(),
                                            [&](const ChildSa& c) { return c.spi_out == spi; });
            if (child == sa.children.end())
                continue;
            host_.delete_child(child->config->name, child->spi_in);
            ike_log()->info("{}: peer deleted CHILD SA {} (in 0x{:08x}, out 0x{:08x})", sa.peer->name,
                            child->config->name, child->spi_in, child->spi_out);
            ours.spis.push_back(child->spi_in);
            sa.children.erase(child);
        }
        if (!ours.spis.empty())
            answer.push_back(std::move(ours));
    }
    send_response(sa, header, std::move(answer));
}

void IkeEngine::on_informational_response(IkeSa&, const std::vector<Payload>&, Clock::time_point)
{
    // An answer is all a liveness check or our Delete needs; its arrival already cleared the request.
}

} // namespace mesh::ike
