#pragma once
// The daemon: one control thread (Boost.Asio) that owns the configuration,
// the SA table, the tunnels' interfaces and routes, and the control socket;
// the data plane runs on the PacketPump's own threads.

#include "ike/crypto_pool.hpp"
#include "ike/ike_engine.hpp"
#include "net/address_pool.hpp"
#include "net/log_rate_limit.hpp"
#include "routing/kernel_route_sink.hpp"
#include "routing/route_monitor.hpp"
#include "routing/route_set.hpp"
#include "routing/route_sink.hpp"
#include "tools/config/config.hpp"
#include "tools/config/config_diff.hpp"
#include "tools/daemon/control_request.hpp"
#include "tools/daemon/peer_names.hpp"
#include "tools/daemon/service_notify.hpp"
#include "net/netlink_socket.hpp"
#include "tunnel/packet_pump.hpp"
#include "tunnel/raw_esp_socket.hpp"
#include "tunnel/sa_table.hpp"
#include "tunnel/tun_device.hpp"
#include "tunnel/udp_socket.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <botan/auto_rng.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mesh::daemon {

class ControlServer;
} // namespace mesh::daemon

namespace mesh::metrics {
class MetricsServer;
} // namespace mesh::metrics

namespace mesh::daemon {

class Daemon : private ike::IkeHost {
public:
    // Builds everything the configuration asks for; throws on a system error
    // (a TUN that cannot be created, a port in use) with a message naming it.
    explicit Daemon(config::Config config);
    ~Daemon();

    // Runs until SIGINT or SIGTERM; returns the exit code.
    int run();

    [[nodiscard]] nlohmann::json status() const;
    [[nodiscard]] nlohmann::json keys() const;
    // status narrowed to one peer: its IKE SAs, errors, tunnels and template
    // instances; an error object when no such peer is configured.
    [[nodiscard]] nlohmann::json peer_status(const std::string& peer) const;
    // The template tunnels and their instances, for status.
    [[nodiscard]] nlohmann::json templates() const;
    // The Prometheus text exposition of GET /metrics (daemon_metrics.cpp).
    [[nodiscard]] std::string metrics() const;

private:
    struct Tunnel {
        const config::Tunnel* config = nullptr;
        // The [tunnel]'s, or for an instance of a template its own: "NAME[IDENTITY]",
        // its interface PREFIX+INDEX and its half of the pool block.
        std::string name;
        std::string interface;
        std::optional<net::IpPrefix> address;
        std::vector<net::IpPrefix> routes;   // what the route sink sends over it
        // An instance: the branch's identity (its instance key) and address.
        std::optional<std::string> branch;
        std::optional<net::IpAddress> branch_address;
        tunnel::TunnelId id = 0;
        std::shared_ptr<tunnel::TunDevice> device;
        net::Endpoint peer;
        net::IpAddress local;
        std::uint32_t mtu = 0;
        bool up = false;
        std::chrono::system_clock::time_point changed_at = std::chrono::system_clock::now();   // last up or down
        std::uint64_t rekeys = 0;   // CHILD SAs installed by a rekey (REKEY_SA)
        bool udp_encapsulation = true;
        // Mode config, a branch (mode-config = "request"): the addresses the
        // hub assigned, on the interface, and the networks it said it reaches.
        std::vector<net::IpPrefix> assigned;
        std::vector<net::IpPrefix> split_include;
        // daemon_addresses.cpp: when it last came up, and how many of the
        // announcements after that are done.
        std::chrono::steady_clock::time_point up_at;
        std::size_t reannounced = 0;
    };

    // Mode config, a hub: one [mode-config.NAME]'s pools and who holds a lease.
    struct LeasePool {
        const config::ModeConfig* config = nullptr;
        std::vector<net::AddressPool> pools;                // one per family
        std::vector<net::IpAddress> dns;                    // `dns`, or /etc/resolv.conf's with system-dns
        std::map<std::string, std::size_t> holders;         // identity -> IKE SAs holding its lease
    };

