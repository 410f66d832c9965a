#pragma once
// The IKEv2 engine (RFC 7296) on the control thread: owns every IKE SA,
// turns datagrams into exchanges and exchanges into CHILD SAs installed
// through IkeHost.
//
//   initiator:  IKE_SA_INIT req -> (COOKIE | INVALID_KE: again) -> resp
//               -> keys -> IKE_AUTH req {IDi AUTH SA TSi TSr} -> resp -> CHILD SA
//   responder:  IKE_SA_INIT req -> proposal, KE -> resp
//               -> IKE_AUTH req -> identity, AUTH, CHILD SA -> resp
//   either:     INFORMATIONAL {D} / {} (liveness), answered from the cache when retransmitted
//               CREATE_CHILD_SA {N(REKEY_SA) ...} at a CHILD SA's soft lifetime, make-before-break
//               CREATE_CHILD_SA {SA(IKE), Ni, KEi} at the IKE SA's soft lifetime: its CHILD SAs move
//               to the new IKE SA, the old one is deleted
//   IKE_AUTH with N(INITIAL_CONTACT): the peer restarted, its stale IKE SAs here go at once
//   two IKE SAs with one peer (both ends started at once): the nonce rule keeps one
//   a new IKE SA re-authenticating the peer identity of an older one: it replaces it at once
//
// Time is passed in (on_tick(now)) and randomness injected, so exchanges run
// deterministically in tests.

#include "ike/cookie.hpp"
#include "ike/crypto_executor.hpp"
#include "ike/ike_host.hpp"
#include "ike/ike_sa.hpp"
#include "ike/init_keys.hpp"
#include "ike/log_limits.hpp"
#include "net/fmt_extern.hpp"

#include <botan/rng.h>
#include <fmt/format.h>

#include <array>
#include <expected>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace mesh::ike {

struct IkeCounters {
    std::uint64_t messages_in = 0;
    std::uint64_t messages_out = 0;
    std::uint64_t retransmits = 0;
    std::uint64_t malformed = 0;         // refused by the codec, or failed SK decryption
    std::uint64_t no_proposal_chosen = 0;
    std::uint64_t authentication_failed = 0;
    std::uint64_t ts_unacceptable = 0;
    std::uint64_t liveness_checks = 0;   // DPD requests sent (not counting their retransmissions)
    std::uint64_t peers_dead = 0;        // IKE SAs given up for want of an answer
    std::uint64_t cookies_sent = 0;      // IKE_SA_INIT answered with N(COOKIE) while many were half open
    std::uint64_t init_refused = 0;      // IKE_SA_INIT dropped: over the half-open or IKE SA bounds
    std::uint64_t init_no_peer = 0;      // IKE_SA_INIT dropped: no peer is configured for its address
    std::uint64_t init_retransmits = 0;  // IKE_SA_INIT repeated by its initiator: answered from the half-open SA
    std::uint64_t unknown_spi = 0;       // messages for SPIs of no IKE SA, dropped
    std::uint64_t peers_moved = 0;       // IKE SAs that followed their peer to a new address or port
    std::uint64_t child_rekeys = 0;          // CHILD SAs we rekeyed (answered with a new SA)
    std::uint64_t child_rekeys_answered = 0; // the peer's rekeys we answered with a new SA
    std::uint64_t rekey_collisions = 0;      // both ends rekeyed one SA (section 2.8.1), counted by each initiator
    std::uint64_t rekey_failures = 0;        // our rekeys refused or unusable (retried until the hard lifetime)
    std::uint64_t child_sas_expired = 0;     // CHILD SAs deleted at their hard lifetime, not replaced in time
    std::uint64_t child_sas_created = 0;     // further CHILD SAs the peer asked for (CREATE_CHILD_SA without REKEY_SA)
    std::uint64_t ike_rekeys = 0;            // IKE SAs replaced by a rekey, whichever end started it
    std::uint64_t ike_rekey_collisions = 0;  // both ends rekeyed one IKE SA (sections 2.8.1, 2.18)
    std::uint64_t initial_contacts = 0;      // INITIAL_CONTACT from a restarted peer replaced its stale IKE SAs
    std::uint64_t duplicate_ike_sas = 0;     // two IKE SAs with one peer (both ends started at once): one deleted
    std::uint64_t ike_sas_replaced = 0;      // an older IKE SA replaced by a new one of the same peer identity
    std::uint64_t messages_fragmented = 0;   // our messages sent as IKE fragments (RFC 7383), not counting resends
    std::uint64_t messages_reassembled = 0;  // the peer's messages put together from IKE fragments
    std::uint64_t fragments_refused = 0;     // IKE fragments dropped: failed decryption, over the bounds, inconsistent
    std::uint64_t cfg_replies_refused = 0;   // CFG_REPLYs refused: missing, malformed, no address, unusable
    std::uint64_t internal_address_failures = 0;   // INTERNAL_ADDRESS_FAILURE sent (pool exhausted) or received
};

