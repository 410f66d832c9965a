// CREATE_CHILD_SA rekeying a CHILD SA (RFC 7296 sections 1.3.3, 2.8, 2.8.1, 2.17):
//   HDR, SK {N(REKEY_SA, ESP, old SPI), SA, Ni, [KEi], TSi, TSr, [N(USE_TRANSPORT_MODE)]}  -->
//                  <--  HDR, SK {SA, Nr, [KEr], TSi, TSr, [N(USE_TRANSPORT_MODE)]}
//                  or   HDR, SK {N(INVALID_KE_PAYLOAD | CHILD_SA_NOT_FOUND | TEMPORARY_FAILURE | ...)}
//   HDR, SK {D(ESP, old inbound SPI)}  -->  <--  HDR, SK {D(ESP, the peer's old inbound SPI)}
//   KEYMAT = prf+(SK_d, [g^ir (new)] | Ni | Nr), g^ir with PFS (a pfs-group)
//
// Make-before-break, so that a rekey under full load loses no packet:
//   responder  installs the new inbound SA before it answers, and keeps sending
//              on the old SA until the initiator's Delete for it arrives
//   initiator  sends on the new SA as soon as it is answered (the peer can
//              decrypt it by then) and decrypts on the old one until its
//              Delete is answered
//
// Simultaneous rekeys of one SA (section 2.8.1): each end answers the other's
// request as well. Of the two new SAs, the one whose exchange holds the
// lowest of the four nonces is redundant: its initiator deletes it and leaves
// the old SA to the peer, the other initiator deletes the old SA as usual. A
// request to rekey an SA that is already being deleted or replaced is
// answered TEMPORARY_FAILURE, which keeps the ends agreeing when the requests
// cross at other moments.

#include "ike/ike_engine.hpp"

#include "ike/child_negotiation.hpp"
#include "ike/ike_log.hpp"
#include "ike/rekey_rules.hpp"

#include <algorithm>

