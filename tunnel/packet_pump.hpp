#pragma once
// The data plane: two threads, each owning one direction.
//
//   outbound thread: epoll(TUNs) -> read (a TSO/USO super-packet: cut into
//                    segments | NEEDS_CSUM: checksum completed) -> MSS clamp
//                    -> GRE encap -> ESP seal in the send batch
//                    -> sendmmsg(UDP 4500) with UDP GSO
//   inbound thread:  epoll(UDP sockets) -> recvmmsg batch (UDP GRO: split)
//                    -> classify (keepalive | non-ESP marker: IKE | ESP by SPI)
//                    -> ESP open + anti-replay -> GRE decap
//                    -> TCP/UDP coalescing (userspace GRO) -> write(TUN)
//
// Both read the SA table's current Snapshot and never wait for the control
// thread; what the control thread must hear (IKE datagrams, events) goes
// through lock-free rings and wakes it through notify_fd().

#include "net/log_rate_limit.hpp"
#include "net/file_descriptor.hpp"
#include "tunnel/gro_coalescer.hpp"
#include "tunnel/packet_buffer.hpp"
#include "tunnel/sa_table.hpp"
#include "tunnel/spsc_ring.hpp"
#include "tunnel/udp_gso_batch.hpp"
#include "tunnel/udp_socket.hpp"
#include "tunnel/virtio_net_header.hpp"

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <cstdint>
#include <memory>
#include <thread>

namespace mesh::tunnel {

inline constexpr std::size_t pump_batch = 64;
inline constexpr std::size_t max_ike_datagram = 65535;

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

// An IKE message that arrived on the NAT-T port, the non-ESP marker removed.
struct IkeDatagram {
    net::Endpoint from;
    std::optional<net::IpAddress> to;   // the address of ours it was sent to (IP_PKTINFO), for NAT detection
    int udp_fd = -1;
    std::size_t size = 0;
    std::array<std::uint8_t, max_ike_datagram> bytes;
};

// Drops and events not tied to a tunnel; inbound thread only.
struct PumpCounters {
    Counter runt_drops;          // datagrams too short to hold an ESP header
    Counter unknown_spi_drops;
    Counter keepalives;          // NAT-keepalive datagrams (a single 0xFF, RFC 3948 section 2.3)
    Counter ike_datagrams;       // handed to the IKE side
    Counter ike_queue_drops;     // the IKE queue was full
    Counter receive_errors;
    Counter gro_datagrams;       // UDP GRO deliveries of several datagrams at once, split here
    // Datagrams the kernel dropped before the pump read them (a full receive
    // buffer, a bad checksum): the sockets' SO_RXQ_OVFL totals, known as of
    // the last datagram read.
    Counter udp_kernel_drops;
    Counter raw_esp_kernel_drops;
};

class PacketPump {
public:
    explicit PacketPump(SaTable& table);
    ~PacketPump();
    PacketPump(const PacketPump&) = delete;
    PacketPump& operator=(const PacketPump&) = delete;

    // Control thread; may be called while the threads run.
    // Also turns on UDP GRO for the socket: only the pump may read it then.
    void watch_udp(int fd);
    // A raw IP-protocol-50 socket (RawEspSocket): plain ESP, no UDP, no IKE.
    void watch_raw_esp(int fd);
    void watch_tun(TunnelId id, int fd);
    void unwatch_tun(int fd);
    void start();
    void stop();

    // Readable while events or IKE datagrams wait; read it to re-arm.
    [[nodiscard]] int notify_fd() const noexcept { return notify_.get(); }
    // Consumer side, control thread only: front() then release().
    SpscRing<DataplaneEvent, 64>& outbound_events() noexcept { return outbound_events_; }
    SpscRing<DataplaneEvent, 64>& inbound_events() noexcept { return inbound_events_; }
    SpscRing<IkeDatagram, 16>& ike_queue() noexcept { return ike_queue_; }
    [[nodiscard]] const PumpCounters& counters() const noexcept { return counters_; }

private:
    // The slot of the next socket watched, shifted into place for its epoll data.
    std::uint64_t next_slot();

    struct Batch {
        // UDP_GRO's segment size, SO_RXQ_OVFL's drop count and the destination address.
        using Control = std::array<std::uint8_t, CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(std::uint32_t)) +
                                                     destination_control_bytes>;
        std::array<PacketBuffer, pump_batch> buffers;
        std::array<mmsghdr, pump_batch> messages{};
        std::array<iovec, pump_batch> iov{};
        std::array<sockaddr_storage, pump_batch> names{};
        alignas(cmsghdr) std::array<Control, pump_batch> controls{};
    };

    void run_outbound();
    void run_inbound();
    // outbound_path.cpp
    void outbound_batch(const TunnelPath& path);
    void queue_outbound(const TunnelPath& path, std::span<std::uint8_t> packet, const VirtioNetHeader& header);
    template <class WriteInner>
    void seal_outbound(const TunnelPath& path, std::size_t inner_bytes, std::uint8_t version, WriteInner&& write_inner);
    void send_outbound(const TunnelPath& path);
    // inbound_path.cpp
    void inbound_batch(const Snapshot& snapshot, int fd, bool raw_esp, std::size_t slot);
    void handle_datagram(const Snapshot& snapshot, std::span<std::uint8_t> datagram, const sockaddr_storage& from,
                         socklen_t from_length, const std::optional<net::IpAddress>& to, int udp_fd);
    void handle_esp(const Snapshot& snapshot, std::span<std::uint8_t> esp, const sockaddr_storage& from,
                    socklen_t from_length, bool udp);
    void deliver(const TunnelPath& path, std::span<std::uint8_t> packet);
    void queue_ike(std::span<const std::uint8_t> message, const sockaddr_storage& from, socklen_t from_length,
                   const std::optional<net::IpAddress>& to, int udp_fd);
    void post(SpscRing<DataplaneEvent, 64>& ring, const DataplaneEvent& event) noexcept;
    void notify() noexcept;

    SaTable& table_;
    net::FileDescriptor outbound_epoll_;
    net::FileDescriptor inbound_epoll_;
    net::FileDescriptor stop_;
    net::FileDescriptor notify_;
    std::atomic<bool> stopping_{false};
    std::size_t sockets_watched_ = 0;   // control thread: the next socket's slot
    std::thread outbound_thread_;
    std::thread inbound_thread_;

    // Owned by the outbound thread.
    QuiescentState::Reader& outbound_reader_;
    std::unique_ptr<PacketBuffer> outbound_read_;   // one TUN read, up to a 64 KiB super-packet
    std::unique_ptr<UdpGsoBatch> outbound_sends_;   // its segments, sealed, until sent
    bool udp_gso_ = true;                           // false once the kernel refused UDP GSO
    std::uint32_t last_exhausted_spi_ = 0;

    // Owned by the inbound thread.
    QuiescentState::Reader& inbound_reader_;
    std::unique_ptr<Batch> inbound_batch_;
    net::LogRateLimit unknown_spi_reports_;
    // The last SO_RXQ_OVFL total of each watched socket, by the slot in its epoll data.
    static constexpr std::size_t max_sockets = 8;
    std::array<std::uint32_t, max_sockets> kernel_drops_seen_{};
    std::chrono::steady_clock::time_point last_peer_moved_report_{};
    GroCoalescer coalescer_;
    PumpCounters counters_;

    SpscRing<DataplaneEvent, 64> outbound_events_;
    SpscRing<DataplaneEvent, 64> inbound_events_;
    SpscRing<IkeDatagram, 16> ike_queue_;
};

} // namespace mesh::tunnel