// Dead peer detection (section 2.4) of one peer, for metrics: a template
// peer's branches together.
struct PeerCounters {
    std::uint64_t liveness_checks = 0;   // as IkeCounters::liveness_checks
    std::uint64_t peers_dead = 0;        // as IkeCounters::peers_dead
};

// The IKE SAs there are now, for metrics.
struct IkeSaCensus {
    std::array<std::size_t, 7> by_state{};   // indexed by IkeState
    std::size_t half_open = 0;               // init_done, and IKE_SA_INIT requests whose keys are being computed
};

// A CHILD SA in `mesh-site status`.
struct ChildSaStatus {
    std::string tunnel;
    std::uint32_t spi_in, spi_out;
    ChildState state;
    std::int64_t age_s;
    std::optional<std::int64_t> rekey_in_s;   // none: not to be rekeyed by us (being replaced or deleted)
    std::optional<std::int64_t> expires_in_s; // none: no lifetime
    std::string suite;                        // "aes-128-gcm/ecp256/esn": with the PFS group of its rekey
};

// Bounds that keep a flood of IKE_SA_INIT from costing more than a fixed
// amount of memory and DH computations (RFC 7296 section 2.6).
struct IkeLimits {
    std::size_t cookie_threshold = 30;   // half-open IKE SAs from which an IKE_SA_INIT must bring a cookie
                                         // ([site] ike-cookie-threshold; strongSwan's default too)
    std::size_t max_half_open = 1000;    // half-open IKE SAs beyond which IKE_SA_INIT is dropped (ike-max-half-open)
    std::size_t max_ike_sas = 10000;     // IKE SAs in all
    std::size_t max_ike_sas_per_address = 8;   // IKE SAs with one remote address (a rekey briefly holds two)
};

// A line of `mesh-site status`' peers list (RouterOS active-peers).
struct IkeSaStatus {
    std::string peer;
    net::Endpoint remote;
    IkeState state;
    bool initiator;
    std::uint64_t spi_i, spi_r;
    std::int64_t uptime_s;
    std::size_t children;
    bool nat_detected;
    bool behind_nat;       // a NAT rewrote our address: we send NAT keepalives (RFC 3948 section 2.3)
    bool fragmentation;    // IKE fragmentation negotiated (RFC 7383)
    std::string suite;
    std::optional<std::int64_t> rekey_in_s;   // none: not to be rekeyed by us (being rekeyed, replaced, not up)
    std::vector<ChildSaStatus> child_sas;
    std::string remote_id;   // the peer's authenticated identity; empty before IKE_AUTH
    std::optional<ModeConfig> assigned;       // mode config: what the peer gave us
    std::optional<ModeConfig> leased;         // mode config: what we gave the peer
};

// The last thing that went wrong with a peer, in the words of the log.
struct PeerFailure {
    std::string text;      // "no suitable proposal found (...)", "authentication failed: ..."
    Clock::time_point at;
};

// Keys of an established IKE SA, for Wireshark's ikev2_decryption_table.
// What the keys of a new CHILD SA come from (RFC 7296 section 2.17).
struct ChildKeySource {
    bool we_initiated;                     // the exchange's initiator: its traffic uses the "_i" keys
    std::span<const std::uint8_t> g_ir;    // the new DH secret with PFS; empty without
    std::span<const std::uint8_t> nonce_i; // the exchange's Ni and Nr
    std::span<const std::uint8_t> nonce_r;
};

struct ChildRefusal;   // child_negotiation.hpp
struct ChildChoice;

