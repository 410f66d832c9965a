// The daemon's side of IKE: the port-500 socket, the engine's clock, and the
// ike::IkeHost calls that turn negotiated CHILD SAs into data-plane SAs and
// tunnel link state.

#include "tools/daemon/daemon.hpp"

#include "tools/daemon/ike_policy.hpp"
#include "net/log_context.hpp"
#include "tools/log/log.hpp"
#include "net/byte_order.hpp"
#include "tunnel/mtu.hpp"
#include "tunnel/udp_socket.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ranges>

namespace mesh::daemon {

namespace asio = boost::asio;

void Daemon::start_ike()
{
    auto peers = ike_peers(config_, [this](const config::Peer& peer) { return kernel_source(peer); });
    if (peers.empty())
        return;
    // The constructor bound ike_socket_ before any TUN (tools/daemon/listen_guard.hpp).
    const net::Endpoint ike_local{config_.site.listen.value_or(net::IpAddress{}), config_.site.ike_port};
    ike_readable_ = std::make_unique<asio::posix::stream_descriptor>(io_, ::dup(ike_socket_->fd()));
    ike::IkeHost& host = *this;
    ike::IkeLimits limits;
    limits.cookie_threshold = config_.site.ike_cookie_threshold;
    limits.max_half_open = config_.site.ike_max_half_open;
    crypto_pool_ = std::make_unique<ike::CryptoPool>(io_);
    ike_ = std::make_unique<ike::IkeEngine>(host, std::move(peers), ike_local, socket_->local(), rng_, limits,
                                            crypto_pool_.get());
    log::ike()->info("IKE listening on {} and {} ({} threads for DH)", ike_local.to_string(),
                     socket_->local().to_string(), crypto_pool_->threads());
    ike_->start(std::chrono::steady_clock::now());
    start_peer_names();
    watch_ike_socket(false);
    schedule_ike_tick();
    schedule_keepalives();
}

net::IpAddress Daemon::kernel_source(const config::Peer& peer) const
{
    // Without a route yet the kernel picks the source when it sends.
    const auto path = tunnel::probe_path({peer.address.address(), config_.site.ike_port});
    return path ? path->local : config_.site.listen.value_or(net::IpAddress{});
}

void Daemon::watch_ike_socket(bool natt)
{
    auto& readable = natt ? *natt_readable_ : *ike_readable_;
    readable.async_wait(asio::posix::stream_descriptor::wait_read, [this, natt](const boost::system::error_code& error) {
        if (error)
            return;
        read_ike_socket(natt);
        watch_ike_socket(natt);
    });
}

void Daemon::read_ike_socket(bool natt)
{
    // A burst waits in the socket's buffer, not here: a bounded share per
    // wake-up leaves the timers and the control socket their turn.
    constexpr int reads_per_wake = 64;
    tunnel::UdpSocket& socket = natt ? *socket_ : *ike_socket_;
    std::array<std::uint8_t, 65536> buffer;
    alignas(cmsghdr) std::array<std::uint8_t, tunnel::destination_control_bytes> control;
    for (int i = 0; i < reads_per_wake; ++i) {
        sockaddr_storage from{};
        iovec iov{buffer.data(), buffer.size()};
        msghdr header{};
        header.msg_name = &from;
        header.msg_namelen = sizeof from;
        header.msg_iov = &iov;
        header.msg_iovlen = 1;
        header.msg_control = control.data();
        header.msg_controllen = control.size();
        const auto n = ::recvmsg(socket.fd(), &header, MSG_DONTWAIT);
        if (n < 0)
            break;
        const auto to = read_ike_control(header);
        std::span<const std::uint8_t> message(buffer.data(), static_cast<std::size_t>(n));
        if (natt) {
            // RFC 3948 section 2.2; ESP comes here only behind IKE in one GRO read.
            if (message.size() == 1 && message[0] == 0xff) {
                ++natt_keepalives_;
                continue;
            }
            if (message.size() < 4) {
                ++natt_runt_drops_;
                continue;
            }
            if (net::load_be32(message.data()) != 0) {
                ++natt_misrouted_drops_;
                continue;
            }
            message = message.subspan(4);
            ++ike_datagrams_;
        }
        const socklen_t from_length = header.msg_namelen;
        const auto remote = net::Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&from), from_length);
        if (!remote)
            continue;
        if (ike_)
            ike_->on_datagram(ike_local(to, socket.local().port, *remote), *remote, message,
                              std::chrono::steady_clock::now());
        else if (const auto allowed = ike_without_peers_log_.admit(std::chrono::steady_clock::now()))
            log::ike()->debug("IKE message of {} bytes from {} ignored: no IKE peer configured{}", message.size(),
                              remote->to_string(), allowed->note());
    }
}

