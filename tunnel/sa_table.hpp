#pragma once
// The SA table, like the kernel's xfrm state database: the control thread
// installs and deletes SAs and tunnels; the data-plane threads read an
// immutable Snapshot that is replaced as a whole and published atomically,
// so an install or delete never stalls a packet (QuiescentState frees the
// old snapshot once no reader can hold it).

#include "tunnel/esp_sa.hpp"
#include "net/ip_address.hpp"
#include "tunnel/quiescent_state.hpp"

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

namespace mesh::tunnel {

using TunnelId = std::uint32_t;

enum class TunnelMode : std::uint8_t {
    gre,  // transport-mode ESP between the gateways, carrying GRE (next header 47)
    ip,   // tunnel-mode ESP carrying IPv4 (4) or IPv6 (41)
};

// Drops and events of a tunnel outside any one SA, written by the data plane.
struct TunnelCounters {
    // Written by the worker that reads the tunnel's TUN.
    Counter no_sa_drops;          // packets routed into the TUN while no outbound SA exists
    Counter not_ip_drops;         // read from the TUN but neither IPv4 nor IPv6
    Counter seal_drops;           // sealing failed (sequence exhausted, oversized)
    Counter send_errors;          // sendmmsg refused a datagram
    Counter mss_clamped;          // SYNs whose MSS was lowered
    Counter gso_packets;          // TSO/USO super-packets read from the TUN and cut into segments
    Counter offload_drops;        // super-packets that could not be cut, checksums that could not be completed
    // Written by the workers that open the tunnel's SAs.
    SharedCounter gre_drops;          // inbound: bad GRE header or payload protocol
    SharedCounter inner_drops;        // inbound: next header or inner protocol not allowed for the mode
    SharedCounter tun_write_errors;   // inbound: writing to the TUN failed (EIO while it is down)
    SharedCounter coalesced_packets;  // inbound: TCP/UDP super-packets written to the TUN (userspace GRO)
    SharedCounter coalesced_segments; // inbound: the segments and datagrams merged into them
};

// What the data plane needs to know of a tunnel.
struct TunnelPath {
    TunnelId id = 0;
    int tun_fd = -1;
    int tun_priority_fd = -1;     // the TUN's priority queue (tunnel/tun_steering.hpp), -1 when none
    int udp_fd = -1;
    TunnelMode mode = TunnelMode::gre;
    std::uint32_t mtu = 1400;
    bool mss_clamp = true;
    bool vnet_hdr = false;        // the TUN's reads and writes carry a VirtioNetHeader
    bool udp_gso = false;         // udp_fd is a UDP socket: datagrams may leave in UDP GSO sends
    sockaddr_storage peer{};
    socklen_t peer_length = 0;
    OutboundSa* outbound = nullptr;
    TunnelCounters* counters = nullptr;
};

struct InboundEntry {
    std::uint32_t spi;
    InboundSa* sa;
    const TunnelPath* tunnel;
};

class Snapshot {
public:
    [[nodiscard]] const TunnelPath* tunnel(TunnelId id) const noexcept;
    [[nodiscard]] const InboundEntry* inbound(std::uint32_t spi) const noexcept;

private:
    friend class SaTable;
    std::vector<TunnelPath> tunnels_;      // sorted by id
    std::vector<InboundEntry> inbound_;    // sorted by spi
    // Keeps every SA and counter block the pointers above refer to alive.
    std::vector<std::shared_ptr<const void>> owned_;
};

class SaTable {
public:
    struct TunnelSettings {
        int tun_fd = -1;
        int tun_priority_fd = -1;         // TunDevice::priority_fd()
        int udp_fd = -1;                  // the socket ESP leaves by: ESP-in-UDP, or a raw ESP socket
        TunnelMode mode = TunnelMode::gre;
        std::uint32_t mtu = 1400;
        bool mss_clamp = true;
        bool vnet_hdr = false;            // TunDevice::vnet_hdr()
        net::Endpoint peer;
        // Keeps the TUN and socket behind the fds open while a snapshot may name them.
        std::shared_ptr<const void> fd_owner;
    };
    // One CHILD SA, both directions: they are installed and removed
    // together, so the outbound half of an SA that stops sending (a duplicate
    // of the peer's, or one waiting for its Delete) is kept and can carry on
    // with its own sequence numbers. A new object for the same SA would start
    // them over, and with them the AEAD nonces.
    struct InstalledSa {
        std::shared_ptr<InboundSa> inbound;
        std::shared_ptr<OutboundSa> outbound;
        std::chrono::steady_clock::time_point installed_at;
    };
    // Counts of a tunnel's SAs, summed.
    struct SaTotals {
        std::uint64_t packets_in = 0, bytes_in = 0;
        std::uint64_t packets_out = 0, bytes_out = 0;
        std::uint64_t auth_drops = 0, replay_drops = 0, malformed_drops = 0;
    };
    struct TunnelState {
        TunnelSettings settings;
        std::shared_ptr<TunnelCounters> counters = std::make_shared<TunnelCounters>();
        std::vector<InstalledSa> sas;       // oldest first; several while a rekey overlaps
        std::uint32_t sending = 0;          // inbound SPI of the SA whose outbound half is in use; 0: none
        SaTotals retired;                   // what the SAs it no longer has counted
        bool udp_gso = false;               // settings.udp_fd is UDP: asked once, not at every publish
        [[nodiscard]] const InstalledSa* sending_sa() const noexcept;
        // Everything its SAs ever counted (metrics): the retired ones' and the
        // current ones', so the totals never go back when a rekey removes an SA.
        [[nodiscard]] SaTotals totals() const noexcept;
    };

    SaTable();
    ~SaTable();

    // Control thread only.
    void add_tunnel(TunnelId id, const TunnelSettings& settings);
    void remove_tunnel(TunnelId id);
    // Several with one publish: a publish copies every tunnel, so removing
    // a thousand one by one is quadratic.
    void remove_tunnels(std::span<const TunnelId> ids);
    // Where the tunnel's ESP goes and through which socket (UDP or raw ESP).
    void set_peer(TunnelId id, const net::Endpoint& peer, int send_fd);
    // Throws std::invalid_argument if the inbound SPI is installed already.
    // send: the tunnel's ESP leaves on this SA's outbound half from now on.
    void install(TunnelId id, InstalledSa sa, bool send);
    // The tunnel's ESP leaves on the outbound half of the SA with this inbound
    // SPI; throws std::invalid_argument if the tunnel has no such SA.
    void send_on(TunnelId id, std::uint32_t inbound_spi);
    // Removes the SA with this inbound SPI. When it was the one sending, the
    // newest SA left takes over, so the tunnel sends as long as it has one.
    void remove(std::uint32_t inbound_spi);
    [[nodiscard]] const std::map<TunnelId, TunnelState>& tunnels() const noexcept { return tunnels_; }
    QuiescentState& quiescent_state() noexcept { return quiescent_; }
    // Frees retired snapshots no reader can hold; call now and then.
    void reclaim() { quiescent_.reclaim(); }

    // Data-plane threads: valid until the reader's next quiescent point.
    // seq_cst, which costs what acquire does on x86 and ARMv8: QuiescentState::Reader::online() says why.
    [[nodiscard]] const Snapshot* snapshot() const noexcept { return current_.load(std::memory_order_seq_cst); }

private:
    void publish();

    std::map<TunnelId, TunnelState> tunnels_;
    QuiescentState quiescent_;
    std::shared_ptr<const Snapshot> current_owner_;
    std::atomic<const Snapshot*> current_{nullptr};
};

} // namespace mesh::tunnel