struct IkeSaKeysExport {
    std::uint64_t spi_i, spi_r;
    IkeSuite suite;
    const IkeSaKeys* keys;
};

class IkeEngine {
public:
    IkeEngine(IkeHost& host, std::vector<PeerConfig> peers, net::Endpoint ike_local, net::Endpoint natt_local,
              Botan::RandomNumberGenerator& rng, IkeLimits limits = {}, CryptoExecutor* crypto = nullptr);
    ~IkeEngine();

    // Starts IKE SAs to every peer that is not passive.
    void start(Clock::time_point now);
    // A datagram for IKE, the non-ESP marker already removed on the NAT-T port.
    void on_datagram(const net::Endpoint& local, const net::Endpoint& remote, std::span<const std::uint8_t> bytes,
                     Clock::time_point now);
    // Retransmissions, give-ups and re-initiation; call every ~100 ms.
    void on_tick(Clock::time_point now);
    // Deletes every IKE SA at its peer (best effort: one datagram each).
    void shutdown();
    // A reload (engine_reconfigure.cpp): `peers` replaces the configured
    // peers. The IKE SAs of a peer no longer in it, or named in `renewed`
    // (its settings changed), are deleted at the peer and initiated again
    // (renewed, not passive); every other IKE SA and CHILD SA carries on
    // untouched, so a peer not renewed must have the same children.
    void reconfigure(std::vector<PeerConfig> peers, const std::set<std::string>& renewed, Clock::time_point now);
    // Rekeys the CHILD SA with this inbound or outbound SPI at the next tick,
    // ahead of its lifetime: its outbound sequence numbers ran out (or a byte
    // limit was reached). Unknown SPIs are ignored.
    void rekey_child(std::uint32_t spi, Clock::time_point now);
    // Rekeys the peer's established IKE SAs at the next tick, ahead of their
    // lifetime (an operator's request; tests make both ends collide with it).
    void rekey_ike(const std::string& peer, Clock::time_point now);
    // Authenticated ESP on the CHILD SA we receive on with `inbound_spi`
    // came from `remote`, not from where the tunnel sends: the peer's NAT
    // mapping moved (section 2.23). The IKE SA holding that CHILD SA follows,
    // as it would for an IKE request from there, unless it is there already;
    // no other IKE SA moves.
    void follow_peer(std::uint32_t inbound_spi, const net::Endpoint& remote);
    // A peer named by DNS (PeerConfig::resolve_first) resolved to `address`,
    // sending from `local` (peer_address.cpp). Datagrams from there are
    // matched to it from now on; an initiation waiting for the address
    // starts, and IKE SAs at another address are closed for one to the new.
    void set_peer_address(const std::string& peer, const net::IpAddress& address, const net::IpAddress& local,
                          Clock::time_point now);

    [[nodiscard]] std::vector<IkeSaStatus> status(Clock::time_point now) const;
    [[nodiscard]] std::vector<IkeSaKeysExport> keys() const;
    [[nodiscard]] const IkeCounters& counters() const noexcept { return counters_; }
    // By peer name; a peer appears once it had a liveness check.
    [[nodiscard]] const std::map<std::string, PeerCounters>& peer_counters() const noexcept { return peer_counters_; }
    [[nodiscard]] IkeSaCensus census() const;
    // By peer name: shown by `mesh-site status` until the peer's next success.
    [[nodiscard]] const std::map<std::string, PeerFailure>& failures() const noexcept { return failures_; }
    [[nodiscard]] const std::vector<PeerConfig>& peers() const noexcept { return peers_; }

private:
    // A responder's IKE_SA_INIT whose keys are being computed (crypto_executor.hpp).
    struct PendingInit {
        std::unique_ptr<IkeSa> sa;   // all but keys and answer
        SaPayload reply;             // the proposal chosen
        Header request;
    };

    struct PeerSchedule {
        Clock::time_point next_attempt{};
        std::chrono::milliseconds backoff{0};
        // A named peer (resolve_first): its lookup was asked for and not yet
        // answered; answered, the next attempt uses the fresh address.
        bool awaiting_address = false;
        bool address_fresh = false;
    };

