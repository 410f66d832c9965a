#include "tools/daemon/daemon.hpp"

#include "net/link.hpp"
#include "net/log_context.hpp"
#include "net/os_error.hpp"
#include "routing/kernel_route_sink.hpp"
#include "routing/zebra_client.hpp"
#include "tools/daemon/control_server.hpp"
#include "tools/metrics/metrics_server.hpp"
#include "tools/daemon/ike_policy.hpp"
#include "tools/daemon/listen_guard.hpp"
#include "tools/daemon/log_request.hpp"
#include "tools/daemon/open_files.hpp"
#include "tools/log/log.hpp"
#include "tunnel/mtu.hpp"
#include "tunnel/spi_steering.hpp"

#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>

namespace mesh::daemon {

namespace asio = boost::asio;

namespace {
constexpr auto reclaim_interval = std::chrono::milliseconds(200);
// Each of the TUN's two queues (bulk and priority, tunnel/tun_steering.hpp)
// is a ring of this many packets in front of the worker's read (no qdisc
// holds them: the TUN drops when a ring is full), and everything routed
// into the tunnel waits in one. 64 packets is 90 KB of 1400-byte
// packets, about a millisecond where a worker seals 1 Gbit/s, and still up
// to 4 MB of 64 KiB TSO packets; 2000 let a UDP flood hold a ping for
// 20-70 ms (docs/data-plane.md, Queues and priorities).
constexpr std::uint32_t tun_txqueuelen = 64;

// [site] workers, "auto": the CPUs this process may run on.
std::size_t worker_count(const config::Site& site)
{
    if (site.workers)
        return *site.workers;
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    const int count = ::sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 1;
    return std::clamp<std::size_t>(static_cast<std::size_t>(count), 1, tunnel::max_workers);
}

tunnel::SaParams sa_params(const config::StaticSa& sa, bool inbound)
{
    tunnel::SaParams params;
    params.spi = inbound ? sa.spi_in : sa.spi_out;
    params.cipher = sa.enc_algorithm;
    params.integrity = tunnel::info(sa.enc_algorithm).aead ? tunnel::EspIntegrity::none : sa.auth_algorithm;
    params.cipher_key = inbound ? sa.key_in : sa.key_out;
    params.integrity_key = inbound ? sa.auth_key_in : sa.auth_key_out;
    params.esn = true;
    return params;
}
} // namespace

// What goes over a tunnel: its static routes and, in mode ip, the remote
// subnets its CHILD SA carries (docs/configuration.md: routed over the interface).
std::vector<net::IpPrefix> Daemon::routed_prefixes(const config::Tunnel& tunnel)
{
    auto prefixes = tunnel.routes;
    if (tunnel.mode == config::TunnelMode::ip)
        for (const auto& subnet : tunnel.remote_subnets)
            if (std::find(prefixes.begin(), prefixes.end(), subnet) == prefixes.end())
                prefixes.push_back(subnet);
    return prefixes;
}

Daemon::Daemon(config::Config config)
    : config_(std::move(config)),
      signals_(io_),
      reclaim_timer_(io_),
      pump_(std::make_unique<tunnel::PacketPump>(table_, worker_count(config_.site))),
      pump_notify_(io_, ::dup(pump_->notify_fd())),
      ike_timer_(io_),
      keepalive_timer_(io_),
      reap_timer_(io_),
      reannounce_timer_(io_)
{
    // A write to a peer that closed the control socket must not kill the daemon.
    std::signal(SIGPIPE, SIG_IGN);
    const OpenFiles need = open_files_needed(config_, pump_->workers());
    const FileLimit before = raise_file_limit(need);
    catch_signals();
    // Every socket before any TUN or route: a second daemon on the same
    // address, port or control socket stops here, having changed nothing.
    const auto listen = config_.site.listen.value_or(net::IpAddress{});
    const net::Endpoint local{listen, config_.site.natt_port};
    auto natt = bind_steered_exclusive(local, pump_->workers());
    socket_ = std::move(natt.control);
    worker_sockets_ = std::move(natt.workers);
    priority_sockets_ = std::move(natt.priority);
    for (std::size_t i = 0; i < worker_sockets_.size(); ++i)
        pump_->watch_udp(i, worker_sockets_[i]->fd(), priority_sockets_[i]->fd());
    natt_readable_ = std::make_unique<asio::posix::stream_descriptor>(io_, ::dup(socket_->fd()));
    log::esp()->info("listening for ESP-in-UDP and IKE on {}, {} data-plane worker(s)", local.to_string(),
                     pump_->workers());
    if (std::ranges::any_of(config_.tunnels, [](const auto& entry) { return !entry.second.static_sa; }))
        ike_socket_ = bind_exclusive({listen, config_.site.ike_port});
    control_ = std::make_unique<ControlServer>(io_, config_.site.control_socket,
                                               [this](const Request& request) { return handle_request(request); });
    log::daemon()->info("control socket {}", config_.site.control_socket.string());
    if (config_.site.metrics_listen)
        start_metrics(*config_.site.metrics_listen);
    log::daemon()->info("open files: {} needed, limit {} (was {}, hard {})", need.to_string(), net::open_files_limit(),
                        before.soft, before.hard);
    if (const auto instances = template_instances(config_);
        need.total() + instances * tunnel::tun_queues > net::open_files_limit())
        log::daemon()->warn("open files: the template tunnels may make up to {} instances, a TUN each, but the limit "
                            "of {} leaves room for {}: branches beyond are refused (\"too many open files\"); raise "
                            "LimitNOFILE= or ulimit -n",
                            instances, net::open_files_limit(), net::open_files_limit() - std::min(net::open_files_limit(), need.total()));
    if (config_.site.zebra_socket) {
        route_sink_ = std::make_unique<routing::ZebraClient>(io_, *config_.site.zebra_socket);
        log::routing()->info("routes go to zebra at {}", config_.site.zebra_socket->string());
    } else {
        start_kernel_routes(local);
    }

    tun_reaper_ = std::make_unique<tunnel::TunReaper>(netlink_, daemon_instance(local));
    try {
        // One apply for all: each is O(routes), which per tunnel made the start quadratic.
        starting_tunnels_ = true;
        for (const auto& [name, tunnel_config] : config_.tunnels) {
            if (!config::enabled(config_, tunnel_config))
                log::esp()->info("tunnel {}: disabled", name);
            else if (tunnel_config.is_template)
                templates_.emplace(name, template_pool(tunnel_config));
            else
                start_tunnel(tunnel_config, next_tunnel_id_++);
        }
        starting_tunnels_ = false;
        route_sink_->apply(routes_.selected());
        start_mode_config();
        start_ike();
    } catch (...) {
        // A daemon that cannot start leaves neither routes nor interfaces.
        stop_tunnels();
        throw;
    }
}

Daemon::~Daemon()
{
    pump_->stop();
}

void Daemon::start_tunnel(const config::Tunnel& config, tunnel::TunnelId id)
{
    const config::Peer& peer = config_.peers.at(config.peer);
    Tunnel tunnel;
    tunnel.config = &config;
    tunnel.name = config.name;
    tunnel.interface = config.interface;
    tunnel.address = config.address;
    tunnel.routes = routed_prefixes(config);
    tunnel.id = id;
    tunnel.peer = {peer.address.address(), config_.site.natt_port};
    Tunnel& opened = open_tunnel(std::move(tunnel));
    if (config.static_sa)
        install_static_sas(opened);
    else
        set_tunnel_up(opened, false);
}

Daemon::Tunnel& Daemon::open_tunnel(Tunnel tunnel)
{
    const config::Tunnel& config = *tunnel.config;
    const auto scope = net::LogScope::tunnel(config.name, config.peer);
    // A peer named by DNS and not resolved yet has no path to probe.
    const bool unresolved = tunnel.peer.address.is_unspecified();
    const auto probed = unresolved ? std::nullopt : tunnel::probe_path(tunnel.peer);
    if (!probed && !unresolved)
        log::esp()->warn("tunnel {}: no route to {} yet; assuming a {}-byte path MTU", tunnel.name,
                         tunnel.peer.address.to_string(), tunnel::default_path_mtu);
    const auto path = probed.value_or(tunnel::PathInfo{});
    tunnel.local = config_.site.listen && !config_.site.listen->is_unspecified() ? *config_.site.listen : path.local;

    tunnel.device = std::make_shared<tunnel::TunDevice>(tunnel.interface);
    tun_reaper_->adopt(*tunnel.device);
    if (!tunnel.device->priority_queue_error().empty())
        log::esp()->warn("tunnel {}: interface {} has no priority queue, so BFD, OSPF and pings wait behind bulk "
                         "data: {}",
                         tunnel.name, tunnel.interface, tunnel.device->priority_queue_error());
    if (config.mtu) {
        tunnel.mtu = *config.mtu;
    } else {
        tunnel::TunnelOverhead overhead;
        overhead.underlay_ip_header = tunnel.peer.address.is_v4() ? net::ipv4_header_bytes : net::ipv6_header_bytes;
        overhead.gre_header = config.mode == config::TunnelMode::gre ? gre::header_length({}) : 0;
        // Until IKE chooses, size for the cipher with the largest overhead the proposal allows.
        const auto& proposal = config_.proposals.at(config.proposal);
        std::uint32_t smallest = path.mtu;
        auto consider = [&](tunnel::EspCipher cipher, tunnel::EspIntegrity integrity) {
            overhead.cipher = cipher;
            overhead.integrity = integrity;
            smallest = std::min(smallest, tunnel::tunnel_mtu(path.mtu, overhead));
        };
        if (config.static_sa) {
            consider(config.static_sa->enc_algorithm, config.static_sa->auth_algorithm);
        } else {
            for (const auto cipher : proposal.enc_algorithms)
                for (const auto integrity : proposal.auth_algorithms)
                    consider(cipher, integrity);
        }
        tunnel.mtu = smallest;
    }
    net::set_link_mtu(netlink_, tunnel.device->ifindex(), tunnel.mtu);
    net::set_link_txqueuelen(netlink_, tunnel.device->ifindex(), tun_txqueuelen);
    try {
        net::set_link_noqueue(netlink_, tunnel.device->ifindex());
    } catch (const std::runtime_error& error) {
        log::esp()->warn("tunnel {}: {}; it keeps the kernel's default qdiscs (about 1 ms more to bring it up)",
                         tunnel.name, error.what());
    }
    if (tunnel.address)
        net::add_link_address(netlink_, tunnel.device->ifindex(), *tunnel.address);

    tunnel::SaTable::TunnelSettings settings;
    settings.tun_fd = tunnel.device->fd();
    settings.tun_priority_fd = tunnel.device->priority_fd();
    settings.udp_fd = socket_->fd();
    settings.mode = config.mode == config::TunnelMode::gre ? tunnel::TunnelMode::gre : tunnel::TunnelMode::ip;
    settings.mtu = tunnel.mtu;
    settings.mss_clamp = config.mss_clamp;
    settings.vnet_hdr = tunnel.device->vnet_hdr();
    settings.peer = tunnel.peer;
    settings.fd_owner = tunnel.device;
    table_.add_tunnel(tunnel.id, settings);
    pump_->watch_tun(tunnel.id, tunnel.device->fd(), tunnel.device->priority_fd());
    log::esp()->info("tunnel {}: interface {} (index {}), mtu {} (path mtu {}), peer {}, TUN offloads 0x{:x}",
                     tunnel.name, tunnel.interface, tunnel.device->ifindex(), tunnel.mtu, path.mtu,
                     tunnel.peer.to_string(), tunnel.device->offloads());
    tunnels_.push_back(std::move(tunnel));
    return tunnels_.back();
}

void Daemon::install_static_sas(Tunnel& tunnel)
{
    const config::StaticSa& sa = *tunnel.config->static_sa;
    const auto scope = net::LogScope::tunnel(tunnel.config->name, tunnel.config->peer);
    table_.install(tunnel.id,
                   {std::make_shared<tunnel::InboundSa>(sa_params(sa, true)),
                    std::make_shared<tunnel::OutboundSa>(sa_params(sa, false)), {}},
                   true);
    log::esp()->info("tunnel {}: static SAs installed, in 0x{:08x} out 0x{:08x} {}", tunnel.config->name, sa.spi_in,
                     sa.spi_out, tunnel::info(sa.enc_algorithm).name);
    // Like `ip xfrm state`, manual keys carry no state across restarts: the
    // sequence numbers, and with them the AEAD nonces, start again at 1.
    log::esp()->warn("tunnel {}: manual keys restart their sequence numbers at 1; use new keys after every restart "
                     "(the peer drops the old numbers as replays, and AES-GCM must never see a nonce twice)",
                     tunnel.config->name);
    set_tunnel_up(tunnel, true);
}

void Daemon::set_tunnel_up(Tunnel& tunnel, bool up)
{
    const auto scope = net::LogScope::tunnel(tunnel.config->name, tunnel.config->peer);
    // Carrier stays on with link-down "admin": the interface's state says it all.
    const bool admin = config_.site.link_down == config::LinkDown::admin;
    tunnel.device->set_carrier(up || admin);
    net::set_link_up(netlink_, tunnel.device->ifindex(), up || !admin);
    if (up) {
        announce_addresses(tunnel);
        reannounce_later(tunnel);
    }
    tunnel.up = up;
    tunnel.changed_at = std::chrono::system_clock::now();
    // After the link: the kernel refuses a route through an interface that is down.
    update_routes(tunnel);
    log::esp()->info("tunnel {}: {}", tunnel.name, up ? "up" : "down");
    report_tunnels();
}

void Daemon::report_tunnels()
{
    service_.tunnels(static_cast<std::size_t>(std::ranges::count_if(tunnels_, &Tunnel::up)), tunnels_.size());
}

void Daemon::update_routes(const Tunnel& tunnel)
{
    routing::TunnelRoutes owned;
    owned.prefixes = tunnel.routes;
    add_mode_config_routes(tunnel, owned.prefixes);
    owned.ifindex = tunnel.device->ifindex();
    owned.distance = static_cast<std::uint8_t>(tunnel.config->route_distance);
    owned.up = tunnel.up;
    routes_.set(tunnel.name, std::move(owned));
    if (!starting_tunnels_)
        route_sink_->apply(routes_.selected());
}

void Daemon::close_tunnel(Tunnel& tunnel)
{
    pump_->unwatch_tun(tunnel.device->fd());
    tunnel.up = false;
    routes_.remove(tunnel.name);
    if (!starting_tunnels_)
        route_sink_->apply(routes_.selected());
    table_.remove_tunnel(tunnel.id);
    // Deleted in a batch with others released about now, not 20 ms of this thread each.
    release_tun(std::move(tunnel.device));
    const auto id = tunnel.id;
    tunnels_.remove_if([&](const Tunnel& t) { return t.id == id; });
    report_tunnels();
}

void Daemon::stop_tunnels()
{
    std::vector<tunnel::TunnelId> ids;
    for (auto& tunnel : tunnels_) {
        pump_->unwatch_tun(tunnel.device->fd());
        tunnel.up = false;
        routes_.remove(tunnel.name);
        ids.push_back(tunnel.id);
    }
    table_.remove_tunnels(ids);
    route_sink_->withdraw_all();
    // After the routes: deleting an interface takes its routes along, and
    // the sink would then fail to remove them.
    delete_tuns();
}

int Daemon::run()
{
    watch_signals();
    watch_pump();
    watch_ike_socket(true);
    schedule_reclaim();
    if (const auto refused = pump_->start(config_.site.worker_priority))
        log::esp()->warn("data-plane workers at normal priority: real-time scheduling refused ({}); give the daemon "
                         "CAP_SYS_NICE or LimitRTPRIO=1 (the systemd unit does), or set [site] worker-priority = "
                         "\"normal\"",
                         refused.message());
    else if (config_.site.worker_priority == tunnel::WorkerPriority::realtime)
        log::esp()->info("data-plane workers at real-time priority (SCHED_FIFO 1), each for at most {} ms of CPU in "
                         "{} ms; run a BFD daemon on this host above it (FRR: bfdd_wrap=\"/usr/bin/chrt -f 2\")",
                         std::chrono::duration_cast<std::chrono::milliseconds>(tunnel::RealtimeBudget::realtime_share).count(),
                         std::chrono::duration_cast<std::chrono::milliseconds>(tunnel::RealtimeBudget::window).count());
    log::daemon()->info("site {} running with {} tunnel(s)", config_.site.name, tunnels_.size());
    service_.ready(static_cast<std::size_t>(std::ranges::count_if(tunnels_, &Tunnel::up)), tunnels_.size());
    io_.run();
    service_.stopping();
    if (ike_)
        ike_->shutdown();
    pump_->stop();
    stop_tunnels();
    control_.reset();
    metrics_.reset();
    log::daemon()->info("stopped");
    return 0;
}

void Daemon::watch_pump()
{
    pump_notify_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& error) {
        if (error)
            return;
        drain_pump();
        watch_pump();
    });
}

