#pragma once
// A worker's send batch: ESP datagrams sealed end to end in one
// arena and handed to the kernel as few sendmmsg messages as UDP GSO allows.
//
//   arena:    [dgram 0][dgram 1] ... [dgram k][dgram k+1] ...
//   messages: \___ one message, UDP_SEGMENT = size of dgram 0 ___/\__ next
//
// A message (a "run") holds datagrams of one size, except that its last may
// be shorter (then it ends the run), at most udp_gso_max_segments of them and
// udp_gso_max_bytes in all: the rules of Linux's UDP_SEGMENT. The segments
// of one TSO super-packet share a size, so it leaves in one or two messages;
// runs of equal small packets (pure ACKs) merge too.
//
// Without segmentation (a raw ESP socket, or a kernel that refused GSO on
// this route) every datagram is a message of its own.
//
// Each datagram carries its inner packet's DSCP into the outer IP header
// (RFC 4301 section 5.1.2.1, as Linux's xfrm and strongSwan do by default;
// ECN stays not-ECT): a message has one, so a datagram of another DSCP
// starts the next, and DSCP 0 needs no control message.

#include "tunnel/offload_limits.hpp"

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace mesh::tunnel {

class UdpGsoBatch {
public:
    // Room for a few 64 KiB TSO super-packets cut and sealed.
    static constexpr std::size_t arena_bytes = 512 * 1024;
    static constexpr std::size_t max_messages = 128;

    struct SendResult {
        std::size_t refused = 0;    // datagrams the kernel did not take
        bool gso_refused = false;   // it refused UDP GSO: segmentation is off from now on
    };

    UdpGsoBatch();

    // Whether datagrams may share a message; only while the batch is empty.
    void set_segmentation(bool on) noexcept { segmentation_ = on; }
    [[nodiscard]] bool segmentation() const noexcept { return segmentation_; }

    // Room for the next datagram of at most max_bytes; empty when the batch
    // has no room left: send it, then ask again.
    [[nodiscard]] std::span<std::uint8_t> prepare(std::size_t max_bytes) noexcept;
    // The datagram written at the start of prepare()'s room is bytes long;
    // dscp: its inner packet's, for the outer header.
    void commit(std::size_t bytes, std::uint8_t dscp = 0) noexcept;
    // Nothing more joins the last message: the next datagram starts one. A
    // priority datagram goes alone, so that it reaches the peer short enough
    // for its priority socket (tunnel/spi_steering.hpp), not inside a GSO
    // train that a veth or the peer's GRO keeps whole.
    void close_message() noexcept
    {
        if (run_count_ > 0)
            runs_[run_count_ - 1].closed = true;
    }

    [[nodiscard]] bool empty() const noexcept { return run_count_ == 0; }
    [[nodiscard]] std::size_t messages() const noexcept { return run_count_; }

    // sendmmsg to `to`, waiting up to wait_ms for a full socket buffer to
    // drain; empties the batch.
    SendResult send(int fd, const sockaddr_storage& to, socklen_t to_length, int wait_ms) noexcept;

private:
    struct Run {
        std::size_t offset = 0;
        std::size_t bytes = 0;
        std::uint16_t segment = 0;  // the size of each datagram but the last
        std::uint16_t count = 0;
        std::uint8_t dscp = 0;
        bool closed = false;        // its last datagram was shorter: nothing may follow
    };
    // UDP_SEGMENT, then IP_TOS or IPV6_TCLASS.
    using Control = std::array<std::uint8_t, CMSG_SPACE(sizeof(std::uint16_t)) + CMSG_SPACE(sizeof(int))>;

    // The message's header for run: destination, data, and control messages
    // for its segment size (segment > 0) and DSCP.
    static void build_header(msghdr& header, iovec& data, Control& control, const sockaddr_storage& to,
                             socklen_t to_length, std::uint16_t segment, std::uint8_t dscp) noexcept;
    void build_message(std::size_t index, const sockaddr_storage& to, socklen_t to_length) noexcept;
    std::size_t send_singly(int fd, const Run& run, const sockaddr_storage& to, socklen_t to_length) noexcept;
    void clear() noexcept;

    bool segmentation_ = true;
    std::size_t used_ = 0;
    std::size_t run_count_ = 0;
    std::array<Run, max_messages> runs_{};
    std::array<mmsghdr, max_messages> headers_{};
    std::array<iovec, max_messages> iov_{};
    alignas(cmsghdr) std::array<Control, max_messages> control_{};
    std::unique_ptr<std::uint8_t[]> arena_;
};

// Whether datagrams sent on fd may use UDP GSO: it is a UDP socket (a raw ESP
// socket is not).
[[nodiscard]] bool is_udp_socket(int fd) noexcept;

} // namespace mesh::tunnel
