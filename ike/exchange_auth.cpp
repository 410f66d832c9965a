// IKE_AUTH (RFC 7296 section 1.2) with the first CHILD SA:
//   HDR, SK {IDi, [IDr,] AUTH, SAi2, TSi, TSr, [N(USE_TRANSPORT_MODE)]}  -->
//                              <--  HDR, SK {IDr, AUTH, SAr2, TSi, TSr, [N(USE_TRANSPORT_MODE)]}
// AUTH (section 2.15) over the octets RealMessage | Nonce of the peer | prf(SK_p, ID'):
//   pre-shared key:    prf(prf(Shared Secret, "Key Pad for IKEv2"), octets)
//   digital-signature: a signature over them with the key of the CERT sent
//                      along (RFC 7427 when the peer announced its hashes)

#include "ike/ike_engine.hpp"

#include "ike/certificates.hpp"
#include "ike/child_negotiation.hpp"
#include "ike/identity.hpp"
#include "ike/ike_log.hpp"
#include "ike/proposal.hpp"
#include "ike/signature_auth.hpp"
#include "ike/traffic_selectors.hpp"

#include <algorithm>

namespace mesh::ike {

namespace {
NotifyPayload notify(NotifyType type)
{
    NotifyPayload n;
    n.protocol_id = ProtocolId::none;
    n.notify_type = type;
    return n;
}

// The pre-shared key that authenticates `their` with `peer`: a template's
// key for that branch, or the peer's one key; nullptr when a template has
// none for it.
const Botan::secure_vector<std::uint8_t>* psk_for(const PeerConfig& peer, const std::optional<Identity>& their)
{
    if (peer.branch_secrets.empty())
        return &peer.psk;
    if (!their)
        return nullptr;
    const auto it = std::find_if(peer.branch_secrets.begin(), peer.branch_secrets.end(),
                                 [&](const BranchSecret& s) { return matches(s.id, *their); });
    return it == peer.branch_secrets.end() ? nullptr : &it->psk;
}

// Whether `peer` may be the one `their`, from `remote`, speaks for: its
// address and remote-id (or pattern) fit, and a template with a key per
// branch has one for it.
bool accepts(const PeerConfig& peer, const Identity& their, const net::IpAddress& remote)
{
    return peer.address.contains(remote) && (!peer.remote_id || matches_pattern(*peer.remote_id, their)) &&
           (peer.auth != PeerAuth::pre_shared_key || psk_for(peer, their) != nullptr);
}

Identity local_identity(const PeerConfig& peer, const net::Endpoint& local)
{
    if (peer.my_id)
        return *peer.my_id;
    if (peer.auth == PeerAuth::digital_signature)
        return identity_of(peer.credentials->certificate);
    return identity_of(local.address);
}
} // namespace

std::vector<std::uint8_t> IkeEngine::auth_octets(IkeSa& sa, bool of_initiator, std::span<const std::uint8_t> id_body)
{
    return signed_octets(*sa.prf, of_initiator ? sa.init_request : sa.init_response,
                         of_initiator ? sa.nonce_r : sa.nonce_i, of_initiator ? sa.keys.sk_pi : sa.keys.sk_pr, id_body);
}

std::expected<std::vector<Payload>, std::string> IkeEngine::our_auth(IkeSa& sa, const PeerConfig& peer,
                                                                     const Identity& me)
{
    const auto octets = auth_octets(sa, sa.initiator, id_body(to_payload<IdiPayload>(me)));
    if (peer.auth == PeerAuth::pre_shared_key) {
        const auto* psk = psk_for(peer, sa.remote_identity);
        if (psk == nullptr)
            return std::unexpected(std::string("no pre-shared key for the peer's identity"));
        const auto mac = psk_auth(*sa.prf, *psk, octets);
        return std::vector<Payload>{AuthPayload{AuthMethod::shared_key_mic, {mac.begin(), mac.end()}}};
    }
    std::vector<Payload> payloads;
    for (auto& cert : cert_payloads(*peer.credentials))
        payloads.push_back(std::move(cert));
    std::optional<std::span<const std::uint8_t>> hashes;
    if (sa.peer_hash_algorithms)
        hashes = *sa.peer_hash_algorithms;
    auto auth = make_signature_auth(*peer.credentials->key, hashes, octets, rng_);
    if (!auth)
        return std::unexpected("cannot sign: " + auth.error());
    payloads.push_back(std::move(*auth));
    return payloads;
}

std::expected<void, std::string> IkeEngine::check_peer_auth(IkeSa& sa, const PeerConfig& peer, const Identity& their,
                                                            std::span<const std::uint8_t> their_id_body,
                                                            const std::vector<Payload>& inner)
{
    const auto* auth = find<AuthPayload>(inner);
    const auto octets = auth_octets(sa, !sa.initiator, their_id_body);
    if (peer.auth == PeerAuth::pre_shared_key) {
        if (auth->method != AuthMethod::shared_key_mic)
            return std::unexpected("it signed, but a pre-shared key is configured for it");
        const auto* psk = psk_for(peer, their);
        if (psk == nullptr || !verify_psk_auth(*sa.prf, *psk, octets, auth->data))
            return std::unexpected("the pre-shared keys differ");
        return {};
    }
    if (auth->method == AuthMethod::shared_key_mic)
        return std::unexpected("it used a pre-shared key, but digital-signature is configured for it");
    const auto chain = x509_chain(find_all<CertPayload>(inner));
    if (chain.empty())
        return std::unexpected("it sent no certificate");
    const auto certificate = peer.trust->validate(chain, std::chrono::system_clock::now());
    if (!certificate)
        return std::unexpected(certificate.error());
    if (!certificate_matches(*certificate, their))
        return std::unexpected("its certificate does not name its ID " + to_string(their));
    const std::unique_ptr<Botan::Public_Key> key(certificate->load_subject_public_key());
    return check_auth(*key, auth->method, auth->data, octets);
}

void IkeEngine::send_auth_request(IkeSa& sa, Clock::time_point now)
{
    const PeerConfig& peer = *sa.peer;
    const ChildConfig& child = peer.children.front();
    const Identity me = local_identity(peer, sa.local);
    sa.pending_child = &child;
    sa.pending_child_spi = host_.allocate_spi();

    auto auth = our_auth(sa, peer, me);
    if (!auth) {
        ike_log()->error("{}: {}", peer.name, auth.error());
        fail(sa, now);
        return;
    }
    std::vector<Payload> inner;
    inner.push_back(to_payload<IdiPayload>(me));
    // RFC 7296 section 3.8: IDi, [CERT+], [CERTREQ+], [IDr], AUTH.
    inner.insert(inner.end(), auth->begin(), auth->end() - 1);
    // Section 2.4: we hold no other IKE SA with this peer (we started, or
    // gave up on the last one), so any the peer still holds with us is stale.
    if (std::none_of(sas_.begin(), sas_.end(), [&](const auto& other) {
            return other.get() != &sa && other->peer == &peer && other->state != IkeState::dead &&
                   other->state != IkeState::rekeyed;
        }))
        inner.push_back(notify(NotifyType::initial_contact));
    if (peer.auth == PeerAuth::digital_signature)
        inner.push_back(certreq_payload(*peer.trust));
    if (peer.remote_id)
        inner.push_back(to_payload<IdrPayload>(*peer.remote_id));
    inner.push_back(auth->back());
    append_cfg_request(sa, inner);
    append_child_offer(inner, child, sa.pending_child_spi, false, sa.local.address, sa.remote.address,
                       offered_addresses(sa));
    sa.state = IkeState::auth_sent;
    send_request(sa, ExchangeType::ike_auth, std::move(inner), now);
}

void IkeEngine::on_auth_request(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                                Clock::time_point now)
{
    const auto* idi = find<IdiPayload>(inner);
    const auto* auth = find<AuthPayload>(inner);
    if (idi == nullptr || auth == nullptr) {
        send_response(sa, header, {notify(NotifyType::invalid_syntax)});
        sa.state = IkeState::dead;
        return;
    }
    const Identity their = to_identity(*idi);

    // The peer is the one whose address and remote-id both fit (a hub may
    // have many spokes under one address range), and for a template with a
    // key per branch, one that has a key for this identity.
    const auto peer = std::find_if(peers_.begin(), peers_.end(),
                                   [&](const PeerConfig& p) { return accepts(p, their, sa.remote.address); });
    if (peer == peers_.end()) {
        ++counters_.authentication_failed;
        report(now, sa.peer->name, "no matching identity found for {} from {}", to_string(their),
                        sa.remote.to_string());
        send_response(sa, header, {notify(NotifyType::authentication_failed)});
        sa.state = IkeState::dead;
        return;
    }
    sa.peer = &*peer;
    if (const auto proved = check_peer_auth(sa, *peer, their, id_body(*idi), inner); !proved) {
        ++counters_.authentication_failed;
        report(now, peer->name, "authentication failed for {} from {}: {}", to_string(their),
                        sa.remote.to_string(), proved.error());
        send_response(sa, header, {notify(NotifyType::authentication_failed)});
        sa.state = IkeState::dead;
        return;
    }
    sa.remote_identity = their;
    const Identity me = local_identity(*peer, sa.local);
    auto our = our_auth(sa, *peer, me);
    if (!our) {
        ike_log()->error("{}: {}", peer->name, our.error());
        send_response(sa, header, {notify(NotifyType::authentication_failed)});
        sa.state = IkeState::dead;
        return;
    }
    std::vector<Payload> answer;
    answer.push_back(to_payload<IdrPayload>(me));
    answer.insert(answer.end(), our->begin(), our->end());
    sa.state = IkeState::established;
    sa.established_at = now;
    schedule_ike_lifetime(sa, now);
    failures_.erase(peer->name);
    reset_backoff(*peer);
    ike_log()->info("{}: IKE SA {:016x}/{:016x} established with {} ({}), {}", peer->name, sa.spi_i, sa.spi_r,
                    to_string(their), sa.remote.to_string(), describe_suite(sa.suite));
    if (answer_cfg_request(sa, inner, answer, now))
        answer_first_child(sa, inner, answer, now);
    send_response(sa, header, std::move(answer));
    // After the new CHILD SA is installed: the tunnel keeps an inbound SA while the stale ones go.
    if (find_notify(inner, NotifyType::initial_contact) != nullptr)
        replace_stale_sas(sa);
    resolve_duplicates(sa, now);
}

void IkeEngine::answer_first_child(IkeSa& sa, const std::vector<Payload>& inner, std::vector<Payload>& answer,
                                   Clock::time_point now)
{
    // The first tunnel of this peer whose mode, proposal and selectors fit.
    if (find<SaPayload>(inner) == nullptr || find<TsiPayload>(inner) == nullptr || find<TsrPayload>(inner) == nullptr)
        return;   // no CHILD SA asked for
    ChildRefusal refusal;
    for (const ChildConfig& child : sa.peer->children) {
        const std::uint32_t spi_in = host_.allocate_spi();
        auto choice = choose_child_sa(inner, child, false, spi_in, DhGroup::none, sa.local.address, sa.remote.address,
                                      sa.virtual_addresses());
        if (!choice) {
            refusal = std::move(choice.error());
            continue;
        }
        const ChildKeySource source{false, {}, sa.nonce_i, sa.nonce_r};
        // While another IKE SA carries the tunnel (both ends started at once,
        // or the peer restarted), the initiator may not hold this SA yet:
        // it takes the traffic once that is sure (duplicate_sas.cpp,
        // initial_contact.cpp).
        const bool send_now = !tunnel_carried(sa, child);
        if (install(sa, child, choice->chosen.suite, spi_in, choice->chosen.peer_spi, source, send_now, 0, now,
                    choice->ts.first.selectors) == nullptr) {
            refusal = {NotifyType::temporary_failure, "the data plane refused the SA"};
            continue;
        }
        append_child_answer(answer, child, std::move(*choice));
        return;
    }
    count_child_refusal(sa, now, refusal);
    answer.push_back(notify(refusal.error));
}

void IkeEngine::count_child_refusal(IkeSa& sa, Clock::time_point now, const ChildRefusal& refusal)
{
    if (refusal.error == NotifyType::ts_unacceptable) {
        ++counters_.ts_unacceptable;
        report(now, sa.peer->name, "TS_UNACCEPTABLE for the CHILD SA from {} ({})", sa.remote.to_string(),
               refusal.reason);
    } else {
        ++counters_.no_proposal_chosen;
        report(now, sa.peer->name, "CHILD SA from {} refused: {}", sa.remote.to_string(), refusal.reason);
    }
}

void IkeEngine::on_auth_response(IkeSa& sa, const std::vector<Payload>& inner, Clock::time_point now)
{
    const PeerConfig& peer = *sa.peer;
    const auto* idr = find<IdrPayload>(inner);
    const auto* auth = find<AuthPayload>(inner);
    if (idr == nullptr || auth == nullptr) {
        const auto* error = first_error(inner);
        if (error != nullptr && error->notify_type == NotifyType::authentication_failed) {
            ++counters_.authentication_failed;
            report(now, peer.name, "authentication failed: {} refused our AUTH (key, certificate or identity)", sa.remote.to_string());
        } else {
            report(now, peer.name, "IKE_AUTH refused by {} (notify {})", sa.remote.to_string(),
                            error ? static_cast<int>(error->notify_type) : 0);
        }
        fail(sa, now);
        return;
    }
    const Identity their = to_identity(*idr);
    if (peer.remote_id && !matches_pattern(*peer.remote_id, their)) {
        ++counters_.authentication_failed;
        report(now, peer.name, "no matching identity found: {} answered as {}, expected {}",
                        sa.remote.to_string(), to_string(their), to_string(*peer.remote_id));
        refuse_responder(sa, now);
        return;
    }
    if (const auto proved = check_peer_auth(sa, peer, their, id_body(*idr), inner); !proved) {
        ++counters_.authentication_failed;
        report(now, peer.name, "authentication failed: {} ({}) did not prove its identity: {}",
                        sa.remote.to_string(), to_string(their), proved.error());
        refuse_responder(sa, now);
        return;
    }
    sa.remote_identity = their;
    if (peer.mode_config == ModeConfigRole::request && !take_cfg_reply(sa, inner, now)) {
        // Authenticated, but of no use without an address: a new IKE SA asks again later.
        send_ike_delete(sa);
        fail(sa, now);
        return;
    }
    sa.state = IkeState::established;
    sa.established_at = now;
    schedule_ike_lifetime(sa, now);
    failures_.erase(peer.name);
    reset_backoff(peer);
    ike_log()->info("{}: IKE SA {:016x}/{:016x} established with {} ({}), {}", peer.name, sa.spi_i, sa.spi_r,
                    to_string(their), sa.remote.to_string(), describe_suite(sa.suite));
    accept_first_child(sa, inner, now);
    // After the new CHILD SA is installed: the tunnel keeps an inbound SA while the stale ones go.
    if (find_notify(inner, NotifyType::initial_contact) != nullptr)
        replace_stale_sas(sa);
    resolve_duplicates(sa, now);
}

void IkeEngine::accept_first_child(IkeSa& sa, const std::vector<Payload>& inner, Clock::time_point now)
{
    const PeerConfig& peer = *sa.peer;
    const ChildConfig& child = *sa.pending_child;
    if (const auto* error = first_error(inner)) {
        if (error->notify_type == NotifyType::ts_unacceptable) {
            ++counters_.ts_unacceptable;
            report(now, peer.name, "TS_UNACCEPTABLE: {} refused the traffic selectors of {}",
                            sa.remote.to_string(), child.name);
        } else if (error->notify_type == NotifyType::no_proposal_chosen) {
            ++counters_.no_proposal_chosen;
            report(now, peer.name, "no suitable proposal found: {} answered NO_PROPOSAL_CHOSEN to the CHILD SA (ours: {})", sa.remote.to_string(),
                            describe(child_proposals(child.policy, sa.pending_child_spi, false)));
        } else {
            report(now, peer.name, "CHILD SA {} refused: {} answered {}", child.name, sa.remote.to_string(),
                   notify_name(error->notify_type));
        }
        return;
    }
    const auto accepted =
        check_child_answer(inner, child, false, sa.local.address, sa.remote.address, sa.virtual_addresses());
    if (!accepted) {
        report(now, peer.name, "IKE_AUTH: {}", accepted.error());
        return;
    }
    const ChildKeySource source{true, {}, sa.nonce_i, sa.nonce_r};
    install(sa, child, accepted->suite, sa.pending_child_spi, accepted->peer_spi, source, true, 0, now);
}

void IkeEngine::refuse_responder(IkeSa& sa, Clock::time_point now)
{
    // Section 2.21.2: the responder already thinks the IKE SA is up, so it
    // must hear that its authentication failed, or it keeps a dead SA.
    send_request(sa, ExchangeType::informational, {notify(NotifyType::authentication_failed)}, now);
    fail(sa, now);
}

ChildSa* IkeEngine::install(IkeSa& sa, const ChildConfig& child, const ChildSuite& suite, std::uint32_t spi_in,
                           std::uint32_t spi_out, const ChildKeySource& source, bool use_outbound,
                           std::uint32_t rekeys_spi_in, Clock::time_point now,
                           std::span<const TrafficSelector> peer_ts)
{
    auto keys = derive_child_sa_keys(*sa.prf, sa.keys.sk_d, suite.cipher, suite.integrity, source.g_ir,
                                     source.nonce_i, source.nonce_r);
    if (!keys)
        return nullptr;
    // Section 2.17: the "_i" keys protect what the initiator of this exchange
    // sends, who may be the original responder when it rekeys.
    const auto in_direction = source.we_initiated ? ChildSaDirection::responder_to_initiator
                                                  : ChildSaDirection::initiator_to_responder;
    const auto out_direction = source.we_initiated ? ChildSaDirection::initiator_to_responder
                                                   : ChildSaDirection::responder_to_initiator;
    ChildSaInstall request;
    request.tunnel = child.name;
    request.peer = sa.peer->name;
    if (sa.peer->per_branch)
        request.branch = sa.remote_identity;
    if (child.mode == ChildMode::tunnel_ip)
        request.remote_subnets = covering_prefixes(peer_ts);
    request.inbound = child_sa_params(*keys, in_direction, spi_in, suite.esn);
    request.outbound = child_sa_params(*keys, out_direction, spi_out, suite.esn);
    request.remote = sa.remote;
    request.udp_encapsulation = udp_encapsulation(sa);
    request.use_outbound = use_outbound;
    request.rekeys_spi_in = rekeys_spi_in;
    if (!host_.install_child(request))
        return nullptr;
    ChildSa installed;
    installed.config = &child;
    installed.suite = suite;
    installed.spi_in = spi_in;
    installed.spi_out = spi_out;
    installed.installed_at = now;
    schedule_lifetime(installed, now);
    if (!use_outbound)
        installed.state = ChildState::inbound_only;
    sa.children.push_back(std::move(installed));
    ike_log()->info("{}: CHILD SA {} installed: in 0x{:08x} out 0x{:08x} {}{}{}", sa.peer->name, child.name, spi_in,
                    spi_out, tunnel::info(suite.cipher).name,
                    child.mode == ChildMode::transport_gre ? " transport mode (gre)" : " tunnel mode",
                    use_outbound ? "" : ", outbound waits for the old SA's Delete");
    return &sa.children.back();
}

bool IkeEngine::udp_encapsulation(const IkeSa& sa) noexcept
{
    // RFC 7296 section 2.23: UDP encapsulation when a NAT is in the way (or
    // either end pretends one, encapsulation = "udp"); plain ESP otherwise.
    return sa.nat_local || sa.nat_remote || sa.peer_forces_udp || sa.peer->always_encapsulate;
}

} // namespace mesh::ike