    // Logs a failure an operator must see and keeps it for status.
    template <class... Args>
    void report(Clock::time_point now, const std::string& peer, fmt::format_string<Args...> format, Args&&... args)
    {
        auto text = fmt::format(format, std::forward<Args>(args)...);
        spdlog_warn(peer, text);
        failures_[peer] = {std::move(text), now};
    }
    static void spdlog_warn(const std::string& peer, const std::string& text);
    // The same for a failure anyone can cause with one datagram: kept for
    // status every time, logged about once a second (`limit`).
    template <class... Args>
    void report_limited(net::LogRateLimit& limit, Clock::time_point now, const std::string& peer,
                        fmt::format_string<Args...> format, Args&&... args)
    {
        auto text = fmt::format(format, std::forward<Args>(args)...);
        if (const auto allowed = limit.admit(now))
            spdlog_warn(peer, text + allowed->note());
        failures_[peer] = {std::move(text), now};
    }

    // ike_engine.cpp: dispatch, sending, timers
    IkeSa* find_sa(std::uint64_t spi_i, std::uint64_t spi_r);
    void send_request(IkeSa& sa, ExchangeType exchange, std::vector<Payload> inner, Clock::time_point now);
    // An unknown critical payload inside SK (RFC 7296 section 2.5).
    void refuse_critical_request(IkeSa& sa, const Header& header, std::uint8_t payload_type, Clock::time_point now);
    void refuse_critical_response(IkeSa& sa, std::uint8_t payload_type, Clock::time_point now);
    void send_response(IkeSa& sa, const Header& request, std::vector<Payload> inner);
    void send_datagram(IkeSa& sa, const Datagrams& datagrams);
    // Sent again: a retransmission, or the answer to a retransmitted request.
    void resend(IkeSa& sa, const Datagrams& datagrams);
    // The message sealed in SK, or in SKF fragments when fragmentation was
    // negotiated and the whole would not fit the path MTU (fragmentation.hpp).
    [[nodiscard]] Datagrams encrypt(IkeSa& sa, Header header, const std::vector<Payload>& inner);
    // One datagram: `envelope` (SK or SKF) carrying plaintext, sealed.
    [[nodiscard]] std::vector<std::uint8_t> seal_message(IkeSa& sa, const Header& header, Payload envelope,
                                                         std::span<const std::uint8_t> plaintext);
    // The inner payloads of an SK message, or of an SKF message's completed
    // reassembly; nothing while fragments are missing or when refused.
    [[nodiscard]] std::optional<std::vector<Payload>> decrypt(IkeSa& sa, const Message& message,
                                                              std::span<const std::uint8_t> datagram,
                                                              std::optional<ParseError>* inner_error = nullptr);
    // A fragment decrypted and kept; the whole inner chain once all are in.
    [[nodiscard]] std::optional<std::vector<std::uint8_t>> reassemble(IkeSa& sa, const Message& message,
                                                                      const SkfPayload& fragment,
                                                                      std::span<const std::uint8_t> datagram,
                                                                      PayloadType& first_payload);
    // Whether the datagram was an IKE_SA_INIT request that got an error notification.
    bool answer_unparsable(const net::Endpoint& local, const net::Endpoint& remote,
                           std::span<const std::uint8_t> bytes, const ParseError& error);
    void log_unparsable(const net::Endpoint& remote, const ParseError& error, bool answered,
                        Clock::time_point now);
    void on_encrypted(IkeSa& sa, const Message& message, std::span<const std::uint8_t> datagram,
                      const net::Endpoint& local, const net::Endpoint& remote, Clock::time_point now);
    void fail(IkeSa& sa, Clock::time_point now);
    // nat_rebinding.cpp: the IKE SA's peer is now at remote; its CHILD SAs' ESP goes there too.
    void move_peer(IkeSa& sa, const net::Endpoint& local, const net::Endpoint& remote);
    void retransmit(IkeSa& sa, Clock::time_point now);
    // Dead peer detection (section 2.4), driven by on_tick.
    void check_liveness(IkeSa& sa, Clock::time_point now);
    void liveness_check_unanswered(IkeSa& sa, Clock::time_point now);
    void count_inbound_esp(IkeSa& sa, Clock::time_point now);
    void remove_children(IkeSa& sa);
    void send_ike_delete(IkeSa& sa);
    void schedule_retry(const PeerConfig& peer, Clock::time_point now);
    // An IKE SA with the peer was established: the next re-initiation comes after the first backoff step.
    void reset_backoff(const PeerConfig& peer);
    [[nodiscard]] std::uint64_t new_spi();
    [[nodiscard]] std::vector<std::uint8_t> new_nonce();