    // ike::IkeHost: how IKE reaches sockets and the data plane.
    void send(const net::Endpoint& local, const net::Endpoint& remote,
              std::span<const std::uint8_t> message) override;
    std::uint32_t allocate_spi() override;
    bool install_child(const ike::ChildSaInstall& child) override;
    void use_outbound(const std::string& tunnel, std::uint32_t inbound_spi, const net::Endpoint& remote,
                      bool udp_encapsulation) override;
    void delete_child(const std::string& tunnel, std::uint32_t inbound_spi) override;
    [[nodiscard]] std::uint64_t inbound_packets(std::uint32_t inbound_spi) const override;
    [[nodiscard]] std::uint32_t path_mtu(const net::Endpoint& remote) const override;
    [[nodiscard]] std::uint64_t child_bytes(std::uint32_t inbound_spi) const override;
    void move_child(const std::string& tunnel, std::uint32_t inbound_spi, const net::Endpoint& remote) override;
    [[nodiscard]] ike::ModeConfig lease_attributes(const ike::ModeConfigLease& lease) override;
    void lease_ended(const ike::ModeConfigLease& lease) override;
    [[nodiscard]] bool attributes_received(const std::string& peer, const ike::ModeConfig& given) override;
    void resolve_peer(const std::string& peer) override;

    // Looks up every named peer of config_, anew (at start, and after a reload replaced config_).
    void start_peer_names();
    // daemon_names.cpp: a peer named by DNS resolved; IKE and its tunnels' ESP go to the address.
    void peer_resolved(const config::Peer& peer, const net::IpAddress& address);

    // daemon_mode_config.cpp: the pools of [mode-config] (hub), the routes of leases and assignments.
    void start_mode_config();
    // The leased addresses of the tunnel's peer (hub) and the split-include networks it was given (branch).
    void add_mode_config_routes(const Tunnel& tunnel, std::vector<net::IpPrefix>& prefixes) const;
    [[nodiscard]] nlohmann::json mode_config_status() const;

    // daemon_nat.cpp: NAT keepalives and following a peer whose NAT mapping moved.
    void follow_peer(tunnel::TunnelId id, std::uint32_t inbound_spi, const net::Endpoint& from);
    void move_tunnel(Tunnel& tunnel, const net::Endpoint& remote);
    void schedule_keepalives();
    void send_keepalives();

    void start_ike();
    // IKE reaches the control thread on two sockets it reads itself: port
    // 500 (natt false) and the NAT-T port's control socket, to which the
    // kernel steers keepalives and everything behind the non-ESP marker.
    void watch_ike_socket(bool natt);
    void read_ike_socket(bool natt);
    // The address of ours an IKE datagram was sent to, from a read's control messages.
    static std::optional<net::IpAddress> read_ike_control(msghdr& header);
    // Where an IKE datagram from `remote` arrived: `to` (IP_PKTINFO), else
    // the address we listen on, else the source the route to the peer takes.
    // NAT detection hashes it (RFC 7296 section 2.23), so never 0.0.0.0.
    [[nodiscard]] net::Endpoint ike_local(const std::optional<net::IpAddress>& to, std::uint16_t port,
                                          const net::Endpoint& remote) const;
    void schedule_ike_tick();
    Tunnel* find_tunnel(const std::string& name);
    // The tunnel (or instance) holding the CHILD SA with this inbound SPI; else the tunnel named so.
    Tunnel* tunnel_of(const std::string& name, std::uint32_t inbound_spi);

