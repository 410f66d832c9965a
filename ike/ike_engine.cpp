// Dispatch, protection and timers of the IKE engine:
//   datagram -> parse -> IKE_SA_INIT request without an SA: responder
//            -> else the SA by SPIs -> response to our request | request from the peer
//            -> SK decrypt -> exchange handler
//   tick     -> retransmit with exponential backoff -> give up -> re-initiate later

#include "ike/ike_engine.hpp"

#include "ike/identity.hpp"

#include "ike/ike_log.hpp"
#include "ike/proposal.hpp"
#include "net/log_context.hpp"

#include <algorithm>

namespace mesh::ike {

namespace {
// Retransmission (RFC 7296 section 2.1): 0.5 s doubling, given up after the
// fifth retry (~15 s): a dead peer is reported quickly, a lossy one survives.
constexpr auto first_retransmit = std::chrono::milliseconds(500);
constexpr int max_retransmits = 5;
// Re-initiation of a failed IKE SA: 1 s doubling to 60 s.
constexpr auto first_retry = std::chrono::seconds(1);
constexpr auto max_retry = std::chrono::seconds(60);
// A responder's half-open SA is dropped when IKE_AUTH does not follow.
constexpr auto half_open_timeout = std::chrono::seconds(30);
// Ni and Nr: twice the 128 bits section 2.10 asks for at least.
constexpr std::size_t nonce_bytes = 32;

std::optional<std::int64_t> seconds_until(Clock::time_point when, Clock::time_point now)
{
    if (when == Clock::time_point::max())
        return std::nullopt;
    return std::chrono::duration_cast<std::chrono::seconds>(when - now).count();
}

const char* exchange_name(ExchangeType exchange) noexcept
{
    switch (exchange) {
    case ExchangeType::ike_sa_init: return "IKE_SA_INIT";
    case ExchangeType::ike_auth: return "IKE_AUTH";
    case ExchangeType::create_child_sa: return "CREATE_CHILD_SA";
    case ExchangeType::informational: return "INFORMATIONAL";
    case ExchangeType::ike_intermediate: return "IKE_INTERMEDIATE";
    }
    return "IKE message";
}
} // namespace

const char* to_string(IkeState state) noexcept
{
    switch (state) {
    case IkeState::init_sent: return "init-sent";
    case IkeState::init_done: return "init-done";
    case IkeState::auth_sent: return "auth-sent";
    case IkeState::established: return "established";
    case IkeState::rekeyed: return "rekeyed";
    case IkeState::deleting: return "deleting";
    case IkeState::dead: return "dead";
    }
    return "unknown";
}

const char* to_string(ChildState state) noexcept
{
    switch (state) {
    case ChildState::active: return "active";
    case ChildState::inbound_only: return "inbound-only";
    case ChildState::superseded: return "superseded";
    case ChildState::deleting: return "deleting";
    case ChildState::retiring: return "retiring";
    }
    return "unknown";
}

IkeEngine::IkeEngine(IkeHost& host, std::vector<PeerConfig> peers, net::Endpoint ike_local,
                     net::Endpoint natt_local, Botan::RandomNumberGenerator& rng, IkeLimits limits,
                     CryptoExecutor* crypto)
    : host_(host), peers_(std::move(peers)), ike_local_(ike_local), natt_local_(natt_local), rng_(rng),
      limits_(limits), cookies_(rng), inline_crypto_(rng), crypto_(crypto != nullptr ? crypto : &inline_crypto_),
      self_(std::make_shared<IkeEngine*>(this))
{
}

IkeEngine::~IkeEngine() = default;

void IkeEngine::spdlog_warn(const std::string& peer, const std::string& text)
{
    const auto scope = net::LogScope::peer(peer);
    ike_log()->warn("{}: {}", peer, text);
}

void IkeEngine::start(Clock::time_point now)
{
    // Up to half a second of jitter: two sites started together rarely both
    // initiate, which would leave two IKE SAs until rekeying sorts them out.
    for (const auto& peer : peers_) {
        if (peer.passive || peer.children.empty())
            continue;
        std::uint16_t jitter = 0;
        rng_.randomize(reinterpret_cast<std::uint8_t*>(&jitter), sizeof jitter);
        schedule_[&peer] = {now + std::chrono::milliseconds(jitter % 500), std::chrono::milliseconds(0)};
    }
}

std::uint64_t IkeEngine::new_spi()
{
    std::uint64_t spi = 0;
    while (spi == 0)
        rng_.randomize(reinterpret_cast<std::uint8_t*>(&spi), sizeof spi);
    return spi;
}

std::vector<std::uint8_t> IkeEngine::new_nonce()
{
    std::vector<std::uint8_t> nonce(nonce_bytes);
    rng_.randomize(nonce.data(), nonce.size());
    return nonce;
}

IkeSa* IkeEngine::find_sa(std::uint64_t spi_i, std::uint64_t spi_r)
{
    for (const auto& sa : sas_) {
        if (sa->state == IkeState::dead)
            continue;
        // Our own SPI identifies the SA; the peer's is 0 before its first answer.
        if (sa->initiator ? sa->spi_i == spi_i && (sa->spi_r == spi_r || sa->spi_r == 0 || spi_r == 0)
                          : sa->spi_r == spi_r && sa->spi_i == spi_i)
            return sa.get();
    }
    return nullptr;
}

void IkeEngine::on_datagram(const net::Endpoint& local, const net::Endpoint& remote,
                            std::span<const std::uint8_t> bytes, Clock::time_point now)
{
    ++counters_.messages_in;
    datagram_at_ = now;
    auto message = parse(bytes);
    if (!message) {
        ++counters_.malformed;
        const bool answered = answer_unparsable(local, remote, bytes, message.error());
        log_unparsable(remote, message.error(), answered, now);
        return;
    }
    const Header& header = message->header;
    if (header.spi_i == 0) {
        // Section 3.1: the initiator's SPI is never zero. No state, no answer.
        ++counters_.malformed;
        if (const auto allowed = log_limits_.zero_spi.admit(now))
            ike_log()->warn("{} from {} refused: SPIi is zero (RFC 7296 section 3.1){}",
                            exchange_name(header.exchange_type), remote.to_string(), allowed->note());
        return;
    }
    if (header.exchange_type == ExchangeType::ike_sa_init && !header.response && header.spi_r == 0) {
        if (!answer_repeated_init(*message, bytes, remote, now))
            on_init_request(*message, bytes, local, remote, now);
        return;
    }
    IkeSa* sa = find_sa(header.spi_i, header.spi_r);
    if (sa == nullptr) {
        ++counters_.unknown_spi;
        if (const auto allowed = log_limits_.unknown_spi.admit(now))
            ike_log()->debug("IKE message for unknown SPIs {:016x}/{:016x} from {} dropped{}", header.spi_i,
                             header.spi_r, remote.to_string(), allowed->note());
        return;
    }
    const auto scope = net::LogScope::peer(sa->peer->name);
    if (header.initiator == sa->initiator) {
        // The I flag names the original initiator; a message claiming our role is not from our peer.
        ++counters_.malformed;
        return;
    }
    if (header.exchange_type == ExchangeType::ike_sa_init) {
        if (header.response && sa->state == IkeState::init_sent)
            on_init_response(*sa, *message, bytes, now);
        return;
    }
    on_encrypted(*sa, *message, bytes, local, remote, now);
}

bool IkeEngine::answer_unparsable(const net::Endpoint& local, const net::Endpoint& remote,
                                  std::span<const std::uint8_t> bytes, const ParseError& error)
{
    // Section 2.5 and 2.21.1: an IKE_SA_INIT request that cannot be understood
    // is told why, without keeping state; anything else is dropped.
    const auto header = parse_header(bytes);
    if (!header || header->response || header->exchange_type != ExchangeType::ike_sa_init || header->spi_r != 0 ||
        header->spi_i == 0)
        return false;
    NotifyPayload n;
    if (error.code == ParseErrc::unsupported_critical) {
        n.notify_type = NotifyType::unsupported_critical_payload;
        n.data = {error.value};
    } else if (error.code == ParseErrc::bad_version) {
        n.notify_type = NotifyType::invalid_major_version;
    } else {
        return false;
    }
    Message answer;
    answer.header = *header;
    answer.header.major_version = 2;
    answer.header.minor_version = 0;
    answer.header.response = true;
    answer.header.initiator = false;
    answer.header.version = false;
    answer.payloads.push_back(std::move(n));
    host_.send(local, remote, serialize(answer));
    return true;
}

void IkeEngine::log_unparsable(const net::Endpoint& remote, const ParseError& error, bool answered,
                               Clock::time_point now)
{
    // Section 2.5: what a peer running another version, or using an extension
    // we lack, needs its operator to see; the rest of the garbage at debug.
    switch (error.code) {
    case ParseErrc::unsupported_critical:
        if (const auto allowed = log_limits_.unsupported_critical.admit(now))
            ike_log()->warn("IKE message from {} refused: unsupported critical payload (type {}){}{}",
                            remote.to_string(), error.value,
                            answered ? ", answered UNSUPPORTED_CRITICAL_PAYLOAD" : "", allowed->note());
        return;
    case ParseErrc::bad_version:
        if (const auto allowed = log_limits_.bad_version.admit(now))
            ike_log()->warn("IKE message from {} refused: major version {} is not 2 (INVALID_MAJOR_VERSION{}){}",
                            remote.to_string(), error.value, answered ? " sent" : "", allowed->note());
        return;
    default:
        if (const auto allowed = log_limits_.malformed.admit(now))
            ike_log()->debug("malformed IKE message from {} dropped: {}{}", remote.to_string(),
                             to_string(error.code), allowed->note());
        return;
    }
}

void IkeEngine::on_encrypted(IkeSa& sa, const Message& message, std::span<const std::uint8_t> datagram,
                             const net::Endpoint& local, const net::Endpoint& remote, Clock::time_point now)
{
    const Header& header = message.header;
    if (header.response) {
        if (!sa.outstanding || sa.outstanding->message_id != header.message_id)
            return;   // late or duplicate answer
        std::optional<ParseError> inner_error;
        auto inner = decrypt(sa, message, datagram, &inner_error);
        if (!inner) {
            if (inner_error && inner_error->code == ParseErrc::unsupported_critical)
                refuse_critical_response(sa, inner_error->value, now);
            return;
        }
        if (header.exchange_type != sa.outstanding->exchange) {
            // Section 1.2: a response is of its request's exchange type. Not
            // an answer: the request stays out and is retransmitted.
            ++counters_.malformed;
            ike_log()->warn("{}: response {} from {} is of exchange type {}, the request was of {}: dropped",
                            sa.peer->name, header.message_id, sa.remote.to_string(),
                            static_cast<int>(header.exchange_type), static_cast<int>(sa.outstanding->exchange));
            return;
        }
        sa.last_heard = now;
        const OutstandingRequest answered = std::move(*sa.outstanding);
        sa.outstanding.reset();
        if (answered.exchange == ExchangeType::ike_auth)
            on_auth_response(sa, *inner, now);
        else if (answered.exchange == ExchangeType::informational)
            on_informational_response(sa, answered, *inner, now);
        else if (answered.exchange == ExchangeType::create_child_sa)
            on_create_child_response(sa, *inner, now);
        return;
    }
    if (sa.last_response_id && header.message_id == *sa.last_response_id) {
        // A retransmitted request: the answer from the cache. Of a fragmented
        // request only the first fragment asks for it (RFC 7383 section 2.6.1),
        // or each of its fragments would bring the whole answer again.
        const auto* fragment = message.find<SkfPayload>();
        if (fragment == nullptr || fragment->fragment_number == 1) {
            resend(sa, sa.last_response);
            ++counters_.retransmits;
        }
        return;
    }
    if (header.message_id != sa.next_peer_request_id)
        return;   // outside the window (section 2.3)
    std::optional<ParseError> inner_error;
    auto inner = decrypt(sa, message, datagram, &inner_error);
    if (!inner) {
        if (inner_error && inner_error->code == ParseErrc::unsupported_critical) {
            if (sa.state == IkeState::init_done) {
                // Authenticated, so the answer goes where IKE_AUTH came from (section 2.11).
                sa.local = local;
                sa.remote = remote;
            }
            refuse_critical_request(sa, header, inner_error->value, now);
        }
        return;
    }
    sa.last_heard = now;
    if (sa.state == IkeState::established) {
        // Section 2.23: an authenticated request from a new address or port
        // is where the peer now is. Sent to another address of ours, it is
        // answered from there (section 2.11), but the peer has not moved.
        if (remote != sa.remote)
            move_peer(sa, local, remote);
        else
            sa.local = local;
    }
    switch (header.exchange_type) {
    case ExchangeType::ike_auth:
        if (sa.state == IkeState::init_done) {
            sa.local = local;
            sa.remote = remote;
            on_auth_request(sa, header, *inner, now);
        }
        break;
    case ExchangeType::informational:
        on_informational_request(sa, header, *inner, now);
        break;
    case ExchangeType::create_child_sa:
        if (sa.state == IkeState::established || sa.state == IkeState::rekeyed)   // rekeyed: refused
            on_create_child_request(sa, header, *inner, now);
        break;
    default:
        break;
    }
}

void IkeEngine::refuse_critical_request(IkeSa& sa, const Header& header, std::uint8_t payload_type,
                                        Clock::time_point now)
{
    // Section 2.5: the request is rejected, its response says why.
    report_limited(log_limits_.unsupported_critical, now, sa.peer->name,
                   "{} from {} refused: unsupported critical payload (type {}), answered UNSUPPORTED_CRITICAL_PAYLOAD",
                   exchange_name(header.exchange_type), sa.remote.to_string(), payload_type);
    NotifyPayload n;
    n.notify_type = NotifyType::unsupported_critical_payload;
    n.data = {payload_type};
    send_response(sa, header, {std::move(n)});
    // A refused IKE_AUTH ends the half-open IKE SA, as AUTHENTICATION_FAILED does.
    if (sa.state == IkeState::init_done)
        sa.state = IkeState::dead;
}

void IkeEngine::refuse_critical_response(IkeSa& sa, std::uint8_t payload_type, Clock::time_point now)
{
    // Section 2.5: the response is rejected. The request stays out for a
    // later exchange (the peer's cached answer is the same, so it fails in
    // time); an IKE_AUTH answer that cannot be used ends the IKE SA now, and
    // the responder, which may think it up, hears the Delete (section 1.4.1).
    report_limited(log_limits_.unsupported_critical, now, sa.peer->name,
                   "{} response from {} refused: unsupported critical payload (type {})",
                   exchange_name(sa.outstanding->exchange), sa.remote.to_string(), payload_type);
    if (sa.state != IkeState::auth_sent)
        return;
    send_ike_delete(sa);
    fail(sa, now);
}

Datagrams IkeEngine::encrypt(IkeSa& sa, Header header, const std::vector<Payload>& inner)
{
    const auto plaintext = serialize_payload_chain(inner);
    const PayloadType first = inner.empty() ? PayloadType::none : payload_type(inner.front());
    SkPayload whole;
    whole.first_payload = first;
    auto datagram = seal_message(sa, header, std::move(whole), plaintext);
    if (datagram.empty())
        return {};
    // Probing the path costs a socket: a message that fits the smallest MTU
    // IP promises (RFC 791, RFC 8200) needs none. The non-ESP marker is
    // counted whichever port: four bytes are not worth a case.
    const bool v6 = !sa.remote.address.is_v4();
    if (!sa.fragmentation || datagram.size() <= ike_message_limit(v6 ? 1280 : 576, v6, true))
        return {std::move(datagram)};
    const std::size_t limit = ike_message_limit(host_.path_mtu(sa.remote), v6, true);
    if (datagram.size() <= limit)
        return {std::move(datagram)};
    // Section 2.5.1: the content of each fragment as large as fits; an SKF
    // message is the whole SK one plus four bytes, IV, padding and ICV alike.
    const std::size_t envelope = datagram.size() - plaintext.size() + 4;
    const std::size_t cipher_block = 16;   // the padding may take up to a block more than in the whole
    if (limit <= envelope + cipher_block)
        return {std::move(datagram)};      // nothing fits: the path is broken, IP fragments may still pass
    const std::size_t chunk = limit - envelope - cipher_block;
    const std::size_t total = (plaintext.size() + chunk - 1) / chunk;
    if (total > max_fragments)
        return {std::move(datagram)};
    Datagrams fragments;
    for (std::size_t i = 0; i < total; ++i) {
        SkfPayload fragment;
        fragment.first_payload = i == 0 ? first : PayloadType::none;
        fragment.fragment_number = static_cast<std::uint16_t>(i + 1);
        fragment.total_fragments = static_cast<std::uint16_t>(total);
        const auto content = std::span(plaintext).subspan(i * chunk, std::min(chunk, plaintext.size() - i * chunk));
        fragments.push_back(seal_message(sa, header, std::move(fragment), content));
        if (fragments.back().empty())
            return {};
    }
    ++counters_.messages_fragmented;
    ike_log()->debug("{}: message {} (exchange {}) sent in {} fragments of at most {} bytes", sa.peer->name,
                     header.message_id, static_cast<int>(header.exchange_type), total, limit);
    return fragments;
}

std::vector<std::uint8_t> IkeEngine::seal_message(IkeSa& sa, const Header& header, Payload envelope,
                                                  std::span<const std::uint8_t> plaintext)
{
    Message message;
    message.header = header;
    message.payloads.push_back(std::move(envelope));
    const std::size_t body_length = sa.sk->sealed_size(plaintext.size());
    const auto aad = associated_data(message, body_length);
    auto body = sa.sk->seal(aad, plaintext);
    if (!body || aad.empty())
        return {};
    std::vector<std::uint8_t> datagram = aad;
    datagram.insert(datagram.end(), body->begin(), body->end());
    return datagram;
}

std::optional<std::vector<Payload>> IkeEngine::decrypt(IkeSa& sa, const Message& message,
                                                       std::span<const std::uint8_t> datagram,
                                                       std::optional<ParseError>* inner_error)
{
    PayloadType first_payload = PayloadType::none;
    std::optional<std::vector<std::uint8_t>> plaintext;
    if (const SkfPayload* fragment = message.find<SkfPayload>(); fragment != nullptr && sa.sk) {
        plaintext = reassemble(sa, message, *fragment, datagram, first_payload);
        if (!plaintext)
            return std::nullopt;   // more to come, or refused (counted)
    } else if (const SkPayload* sk = message.find<SkPayload>(); sk != nullptr && sa.sk) {
        auto opened = sa.sk->open(associated_data(datagram, sk->body.size()), sk->body);
        if (!opened) {
            ++counters_.malformed;
            if (const auto allowed = log_limits_.decryption.admit(datagram_at_))
                ike_log()->debug("IKE message from {} failed decryption{}", sa.remote.to_string(), allowed->note());
            return std::nullopt;
        }
        first_payload = sk->first_payload;
        plaintext.emplace(opened->begin(), opened->end());
    } else {
        ++counters_.malformed;
        return std::nullopt;
    }
    auto inner = parse_payload_chain(first_payload, *plaintext);
    if (!inner) {
        ++counters_.malformed;
        if (inner_error != nullptr)
            *inner_error = inner.error();   // authenticated, so worth an answer
        return std::nullopt;
    }
    return std::move(*inner);
}

std::optional<std::vector<std::uint8_t>> IkeEngine::reassemble(IkeSa& sa, const Message& message,
                                                               const SkfPayload& fragment,
                                                               std::span<const std::uint8_t> datagram,
                                                               PayloadType& first_payload)
{
    // RFC 7383 section 2.5: only where announced; section 2.6.2: each fragment
    // authenticated before it is kept, so no forged one displaces a real one.
    if (!sa.fragmentation) {
        ++counters_.fragments_refused;
        return std::nullopt;
    }
    auto content = sa.sk->open(associated_data(datagram, fragment.body.size()), fragment.body);
    if (!content) {
        ++counters_.fragments_refused;
        if (const auto allowed = log_limits_.fragments.admit(datagram_at_))
            ike_log()->debug("IKE fragment from {} failed decryption{}", sa.remote.to_string(), allowed->note());
        return std::nullopt;
    }
    const Header& header = message.header;
    switch (sa.reassembly.add(header.message_id, header.response, fragment.fragment_number, fragment.total_fragments,
                              fragment.first_payload, *content)) {
    case FragmentReassembly::Outcome::incomplete:
        return std::nullopt;
    case FragmentReassembly::Outcome::refused:
        ++counters_.fragments_refused;
        if (const auto allowed = log_limits_.fragments.admit(datagram_at_))
            ike_log()->debug("IKE fragment {}/{} of message {} from {} refused{}", fragment.fragment_number,
                             fragment.total_fragments, header.message_id, sa.remote.to_string(), allowed->note());
        return std::nullopt;
    case FragmentReassembly::Outcome::complete:
        break;
    }
    ++counters_.messages_reassembled;
    return sa.reassembly.take(first_payload);
}

void IkeEngine::send_request(IkeSa& sa, ExchangeType exchange, std::vector<Payload> inner, Clock::time_point now)
{
    Header header;
    header.spi_i = sa.spi_i;
    header.spi_r = sa.spi_r;
    header.exchange_type = exchange;
    header.initiator = sa.initiator;
    header.message_id = sa.next_request_id++;
    sa.outstanding.emplace();
    sa.outstanding->message_id = header.message_id;
    sa.outstanding->exchange = exchange;
    sa.outstanding->datagrams = encrypt(sa, header, inner);
    sa.outstanding->next_send = now + first_retransmit;
    send_datagram(sa, sa.outstanding->datagrams);
}

void IkeEngine::send_response(IkeSa& sa, const Header& request, std::vector<Payload> inner)
{
    Header header = request;
    header.response = true;
    header.initiator = sa.initiator;
    header.version = false;
    sa.last_response = encrypt(sa, header, inner);
    sa.last_response_id = request.message_id;
    sa.next_peer_request_id = request.message_id + 1;
    send_datagram(sa, sa.last_response);
}

void IkeEngine::send_datagram(IkeSa& sa, const Datagrams& datagrams)
{
    if (datagrams.empty())
        return;
    ++counters_.messages_out;
    for (const auto& datagram : datagrams)
        host_.send(sa.local, sa.remote, datagram);
}

void IkeEngine::resend(IkeSa& sa, const Datagrams& datagrams)
{
    for (const auto& datagram : datagrams)
        host_.send(sa.local, sa.remote, datagram);
}

void IkeEngine::on_tick(Clock::time_point now)
{
    for (auto& sa : sas_) {
        if (sa->state == IkeState::dead)
            continue;
        const auto scope = net::LogScope::peer(sa->peer->name);
        if (sa->state == IkeState::init_done && now - sa->created_at > half_open_timeout) {
            ike_log()->info("{}: half-open IKE SA from {} timed out", sa->peer->name, sa->remote.to_string());
            sa->state = IkeState::dead;
            continue;
        }
        check_ike_lifetime(*sa, now);
        if (sa->state == IkeState::established)
            check_child_lifetimes(*sa, now);
        if (sa->state == IkeState::established)   // again: the last CHILD SA expiring starts the IKE SA over
            check_liveness(*sa, now);
        if (sa->outstanding && now >= sa->outstanding->next_send)
            retransmit(*sa, now);
    }
    for (auto& sa : sas_)
        if (sa->state == IkeState::dead)
            end_lease(*sa);
    std::erase_if(sas_, [](const auto& sa) { return sa->state == IkeState::dead; });

    for (auto& [peer, when] : schedule_) {
        if (when.next_attempt == Clock::time_point::max() || now < when.next_attempt)
            continue;
        // A rekeyed IKE SA waiting for its Delete carries nothing: it does not keep the peer up.
        const bool active = std::any_of(sas_.begin(), sas_.end(), [&](const auto& sa) {
            return sa->peer == peer && sa->state != IkeState::rekeyed;
        });
        when.next_attempt = Clock::time_point::max();
        if (active) {
            when.address_fresh = false;
            continue;
        }
        if (peer->resolve_first && !when.address_fresh) {
            when.awaiting_address = true;
            host_.resolve_peer(peer->name);
            continue;
        }
        when.address_fresh = false;
        initiate(*peer, now);
    }
}

void IkeEngine::retransmit(IkeSa& sa, Clock::time_point now)
{
    auto& out = *sa.outstanding;
    if (out.liveness_check) {
        liveness_check_unanswered(sa, now);
        return;
    }
    if (out.retransmits >= max_retransmits && sa.state == IkeState::rekeyed) {
        // Its Delete unanswered: the successor (or the kept duplicate) carries on, its DPD judges the peer.
        remove_children(sa);
        sa.state = IkeState::dead;
        return;
    }
    if (out.retransmits >= max_retransmits) {
        ++counters_.peers_dead;
        ++peer_counters_[sa.peer->name].peers_dead;
        report(now, sa.peer->name, "no answer from {} after {} retransmissions: peer dead", sa.remote.to_string(),
               out.retransmits);
        fail(sa, now);
        return;
    }
    ++out.retransmits;
    ++counters_.retransmits;
    out.next_send = now + first_retransmit * (1 << out.retransmits);
    resend(sa, out.datagrams);
}

void IkeEngine::fail(IkeSa& sa, Clock::time_point now)
{
    // Another IKE SA with the peer carries on (this one was a duplicate the
    // peer deleted): its CHILD SAs take the traffic before these go.
    IkeSa* other = other_established(sa);
    if (other != nullptr)
        send_on_children(*other);
    remove_children(sa);
    sa.state = IkeState::dead;
    // Whichever end started it, a peer that is not passive gets its tunnel back.
    if (other == nullptr)
        schedule_retry(*sa.peer, now);
    // A peer named by DNS may have died because it moved: its name is looked
    // up now, and a new address is initiated to at once (peer_address.cpp).
    if (other == nullptr && sa.peer->resolve_first && !sa.peer->passive)
        host_.resolve_peer(sa.peer->name);
}

void IkeEngine::schedule_retry(const PeerConfig& peer, Clock::time_point now)
{
    if (peer.passive)
        return;
    auto& when = schedule_[&peer];
    when.backoff = std::clamp<std::chrono::milliseconds>(when.backoff * 2, first_retry, max_retry);
    // Up to a quarter more, at random: two ends that lost each other at the
    // same moment rarely initiate at the same moment again.
    std::uint16_t jitter = 0;
    rng_.randomize(reinterpret_cast<std::uint8_t*>(&jitter), sizeof jitter);
    when.next_attempt = now + when.backoff + when.backoff * jitter / 4 / 65536;
    ike_log()->info("{}: next attempt in {} ms", peer.name, when.backoff.count());
}

void IkeEngine::reset_backoff(const PeerConfig& peer)
{
    // Whoever initiated: the peer is reachable, so the next loss starts over at the first step.
    if (const auto it = schedule_.find(&peer); it != schedule_.end())
        it->second.backoff = std::chrono::milliseconds(0);
}

void IkeEngine::remove_children(IkeSa& sa)
{
    for (const auto& child : sa.children) {
        host_.delete_child(child.config->name, child.spi_in);
        ike_log()->info("{}: CHILD SA {} deleted (in 0x{:08x}, out 0x{:08x})", sa.peer->name, child.config->name,
                        child.spi_in, child.spi_out);
    }
    sa.children.clear();
}

void IkeEngine::shutdown()
{
    for (auto& sa : sas_) {
        const auto scope = net::LogScope::peer(sa->peer->name);
        end_lease(*sa);
        if (sa->state != IkeState::established)
            continue;
        send_ike_delete(*sa);
        remove_children(*sa);
        sa->state = IkeState::dead;
    }
}

void IkeEngine::send_ike_delete(IkeSa& sa)
{
    // Section 1.4.1: deleting the IKE SA deletes its CHILD SAs at the peer
    // too. Best effort, one datagram: nothing waits for the answer.
    Header header;
    header.spi_i = sa.spi_i;
    header.spi_r = sa.spi_r;
    header.exchange_type = ExchangeType::informational;
    header.initiator = sa.initiator;
    header.message_id = sa.next_request_id++;
    send_datagram(sa, encrypt(sa, header, {DeletePayload{ProtocolId::ike, {}}}));
    ike_log()->info("{}: deleting IKE SA {:016x}/{:016x}", sa.peer->name, sa.spi_i, sa.spi_r);
}

IkeSaCensus IkeEngine::census() const
{
    IkeSaCensus census;
    static_assert(static_cast<std::size_t>(IkeState::dead) + 1 == std::tuple_size_v<decltype(census.by_state)>);
    census.half_open = pending_inits_.size();
    for (const auto& sa : sas_) {
        ++census.by_state[static_cast<std::size_t>(sa->state)];
        census.half_open += sa->state == IkeState::init_done ? 1 : 0;
    }
    return census;
}

std::vector<IkeSaStatus> IkeEngine::status(Clock::time_point now) const
{
    std::vector<IkeSaStatus> lines;
    for (const auto& sa : sas_) {
        if (sa->state == IkeState::dead)
            continue;
        const auto since = sa->state == IkeState::established ? sa->established_at : sa->created_at;
        std::vector<ChildSaStatus> children;
        for (const auto& child : sa->children) {
            const bool ours_to_rekey = child.state == ChildState::active && child.successor == 0;
            children.push_back({child.config->name, child.spi_in, child.spi_out, child.state,
                                std::chrono::duration_cast<std::chrono::seconds>(now - child.installed_at).count(),
                                ours_to_rekey ? seconds_until(std::max(child.rekey_at, now), now) : std::nullopt,
                                seconds_until(child.expires_at, now), describe_suite(child.suite)});
        }
        const bool ours_to_rekey = sa->state == IkeState::established && !sa->ike_rekey && !sa->successor;
        lines.push_back({sa->peer->name, sa->remote, sa->state, sa->initiator, sa->spi_i, sa->spi_r,
                         std::chrono::duration_cast<std::chrono::seconds>(now - since).count(), sa->children.size(),
                         sa->nat_local || sa->nat_remote, sa->nat_local, sa->fragmentation, describe_suite(sa->suite),
                         ours_to_rekey ? seconds_until(std::max(sa->rekey_at, now), now) : std::nullopt,
                         std::move(children), sa->remote_identity ? to_string(*sa->remote_identity) : std::string{},
                         sa->assigned, sa->lease ? std::optional<ModeConfig>(sa->leased) : std::nullopt});
    }
    return lines;
}

std::vector<IkeSaKeysExport> IkeEngine::keys() const
{
    std::vector<IkeSaKeysExport> all;
    for (const auto& sa : sas_)
        if (sa->state == IkeState::established)
            all.push_back({sa->spi_i, sa->spi_r, sa->suite, &sa->keys});
    return all;
}

} // namespace mesh::ike