    // exchange_init.cpp
    void initiate(const PeerConfig& peer, Clock::time_point now);
    void send_init_request(IkeSa& sa, Clock::time_point now);
    // Section 2.6: whether an IKE_SA_INIT request may have state and a DH;
    // answers N(COOKIE) or drops it when not.
    // Section 2.1: whether the request repeats one a half-open SA answered; if so, answered again from it.
    bool answer_repeated_init(const Message& request, std::span<const std::uint8_t> datagram,
                              const net::Endpoint& remote, Clock::time_point now);
    bool adds_our_cookie(const IkeSa& sa, const Message& request, const net::Endpoint& remote, Clock::time_point now);
    bool admit_init_request(const Message& request, std::span<const std::uint8_t> nonce_i,
                            const net::Endpoint& local, const net::Endpoint& remote, Clock::time_point now);
    void on_init_request(const Message& request, std::span<const std::uint8_t> datagram, const net::Endpoint& local,
                         const net::Endpoint& remote, Clock::time_point now);
    // The keys of a pending IKE_SA_INIT are in: the SA is half open, the request answered.
    void answer_init(std::uint64_t spi_r, std::optional<InitKeys> keys);
    void on_init_response(IkeSa& sa, const Message& response, std::span<const std::uint8_t> datagram,
                          Clock::time_point now);
    bool derive_keys(IkeSa& sa, std::span<const std::uint8_t> peer_ke);
    // The PRF, SK_ keys and SK cipher of `sa` from its SKEYSEED (suite, nonces, SPIs and role set).
    bool key_ike_sa(IkeSa& sa, std::span<const std::uint8_t> seed);
    void check_nat(IkeSa& sa, const Message& message, const net::Endpoint& local, const net::Endpoint& remote);
    void add_nat_detection(const IkeSa& sa, std::vector<Payload>& payloads) const;

    // exchange_auth.cpp
    void send_auth_request(IkeSa& sa, Clock::time_point now);
    void on_auth_request(IkeSa& sa, const Header& header, const std::vector<Payload>& inner, Clock::time_point now);
    void on_auth_response(IkeSa& sa, const std::vector<Payload>& inner, Clock::time_point now);
    // Initiator: the CHILD SA of IKE_AUTH installed from the answer, or its refusal reported.
    void accept_first_child(IkeSa& sa, const std::vector<Payload>& inner, Clock::time_point now);
    // Responder: the CHILD SA the request asks for installed, our answer (or the refusal) added to `answer`.
    void answer_first_child(IkeSa& sa, const std::vector<Payload>& inner, std::vector<Payload>& answer,
                            Clock::time_point now);
    void refuse_responder(IkeSa& sa, Clock::time_point now);
    // id_body: the ID payload's body as sent (identity.hpp's id_body).
    [[nodiscard]] std::vector<std::uint8_t> auth_octets(IkeSa& sa, bool of_initiator, std::span<const std::uint8_t> id_body);
    // Our AUTH (and CERTs) for `me`, or why we cannot make one.
    [[nodiscard]] std::expected<std::vector<Payload>, std::string> our_auth(IkeSa& sa, const PeerConfig& peer,
                                                                            const Identity& me);
    // Whether the peer proved to be `their`, sent as `their_id_body`, with its AUTH (and CERTs): the reason when not.
    [[nodiscard]] std::expected<void, std::string> check_peer_auth(IkeSa& sa, const PeerConfig& peer,
                                                                   const Identity& their,
                                                                   std::span<const std::uint8_t> their_id_body,
                                                                   const std::vector<Payload>& inner);
    void count_child_refusal(IkeSa& sa, Clock::time_point now, const ChildRefusal& refusal);
    // Derives the CHILD SA's keys and installs it; nullptr if the data plane
    // refused. The pointer is valid until sa.children next changes.
    // peer_ts: the peer's traffic selectors of a CHILD SA we answered (mode ip: its networks).
    ChildSa* install(IkeSa& sa, const ChildConfig& child, const ChildSuite& suite, std::uint32_t spi_in,
                     std::uint32_t spi_out, const ChildKeySource& source, bool use_outbound,
                     std::uint32_t rekeys_spi_in, Clock::time_point now, std::span<const TrafficSelector> peer_ts = {});
    [[nodiscard]] static bool udp_encapsulation(const IkeSa& sa) noexcept;

