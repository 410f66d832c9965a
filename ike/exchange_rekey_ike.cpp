// CREATE_CHILD_SA rekeying the IKE SA (RFC 7296 sections 1.3.2, 2.18, 2.8.1), on the old IKE SA:
//   HDR, SK {SA(IKE, new SPIi: the current suite first), Ni, KEi}  -->
//                       <--  HDR, SK {SA(IKE, new SPIr), Nr, KEr}
//                       or   HDR, SK {N(TEMPORARY_FAILURE | NO_PROPOSAL_CHOSEN | INVALID_KE_PAYLOAD | ...)}
//   SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), then the SK_ keys as in section 2.14, new SPIs
//   HDR, SK {D(IKE)}  -->  <--  HDR, SK {}          the last request on the old SA
//
// The initiator of the rekey is the original initiator of the new IKE SA,
// whose message IDs start at 0. Each end moves the CHILD SAs (and the
// peer's identity, address, NAT state and liveness) to the new SA as soon
// as it has it: the responder as it answers, the initiator as it reads the
// answer. The CHILD SAs stay installed: only the IKE SA they belong to
// changes, so the old one leaves without taking them along.
//
// Simultaneous rekeys (section 2.8.1, as section 2.18 applies it): each end
// answers the other's request too and so holds two new IKE SAs. The exchange
// with the lowest of the four nonces made the redundant one: its initiator
// deletes it (on itself) and leaves the old SA to the peer; the other
// initiator deletes the old SA as usual. Both ends keep the other new SA.

#include "ike/ike_engine.hpp"

#include "ike/ike_log.hpp"
#include "ike/proposal.hpp"
#include "ike/rekey_rules.hpp"

