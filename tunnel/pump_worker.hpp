#pragma once
// One data-plane worker thread: both directions for its share of the site.
//
//   its TUNs:    read (a TSO/USO super-packet: cut into segments |
//                NEEDS_CSUM: checksum completed) -> MSS clamp -> GRE encap
//                -> ESP seal in the send batch -> sendmmsg on its own UDP
//                socket with UDP GSO
//   its socket:  recvmmsg batch (UDP GRO: split) -> ESP by SPI -> open +
//                anti-replay -> GRE decap -> TCP/UDP coalescing -> write(TUN)
//
// A worker owns the outbound SAs of the tunnels whose TUN it reads (the
// sequence numbers have one writer) and opens the inbound SAs whose SPI the
// kernel steers to its socket (tunnel/spi_steering.hpp).

#include "net/file_descriptor.hpp"
#include "net/log_rate_limit.hpp"
#include "tunnel/deferred_tuns.hpp"
#include "tunnel/gro_coalescer.hpp"
#include "tunnel/packet_buffer.hpp"
#include "tunnel/pump_schedule.hpp"
#include "tunnel/sa_table.hpp"
#include "tunnel/spsc_ring.hpp"
#include "tunnel/traffic_class.hpp"
#include "tunnel/udp_gso_batch.hpp"
#include "tunnel/udp_socket.hpp"
#include "tunnel/virtio_net_header.hpp"
#include "tunnel/worker_priority.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <system_error>
#include <thread>

namespace mesh::tunnel {

inline constexpr std::size_t pump_batch = 64;

struct DataplaneEvent {
    enum class Kind : std::uint8_t {
        sequence_exhausted,  // an outbound SA can send no more: rekey it
        unknown_spi,         // ESP arrived for an SPI with no inbound SA (reported about once a second)
        peer_moved,          // authenticated ESP-in-UDP came from another address or port than the
                             // tunnel sends to: the peer's NAT mapping changed (RFC 7296 section 2.23)
    };
    Kind kind = Kind::unknown_spi;
    TunnelId tunnel = 0;
    std::uint32_t spi = 0;
    net::Endpoint from;
    net::LogRateLimit::Suppressed suppressed;   // unknown_spi: the drops not reported since the previous report
};

// Drops and events not tied to a tunnel, one block per worker (each written
// by its worker alone), summed when read.
struct PumpCounters {
    Counter runt_drops;          // datagrams too short to hold an ESP header
    Counter unknown_spi_drops;
    Counter keepalives;          // NAT-keepalive datagrams (a single 0xFF, RFC 3948 section 2.3)
    // IKE (the non-ESP marker) that reached a worker's socket rather than the
    // control socket: only a NIC's GRO can put it behind ESP of the same peer.
    Counter ike_misrouted_drops;
    // ESP for an SA another worker was opening at that very moment.
    Counter claim_drops;
    Counter receive_errors;
    Counter gro_datagrams;       // UDP GRO deliveries of several datagrams at once, split here
    Counter priority_datagrams;  // ESP the kernel steered to the worker's priority socket (tunnel/spi_steering.hpp)
    Counter realtime_demotions;  // drops to the normal policy, RealtimeBudget::realtime_share used in a window
    Counter deferred_wakeups;    // TUN bulk queues read empty whose next wake-up waited (tunnel/deferred_tuns.hpp)
};

using EventRing = SpscRing<DataplaneEvent, 64>;

class PumpWorker {
public:
    // Registers its QuiescentState reader; notify_fd is written when an event waits.
    PumpWorker(SaTable& table, int stop_fd, int notify_fd);
    ~PumpWorker();
    PumpWorker(const PumpWorker&) = delete;
    PumpWorker& operator=(const PumpWorker&) = delete;

    // Control thread; watch_udp before start(), the others also while the thread runs.
    // fd: its bulk socket in the NAT-T group, which its ESP-in-UDP leaves by;
    // priority_fd: its priority socket there (-1: none).
    void watch_udp(int fd, int priority_fd = -1);
    void watch_raw_esp(int fd);
    // fd: the TUN's bulk queue; priority_fd: its priority queue (-1: none).
    void watch_tun(TunnelId id, int fd, int priority_fd);
    void unwatch_tun(int fd);
    // Returns once the thread runs: at real-time priority if asked and
    // allowed, else at normal priority and the reason real time was refused.
    [[nodiscard]] std::error_code start(WorkerPriority priority);
    void join();

    [[nodiscard]] const PumpCounters& counters() const noexcept { return counters_; }
    [[nodiscard]] WorkerScheduling scheduling() const noexcept { return scheduling_.load(std::memory_order_relaxed); }
    // Consumer side, control thread only: front() then release().
    EventRing& events() noexcept { return events_; }

private:
    struct ReadHeaders {
        // UDP_GRO's segment size, and room for the destination address every
        // UdpSocket reports (unused here), so that nothing is truncated.
        using Control = std::array<std::uint8_t, CMSG_SPACE(sizeof(int)) + destination_control_bytes>;
        std::array<mmsghdr, pump_batch> messages{};
        std::array<iovec, pump_batch> iov{};
        std::array<sockaddr_storage, pump_batch> names{};
        alignas(cmsghdr) std::array<Control, pump_batch> controls{};
    };
    struct Batch : ReadHeaders {
        std::array<PacketBuffer, pump_batch> buffers;
    };
    // The priority socket's reads, each at most priority_esp_bytes (what the
    // steering program sends there), GRO or not: its own, so that it can be
    // read in the middle of a bulk batch.
    struct PriorityBatch : ReadHeaders {
        std::array<std::array<std::uint8_t, 512>, pump_batch> buffers{};
    };