    // exchange_mode_config.cpp (section 3.15)
    // Initiator: the CP(CFG_REQUEST) of IKE_AUTH, if the peer's mode config requests.
    void append_cfg_request(const IkeSa& sa, std::vector<Payload>& inner) const;
    // The addresses our IKE_AUTH offer's selectors are made of (asked for, or none).
    [[nodiscard]] static VirtualAddresses offered_addresses(const IkeSa& sa);
    // Responder: the CP(CFG_REPLY) added to `answer` and the lease kept in
    // `sa`; false when an address was asked for and none can be given
    // (N(INTERNAL_ADDRESS_FAILURE) added instead: no CHILD SA then, section 2.19).
    bool answer_cfg_request(IkeSa& sa, const std::vector<Payload>& request, std::vector<Payload>& answer,
                            Clock::time_point now);
    // Initiator: the peer's CFG_REPLY checked, handed to the host and kept in
    // `sa`; false (reported) when it is missing, refused or gives no address.
    bool take_cfg_reply(IkeSa& sa, const std::vector<Payload>& response, Clock::time_point now);
    // The host's lease, if `sa` holds one, ends: the SA is gone.
    void end_lease(IkeSa& sa);

    // exchange_create_child.cpp
    void start_rekey(IkeSa& sa, ChildSa& child, Clock::time_point now);
    void send_rekey_request(IkeSa& sa, Clock::time_point now);
    void on_create_child_request(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                                 Clock::time_point now);
    // A CREATE_CHILD_SA without REKEY_SA: a CHILD SA for a tunnel of the peer that has none.
    void on_new_child_request(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                              Clock::time_point now);
    // The responder's half of a CREATE_CHILD_SA once the proposal is chosen: PFS, Nr, the SA
    // installed (a new one sends at once, a rekey of rekeys_spi_in after the old one's Delete),
    // the answer sent. Nr, or nothing when the request was refused (and answered so).
    std::optional<std::vector<std::uint8_t>> answer_child_sa(IkeSa& sa, const Header& header,
                                                             const std::vector<Payload>& inner,
                                                             const ChildConfig& config, ChildChoice choice,
                                                             std::uint32_t spi_in, std::uint32_t rekeys_spi_in,
                                                             Clock::time_point now);
    void on_create_child_response(IkeSa& sa, const std::vector<Payload>& inner, Clock::time_point now);
    void rekey_failed(IkeSa& sa, const ChildRekey& rekey, Clock::time_point now, const std::string& why);

    // exchange_rekey_ike.cpp
    void start_ike_rekey(IkeSa& sa, Clock::time_point now);
    void send_ike_rekey_request(IkeSa& sa, Clock::time_point now);
    void on_ike_rekey_request(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                              Clock::time_point now);
    void on_ike_rekey_response(IkeSa& sa, const std::vector<Payload>& inner, Clock::time_point now);
    // The new IKE SA of a rekey of `old`, keyed (section 2.18); nullptr if the keys cannot be made.
    IkeSa* add_rekeyed_sa(IkeSa& old, bool we_initiated, std::uint64_t spi_i, std::uint64_t spi_r,
                          const IkeSuite& suite, std::span<const std::uint8_t> nonce_i,
                          std::span<const std::uint8_t> nonce_r, std::span<const std::uint8_t> g_ir,
                          Clock::time_point now);
    // Moves the CHILD SAs (and what goes with them) from `from` to `to`;
    // `from` then carries nothing and waits for its Delete.
    void hand_over(IkeSa& from, IkeSa& to, Clock::time_point now);
    // The CHILD SAs of `sa`, held back while both ends rekeyed it, go to the
    // new IKE SA of the peer's rekey (that one stays).
    void hand_over_to_successor(IkeSa& sa, Clock::time_point now);
    // Our Delete of a rekeyed IKE SA, retransmitted until answered.
    void delete_rekeyed(IkeSa& sa, Clock::time_point now);

