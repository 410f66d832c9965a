#pragma once
// The daemon: one control thread (Boost.Asio) that owns the configuration,
// the SA table, the tunnels' interfaces and routes, and the control socket;
// the data plane runs on the PacketPump's own threads.

#include "ike/crypto_pool.hpp"
#include "ike/ike_engine.hpp"
#include "net/log_rate_limit.hpp"
#include "routing/kernel_route_sink.hpp"
#include "routing/route_monitor.hpp"
#include "routing/route_set.hpp"
#include "routing/route_sink.hpp"
#include "tools/config/config.hpp"
#include "tools/daemon/control_request.hpp"
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
#include <memory>
#include <vector>

namespace mesh::daemon {

class ControlServer;

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

private:
    struct Tunnel {
        const config::Tunnel* config = nullptr;
        tunnel::TunnelId id = 0;
        std::shared_ptr<tunnel::TunDevice> device;
        net::Endpoint peer;
        net::IpAddress local;
        std::uint32_t mtu = 0;
        bool up = false;
        bool udp_encapsulation = true;
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
    void move_child(const std::string& tunnel, const net::Endpoint& remote) override;

    // daemon_nat.cpp: NAT keepalives and following a peer whose NAT mapping moved.
    void follow_peer(tunnel::TunnelId id, std::uint32_t inbound_spi, const net::Endpoint& from);
    void move_tunnel(Tunnel& tunnel, const net::Endpoint& remote);
    void schedule_keepalives();
    void send_keepalives();

    void start_ike();
    void watch_ike_socket();
    // The port-500 socket's kernel drops, noted from a read's control
    // messages, and the address of ours the datagram was sent to.
    std::optional<net::IpAddress> read_ike_control(msghdr& header);
    // Where an IKE datagram from `remote` arrived: `to` (IP_PKTINFO), else
    // the address we listen on, else the source the route to the peer takes.
    // NAT detection hashes it (RFC 7296 section 2.23), so never 0.0.0.0.
    [[nodiscard]] net::Endpoint ike_local(const std::optional<net::IpAddress>& to, std::uint16_t port,
                                          const net::Endpoint& remote) const;
    void schedule_ike_tick();
    Tunnel* find_tunnel(const std::string& name);
    // The tunnel's ESP goes to `remote` from now on, in UDP or as plain ESP; throws std::system_error.
    void direct_esp(Tunnel& tunnel, const net::Endpoint& remote, bool udp_encapsulation);
    void start_tunnel(const config::Tunnel& config, tunnel::TunnelId id);
    void install_static_sas(Tunnel& tunnel);
    void set_tunnel_up(Tunnel& tunnel, bool up);
    // Tells the route sink what the tunnel owns now and whether it is up.
    void update_routes(const Tunnel& tunnel);
    void stop_tunnels();
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
    std::unique_ptr<tunnel::UdpSocket> socket_;
    std::vector<Tunnel> tunnels_;
    Botan::AutoSeeded_RNG rng_;
    std::unique_ptr<tunnel::RawEspSocket> raw_esp_;    // created when a peer needs plain ESP
    std::unique_ptr<tunnel::UdpSocket> ike_socket_;    // port 500; IKE on 4500 arrives through the pump
    std::unique_ptr<boost::asio::posix::stream_descriptor> ike_readable_;
    boost::asio::steady_timer ike_timer_;
    boost::asio::steady_timer keepalive_timer_;
    boost::asio::steady_timer reap_timer_;            // deletes released TUNs in one batch
    std::uint64_t keepalives_sent_ = 0;
    std::uint32_t ike_kernel_drops_ = 0;            // SO_RXQ_OVFL total of the port-500 socket
    net::LogRateLimit ike_without_peers_log_;       // per-datagram lines, about one a second each
    net::LogRateLimit send_failure_log_;
    std::unique_ptr<ike::CryptoPool> crypto_pool_;  // the DH of IKE_SA_INIT we answer, on every core
    std::unique_ptr<ike::IkeEngine> ike_;
    std::unique_ptr<ControlServer> control_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

} // namespace mesh::daemon