    std::error_code schedule(WorkerPriority priority) noexcept;
    void run();
    // epoll_wait into events (until the deferred TUNs fall due, if any),
    // then the real-time budget (if any) kept; returns how many it reported.
    int wait(std::span<epoll_event> events) noexcept;
    void apply(RealtimeBudget::Change change) noexcept;
    // After a turn that epoll's report of the bulk queue (tagged data) began:
    // that queue deferred (a lone tunnel's, read empty, at real time, with a
    // priority queue beside it for what must not wait) or armed again at once.
    void rearm_bulk(const TunnelPath& path, std::uint64_t data, bool lone_and_drained) noexcept;
    // outbound_path.cpp; returns whether the turn read the bulk queue empty.
    bool outbound_batch(const Snapshot& snapshot, const TunnelPath& path, std::size_t ready_tunnels);
    // Packets of one TUN queue (fd -1: none) into the send batch, until the
    // queue runs dry (returns true) or the budget is spent (false).
    // steered: the class the kernel's steering program gave what fd holds;
    // nullopt for a one-queue TUN, whose packets the pump classifies itself.
    bool read_tun(const TunnelPath& path, int fd, TurnBudget& budget, std::optional<TrafficClass> steered);
    void queue_outbound(const TunnelPath& path, std::span<std::uint8_t> packet, const VirtioNetHeader& header,
                        std::optional<TrafficClass> steered);
    template <class WriteInner>
    void seal_outbound(const TunnelPath& path, std::size_t inner_bytes, std::uint8_t version, std::uint8_t dscp,
                       WriteInner&& write_inner);
    void send_outbound(const TunnelPath& path);
    // inbound_path.cpp; return the datagrams (or GRO reads) received.
    std::size_t inbound_batch(const Snapshot& snapshot, int fd, bool raw_esp);
    // The priority socket's (none: 0); also every priority_check_bytes of a
    // bulk batch. What it reads is written to the TUN at once.
    std::size_t priority_batch(const Snapshot& snapshot);
    // recvmmsg into reads' headers, message i into room(i).
    template <class Room>
    static int receive(int fd, ReadHeaders& reads, Room&& room) noexcept;
    // Where ESP was read: a raw IP-protocol-50 socket, or ESP-in-UDP from the
    // bulk or the priority socket (whose packets skip classification and
    // are written to the TUN at once).
    enum class EspSource : std::uint8_t { raw_socket, udp_socket, priority_socket };
    // One UDP read: a datagram, or UDP GRO's several.
    void handle_read(const Snapshot& snapshot, std::span<std::uint8_t> bytes, msghdr& header,
                     const sockaddr_storage& from, EspSource source);
    void handle_datagram(const Snapshot& snapshot, std::span<std::uint8_t> datagram, const sockaddr_storage& from,
                         socklen_t from_length, EspSource source);
    void handle_esp(const Snapshot& snapshot, std::span<std::uint8_t> esp, const sockaddr_storage& from,
                    socklen_t from_length, EspSource source);
    void deliver(const TunnelPath& path, std::span<std::uint8_t> packet, TrafficClass traffic_class);
    void post(const DataplaneEvent& event) noexcept;

    SaTable& table_;
    net::FileDescriptor epoll_;
    int notify_fd_;
    int udp_fd_ = -1;    // its member of the NAT-T group; its ESP-in-UDP leaves by it too
    int priority_fd_ = -1;   // its priority socket there, read first
    std::thread thread_;
    QuiescentState::Reader& reader_;
    std::optional<RealtimeBudget> realtime_budget_;   // unset: normal priority
    DeferredTuns deferred_;
    std::atomic<WorkerScheduling> scheduling_{WorkerScheduling::normal};

    // Outbound.
    std::unique_ptr<PacketBuffer> read_;        // one TUN read, up to a 64 KiB super-packet
    std::unique_ptr<UdpGsoBatch> sends_;        // its segments, sealed, until sent
    bool udp_gso_ = true;                       // false once the kernel refused UDP GSO
    bool bulk_queued_ = false;                  // the send batch holds bulk datagrams
    std::uint32_t last_exhausted_spi_ = 0;

    // Inbound.
    std::unique_ptr<Batch> batch_;
    std::unique_ptr<PriorityBatch> priority_batch_;
    net::LogRateLimit unknown_spi_reports_;
    std::chrono::steady_clock::time_point last_peer_moved_report_{};
    GroCoalescer coalescer_;
    PumpCounters counters_;
    EventRing events_;
};

} // namespace mesh::tunnel
