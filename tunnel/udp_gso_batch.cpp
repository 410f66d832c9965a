#include "tunnel/udp_gso_batch.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

namespace mesh::tunnel {

UdpGsoBatch::UdpGsoBatch() : arena_(std::make_unique<std::uint8_t[]>(arena_bytes)) {}

std::span<std::uint8_t> UdpGsoBatch::prepare(std::size_t max_bytes) noexcept
{
    if (run_count_ == max_messages || arena_bytes - used_ < max_bytes) [[unlikely]]
        return {};
    return {arena_.get() + used_, max_bytes};
}

void UdpGsoBatch::commit(std::size_t bytes, std::uint8_t dscp) noexcept
{
    if (segmentation_ && run_count_ > 0) {
        Run& run = runs_[run_count_ - 1];
        if (!run.closed && bytes <= run.segment && run.count < udp_gso_max_segments &&
            run.bytes + bytes <= udp_gso_max_bytes && dscp == run.dscp) {
            run.bytes += bytes;
            ++run.count;
            run.closed = bytes < run.segment;
            used_ += bytes;
            return;
        }
    }
    runs_[run_count_++] = {used_, bytes, static_cast<std::uint16_t>(bytes), 1, dscp, false};
    used_ += bytes;
}

void UdpGsoBatch::build_header(msghdr& header, iovec& data, Control& control, const sockaddr_storage& to,
                               socklen_t to_length, std::uint16_t segment, std::uint8_t dscp) noexcept
{
    header = {};
    header.msg_name = const_cast<sockaddr_storage*>(&to);
    header.msg_namelen = to_length;
    header.msg_iov = &data;
    header.msg_iovlen = 1;
    if (segment == 0 && dscp == 0)
        return;
    // Laid out by offset, not CMSG_NXTHDR, which reads the next header's
    // length: stale from this room's previous message.
    std::size_t used = 0;
    if (segment > 0) {
        auto* cmsg = reinterpret_cast<cmsghdr*>(control.data() + used);
        cmsg->cmsg_level = SOL_UDP;
        cmsg->cmsg_type = UDP_SEGMENT;
        cmsg->cmsg_len = CMSG_LEN(sizeof segment);
        std::memcpy(CMSG_DATA(cmsg), &segment, sizeof segment);
        used += CMSG_SPACE(sizeof segment);
    }
    if (dscp > 0) {
        // An IPv4 peer, also as an IPv4-mapped address on an IPv6 socket
        // (which the kernel sends as IPv4, reading SOL_IP's options), takes
        // IP_TOS; an IPv6 one IPV6_TCLASS.
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&to);
        const bool ipv4 = to.ss_family == AF_INET || IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr);
        const int traffic_class = dscp << 2;
        auto* cmsg = reinterpret_cast<cmsghdr*>(control.data() + used);
        cmsg->cmsg_level = ipv4 ? SOL_IP : SOL_IPV6;
        cmsg->cmsg_type = ipv4 ? IP_TOS : IPV6_TCLASS;
        cmsg->cmsg_len = CMSG_LEN(sizeof traffic_class);
        std::memcpy(CMSG_DATA(cmsg), &traffic_class, sizeof traffic_class);
        used += CMSG_SPACE(sizeof traffic_class);
    }
    header.msg_control = control.data();
    header.msg_controllen = used;
}

void UdpGsoBatch::build_message(std::size_t index, const sockaddr_storage& to, socklen_t to_length) noexcept
{
    const Run& run = runs_[index];
    iov_[index] = {arena_.get() + run.offset, run.bytes};
    build_header(headers_[index].msg_hdr, iov_[index], control_[index], to, to_length,
                 run.count > 1 ? run.segment : 0, run.dscp);
}

UdpGsoBatch::SendResult UdpGsoBatch::send(int fd, const sockaddr_storage& to, socklen_t to_length, int wait_ms) noexcept
{
    SendResult result;
    for (std::size_t i = 0; i < run_count_; ++i)
        build_message(i, to, to_length);
    std::size_t sent = 0;
    while (sent < run_count_) {
        const int n = ::sendmmsg(fd, &headers_[sent], static_cast<unsigned>(run_count_ - sent), 0);
        if (n > 0) [[likely]] {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EAGAIN || errno == ENOBUFS) {
            // Back-pressure instead of loss: wait for the socket buffer to drain.
            pollfd writable{fd, POLLOUT, 0};
            if (::poll(&writable, 1, wait_ms) > 0)
                continue;
            for (; sent < run_count_; ++sent)
                result.refused += runs_[sent].count;
            break;
        }
        // EIO: the route's device cannot checksum for us (udp_send_skb);
        // EINVAL: the socket may not segment. Either way one datagram at a time
        // still goes through, as everything after will.
        if ((errno == EIO || errno == EINVAL) && runs_[sent].count > 1) {
            segmentation_ = false;
            result.gso_refused = true;
            result.refused += send_singly(fd, runs_[sent], to, to_length);
            ++sent;
            continue;
        }
        // This message is refused (unreachable, too big): count it, send the rest.
        result.refused += runs_[sent].count;
        ++sent;
    }
    clear();
    return result;
}

std::size_t UdpGsoBatch::send_singly(int fd, const Run& run, const sockaddr_storage& to, socklen_t to_length) noexcept
{
    std::size_t refused = 0;
    for (std::size_t offset = 0; offset < run.bytes; offset += run.segment) {
        const std::size_t bytes = run.bytes - offset < run.segment ? run.bytes - offset : run.segment;
        msghdr header{};
        iovec data{arena_.get() + run.offset + offset, bytes};
        alignas(cmsghdr) Control control{};
        build_header(header, data, control, to, to_length, 0, run.dscp);
        if (::sendmsg(fd, &header, 0) < 0)
            ++refused;
    }
    return refused;
}

void UdpGsoBatch::clear() noexcept
{
    used_ = 0;
    run_count_ = 0;
}

bool is_udp_socket(int fd) noexcept
{
    int protocol = 0;
    socklen_t length = sizeof protocol;
    return ::getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &length) == 0 && protocol == IPPROTO_UDP;
}

} // namespace mesh::tunnel
