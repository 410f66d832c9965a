// The CHILD SA payloads of IKE_AUTH and CREATE_CHILD_SA; see child_negotiation.hpp.

#include "ike/child_negotiation.hpp"

namespace mesh::ike {

namespace {
NotifyPayload use_transport_mode()
{
    NotifyPayload n;
    n.protocol_id = ProtocolId::none;
    n.notify_type = NotifyType::use_transport_mode;
    return n;
}

bool transport(const ChildConfig& child) noexcept
{
    return child.mode == ChildMode::transport_gre;
}

// The payloads that describe a CHILD SA in a request or an answer.
struct ChildPayloads {
    const SaPayload* sa;
    const TsiPayload* tsi;
    const TsrPayload* tsr;
    bool transport;

    explicit ChildPayloads(const std::vector<Payload>& payloads)
        : sa(find<SaPayload>(payloads)), tsi(find<TsiPayload>(payloads)), tsr(find<TsrPayload>(payloads)),
          transport(find_notify(payloads, NotifyType::use_transport_mode) != nullptr)
    {
    }
    [[nodiscard]] bool complete() const noexcept { return sa != nullptr && tsi != nullptr && tsr != nullptr; }
};
} // namespace

void append_child_offer(std::vector<Payload>& payloads, const ChildConfig& child, std::uint32_t spi_in,
                        bool with_pfs, const net::IpAddress& local, const net::IpAddress& remote,
                        const VirtualAddresses& virtual_ips)
{
    payloads.push_back(child_proposals(child.policy, spi_in, with_pfs));
    auto [tsi, tsr] = traffic_selectors(child, local, remote, virtual_ips);
    payloads.push_back(std::move(tsi));
    payloads.push_back(std::move(tsr));
    if (transport(child))
        payloads.push_back(use_transport_mode());
}

std::expected<ChildChoice, ChildRefusal> choose_child_sa(const std::vector<Payload>& request,
                                                         const ChildConfig& child, bool with_pfs,
                                                         std::uint32_t spi_in, DhGroup ke_group,
                                                         const net::IpAddress& local,
                                                         const net::IpAddress& remote,
                                                         const VirtualAddresses& virtual_ips)
{
    const ChildPayloads offer(request);
    if (!offer.complete())
        return std::unexpected(ChildRefusal{NotifyType::invalid_syntax, "SA, TSi or TSr missing"});
    if (offer.transport != transport(child))
        return std::unexpected(ChildRefusal{NotifyType::no_proposal_chosen, "mode (transport or tunnel) differs"});
    auto chosen = choose_child(*offer.sa, child.policy, with_pfs, spi_in, ke_group);
    if (!chosen)
        return std::unexpected(ChildRefusal{NotifyType::no_proposal_chosen, chosen.error().message()});
    auto narrowed = narrow(child, *offer.tsi, *offer.tsr, local, remote, virtual_ips);
    if (!narrowed)
        return std::unexpected(ChildRefusal{NotifyType::ts_unacceptable, narrowed.error().message()});
    return ChildChoice{std::move(*chosen), std::move(*narrowed)};
}

void append_child_answer(std::vector<Payload>& payloads, const ChildConfig& child, ChildChoice choice)
{
    payloads.push_back(std::move(choice.chosen.reply));
    payloads.push_back(std::move(choice.ts.first));
    payloads.push_back(std::move(choice.ts.second));
    if (transport(child))
        payloads.push_back(use_transport_mode());
}

std::expected<Accepted<ChildSuite>, std::string> check_child_answer(const std::vector<Payload>& response,
                                                                    const ChildConfig& child, bool with_pfs,
                                                                    const net::IpAddress& local,
                                                                    const net::IpAddress& remote,
                                                                    const VirtualAddresses& virtual_ips)
{
    const ChildPayloads answer(response);
    if (!answer.complete())
        return std::unexpected("the answer carries no CHILD SA");
    auto accepted = accept_child_reply(*answer.sa, child.policy, with_pfs);
    if (!accepted || answer.transport != transport(child) ||
        !accept_ts_reply(child, *answer.tsi, *answer.tsr, local, remote, virtual_ips))
        return std::unexpected("the CHILD SA " + child.name + " the peer chose is not one we offered");
    return *accepted;
}

} // namespace mesh::ike