namespace mesh::ike {

namespace {
// How long a replaced IKE SA waits for the peer's Delete: longer than the
// peer's retransmissions of its rekey request and of the Delete (~15 s).

NotifyPayload notify(NotifyType type)
{
    return NotifyPayload{ProtocolId::none, type, {}, {}};
}
} // namespace

void IkeEngine::start_ike_rekey(IkeSa& sa, Clock::time_point now)
{
    const IkePolicy offer = preferring(sa.peer->ike, sa.suite);
    auto dh = DhKeyExchange::generate(offer.dh_groups.front(), rng_);
    if (!dh) {
        ++counters_.rekey_failures;
        report(now, sa.peer->name, "rekeying IKE SA {:016x}/{:016x} failed: cannot create a DH group {} key",
               sa.spi_i, sa.spi_r, static_cast<int>(offer.dh_groups.front()));
        sa.rekey_at = now + rekey_retry;
        return;
    }
    ike_log()->info("{}: rekeying IKE SA {:016x}/{:016x} with {}", sa.peer->name, sa.spi_i, sa.spi_r,
                    sa.remote.to_string());
    sa.ike_rekey = IkeRekey{new_spi(), new_nonce(), std::move(*dh)};
    send_ike_rekey_request(sa, now);
}

void IkeEngine::send_ike_rekey_request(IkeSa& sa, Clock::time_point now)
{
    const IkeRekey& rekey = *sa.ike_rekey;
    send_request(sa, ExchangeType::create_child_sa,
                 {ike_proposals(preferring(sa.peer->ike, sa.suite), ike_spi_bytes(rekey.spi)),
                  NoncePayload{rekey.nonce_i}, KePayload{rekey.dh->group(), rekey.dh->public_value()}},
                 now);
}

void IkeEngine::on_ike_rekey_request(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                                     Clock::time_point now)
{
    // Section 2.25: not while an exchange of ours about the CHILD SAs waits
    // for its answer on this SA (the SAs would have moved when it comes),
    // nor twice. Our own IKE rekey crossing this one is a collision, answered.
    const bool ours_pending = sa.rekey || (sa.outstanding && !sa.outstanding->liveness_check && !sa.ike_rekey);
    if (ours_pending || sa.successor) {
        ike_log()->info("{}: rekey of IKE SA {:016x}/{:016x} refused with TEMPORARY_FAILURE: {}", sa.peer->name,
                        sa.spi_i, sa.spi_r, sa.successor ? "rekeyed already" : "a CHILD SA exchange of ours is pending");
        send_response(sa, header, {notify(NotifyType::temporary_failure)});
        return;
    }
    const auto* offer = find<SaPayload>(inner);
    const auto* nonce = find<NoncePayload>(inner);
    const auto* ke = find<KePayload>(inner);
    if (offer == nullptr || nonce == nullptr || !is_valid(*nonce) || ke == nullptr) {
        send_response(sa, header, {notify(NotifyType::invalid_syntax)});
        return;
    }
    const std::uint64_t spi_r = new_spi();
    auto chosen = choose_ike(*offer, sa.peer->ike, ke->dh_group, ike_spi_bytes(spi_r));
    if (!chosen) {
        ++counters_.no_proposal_chosen;
        report(now, sa.peer->name, "rekey of the IKE SA by {}: {}", sa.remote.to_string(), chosen.error().message());
        send_response(sa, header, {notify(NotifyType::no_proposal_chosen)});
        return;
    }
    if (chosen->peer_spi == 0) {
        send_response(sa, header, {notify(NotifyType::invalid_syntax)});   // section 1.3.2: the new SPIi
        return;
    }
    if (ke->dh_group != chosen->suite.dh) {
        ike_log()->info("{}: asking {} for DH group {} to rekey the IKE SA (INVALID_KE_PAYLOAD)", sa.peer->name,
                        sa.remote.to_string(), static_cast<int>(chosen->suite.dh));
        send_response(sa, header, {invalid_ke_payload(chosen->suite.dh)});
        return;
    }
    auto dh = DhKeyExchange::generate(chosen->suite.dh, rng_);
    auto shared = dh ? dh->shared_secret(ke->data) : std::unexpected(dh.error());
    if (!shared) {
        report(now, sa.peer->name, "rekey of the IKE SA: KE payload from {} refused", sa.remote.to_string());
        send_response(sa, header, {notify(NotifyType::invalid_syntax)});
        return;
    }
    const auto nonce_r = new_nonce();
    IkeSa* fresh =
        add_rekeyed_sa(sa, false, chosen->peer_spi, spi_r, chosen->suite, nonce->data, nonce_r, *shared, now);
    if (fresh == nullptr) {
        send_response(sa, header, {notify(NotifyType::no_proposal_chosen)});
        return;
    }
    send_response(sa, header, {std::move(chosen->reply), NoncePayload{nonce_r}, KePayload{dh->group(), dh->public_value()}});
    sa.successor = IkeSuccessor{fresh->spi_i, fresh->spi_r, lowest_nonce(nonce->data, nonce_r)};
    ++counters_.ike_rekeys;
    ike_log()->info("{}: IKE SA {:016x}/{:016x} rekeyed by {}: now {:016x}/{:016x}, {}", sa.peer->name, sa.spi_i,
                    sa.spi_r, sa.remote.to_string(), fresh->spi_i, fresh->spi_r, describe_suite(fresh->suite));
    // Our own rekey of this SA is out too: which new SA stays is known only
    // with its answer (section 2.8.1), or with the peer's Delete of the old
    // SA should that answer be lost. The CHILD SAs wait on the old one.
    if (sa.ike_rekey)
        return;
    hand_over(sa, *fresh, now);
}

void IkeEngine::on_ike_rekey_response(IkeSa& sa, const std::vector<Payload>& inner, Clock::time_point now)
{
    IkeRekey rekey = std::move(*sa.ike_rekey);
    sa.ike_rekey.reset();
    const DhGroup sent = rekey.dh->group();
    // The peer answered a rekey of its own on this SA before ours (we answered it).
    const bool peer_went_first = sa.state == IkeState::rekeyed || sa.successor;
    if (const auto* error = first_error(inner)) {
        const auto group = retry_group(*error, sa.peer->ike.dh_groups, sent);
        if (group && !peer_went_first) {
            if (auto dh = DhKeyExchange::generate(*group, rng_)) {
                ike_log()->info("{}: rekeying the IKE SA again with DH group {} as the peer asks", sa.peer->name,
                                static_cast<int>(*group));
                rekey.dh = std::move(*dh);
                sa.ike_rekey = std::move(rekey);
                send_ike_rekey_request(sa, now);
                return;
            }
        }
        if (peer_went_first) {
            // Sections 2.25.2 and 2.8.1: our request crossed the peer's rekey, which completed first.
            ++counters_.ike_rekey_collisions;
            ike_log()->info("{}: IKE SA {:016x}/{:016x} rekeyed by both ends at once: the peer's rekey went first ({})",
                            sa.peer->name, sa.spi_i, sa.spi_r, notify_name(error->notify_type));
            hand_over_to_successor(sa, now);
            return;
        }
        ++counters_.rekey_failures;
        report(now, sa.peer->name, "rekeying IKE SA {:016x}/{:016x} failed: {} answered {}; the old SA stays until "
               "its hard lifetime", sa.spi_i, sa.spi_r, sa.remote.to_string(), notify_name(error->notify_type));
        sa.rekey_at = now + rekey_retry;
        return;
    }

    const auto* reply = find<SaPayload>(inner);
    const auto* nonce = find<NoncePayload>(inner);
    const auto* ke = find<KePayload>(inner);
    const auto accepted = reply != nullptr ? accept_ike_reply(*reply, sa.peer->ike)
                                           : std::unexpected(ReplyErrc::not_one_proposal);
    std::string unusable;
    std::optional<Botan::secure_vector<std::uint8_t>> g_ir;
    if (!accepted)
        unusable = std::string(to_string(accepted.error()));
    else if (accepted->peer_spi == 0)
        unusable = "the answer carries no SPI for the new IKE SA";
    else if (nonce == nullptr || !is_valid(*nonce))
        unusable = "the answer carries no valid nonce";
    else if (accepted->suite.dh != sent || ke == nullptr || ke->dh_group != sent)
        unusable = "the peer chose another DH group than our KE payload's";
    else if (auto shared = rekey.dh->shared_secret(ke->data))
        g_ir = std::move(*shared);
    else
        unusable = "its KE payload is refused";
    IkeSa* fresh = g_ir ? add_rekeyed_sa(sa, true, rekey.spi, accepted->peer_spi, accepted->suite, rekey.nonce_i,
                                         nonce->data, *g_ir, now)
                        : nullptr;
    if (fresh == nullptr) {
        ++counters_.rekey_failures;
        if (peer_went_first) {
            report(now, sa.peer->name, "rekeying IKE SA {:016x}/{:016x} failed: {}; the peer's rekey stays",
                   sa.spi_i, sa.spi_r, unusable.empty() ? "no keys" : unusable);
            hand_over_to_successor(sa, now);
            return;
        }
        // The peer moved its CHILD SAs to a new IKE SA we cannot have: start over.
        report(now, sa.peer->name, "rekeying IKE SA {:016x}/{:016x} failed: {}; starting over", sa.spi_i, sa.spi_r,
               unusable.empty() ? "no keys" : unusable);
        send_ike_delete(sa);
        fail(sa, now);
        return;
    }

    const bool collision = sa.successor.has_value();
    if (collision)
        ++counters_.ike_rekey_collisions;
    if (collision && holds_lowest_nonce(lowest_nonce(rekey.nonce_i, nonce->data), sa.successor->lowest_nonce)) {
        ike_log()->info("{}: IKE SA {:016x}/{:016x} rekeyed by both ends at once: ours ({:016x}/{:016x}) holds the "
                        "lowest nonce and is deleted, the peer's ({:016x}/{:016x}) stays",
                        sa.peer->name, sa.spi_i, sa.spi_r, fresh->spi_i, fresh->spi_r, sa.successor->spi_i,
                        sa.successor->spi_r);
        delete_rekeyed(*fresh, now);
        hand_over_to_successor(sa, now);
        return;   // the peer deletes the old SA
    }
    if (collision) {
        ike_log()->info("{}: IKE SA {:016x}/{:016x} rekeyed by both ends at once: the peer's ({:016x}/{:016x}) holds "
                        "the lowest nonce and is deleted, ours ({:016x}/{:016x}) stays",
                        sa.peer->name, sa.spi_i, sa.spi_r, sa.successor->spi_i, sa.successor->spi_r, fresh->spi_i,
                        fresh->spi_r);
        // Its initiator deletes it, and so do we: the answer that tells the
        // peer so may be lost, and the peer's Delete of the old SA may then
        // end its rekey before it ever learns of the redundant one.
        if (IkeSa* theirs = find_sa(sa.successor->spi_i, sa.successor->spi_r);
            theirs != nullptr && theirs->state == IkeState::established && theirs->children.empty())
            delete_rekeyed(*theirs, now);
    } else {
        ++counters_.ike_rekeys;
    }
    hand_over(sa, *fresh, now);
    ike_log()->info("{}: IKE SA {:016x}/{:016x} rekeyed: now {:016x}/{:016x}, {}", sa.peer->name, sa.spi_i, sa.spi_r,
                    fresh->spi_i, fresh->spi_r, describe_suite(fresh->suite));
    delete_rekeyed(sa, now);
}

IkeSa* IkeEngine::add_rekeyed_sa(IkeSa& old, bool we_initiated, std::uint64_t spi_i, std::uint64_t spi_r,
                                 const IkeSuite& suite, std::span<const std::uint8_t> nonce_i,
                                 std::span<const std::uint8_t> nonce_r, std::span<const std::uint8_t> g_ir,
                                 Clock::time_point now)
{
    auto sa = std::make_unique<IkeSa>();
    sa->peer = old.peer;
    sa->initiator = we_initiated;   // section 2.18: the rekey's initiator is the new SA's original initiator
    sa->spi_i = spi_i;
    sa->spi_r = spi_r;
    sa->local = old.local;
    sa->remote = old.remote;
    sa->state = IkeState::established;
    sa->created_at = now;
    sa->established_at = now;
    sa->suite = suite;
    sa->nonce_i.assign(nonce_i.begin(), nonce_i.end());
    sa->nonce_r.assign(nonce_r.begin(), nonce_r.end());
    sa->peer_hash_algorithms = old.peer_hash_algorithms;
    sa->nat_local = old.nat_local;
    sa->nat_remote = old.nat_remote;
    sa->peer_forces_udp = old.peer_forces_udp;
    sa->fragmentation = old.fragmentation;
    sa->last_heard = old.last_heard;
    sa->remote_identity = old.remote_identity;
    if (!key_ike_sa(*sa, rekey_skeyseed(*old.prf, old.keys.sk_d, g_ir, nonce_i, nonce_r)))
        return nullptr;
    schedule_ike_lifetime(*sa, now);
    sas_.push_back(std::move(sa));
    return sas_.back().get();
}

void IkeEngine::hand_over(IkeSa& from, IkeSa& to, Clock::time_point now)
{
    // Section 2.18: the CHILD SAs, installed as they are, now belong to `to`;
    // so do the Deletes still to be sent for them (section 1.4).
    std::move(from.children.begin(), from.children.end(), std::back_inserter(to.children));
    from.children.clear();
    to.queued_deletes.insert(to.queued_deletes.end(), from.queued_deletes.begin(), from.queued_deletes.end());
    from.queued_deletes.clear();
    // Liveness goes with them: the ESP counted so far, the last word heard.
    to.inbound_esp += from.inbound_esp;
    to.last_heard = std::max(to.last_heard, from.last_heard);
    if (from.outstanding && from.outstanding->liveness_check)
        from.outstanding.reset();   // the new SA checks from now on
    from.state = IkeState::rekeyed;
    from.expires_at = now + rekeyed_linger;
}

void IkeEngine::hand_over_to_successor(IkeSa& sa, Clock::time_point now)
{
    if (sa.state != IkeState::established || !sa.successor)
        return;
    if (IkeSa* theirs = find_sa(sa.successor->spi_i, sa.successor->spi_r);
        theirs != nullptr && theirs->state == IkeState::established)
        hand_over(sa, *theirs, now);
}

void IkeEngine::delete_rekeyed(IkeSa& sa, Clock::time_point now)
{
    sa.state = IkeState::rekeyed;
    sa.expires_at = now + rekeyed_linger;
    // Section 2.18: the Delete is the last request on the old SA; the CHILD
    // SAs are no longer its own, so the peer keeps them.
    send_request(sa, ExchangeType::informational, {DeletePayload{ProtocolId::ike, {}}}, now);
    sa.outstanding->deletes_ike = true;
    ike_log()->info("{}: deleting the rekeyed IKE SA {:016x}/{:016x}", sa.peer->name, sa.spi_i, sa.spi_r);
}

} // namespace mesh::ike