    // branch_instances.cpp: a template tunnel's instance per branch.
    // A branch's block of a template's pool, taken for it (the one its
    // instance has or will have): its number (the interface's), and with
    // address-pool our address on the instance and the branch's. Mode config
    // answers a branch that asks for its address with `theirs`.
    struct BranchBlock {
        std::uint32_t index = 0;
        std::optional<net::IpPrefix> ours;
        std::optional<net::IpAddress> theirs;
    };
    [[nodiscard]] std::optional<BranchBlock> branch_block(const std::string& template_name, const std::string& key);
    // The branch's instance, made when it has none; nullptr (logged) when
    // the pool is full, or in mode ip it claims a network another holds.
    Tunnel* instance_for(const ike::ChildSaInstall& child);
    // Removes an instance that carries no SA any more: its TUN, its routes, its block.
    void remove_instance(Tunnel& instance);
    // Where a template's instances take their blocks, or just their numbers.
    [[nodiscard]] static net::AddressPool template_pool(const config::Tunnel& config);
    // Mode config of a mode gre template with address-pool (branch_block.hpp):
    // the branch's end of its block, held until its last IKE SA that asked is gone.
    [[nodiscard]] ike::ModeConfig template_lease(const config::Tunnel& config, const ike::ModeConfigLease& lease);
    void template_lease_ended(const config::Tunnel& config, const ike::ModeConfigLease& lease);
    [[nodiscard]] bool has_instance(const config::Tunnel& config, const std::string& key) const;
    [[nodiscard]] bool holds_block_lease(const config::Tunnel& config, const std::string& key) const;
    // The tunnel's ESP goes to `remote` from now on, in UDP or as plain ESP; throws std::system_error.
    void direct_esp(Tunnel& tunnel, const net::Endpoint& remote, bool udp_encapsulation);
    void start_tunnel(const config::Tunnel& config, tunnel::TunnelId id);
    // The TUN of a tunnel whose name, interface, address and peer are set,
    // sized, addressed and handed to the data plane; it joins tunnels_.
    Tunnel& open_tunnel(Tunnel tunnel);
    void install_static_sas(Tunnel& tunnel);
    void set_tunnel_up(Tunnel& tunnel, bool up);
    // daemon_addresses.cpp: the tunnel's addresses added again (NLM_F_REPLACE,
    // so the kernel announces them again) as it comes up, and twice more soon
    // after, for a routing daemon that missed them.
    void announce_addresses(Tunnel& tunnel);
    void reannounce_later(Tunnel& tunnel);
    void arm_reannounce(std::chrono::steady_clock::time_point when);
    void reannounce_due();
    // STATUS= to systemd when the number of tunnels up, or of tunnels, changed.
    void report_tunnels();
    // Tells the route sink what the tunnel owns now and whether it is up.
    void update_routes(const Tunnel& tunnel);
    void stop_tunnels();
    // A tunnel or instance taken out while the daemon runs: its TUN (released
    // to the reaper), its routes (to the sink unless starting_tunnels_) and its data-plane SAs.
    void close_tunnel(Tunnel& tunnel);
    // What a tunnel's routes are from its [tunnel]: static routes, and in mode ip its remote subnets.
    [[nodiscard]] static std::vector<net::IpPrefix> routed_prefixes(const config::Tunnel& tunnel);
    // The address the kernel sends to the peer from: the local address of an IKE peer without local-address.
    [[nodiscard]] net::IpAddress kernel_source(const config::Peer& peer) const;
    // daemon_reload.cpp: `mesh-site reload` and SIGHUP (`trigger` names which).
    // The file read and checked again, then only the difference applied;
    // a file with a mistake, or a change only a restart applies, leaves
    // everything as it runs and is answered {"error": ...}.
    [[nodiscard]] nlohmann::json reload(const std::string& trigger);
    // What could not be applied (a TUN that cannot be made), one line each; logged too.
    [[nodiscard]] std::vector<std::string> apply_reload(const config::ConfigDiff& change, config::Config fresh);
    // The [tunnel]s configured with disabled = true (or whose peer is), for status.
    [[nodiscard]] nlohmann::json disabled_tunnels() const;
    // daemon_tun_reaper.cpp: a TUN no longer wanted (its fd no longer
    // watched by the pump) is deleted with others in one batch, soon after:
    // never 20 ms of the control thread per TUN. A new TUN is adopted
    // (tunnel::TunReaper::adopt) before it goes up.
    void release_tun(std::shared_ptr<tunnel::TunDevice> device);
    void reap_tuns();
    // Every tunnel's TUN, and those released, at once (the stop).
    void delete_tuns();
    void watch_pump();
    void drain_pump();
    void schedule_reclaim();
    [[nodiscard]] nlohmann::json handle_request(const Request& request);
    // daemon_metrics.cpp: the Prometheus endpoint; throws std::runtime_error naming the address it cannot take.
    void start_metrics(const net::Endpoint& listen);

    // daemon_signals.cpp: TERM, INT and QUIT stop cleanly; the others a
    // careless `kill` may send are logged instead of killing the daemon.
    // Caught from the start (queued until run()), watched from run().
    void catch_signals();
    void watch_signals();
    // daemon_routes.cpp: the kernel route sink, and putting back its routes
    // when someone else removes them.
    void start_kernel_routes(const net::Endpoint& local);
    void watch_routes();
    // "ike PEER" or "child PEER": the peer's IKE SA, or its CHILD SAs, rekeyed
    // at once, as at their soft lifetime (`mesh-site rekey`).
    [[nodiscard]] nlohmann::json rekey(const std::string& what);