namespace mesh::ike {

namespace {
NotifyPayload notify(NotifyType type, ProtocolId protocol = ProtocolId::none, std::vector<std::uint8_t> spi = {})
{
    NotifyPayload n;
    n.protocol_id = protocol;
    n.notify_type = type;
    n.spi = std::move(spi);
    return n;
}

// Our SA payload first, then Nonce and KE, then the rest of the offer or answer (section 1.3).
void insert_nonce_and_ke(std::vector<Payload>& payloads, std::size_t after, std::vector<std::uint8_t> nonce,
                         const std::optional<DhKeyExchange>& dh)
{
    std::vector<Payload> middle{NoncePayload{std::move(nonce)}};
    if (dh)
        middle.push_back(KePayload{dh->group(), dh->public_value()});
    payloads.insert(payloads.begin() + static_cast<std::ptrdiff_t>(after), middle.begin(), middle.end());
}

} // namespace

void IkeEngine::start_rekey(IkeSa& sa, ChildSa& child, Clock::time_point now)
{
    ChildRekey rekey;
    rekey.config = child.config;
    rekey.old_spi_in = child.spi_in;
    rekey.spi_in = host_.allocate_spi();
    rekey.nonce_i = new_nonce();
    const auto& pfs = child.config->policy.pfs_groups;
    if (!pfs.empty()) {
        auto dh = DhKeyExchange::generate(pfs.front(), rng_);
        if (!dh) {
            ++counters_.rekey_failures;
            report(now, sa.peer->name, "rekeying CHILD SA {} failed: cannot create a DH group {} key",
                   child.config->name, static_cast<int>(pfs.front()));
            child.rekey_at = now + rekey_retry;
            return;
        }
        rekey.dh = std::move(*dh);
    }
    ike_log()->info("{}: rekeying CHILD SA {} (in 0x{:08x}, out 0x{:08x}){}", sa.peer->name, child.config->name,
                    child.spi_in, child.spi_out, pfs.empty() ? "" : " with PFS");
    sa.rekey = std::move(rekey);
    send_rekey_request(sa, now);
}

void IkeEngine::send_rekey_request(IkeSa& sa, Clock::time_point now)
{
    const ChildRekey& rekey = *sa.rekey;
    // Section 1.3.3: the SA is named by the SPI its initiator receives on.
    std::vector<Payload> inner{notify(NotifyType::rekey_sa, ProtocolId::esp, spi_bytes(rekey.old_spi_in))};
    append_child_offer(inner, *rekey.config, rekey.spi_in, true, sa.local.address, sa.remote.address,
                       sa.virtual_addresses());
    insert_nonce_and_ke(inner, 2, rekey.nonce_i, rekey.dh);
    send_request(sa, ExchangeType::create_child_sa, std::move(inner), now);
}

void IkeEngine::on_create_child_request(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                                        Clock::time_point now)
{
    if (sa.state == IkeState::rekeyed) {
        // Section 2.25.2: the IKE SA is replaced and its Delete is coming or going.
        send_response(sa, header, {notify(NotifyType::temporary_failure)});
        return;
    }
    const auto* rekey_sa = find_notify(inner, NotifyType::rekey_sa);
    const auto* offer = find<SaPayload>(inner);
    if (rekey_sa == nullptr && offer != nullptr && !offer->proposals.empty() &&
        offer->proposals.front().protocol_id == ProtocolId::ike) {
        on_ike_rekey_request(sa, header, inner, now);   // section 1.3.2: no REKEY_SA, an IKE proposal
        return;
    }
    if (rekey_sa == nullptr) {
        on_new_child_request(sa, header, inner, now);
        return;
    }
    ChildSa* old = rekey_sa->protocol_id == ProtocolId::esp && rekey_sa->spi.size() == 4
                       ? sa.child_out(static_cast<std::uint32_t>(spi_value(rekey_sa->spi)))
                       : nullptr;
    if (old == nullptr) {
        ike_log()->info("{}: {} asks to rekey a CHILD SA we do not have: CHILD_SA_NOT_FOUND", sa.peer->name,
                        sa.remote.to_string());
        send_response(sa, header, {notify(NotifyType::child_sa_not_found, rekey_sa->protocol_id, rekey_sa->spi)});
        return;
    }
    if (old->state != ChildState::active || old->successor != 0) {
        // Sections 2.8.1 and 2.25.1: it is being deleted or replaced already.
        ike_log()->info("{}: rekey of CHILD SA {} (in 0x{:08x}) refused with TEMPORARY_FAILURE: it is {}",
                        sa.peer->name, old->config->name, old->spi_in,
                        old->successor != 0 ? "rekeyed already" : to_string(old->state));
        send_response(sa, header, {notify(NotifyType::temporary_failure)});
        return;
    }
    const auto* nonce = find<NoncePayload>(inner);
    if (nonce == nullptr || !is_valid(*nonce)) {
        send_response(sa, header, {notify(NotifyType::invalid_syntax)});
        return;
    }
    const ChildConfig& config = *old->config;
    const std::uint32_t old_spi_in = old->spi_in;
    const auto* ke = find<KePayload>(inner);
    const std::uint32_t spi_in = host_.allocate_spi();
    auto choice = choose_child_sa(inner, config, true, spi_in, ke != nullptr ? ke->dh_group : DhGroup::none,
                                  sa.local.address, sa.remote.address, sa.virtual_addresses());
    if (!choice) {
        count_child_refusal(sa, now, choice.error());
        send_response(sa, header, {notify(choice.error().error)});
        return;
    }
    const auto nonce_r = answer_child_sa(sa, header, inner, config, std::move(*choice), spi_in, old_spi_in, now);
    if (!nonce_r)
        return;
    old = sa.child_in(old_spi_in);
    old->successor = spi_in;
    old->successor_lowest_nonce = lowest_nonce(nonce->data, *nonce_r);
    ++counters_.child_rekeys_answered;
}

std::optional<std::vector<std::uint8_t>> IkeEngine::answer_child_sa(IkeSa& sa, const Header& header,
                                                                    const std::vector<Payload>& inner,
                                                                    const ChildConfig& config, ChildChoice choice,
                                                                    std::uint32_t spi_in, std::uint32_t rekeys_spi_in,
                                                                    Clock::time_point now)
{
    const auto* nonce = find<NoncePayload>(inner);
    const auto* ke = find<KePayload>(inner);
    const ChildSuite suite = choice.chosen.suite;
    std::optional<DhKeyExchange> dh;
    Botan::secure_vector<std::uint8_t> g_ir;
    if (suite.pfs != DhGroup::none) {
        if (ke == nullptr || ke->dh_group != suite.pfs) {
            // Section 1.3: the initiator tries again with the group we name.
            ike_log()->info("{}: asking {} for PFS group {} for CHILD SA {} (INVALID_KE_PAYLOAD)", sa.peer->name,
                            sa.remote.to_string(), static_cast<int>(suite.pfs), config.name);
            send_response(sa, header, {invalid_ke_payload(suite.pfs)});
            return std::nullopt;
        }
        auto ours = DhKeyExchange::generate(suite.pfs, rng_);
        auto shared = ours ? ours->shared_secret(ke->data) : std::unexpected(ours.error());
        if (!shared) {
            report(now, sa.peer->name, "CHILD SA {}: KE payload from {} refused", config.name, sa.remote.to_string());
            send_response(sa, header, {notify(NotifyType::invalid_syntax)});
            return std::nullopt;
        }
        dh = std::move(*ours);
        g_ir = std::move(*shared);
    }
    auto nonce_r = new_nonce();
    const ChildKeySource source{false, g_ir, nonce->data, nonce_r};
    if (install(sa, config, suite, spi_in, choice.chosen.peer_spi, source, rekeys_spi_in == 0, rekeys_spi_in, now,
                choice.ts.first.selectors) == nullptr) {
        send_response(sa, header, {notify(NotifyType::temporary_failure)});
        return std::nullopt;
    }
    std::vector<Payload> answer;
    append_child_answer(answer, config, std::move(choice));
    insert_nonce_and_ke(answer, 1, nonce_r, dh);
    send_response(sa, header, std::move(answer));
    return nonce_r;
}

void IkeEngine::on_new_child_request(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                                     Clock::time_point now)
{
    // Section 1.3.1: a further CHILD SA. One per tunnel: the tunnels of this
    // peer that have none (the peer deleted it, or it expired) may get one.
    const auto* nonce = find<NoncePayload>(inner);
    if (nonce == nullptr || !is_valid(*nonce)) {
        send_response(sa, header, {notify(NotifyType::invalid_syntax)});
        return;
    }
    const auto* ke = find<KePayload>(inner);
    ChildRefusal refusal{NotifyType::no_additional_sas, "every tunnel of this peer has its CHILD SA"};
    for (const ChildConfig& config : sa.peer->children) {
        const bool has_one = std::any_of(sa.children.begin(), sa.children.end(),
                                         [&](const ChildSa& child) { return child.config == &config; });
        if (has_one)
            continue;
        const std::uint32_t spi_in = host_.allocate_spi();
        auto choice = choose_child_sa(inner, config, true, spi_in, ke != nullptr ? ke->dh_group : DhGroup::none,
                                      sa.local.address, sa.remote.address, sa.virtual_addresses());
        if (!choice) {
            refusal = std::move(choice.error());
            continue;
        }
        if (answer_child_sa(sa, header, inner, config, std::move(*choice), spi_in, 0, now))
            ++counters_.child_sas_created;
        return;
    }
    if (refusal.error == NotifyType::no_additional_sas) {
        ike_log()->info("{}: {} asks for another CHILD SA: NO_ADDITIONAL_SAS ({})", sa.peer->name,
                        sa.remote.to_string(), refusal.reason);
        send_response(sa, header, {notify(NotifyType::no_additional_sas)});
        return;
    }
    count_child_refusal(sa, now, refusal);
    send_response(sa, header, {notify(refusal.error)});
}

void IkeEngine::on_create_child_response(IkeSa& sa, const std::vector<Payload>& inner, Clock::time_point now)
{
    if (sa.ike_rekey) {
        on_ike_rekey_response(sa, inner, now);
        return;
    }
    if (!sa.rekey)
        return;
    ChildRekey rekey = std::move(*sa.rekey);
    sa.rekey.reset();
    const ChildConfig& config = *rekey.config;
    const DhGroup sent = rekey.dh ? rekey.dh->group() : DhGroup::none;
    if (const auto* error = first_error(inner)) {
        if (const auto group = retry_group(*error, config.policy.pfs_groups, sent)) {
            if (auto dh = DhKeyExchange::generate(*group, rng_)) {
                ike_log()->info("{}: rekeying CHILD SA {} again with PFS group {} as the peer asks", sa.peer->name,
                                config.name, static_cast<int>(*group));
                rekey.dh = std::move(*dh);
                sa.rekey = std::move(rekey);
                send_rekey_request(sa, now);
                return;
            }
        }
        const ChildSa* old = sa.child_in(rekey.old_spi_in);
        if (old == nullptr || old->successor != 0 || old->state != ChildState::active) {
            // Our request crossed the peer's rekey or Delete of the same SA,
            // which the peer had completed first (section 2.8.1): no failure.
            ++counters_.rekey_collisions;
            ike_log()->info("{}: CHILD SA {} rekeyed by both ends at once: the peer's rekey went first ({})",
                            sa.peer->name, config.name, notify_name(error->notify_type));
            return;
        }
        rekey_failed(sa, rekey, now, sa.remote.to_string() + " answered " + notify_name(error->notify_type));
        return;
    }
    // The peer installed an SA for its answer: one we cannot use is deleted at the peer.
    const auto refuse_answer = [&](const std::string& why) {
        rekey_failed(sa, rekey, now, why);
        sa.queued_deletes.push_back(rekey.spi_in);
        send_queued_deletes(sa, now);
    };
    const auto* nonce = find<NoncePayload>(inner);
    const auto accepted = check_child_answer(inner, config, true, sa.local.address, sa.remote.address,
                                             sa.virtual_addresses());
    if (nonce == nullptr || !is_valid(*nonce) || !accepted) {
        refuse_answer(accepted ? "the answer carries no valid nonce" : accepted.error());
        return;
    }
    Botan::secure_vector<std::uint8_t> g_ir;
    if (accepted->suite.pfs != sent) {
        refuse_answer("the peer chose another PFS group than our KE payload's");
        return;
    }
    if (rekey.dh) {
        const auto* ke = find<KePayload>(inner);
        auto shared = ke != nullptr && ke->dh_group == sent ? rekey.dh->shared_secret(ke->data)
                                                            : std::unexpected(CryptoError::invalid_public_value);
        if (!shared) {
            refuse_answer("its KE payload is missing or refused");
            return;
        }
        g_ir = std::move(*shared);
    }
    ChildSa* old = sa.child_in(rekey.old_spi_in);
    if (old == nullptr) {
        // The old SA went meanwhile (deleted by the peer, or expired): the new one is not wanted.
        ike_log()->info("{}: CHILD SA {} went while we rekeyed it: deleting the new one", sa.peer->name, config.name);
        sa.queued_deletes.push_back(rekey.spi_in);
        send_queued_deletes(sa, now);
        return;
    }
    // Section 2.8.1: when the peer rekeyed the same SA (we answered it), the
    // exchange with the lowest of the four nonces made the redundant SA.
    const bool collision = old->successor != 0;
    const bool redundant =
        collision && holds_lowest_nonce(lowest_nonce(rekey.nonce_i, nonce->data), old->successor_lowest_nonce);
    const ChildKeySource source{true, g_ir, rekey.nonce_i, nonce->data};
    if (install(sa, config, accepted->suite, rekey.spi_in, accepted->peer_spi, source, !redundant, rekey.old_spi_in,
                now) == nullptr) {
        refuse_answer("the data plane refused the new SA");
        return;
    }
    ChildSa& fresh = sa.children.back();
    old = sa.child_in(rekey.old_spi_in);
    ++counters_.child_rekeys;
    if (collision)
        ++counters_.rekey_collisions;
    if (redundant) {
        ike_log()->info("{}: CHILD SA {} rekeyed by both ends at once: ours (in 0x{:08x}) holds the lowest nonce and "
                        "is deleted, the peer's (in 0x{:08x}) stays",
                        sa.peer->name, config.name, fresh.spi_in, old->successor);
        queue_delete(sa, fresh, now);
        return;
    }
    // Unless the peer's Delete of it came first (our answer was late): then it only retires.
    if (ChildSa* theirs = collision ? sa.child_in(old->successor) : nullptr; theirs != nullptr &&
                                                                              theirs->state != ChildState::retiring) {
        // Its initiator deletes it; until then it must not carry our traffic.
        ike_log()->info("{}: CHILD SA {} rekeyed by both ends at once: the peer's (in 0x{:08x}) holds the lowest "
                        "nonce and is deleted by it, ours (in 0x{:08x}) stays",
                        sa.peer->name, config.name, theirs->spi_in, fresh.spi_in);
        theirs->state = ChildState::superseded;
    }
    old->successor = 0;
    log_rekeyed(sa, fresh, *old);
    queue_delete(sa, *old, now);
}

void IkeEngine::rekey_failed(IkeSa& sa, const ChildRekey& rekey, Clock::time_point now, const std::string& why)
{
    ++counters_.rekey_failures;
    report(now, sa.peer->name, "rekeying CHILD SA {} failed: {}; the old SA stays until its hard lifetime",
           rekey.config->name, why);
    if (ChildSa* old = sa.child_in(rekey.old_spi_in); old != nullptr && old->state == ChildState::active)
        old->rekey_at = now + rekey_retry;
}

} // namespace mesh::ike