namespace {

// A fifth of the smallest dpd-interval, between 10 and 50 ms: a liveness
// check goes out at most that late, and a site whose profiles keep the
// default 30 s wakes up 20 times a second, not 100.
std::chrono::milliseconds ike_tick_interval(const config::Config& config)
{
    auto tick = std::chrono::milliseconds(50);
    for (const auto& profile : config.profiles | std::views::values)
        if (profile.dpd_interval.count() > 0)
            tick = std::min(tick, std::chrono::duration_cast<std::chrono::milliseconds>(profile.dpd_interval / 5));
    return std::max(tick, std::chrono::milliseconds(10));
}

} // namespace

void Daemon::schedule_ike_tick()
{
    ike_timer_.expires_after(ike_tick_interval(config_));
    ike_timer_.async_wait([this](const boost::system::error_code& error) {
        if (error)
            return;
        ike_->on_tick(std::chrono::steady_clock::now());
        schedule_ike_tick();
    });
}

void Daemon::send(const net::Endpoint& local, const net::Endpoint& remote, std::span<const std::uint8_t> message)
{
    const bool natt = local.port == socket_->local().port;
    // RFC 3948 section 2.2: on the NAT-T port IKE is told from ESP by four zero bytes.
    static constexpr std::array<std::uint8_t, 4> non_esp_marker{};
    std::array<iovec, 2> parts{iovec{const_cast<std::uint8_t*>(non_esp_marker.data()), non_esp_marker.size()},
                               iovec{const_cast<std::uint8_t*>(message.data()), message.size()}};
    socklen_t length = 0;
    auto to = remote.to_sockaddr(length);
    msghdr header{};
    header.msg_name = &to;
    header.msg_namelen = length;
    header.msg_iov = natt ? parts.data() : parts.data() + 1;
    header.msg_iovlen = natt ? 2 : 1;
    const tunnel::UdpSocket& socket = natt ? *socket_ : *ike_socket_;
    // Section 2.11: an answer leaves from the address its request came to,
    // which a socket bound to any address does not choose by itself; without
    // it a NAT in front of the peer would drop it. An address no longer ours
    // (EINVAL): the kernel's choice.
    alignas(cmsghdr) std::array<std::uint8_t, tunnel::destination_control_bytes> control;
    tunnel::set_source_address(header, control, socket, local.address);
    auto sent = ::sendmsg(socket.fd(), &header, 0);
    if (sent < 0 && header.msg_control != nullptr && (errno == EINVAL || errno == EADDRNOTAVAIL)) {
        header.msg_control = nullptr;
        header.msg_controllen = 0;
        sent = ::sendmsg(socket.fd(), &header, 0);
    }
    if (sent < 0) {
        const int error = errno;
        if (const auto allowed = send_failure_log_.admit(std::chrono::steady_clock::now()))
            log::ike()->debug("sending to {} failed: {}{}", remote.to_string(), std::strerror(error), allowed->note());
    }
}