    config::Config config_;
    boost::asio::io_context io_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer reclaim_timer_;
    net::NetlinkSocket netlink_;
    std::unique_ptr<tunnel::TunReaper> tun_reaper_;
    routing::RouteSet routes_;
    std::unique_ptr<routing::RouteSink> route_sink_;   // zebra (zebra-socket) or the kernel
    routing::KernelRouteSink* kernel_routes_ = nullptr; // route_sink_ when it is the kernel
    std::unique_ptr<routing::RouteMonitor> route_monitor_;
    bool starting_tunnels_ = false; // routes go to the sink once, when all tunnels have started
    std::unique_ptr<boost::asio::posix::stream_descriptor> route_events_;
    tunnel::SaTable table_;
    std::unique_ptr<tunnel::PacketPump> pump_;
    boost::asio::posix::stream_descriptor pump_notify_;
    std::unique_ptr<tunnel::UdpSocket> socket_;        // the NAT-T port's control socket: IKE and keepalives
    std::vector<std::unique_ptr<tunnel::UdpSocket>> worker_sockets_;   // its ESP, by SPI (tunnel/spi_steering.hpp)
    std::vector<std::unique_ptr<tunnel::UdpSocket>> priority_sockets_; // its small ESP, by SPI
    std::unique_ptr<boost::asio::posix::stream_descriptor> natt_readable_;
    std::list<Tunnel> tunnels_;             // a list: instances come and go, the others' addresses stay
    tunnel::TunnelId next_tunnel_id_ = 1;   // never reused: a snapshot may still name a removed one
    // A template tunnel's blocks (or, without address-pool, just its
    // instance numbers), by branch identity; by the template's name.
    std::map<std::string, net::AddressPool> templates_;
    // By template, by branch: the IKE SAs holding the branch's end of its block by mode config.
    std::map<std::string, std::map<std::string, unsigned>> block_leases_;
    Botan::AutoSeeded_RNG rng_;
    std::unique_ptr<tunnel::RawEspSocket> raw_esp_;    // created when a peer needs plain ESP
    std::unique_ptr<tunnel::UdpSocket> ike_socket_;    // port 500; IKE on 4500 arrives through the pump
    std::unique_ptr<boost::asio::posix::stream_descriptor> ike_readable_;
    boost::asio::steady_timer ike_timer_;
    boost::asio::steady_timer keepalive_timer_;
    boost::asio::steady_timer reap_timer_;            // deletes released TUNs in one batch
    boost::asio::steady_timer reannounce_timer_;      // the next tunnel whose addresses are announced again
    std::uint64_t keepalives_sent_ = 0;
    std::uint64_t ike_datagrams_ = 0;               // IKE read from the NAT-T control socket
    std::uint64_t natt_keepalives_ = 0;
    std::uint64_t natt_runt_drops_ = 0;             // shorter than the non-ESP marker, not a keepalive
    std::uint64_t natt_misrouted_drops_ = 0;        // ESP on the NAT-T control socket
    std::size_t next_spi_worker_ = 0;               // allocate_spi: round robin over the workers
    net::LogRateLimit ike_without_peers_log_;       // per-datagram lines, about one a second each
    net::LogRateLimit send_failure_log_;
    std::map<std::string, LeasePool> lease_pools_;     // by [mode-config] name
    std::map<std::string, std::map<std::string, std::vector<net::IpPrefix>>> leased_;   // peer -> identity -> addresses
    std::unique_ptr<ike::CryptoPool> crypto_pool_;  // the DH of IKE_SA_INIT we answer, on every core
    std::unique_ptr<ike::IkeEngine> ike_;
    std::unique_ptr<PeerNames> peer_names_;         // peers named by DNS; with IKE, goes before it
    std::unique_ptr<ControlServer> control_;
    ServiceNotify service_{io_};                    // READY, STATUS, WATCHDOG, STOPPING to systemd
    std::unique_ptr<metrics::MetricsServer> metrics_;   // [site] metrics-listen; last: goes first
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

} // namespace mesh::daemon
