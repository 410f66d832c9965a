#include "tunnel/spi_steering.hpp"

#include <linux/filter.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace mesh::tunnel {

namespace {

// The program sees the UDP payload from offset 0 and returns the index of
// the socket in the group: 0 the control socket, 1 + n worker n.
void attach_program(int fd, std::size_t workers)
{
    constexpr std::uint8_t to_control_from_1 = 5;   // jump distances to the last instruction
    constexpr std::uint8_t to_control_from_3 = 3;
    std::array<sock_filter, 8> code{{
        BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 4, 0, to_control_from_1),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 0),                         // the SPI, in host order
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, to_control_from_3, 0),  // the non-ESP marker
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, static_cast<std::uint32_t>(workers)),
        BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1),
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
    attach_program(sockets.control->fd(), workers);
    return sockets;
}

} // namespace mesh::tunnel
