#include "tunnel/spi_steering.hpp"

#include "tunnel/replay_window.hpp"

#include <linux/filter.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace mesh::tunnel {

namespace {

// RFC 4301 section 4.1: classes within one SA reorder it against the
// anti-replay window, which takes a datagram only while fewer than
// ReplayWindow::size newer ones of its SA were opened. A priority datagram
// overtakes at most the bulk queued in its worker's bulk socket (both share
// every queue before it), which holds fewer: the kernel charges each datagram
// at least its length, bulk data is of the path's MTU, at least 1280 - 48
// bytes of ESP (IPv6's minimum MTU less IPv6 and UDP headers), the buffer is
// twice what SO_RCVBUF is given, and the last datagram it takes past that
// brings at most one GRO super-packet.
constexpr std::size_t min_bulk_esp_bytes = 1280 - 48;
static_assert(2 * static_cast<std::size_t>(socket_buffer_bytes) / min_bulk_esp_bytes + max_gro_segments <
              ReplayWindow::size);

// The program sees the UDP payload from offset 0 and returns the index of
// the socket in the group: 0 the control socket, 1 + n worker n's bulk
// socket, 1 + workers + n its priority socket.
void attach_program(int fd, std::size_t workers)
{
    const auto n = static_cast<std::uint32_t>(workers);
    constexpr std::uint8_t to_control_from_1 = 8;   // jump distances to the last instruction
    constexpr std::uint8_t to_control_from_6 = 3;
    std::array<sock_filter, 11> code{{
        BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 4, 0, to_control_from_1),
        BPF_STMT(BPF_LDX | BPF_W | BPF_IMM, 1 + n),                    // the priority sockets' first index
        BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, static_cast<std::uint32_t>(priority_esp_bytes), 0, 1),
        BPF_STMT(BPF_LDX | BPF_W | BPF_IMM, 1),                        // longer: the bulk sockets'
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),                         // the SPI, in host order
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, to_control_from_6, 0),  // the non-ESP marker
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),
        BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0),
        BPF_STMT(BPF_RET | BPF_A, 0),
        BPF_STMT(BPF_RET | BPF_K, 0),
    }};
    const sock_fprog program{static_cast<unsigned short>(code.size()), code.data()};
    if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program, sizeof program) < 0)
        throw std::system_error(errno, std::generic_category(), "SO_ATTACH_REUSEPORT_CBPF");
}

} // namespace

SteeredSockets bind_steered(const net::Endpoint& local, std::size_t workers)
{
    if (workers == 0 || workers > max_workers)
        throw std::invalid_argument("1 to 64 workers");
    SteeredSockets sockets;
    sockets.control = std::make_unique<UdpSocket>(local, true);
    const net::Endpoint bound{local.address, sockets.control->local().port};
    for (std::size_t i = 0; i < workers; ++i)
        sockets.workers.push_back(std::make_unique<UdpSocket>(bound, true));
    for (std::size_t i = 0; i < workers; ++i)
        sockets.priority.push_back(std::make_unique<UdpSocket>(bound, true));
    attach_program(sockets.control->fd(), workers);
    return sockets;
}

} // namespace mesh::tunnel