    // ike_lifetime.cpp
    struct Lifetime {
        Clock::time_point rekey_at, expires_at;
    };
    // Section 2.8: the soft lifetime at 80 to 90 % of `lifetime`, at random,
    // so the two ends rarely rekey together; no lifetime: never.
    [[nodiscard]] Lifetime lifetime_from(std::chrono::seconds lifetime, Clock::time_point now);
    // Where in a lifetime (of time or bytes) the soft limit falls: 0.8 to 0.9, at random.
    [[nodiscard]] double soft_fraction();
    void schedule_ike_lifetime(IkeSa& sa, Clock::time_point now);
    void check_ike_lifetime(IkeSa& sa, Clock::time_point now);

    // initial_contact.cpp
    // Section 2.4: `fresh` authenticated with N(INITIAL_CONTACT); the peer lost every other IKE SA with us.
    void replace_stale_sas(IkeSa& fresh);

    // duplicate_sas.cpp
    // `fresh` was just established: another IKE SA with the same peer and identity is a
    // duplicate (both ends started at once) or older and replaced.
    void resolve_duplicates(IkeSa& fresh, Clock::time_point now);
    // The peer authenticated again with `fresh`: `old` and its CHILD SAs go, the tunnel sends on fresh's.
    void replace_reauthenticated(IkeSa& old, IkeSa& fresh);
    // Another established IKE SA with the same peer and identity as `sa`, if any.
    [[nodiscard]] IkeSa* other_established(const IkeSa& sa);
    // Whether another IKE SA with the peer sends the tunnel's traffic already.
    [[nodiscard]] bool tunnel_carried(const IkeSa& sa, const ChildConfig& config);
    // The tunnels' traffic goes on the CHILD SAs of `sa` from now on.
    void send_on_children(IkeSa& sa);

    // child_lifetime.cpp
    void schedule_lifetime(ChildSa& child, Clock::time_point now);
    void check_child_lifetimes(IkeSa& sa, Clock::time_point now);
    // Starts sending on `successor`, installed inbound-only when the peer rekeyed `old`.
    void activate(IkeSa& sa, ChildSa& successor, const ChildSa& old);
    static void log_rekeyed(const IkeSa& sa, const ChildSa& fresh, const ChildSa& old);
    // Removes the CHILD SA with this inbound SPI, its successor sending first.
    void remove_child(IkeSa& sa, std::uint32_t spi_in);
    // The same for a CHILD SA another one of its tunnel replaced (a rekey):
    // its successor sends at once, its inbound half stays a moment
    // (retire_delay) for the packets the peer's data plane sealed with it
    // before the peer switched; they may be overtaken by the Delete.
    void retire_child(IkeSa& sa, std::uint32_t spi_in, Clock::time_point now);
    // Our Delete for the CHILD SA, sent when the window is free.
    void queue_delete(IkeSa& sa, ChildSa& child, Clock::time_point now);
    void send_queued_deletes(IkeSa& sa, Clock::time_point now);

    // exchange_informational.cpp
    void on_informational_request(IkeSa& sa, const Header& header, const std::vector<Payload>& inner,
                                  Clock::time_point now);
    void on_informational_response(IkeSa& sa, const OutstandingRequest& request, const std::vector<Payload>& inner,
                                   Clock::time_point now);

    IkeHost& host_;
    std::vector<PeerConfig> peers_;
    net::Endpoint ike_local_;
    net::Endpoint natt_local_;
    Botan::RandomNumberGenerator& rng_;
    std::vector<std::unique_ptr<IkeSa>> sas_;
    std::map<const PeerConfig*, PeerSchedule> schedule_;
    IkeCounters counters_;
    std::map<std::string, PeerCounters> peer_counters_;
    std::map<std::string, PeerFailure> failures_;
    IkeLimits limits_;
    CookieSecrets cookies_;
    IkeLogLimits log_limits_;
    InlineExecutor inline_crypto_;
    CryptoExecutor* crypto_;                 // inline_crypto_ unless the daemon gave a pool
    std::vector<PendingInit> pending_inits_;
    // The continuations of crypto_'s jobs hold it weakly: those that come
    // back after the engine is gone do nothing.
    std::shared_ptr<IkeEngine*> self_;
    Clock::time_point datagram_at_{};   // the time on_datagram was given, for log limits deeper in
};

} // namespace mesh::ike