std::optional<net::IpAddress> Daemon::read_ike_control(msghdr& header)
{
    std::optional<net::IpAddress> to;
    for (cmsghdr* cmsg = CMSG_FIRSTHDR(&header); cmsg != nullptr; cmsg = CMSG_NXTHDR(&header, cmsg))
        if (const auto destination = tunnel::destination_address(*cmsg))
            to = destination;
    return to;
}

net::Endpoint Daemon::ike_local(const std::optional<net::IpAddress>& to, std::uint16_t port,
                                const net::Endpoint& remote) const
{
    if (to && !to->is_unspecified())
        return {*to, port};
    const auto listen = config_.site.listen.value_or(net::IpAddress{});
    if (!listen.is_unspecified())
        return {listen, port};
    const auto path = tunnel::probe_path(remote);
    return {path ? path->local : listen, port};
}

std::uint32_t Daemon::allocate_spi()
{
    for (;;) {
        std::uint32_t spi = 0;
        rng_.randomize(reinterpret_cast<std::uint8_t*>(&spi), sizeof spi);
        // The SPI picks the worker that opens the SA (tunnel/spi_steering.hpp):
        // new SAs go to the workers in turn.
        const auto workers = static_cast<std::uint32_t>(pump_->workers());
        spi = spi - spi % workers + static_cast<std::uint32_t>(next_spi_worker_);
        if (spi < 256)
            continue;   // RFC 4303 section 2.1: 1-255 are reserved
        if (table_.snapshot()->inbound(spi) == nullptr) {
            next_spi_worker_ = (next_spi_worker_ + 1) % workers;
            return spi;
        }
    }
}

Daemon::Tunnel* Daemon::find_tunnel(const std::string& name)
{
    const auto it = std::find_if(tunnels_.begin(), tunnels_.end(),
                                 [&](const Tunnel& t) { return t.name == name; });
    return it == tunnels_.end() ? nullptr : &*it;
}

Daemon::Tunnel* Daemon::tunnel_of(const std::string& name, std::uint32_t inbound_spi)
{
    if (const tunnel::InboundEntry* entry = table_.snapshot()->inbound(inbound_spi)) {
        const auto id = entry->tunnel->id;
        const auto it = std::find_if(tunnels_.begin(), tunnels_.end(), [&](const Tunnel& t) { return t.id == id; });
        if (it != tunnels_.end())
            return &*it;
    }
    return find_tunnel(name);
}

bool Daemon::install_child(const ike::ChildSaInstall& child)
{
    Tunnel* tunnel = child.branch ? instance_for(child) : find_tunnel(child.tunnel);
    if (tunnel == nullptr)
        return false;
    const auto scope = net::LogScope::tunnel(tunnel->config->name, tunnel->config->peer);
    try {
        // The responder of a rekey sends on the new SA only once the old one is deleted (use_outbound).
        if (child.use_outbound)
            direct_esp(*tunnel, child.remote, child.udp_encapsulation);
        table_.install(tunnel->id,
                       {std::make_shared<tunnel::InboundSa>(child.inbound),
                        std::make_shared<tunnel::OutboundSa>(child.outbound), {}},
                       child.use_outbound);
    } catch (const std::exception& error) {
        log::esp()->error("tunnel {}: installing the CHILD SA failed: {}", tunnel->name, error.what());
        if (tunnel->branch && table_.tunnels().at(tunnel->id).sas.empty())
            remove_instance(*tunnel);
        return false;
    }
    tunnel->rekeys += child.rekeys_spi_in != 0 ? 1 : 0;
    if (child.use_outbound && !tunnel->up)
        set_tunnel_up(*tunnel, true);
    return true;
}

void Daemon::use_outbound(const std::string& name, std::uint32_t inbound_spi, const net::Endpoint& remote,
                          bool udp_encapsulation)
{
    Tunnel* tunnel = tunnel_of(name, inbound_spi);
    if (tunnel == nullptr)
        return;
    const auto scope = net::LogScope::tunnel(tunnel->config->name, tunnel->config->peer);
    try {
        direct_esp(*tunnel, remote, udp_encapsulation);
        table_.send_on(tunnel->id, inbound_spi);
    } catch (const std::exception& error) {
        log::esp()->error("tunnel {}: sending on the SA with inbound SPI 0x{:08x} failed: {}", tunnel->name, inbound_spi,
                          error.what());
        return;
    }
    if (!tunnel->up)
        set_tunnel_up(*tunnel, true);
}

