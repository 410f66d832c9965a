// What GET /metrics answers ([site] metrics-listen; docs/metrics.md lists
// every family). Read on the control thread, like status: the data plane's
// counters are relaxed atomics, summed over SAs and workers here, never
// locked; the control thread's own are plain.

#include "tools/daemon/daemon.hpp"

#include "tools/log/log.hpp"
#include "tools/metrics/exposition.hpp"
#include "tools/metrics/metrics_server.hpp"

#include <array>
#include <optional>
#include <stdexcept>

namespace mesh::daemon {

namespace {
using metrics::Exposition;
using metrics::Label;
using metrics::MetricType;

// mesh_site_tunnel_drops_total's reasons: the tunnel's own drops, then its SAs'.
constexpr std::array<std::string_view, 11> drop_reasons{
    "no_sa", "not_ip", "seal", "send_error", "offload", "gre", "inner", "tun_write_error", "auth", "replay", "malformed"};

struct TunnelFigures {
    std::string_view name, peer, interface;
    std::optional<std::string_view> branch;   // a template's instance
    bool up = false;
    double changed_at = 0;                    // Unix time, seconds
    std::uint64_t rekeys = 0, sas = 0;
    std::uint64_t packets_in = 0, bytes_in = 0, packets_out = 0, bytes_out = 0;
    std::array<std::uint64_t, drop_reasons.size()> drops{};
};

// A tunnel's labels and at most one more.
class TunnelLabels {
public:
    TunnelLabels(const TunnelFigures& tunnel, std::optional<Label> extra = std::nullopt)
    {
        add({"tunnel", tunnel.name});
        add({"peer", tunnel.peer});
        add({"interface", tunnel.interface});
        if (tunnel.branch)
            add({"branch", *tunnel.branch});
        if (extra)
            add(*extra);
    }
    operator std::span<const Label>() const noexcept { return {labels_.data(), size_}; }

private:
    void add(Label label) noexcept { labels_[size_++] = label; }
    std::array<Label, 5> labels_{};
    std::size_t size_ = 0;
};

double unix_seconds(std::chrono::system_clock::time_point at)
{
    return std::chrono::duration<double>(at.time_since_epoch()).count();
}

void tunnel_families(Exposition& out, const std::vector<TunnelFigures>& tunnels)
{
    const auto each = [&](std::string_view name, MetricType type, std::string_view help, auto value) {
        out.family(name, type, help);
        for (const auto& tunnel : tunnels)
            out.sample(TunnelLabels(tunnel), value(tunnel));
    };
    using T = const TunnelFigures&;
    each("mesh_site_tunnel_up", MetricType::gauge, "Whether the tunnel has an SA to send on (1) or not (0).",
         [](T t) { return std::uint64_t{t.up}; });
    each("mesh_site_tunnel_last_change_timestamp_seconds", MetricType::gauge,
         "When the tunnel last went up or down, or was made (Unix time).", [](T t) { return t.changed_at; });
    each("mesh_site_tunnel_receive_packets_total", MetricType::counter,
         "ESP packets received and authenticated on the tunnel's SAs.", [](T t) { return t.packets_in; });
    each("mesh_site_tunnel_receive_bytes_total", MetricType::counter,
         "ESP payload bytes received on the tunnel's SAs (the GRE or IP packet).", [](T t) { return t.bytes_in; });
    each("mesh_site_tunnel_transmit_packets_total", MetricType::counter, "ESP packets sent on the tunnel's SAs.",
         [](T t) { return t.packets_out; });
    each("mesh_site_tunnel_transmit_bytes_total", MetricType::counter,
         "ESP payload bytes sent on the tunnel's SAs (the GRE or IP packet).", [](T t) { return t.bytes_out; });
    out.family("mesh_site_tunnel_drops_total", MetricType::counter, "Packets of the tunnel dropped, by reason.");
    for (const auto& tunnel : tunnels)
        for (std::size_t i = 0; i < drop_reasons.size(); ++i)
            out.sample(TunnelLabels(tunnel, Label{"reason", drop_reasons[i]}), tunnel.drops[i]);
    each("mesh_site_tunnel_rekeys_total", MetricType::counter,
         "CHILD SAs installed by a rekey (REKEY_SA) of the tunnel's SA.", [](T t) { return t.rekeys; });
    each("mesh_site_tunnel_sas", MetricType::gauge, "CHILD SAs installed on the tunnel.",
         [](T t) { return t.sas; });
}

void counter(Exposition& out, std::string_view name, std::string_view help, std::uint64_t value)
{
    out.family(name, MetricType::counter, help);
    out.sample({}, value);
}

void gauge(Exposition& out, std::string_view name, std::string_view help, std::uint64_t value)
{
    out.family(name, MetricType::gauge, help);
    out.sample({}, value);
}
} // namespace

void Daemon::start_metrics(const net::Endpoint& listen)
{
    try {
        metrics_ = std::make_unique<metrics::MetricsServer>(io_, listen, [this] { return metrics(); });
    } catch (const boost::system::system_error& error) {
        throw std::runtime_error("metrics-listen " + listen.to_string() + ": " + error.code().message());
    }
    log::daemon()->info("metrics: GET http://{}/metrics", listen.to_string());
}

std::string Daemon::metrics() const
{
    Exposition out;
    const auto now = std::chrono::system_clock::now();
    out.family("mesh_site_info", MetricType::gauge, "The site's name, as a label; always 1.");
    out.sample({{"site", config_.site.name}}, std::uint64_t{1});
    out.family("mesh_site_start_time_seconds", MetricType::gauge, "When the daemon started (Unix time).");
    out.sample({}, unix_seconds(now - (std::chrono::steady_clock::now() - started_)));

    std::vector<TunnelFigures> tunnels;
    tunnels.reserve(tunnels_.size());
    for (const auto& tunnel : tunnels_) {
        const auto& state = table_.tunnels().at(tunnel.id);
        const auto& c = *state.counters;
        const auto sums = state.totals();
        tunnels.push_back({.name = tunnel.name,
                           .peer = tunnel.config->peer,
                           .interface = tunnel.interface,
                           .branch = tunnel.branch ? std::optional<std::string_view>(*tunnel.branch) : std::nullopt,
                           .up = tunnel.up,
                           .changed_at = unix_seconds(tunnel.changed_at),
                           .rekeys = tunnel.rekeys,
                           .sas = state.sas.size(),
                           .packets_in = sums.packets_in,
                           .bytes_in = sums.bytes_in,
                           .packets_out = sums.packets_out,
                           .bytes_out = sums.bytes_out,
                           .drops = {c.no_sa_drops.get(), c.not_ip_drops.get(), c.seal_drops.get(),
                                     c.send_errors.get(), c.offload_drops.get(), c.gre_drops.get(),
                                     c.inner_drops.get(), c.tun_write_errors.get(), sums.auth_drops,
                                     sums.replay_drops, sums.malformed_drops}});
    }
    tunnel_families(out, tunnels);

    // The data plane's drops before any tunnel is known, summed over the workers.
    using tunnel::PumpCounters;
    const auto& pump = *pump_;
    out.family("mesh_site_esp_drops_total", MetricType::counter,
               "Datagrams at the ESP ports dropped before reaching a tunnel, by reason.");
    out.sample({{"reason", "unknown_spi"}}, pump.total(&PumpCounters::unknown_spi_drops));
    out.sample({{"reason", "runt"}}, natt_runt_drops_ + pump.total(&PumpCounters::runt_drops));
    out.sample({{"reason", "misrouted"}}, natt_misrouted_drops_ + pump.total(&PumpCounters::ike_misrouted_drops));
    out.sample({{"reason", "claim"}}, pump.total(&PumpCounters::claim_drops));
    std::uint64_t natt_kernel_drops = tunnel::kernel_drops(socket_->fd());
    for (const auto& worker : worker_sockets_)
        natt_kernel_drops += tunnel::kernel_drops(worker->fd());
    out.family("mesh_site_socket_kernel_drops_total", MetricType::counter,
               "Datagrams the kernel dropped before the daemon read them, by socket.");
    out.sample({{"socket", "esp-in-udp"}}, natt_kernel_drops);
    std::uint64_t priority_kernel_drops = 0;
    for (const auto& priority : priority_sockets_)
        priority_kernel_drops += tunnel::kernel_drops(priority->fd());
    out.sample({{"socket", "esp-in-udp-priority"}}, priority_kernel_drops);
    if (ike_socket_)
        out.sample({{"socket", "ike"}}, tunnel::kernel_drops(ike_socket_->fd()));
    counter(out, "mesh_site_priority_datagrams_total",
            "Small ESP datagrams the kernel steered to the workers' priority sockets, read before the bulk.",
            pump.total(&PumpCounters::priority_datagrams));
    counter(out, "mesh_site_worker_realtime_demotions_total",
            "Drops of a data-plane worker from real-time to normal priority, its 10 ms of CPU in 20 ms used.",
            pump.total(&PumpCounters::realtime_demotions));
    counter(out, "mesh_site_worker_deferred_wakeups_total",
            "TUN bulk queues read empty whose next wake-up of a real-time worker waited 250 us.",
            pump.total(&PumpCounters::deferred_wakeups));

    if (ike_) {
        const auto census = ike_->census();
        out.family("mesh_site_ike_sas", MetricType::gauge, "IKE SAs, by state.");
        for (std::size_t state = 0; state < census.by_state.size(); ++state)
            out.sample({{"state", ike::to_string(static_cast<ike::IkeState>(state))}},
                       std::uint64_t{census.by_state[state]});
        gauge(out, "mesh_site_ike_half_open_sas",
              "IKE SAs answered with IKE_SA_INIT and waiting for IKE_AUTH, or being keyed.", census.half_open);
        const auto& c = ike_->counters();
        counter(out, "mesh_site_ike_cookies_sent_total", "IKE_SA_INIT requests answered with a COOKIE.",
                c.cookies_sent);
        out.family("mesh_site_ike_errors_total", MetricType::counter,
                   "IKE exchanges failed, by reason (notification sent or received, or message refused).");
        out.sample({{"reason", "no_proposal_chosen"}}, c.no_proposal_chosen);
        out.sample({{"reason", "authentication_failed"}}, c.authentication_failed);
        out.sample({{"reason", "ts_unacceptable"}}, c.ts_unacceptable);
        out.sample({{"reason", "malformed"}}, c.malformed);
        counter(out, "mesh_site_ike_init_refused_total",
                "IKE_SA_INIT requests dropped over the half-open or IKE SA bounds.", c.init_refused);
        counter(out, "mesh_site_ike_messages_received_total", "IKE messages received.", c.messages_in);
        counter(out, "mesh_site_ike_messages_sent_total", "IKE messages sent, retransmissions not counted.",
                c.messages_out);
        counter(out, "mesh_site_ike_retransmits_total", "IKE requests sent again for want of an answer.",
                c.retransmits);
        counter(out, "mesh_site_ike_sa_rekeys_total", "IKE SAs replaced by a rekey.", c.ike_rekeys);
        const auto& by_peer = ike_->peer_counters();
        const auto peer_family = [&](std::string_view name, std::string_view help, auto member) {
            out.family(name, MetricType::counter, help);
            for (const auto& peer : ike_->peers()) {
                const auto found = by_peer.find(peer.name);
                out.sample({{"peer", peer.name}}, found == by_peer.end() ? std::uint64_t{0} : found->second.*member);
            }
        };
        peer_family("mesh_site_peer_dpd_checks_total",
                    "Liveness checks (RFC 7296 section 2.4) sent to the peer; a template peer's branches together.",
                    &ike::PeerCounters::liveness_checks);
        peer_family("mesh_site_peer_dpd_failures_total",
                    "IKE SAs with the peer given up for want of an answer (peer dead).",
                    &ike::PeerCounters::peers_dead);
    }

    if (metrics_) {
        const auto& m = metrics_->counters();
        counter(out, "mesh_site_metrics_scrapes_total", "GET /metrics requests answered.", m.scrapes);
        counter(out, "mesh_site_metrics_requests_refused_total",
                "Requests at the metrics port answered 400, 404, 405 or 431.", m.refused);
        out.family("mesh_site_metrics_connections_closed_total", MetricType::counter,
                   "Connections to the metrics port closed unanswered, by reason.");
        out.sample({{"reason", "timed_out"}}, m.timed_out);
        out.sample({{"reason", "over_limit"}}, m.over_limit);
    }
    return out.take();
}

} // namespace mesh::daemon
