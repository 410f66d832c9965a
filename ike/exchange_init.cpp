// IKE_SA_INIT (RFC 7296 section 1.2):
//   HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP)  -->
//                              <--  HDR, SAr1, KEr, Nr, N(NAT_DETECTION_*)
//   or                         <--  HDR, N(COOKIE) | N(INVALID_KE_PAYLOAD) | N(NO_PROPOSAL_CHOSEN)
// then keys (section 2.14) and, with a NAT or encapsulation = "udp", both move to port 4500 (section 2.23).

#include "ike/ike_engine.hpp"

#include "ike/ike_log.hpp"
#include "ike/certificates.hpp"
#include "ike/init_keys.hpp"
#include "ike/nat_detection.hpp"
#include "ike/proposal.hpp"
#include "ike/signature_auth.hpp"
#include "net/log_context.hpp"

#include <algorithm>

namespace mesh::ike {

namespace {
constexpr std::uint16_t ike_port = 500;

NotifyPayload notify(NotifyType type, std::vector<std::uint8_t> data = {})
{
    NotifyPayload n;
    n.protocol_id = ProtocolId::none;
    n.notify_type = type;
    n.data = std::move(data);
    return n;
}

// The payloads an IKE_SA_INIT message lacks, "KE" or "SA, KE and Nonce".
std::string missing_init_payloads(bool has_sa, bool has_ke, bool has_nonce)
{
    std::vector<const char*> missing;
    if (!has_sa)
        missing.push_back("SA");
    if (!has_ke)
        missing.push_back("KE");
    if (!has_nonce)
        missing.push_back("Nonce");
    std::string text;
    for (std::size_t i = 0; i < missing.size(); ++i)
        text += (i == 0 ? "" : i + 1 == missing.size() ? " and " : ", ") + std::string(missing[i]);
    return text;
}

// An unencrypted IKE_SA_INIT answer that only reports an error.
std::vector<std::uint8_t> init_error(const Header& request, std::uint64_t spi_r, NotifyPayload error)
{
    Message answer;
    answer.header = request;
    answer.header.spi_r = spi_r;
    answer.header.response = true;
    answer.header.initiator = false;
    answer.payloads.push_back(std::move(error));
    return serialize(answer);
}
} // namespace

void IkeEngine::initiate(const PeerConfig& peer, Clock::time_point now)
{
    const auto scope = net::LogScope::peer(peer.name);
    auto sa = std::make_unique<IkeSa>();
    sa->peer = &peer;
    sa->initiator = true;
    sa->spi_i = new_spi();
    sa->local = {peer.local_address.value_or(ike_local_.address), ike_local_.port};
    sa->remote = {peer.address.address(), ike_port};
    sa->created_at = now;
    sa->nonce_i = new_nonce();
    auto dh = DhKeyExchange::generate(peer.ike.dh_groups.front(), rng_);
    if (!dh) {
        ike_log()->error("{}: cannot create a {} key", peer.name, transform_name(TransformType::dh,
                         static_cast<std::uint16_t>(peer.ike.dh_groups.front()), 0, SuiteFor::ike));
        return;
    }
    sa->dh = std::move(*dh);
    sa->init_payloads.push_back(ike_proposals(peer.ike));
    sa->init_payloads.push_back(KePayload{sa->dh->group(), sa->dh->public_value()});
    sa->init_payloads.push_back(NoncePayload{sa->nonce_i});
    add_nat_detection(*sa, sa->init_payloads);
    sa->init_payloads.push_back(notify(NotifyType::signature_hash_algorithms, signature_hash_algorithms_data()));
    sa->init_payloads.push_back(notify(NotifyType::ikev2_fragmentation_supported));
    ike_log()->info("{}: initiating IKE SA to {}", peer.name, sa->remote.to_string());
    send_init_request(*sa, now);
    sas_.push_back(std::move(sa));
}

void IkeEngine::send_init_request(IkeSa& sa, Clock::time_point now)
{
    Message request;
    request.header.spi_i = sa.spi_i;
    request.header.exchange_type = ExchangeType::ike_sa_init;
    request.header.initiator = true;
    if (!sa.cookie.empty())
        request.payloads.push_back(notify(NotifyType::cookie, sa.cookie));   // section 2.6: first
    request.payloads.insert(request.payloads.end(), sa.init_payloads.begin(), sa.init_payloads.end());
    sa.init_request = serialize(request);
    sa.state = IkeState::init_sent;
    sa.next_request_id = 1;
    sa.outstanding.emplace();
    sa.outstanding->exchange = ExchangeType::ike_sa_init;
    sa.outstanding->datagrams = {sa.init_request};
    sa.outstanding->next_send = now + std::chrono::milliseconds(500);
    send_datagram(sa, {sa.init_request});
}

void IkeEngine::add_nat_detection(const IkeSa& sa, std::vector<Payload>& payloads) const
{
    // nat-traversal = false (RouterOS): no NAT-D, so neither end detects a
    // NAT, IKE stays on port 500 and ESP is not UDP-encapsulated.
    if (!sa.peer->ike.nat_traversal)
        return;
    // With encapsulation "udp" the source hash is made not to match, as
    // strongSwan's encap=yes does: the peer then believes we are behind a NAT
    // and uses ESP-in-UDP, which is what this daemon's data plane speaks.
    // The hashes are over the addresses and ports the datagram carries
    // (section 2.23): sa.local is the address the peer's datagram came to,
    // never the unspecified address a socket bound to any address has.
    auto source = sa.peer->always_encapsulate
                      ? forced_encapsulation_hash(sa.spi_i, sa.spi_r, sa.local)
                      : nat_detection_hash(sa.spi_i, sa.spi_r, sa.local);
    payloads.push_back(notify(NotifyType::nat_detection_source_ip, std::move(source)));
    payloads.push_back(notify(NotifyType::nat_detection_destination_ip, nat_detection_hash(sa.spi_i, sa.spi_r, sa.remote)));
}

void IkeEngine::check_nat(IkeSa& sa, const Message& message, const net::Endpoint& local,
                          const net::Endpoint& remote)
{
    if (!sa.peer->ike.nat_traversal)
        return;
    const auto spi_r = message.header.response ? message.header.spi_r : std::uint64_t{0};
    const auto expected_remote = nat_detection_hash(sa.spi_i, spi_r, remote);
    const auto expected_local = nat_detection_hash(sa.spi_i, spi_r, local);
    const auto forced = forced_encapsulation_hash(sa.spi_i, spi_r, remote);
    bool remote_seen = false, remote_match = false, remote_forces = false;
    for (const auto* n : message.find_all<NotifyPayload>()) {
        if (n->notify_type == NotifyType::nat_detection_source_ip) {
            remote_seen = true;
            remote_match = remote_match || n->data == expected_remote;
            remote_forces = remote_forces || n->data == forced;
        } else if (n->notify_type == NotifyType::nat_detection_destination_ip) {
            sa.nat_local = n->data != expected_local;
        }
    }
    sa.peer_forces_udp = remote_seen && !remote_match && remote_forces;
    sa.nat_remote = remote_seen && !remote_match && !remote_forces;
}

bool IkeEngine::answer_repeated_init(const Message& request, std::span<const std::uint8_t> datagram,
                                     const net::Endpoint& remote, Clock::time_point now)
{
    // A retransmitted IKE_SA_INIT (same SPIi, same address and port, its SA
    // still half open) is answered from the cache, with no second DH and no
    // second SA. COOKIE and INVALID_KE_PAYLOAD answers keep no SA, so the
    // request after one of them is new work.
    const auto same = [&](const IkeSa& sa) { return sa.spi_i == request.header.spi_i && sa.remote == remote; };
    IkeSa* sa = nullptr;
    for (const auto& pending : pending_inits_)
        if (same(*pending.sa))
            sa = pending.sa.get();   // its keys are being computed: answered when they are
    for (const auto& open : sas_)
        if (!open->initiator && open->state == IkeState::init_done && same(*open))
            sa = open.get();
    if (sa == nullptr)
        return false;
    ++counters_.retransmits;
    ++counters_.init_retransmits;
    if (!std::ranges::equal(datagram, sa->init_request) && adds_our_cookie(*sa, request, remote, now))
        sa->init_request.assign(datagram.begin(), datagram.end());
    if (!sa->init_response.empty())
        host_.send(sa->local, sa->remote, sa->init_response);
    return true;
}

bool IkeEngine::adds_our_cookie(const IkeSa& sa, const Message& request, const net::Endpoint& remote,
                                Clock::time_point now)
{
    // Section 2.6: we answered a COOKIE, then the cookie threshold was left
    // and the initiator's retransmission (without the cookie) made the SA;
    // the COOKIE reached it since, so it sends the same request with the
    // cookie first, and its IKE_AUTH will sign that one.
    const auto* cookie = request.payloads.empty() ? nullptr : std::get_if<NotifyPayload>(&request.payloads.front());
    if (cookie == nullptr || cookie->notify_type != NotifyType::cookie)
        return false;
    const auto first = parse(sa.init_request);
    if (!first || first->find_notify(NotifyType::cookie) != nullptr)
        return false;
    return std::equal(request.payloads.begin() + 1, request.payloads.end(), first->payloads.begin(),
                      first->payloads.end()) &&
           cookies_.check(cookie->data, sa.nonce_i, remote.address, sa.spi_i, now);
}

bool IkeEngine::admit_init_request(const Message& request, std::span<const std::uint8_t> nonce_i,
                                   const net::Endpoint& local, const net::Endpoint& remote, Clock::time_point now)
{
    // Those whose keys are being computed are half open too.
    std::size_t half_open = pending_inits_.size(), from_address = 0;
    for (const auto& sa : sas_) {
        half_open += sa->state == IkeState::init_done ? 1 : 0;
        from_address += sa->remote.address == remote.address ? 1 : 0;
    }
    for (const auto& pending : pending_inits_)
        from_address += pending.sa->remote.address == remote.address ? 1 : 0;
    if (half_open >= limits_.max_half_open || sas_.size() + pending_inits_.size() >= limits_.max_ike_sas ||
        from_address >= limits_.max_ike_sas_per_address) {
        ++counters_.init_refused;
        if (const auto allowed = log_limits_.init_refused.admit(now))
            ike_log()->info("IKE_SA_INIT from {} dropped: {} half open, {} IKE SAs, {} with this address{}",
                            remote.to_string(), half_open, sas_.size(), from_address, allowed->note());
        return false;
    }
    if (half_open < limits_.cookie_threshold)
        return true;
    // Section 2.6: the cookie, when there is one, is the first payload.
    const auto* cookie = request.payloads.empty() ? nullptr : std::get_if<NotifyPayload>(&request.payloads.front());
    if (cookie != nullptr && cookie->notify_type == NotifyType::cookie &&
        cookies_.check(cookie->data, nonce_i, remote.address, request.header.spi_i, now))
        return true;
    ++counters_.cookies_sent;
    if (const auto allowed = log_limits_.cookie.admit(now))
        ike_log()->info("IKE_SA_INIT from {}: {} half open, answering with a COOKIE{}", remote.to_string(), half_open,
                        allowed->note());
    host_.send(local, remote,
               init_error(request.header, 0,
                          notify(NotifyType::cookie, cookies_.make(nonce_i, remote.address, request.header.spi_i, now))));
    return false;
}

void IkeEngine::on_init_request(const Message& request, std::span<const std::uint8_t> datagram,
                                const net::Endpoint& local, const net::Endpoint& remote, Clock::time_point now)
{
    const auto candidate = std::find_if(peers_.begin(), peers_.end(),
                                        [&](const PeerConfig& p) { return p.address.contains(remote.address); });
    if (candidate == peers_.end()) {
        ++counters_.init_no_peer;
        if (const auto allowed = log_limits_.no_peer.admit(now))
            ike_log()->info("IKE_SA_INIT from {} ignored: no peer is configured for this address{}",
                            remote.to_string(), allowed->note());
        return;
    }
    const PeerConfig& peer = *candidate;
    const auto scope = net::LogScope::peer(peer.name);
    const auto* offered = request.find<SaPayload>();
    const auto* ke = request.find<KePayload>();
    const auto* nonce = request.find<NoncePayload>();
    if (offered == nullptr || ke == nullptr || nonce == nullptr) {
        // Section 3.1 and 1.2: IKE_SA_INIT carries SAi1, KEi and Ni.
        ++counters_.malformed;
        if (const auto allowed = log_limits_.missing_payload.admit(now))
            ike_log()->warn("{}: IKE_SA_INIT from {} refused: no {} payload, answered INVALID_SYNTAX{}", peer.name,
                            remote.to_string(), missing_init_payloads(offered != nullptr, ke != nullptr, nonce != nullptr), allowed->note());
        host_.send(local, remote, init_error(request.header, 0, notify(NotifyType::invalid_syntax)));
        return;
    }
    if (!admit_init_request(request, nonce->data, local, remote, now))
        return;
    auto chosen = choose_ike(*offered, peer.ike, ke->dh_group);
    if (!chosen) {
        ++counters_.no_proposal_chosen;
        report_limited(log_limits_.no_proposal, now, peer.name,
                       "no suitable proposal found for IKE SA from {} (ours: {}; theirs: {})", remote.to_string(),
                       chosen.error().ours, chosen.error().theirs);
        host_.send(local, remote, init_error(request.header, 0, notify(NotifyType::no_proposal_chosen)));
        return;
    }
    if (ke->dh_group != chosen->suite.dh) {
        // Section 1.2: tell the initiator which group to use; keep no state.
        const auto group = static_cast<std::uint16_t>(chosen->suite.dh);
        if (const auto allowed = log_limits_.invalid_ke.admit(now))
            ike_log()->info("{}: asking {} for DH group {} (INVALID_KE_PAYLOAD){}", peer.name, remote.to_string(),
                            group, allowed->note());
        host_.send(local, remote,
                   init_error(request.header, 0,
                              notify(NotifyType::invalid_ke_payload,
                                     {static_cast<std::uint8_t>(group >> 8), static_cast<std::uint8_t>(group)})));
        return;
    }

    auto sa = std::make_unique<IkeSa>();
    sa->peer = &peer;
    sa->initiator = false;
    sa->spi_i = request.header.spi_i;
    sa->spi_r = new_spi();
    sa->local = local;
    sa->remote = remote;
    sa->created_at = now;
    sa->suite = chosen->suite;
    sa->nonce_i = nonce->data;
    sa->nonce_r = new_nonce();
    sa->init_request.assign(datagram.begin(), datagram.end());
    if (const auto* hashes = request.find_notify(NotifyType::signature_hash_algorithms))
        sa->peer_hash_algorithms = hashes->data;
    // RFC 7383 section 2.3: announced back only to an initiator that announced it.
    sa->fragmentation = request.find_notify(NotifyType::ikev2_fragmentation_supported) != nullptr;
    check_nat(*sa, request, local, remote);

    // The DH runs where the executor puts it, on copies; the SA waits here,
    // counted as half open, and a retransmission of its request meanwhile
    // is not computed again (answer_repeated_init).
    auto job = [self = std::weak_ptr(self_), spi_r = sa->spi_r, group = chosen->suite.dh, prf = chosen->suite.prf,
                peer_ke = ke->data, nonce_i = sa->nonce_i,
                nonce_r = sa->nonce_r](Botan::RandomNumberGenerator& rng) -> CryptoExecutor::Continuation {
        return [self, spi_r, keys = responder_init_keys(group, prf, peer_ke, nonce_i, nonce_r, rng)]() mutable {
            if (const auto engine = self.lock())
                (*engine)->answer_init(spi_r, std::move(keys));
        };
    };
    pending_inits_.push_back({std::move(sa), chosen->reply, request.header});
    crypto_->run(std::move(job));
}

void IkeEngine::answer_init(std::uint64_t spi_r, std::optional<InitKeys> keys)
{
    const auto pending = std::find_if(pending_inits_.begin(), pending_inits_.end(),
                                      [&](const PendingInit& p) { return p.sa->spi_r == spi_r; });
    if (pending == pending_inits_.end())
        return;
    auto sa = std::move(pending->sa);
    const SaPayload reply = std::move(pending->reply);
    const Header request = pending->request;
    pending_inits_.erase(pending);
    const PeerConfig& peer = *sa->peer;
    const auto scope = net::LogScope::peer(peer.name);
    if (!keys || !key_ike_sa(*sa, keys->skeyseed)) {
        report_limited(log_limits_.ke_refused, sa->created_at, peer.name, "KE payload from {} refused",
                       sa->remote.to_string());
        host_.send(sa->local, sa->remote, init_error(request, 0, notify(NotifyType::invalid_syntax)));
        return;
    }

    Message response;
    response.header = request;
    response.header.spi_r = sa->spi_r;
    response.header.response = true;
    response.header.initiator = false;
    response.payloads.push_back(reply);
    response.payloads.push_back(KePayload{sa->suite.dh, std::move(keys->public_value)});
    response.payloads.push_back(NoncePayload{sa->nonce_r});
    add_nat_detection(*sa, response.payloads);
    response.payloads.push_back(notify(NotifyType::signature_hash_algorithms, signature_hash_algorithms_data()));
    if (sa->fragmentation)
        response.payloads.push_back(notify(NotifyType::ikev2_fragmentation_supported));
    if (peer.auth == PeerAuth::digital_signature)
        response.payloads.push_back(certreq_payload(*peer.trust));
    sa->init_response = serialize(response);
    sa->state = IkeState::init_done;
    sa->next_peer_request_id = 1;
    send_datagram(*sa, {sa->init_response});
    ike_log()->info("{}: IKE_SA_INIT from {} answered with {}{}", peer.name, sa->remote.to_string(),
                    describe_suite(sa->suite),
                    sa->nat_remote ? ", peer behind NAT" : sa->peer_forces_udp ? ", peer asks for UDP encapsulation" : "");
    sas_.push_back(std::move(sa));
}

void IkeEngine::on_init_response(IkeSa& sa, const Message& response, std::span<const std::uint8_t> datagram,
                                 Clock::time_point now)
{
    if (const auto* cookie = response.find_notify(NotifyType::cookie)) {
        // A second COOKIE (our request was retransmitted) brings the same
        // request again: the responder may answer either copy, and IKE_AUTH
        // signs the last one sent.
        ike_log()->info("{}: {} asks for a COOKIE (it is busy): sending IKE_SA_INIT again with it", sa.peer->name,
                        sa.remote.to_string());
        sa.cookie = cookie->data;
        send_init_request(sa, now);
        return;
    }
    if (const auto* invalid_ke = response.find_notify(NotifyType::invalid_ke_payload)) {
        const auto group = invalid_ke->data.size() == 2
                               ? static_cast<DhGroup>(invalid_ke->data[0] << 8 | invalid_ke->data[1])
                               : DhGroup::none;
        const auto& ours = sa.peer->ike.dh_groups;
        if (group == sa.dh->group() && group != ours.front())
            return;   // it answers our request from before we took this group: the current one is out
        if (group == sa.dh->group() || std::find(ours.begin(), ours.end(), group) == ours.end()) {
            report(now, sa.peer->name, "peer asks for DH group {}, which the profile does not allow: no suitable proposal found", static_cast<int>(group));
            fail(sa, now);
            return;
        }
        auto dh = DhKeyExchange::generate(group, rng_);
        if (!dh)
            return;
        sa.dh = std::move(*dh);
        for (auto& payload : sa.init_payloads)
            if (auto* ke = std::get_if<KePayload>(&payload))
                *ke = KePayload{sa.dh->group(), sa.dh->public_value()};
        ike_log()->info("{}: retrying with DH group {} as the peer asks", sa.peer->name, static_cast<int>(group));
        send_init_request(sa, now);
        return;
    }
    for (const auto* n : response.find_all<NotifyPayload>()) {
        if (!is_error(n->notify_type))
            continue;
        if (n->notify_type == NotifyType::no_proposal_chosen) {
            ++counters_.no_proposal_chosen;
            report(now, sa.peer->name, "no suitable proposal found: {} answered NO_PROPOSAL_CHOSEN to ours: {}", sa.remote.to_string(), describe(ike_proposals(sa.peer->ike)));
        } else {
            report(now, sa.peer->name, "IKE_SA_INIT refused by {} with error {}", sa.remote.to_string(),
                            static_cast<int>(n->notify_type));
        }
        fail(sa, now);
        return;
    }
    const auto* reply = response.find<SaPayload>();
    const auto* ke = response.find<KePayload>();
    const auto* nonce = response.find<NoncePayload>();
    if (reply == nullptr || ke == nullptr || nonce == nullptr || response.header.spi_r == 0) {
        ++counters_.malformed;
        if (const auto allowed = log_limits_.missing_payload.admit(now))
            ike_log()->warn("{}: IKE_SA_INIT answer from {} dropped: {}{}", sa.peer->name, sa.remote.to_string(),
                            response.header.spi_r == 0 ? std::string("SPIr is zero")
                                                       : "no " + missing_init_payloads(reply != nullptr, ke != nullptr, nonce != nullptr) + " payload",
                            allowed->note());
        return;
    }
    auto suite = accept_ike_reply(*reply, sa.peer->ike);
    if (!suite || suite->suite.dh != sa.dh->group() || ke->dh_group != sa.dh->group()) {
        report(now, sa.peer->name, "the peer chose a proposal we did not offer");
        fail(sa, now);
        return;
    }
    sa.outstanding.reset();
    sa.suite = suite->suite;
    sa.spi_r = response.header.spi_r;
    sa.nonce_r = nonce->data;
    sa.init_response.assign(datagram.begin(), datagram.end());
    if (const auto* hashes = response.find_notify(NotifyType::signature_hash_algorithms))
        sa.peer_hash_algorithms = hashes->data;
    sa.fragmentation = response.find_notify(NotifyType::ikev2_fragmentation_supported) != nullptr;
    if (!derive_keys(sa, ke->data)) {
        report(now, sa.peer->name, "KE payload from {} refused", sa.remote.to_string());
        fail(sa, now);
        return;
    }
    sa.dh.reset();
    check_nat(sa, response, sa.local, sa.remote);
    if (udp_encapsulation(sa)) {
        sa.local = {sa.local.address, natt_local_.port};
        sa.remote.port = natt_local_.port;
    }
    send_auth_request(sa, now);
}

bool IkeEngine::derive_keys(IkeSa& sa, std::span<const std::uint8_t> peer_ke)
{
    auto shared = sa.dh->shared_secret(peer_ke);
    auto prf = Prf::create(sa.suite.prf);
    if (!shared || !prf)
        return false;
    return key_ike_sa(sa, skeyseed(*prf, sa.nonce_i, sa.nonce_r, *shared));
}

bool IkeEngine::key_ike_sa(IkeSa& sa, std::span<const std::uint8_t> seed)
{
    // Section 2.14 (and 2.18 for a rekey): prf+ of the new SA's own PRF over Ni | Nr | SPIi | SPIr.
    auto prf = Prf::create(sa.suite.prf);
    if (!prf)
        return false;
    sa.prf = std::move(*prf);
    auto keys = derive_ike_sa_keys(*sa.prf, sa.suite, seed, sa.nonce_i, sa.nonce_r, sa.spi_i, sa.spi_r);
    if (!keys)
        return false;
    sa.keys = std::move(*keys);
    auto sk = SkCipher::create(sa.suite, sa.keys, sa.initiator ? SkSide::original_initiator : SkSide::original_responder,
                               rng_);
    if (!sk)
        return false;
    sa.sk.emplace(std::move(*sk));
    return true;
}

} // namespace mesh::ike