void Daemon::direct_esp(Tunnel& tunnel, const net::Endpoint& remote, bool udp_encapsulation)
{
    int send_fd = socket_->fd();
    if (!udp_encapsulation) {
        if (!raw_esp_) {
            raw_esp_ = std::make_unique<tunnel::RawEspSocket>(tunnel.local);
            pump_->watch_raw_esp(raw_esp_->fd());
        }
        send_fd = raw_esp_->fd();
    }
    table_.set_peer(tunnel.id, remote, send_fd);
    tunnel.peer = remote;
    tunnel.udp_encapsulation = udp_encapsulation;
}

void Daemon::delete_child(const std::string& name, std::uint32_t inbound_spi)
{
    Tunnel* tunnel = tunnel_of(name, inbound_spi);
    if (tunnel == nullptr)
        return;
    // The old SA of a rekey, or the duplicate of a simultaneous start, goes
    // while another SA of the tunnel sends: the tunnel stays up. Only the
    // last SA takes it down, and an instance of a template away.
    table_.remove(inbound_spi);
    if (!table_.tunnels().at(tunnel->id).sas.empty())
        return;
    if (tunnel->branch)
        remove_instance(*tunnel);
    else if (tunnel->up)
        set_tunnel_up(*tunnel, false);
}

std::uint64_t Daemon::inbound_packets(std::uint32_t inbound_spi) const
{
    const tunnel::InboundEntry* entry = table_.snapshot()->inbound(inbound_spi);
    return entry == nullptr ? 0 : entry->sa->counters().packets.get();
}

std::uint64_t Daemon::child_bytes(std::uint32_t inbound_spi) const
{
    for (const auto& [id, state] : table_.tunnels())
        for (const auto& sa : state.sas)
            if (sa.inbound->spi() == inbound_spi)
                return sa.inbound->counters().bytes.get() + sa.outbound->counters().bytes.get();
    return 0;
}

std::uint32_t Daemon::path_mtu(const net::Endpoint& remote) const
{
    const auto path = tunnel::probe_path(remote);
    return path ? path->mtu : tunnel::default_path_mtu;
}

nlohmann::json Daemon::rekey(const std::string& what)
{
    const auto space = what.find(' ');
    const std::string kind = what.substr(0, space);
    const std::string peer = space == std::string::npos ? std::string{} : what.substr(space + 1);
    if (kind != "ike" && kind != "child")
        return {{"error", "rekey what? '" + kind + "' (ike or child)"}};
    if (!ike_)
        return {{"error", "no IKE peers: this daemon runs static SAs only"}};
    const auto now = std::chrono::steady_clock::now();
    std::size_t count = 0;
    for (const auto& sa : ike_->status(now)) {
        if (sa.peer != peer || sa.state != ike::IkeState::established)
            continue;
        if (kind == "ike") {
            ++count;
            continue;
        }
        for (const auto& child : sa.child_sas) {
            ike_->rekey_child(child.spi_in, now);
            ++count;
        }
    }
    if (count == 0)
        return {{"error", "no established " + std::string(kind == "ike" ? "IKE SA" : "CHILD SA") + " with peer '" +
                              peer + "'"}};
    if (kind == "ike")
        ike_->rekey_ike(peer, now);
    const auto scope = net::LogScope::peer(peer);
    log::ike()->info("{}: rekeying {} {} on the operator's request", peer, count, kind == "ike" ? "IKE SA(s)" : "CHILD SA(s)");
    return {{"peer", peer}, {"rekeying", kind == "ike" ? "ike-sa" : "child-sa"}, {"count", count}};
}

} // namespace mesh::daemon