void Daemon::drain_pump()
{
    std::uint64_t ignored = 0;
    [[maybe_unused]] const auto n = ::read(pump_notify_.native_handle(), &ignored, sizeof ignored);
    for (std::size_t worker = 0; worker < pump_->workers(); ++worker) {
        tunnel::EventRing& ring = pump_->events(worker);
        while (const tunnel::DataplaneEvent* event = ring.front()) {
            switch (event->kind) {
            case tunnel::DataplaneEvent::Kind::sequence_exhausted:
                log::esp()->warn("sequence number exhausted on outbound SA 0x{:08x}: rekeying it, "
                                 "packets are dropped until then",
                                 event->spi);
                if (ike_)
                    ike_->rekey_child(event->spi, std::chrono::steady_clock::now());
                break;
            case tunnel::DataplaneEvent::Kind::peer_moved:
                follow_peer(event->tunnel, event->spi, event->from);
                break;
            case tunnel::DataplaneEvent::Kind::unknown_spi:
                log::esp()->info("ESP for unknown SPI 0x{:08x} from {} dropped{}", event->spi,
                                 event->from.to_string(), event->suppressed.note());
                break;
            }
            ring.release();
        }
    }
}

void Daemon::schedule_reclaim()
{
    reclaim_timer_.expires_after(reclaim_interval);
    reclaim_timer_.async_wait([this](const boost::system::error_code& error) {
        if (error)
            return;
        table_.reclaim();
        schedule_reclaim();
    });
}

nlohmann::json Daemon::handle_request(const Request& request)
{
    if (const auto* status_request = std::get_if<StatusRequest>(&request))
        return status_request->peer.empty() ? status() : peer_status(status_request->peer);
    if (std::holds_alternative<KeysRequest>(request))
        return keys();
    if (const auto* log_request = std::get_if<LogRequest>(&request))
        return answer_log_request(*log_request);
    if (std::holds_alternative<ReloadRequest>(request))
        return reload("reload");
    const auto& rekey_request = std::get<RekeyRequest>(request);
    return rekey((rekey_request.sa == RekeyRequest::Sa::ike ? "ike " : "child ") + rekey_request.peer);
}

} // namespace mesh::daemon
