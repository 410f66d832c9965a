#include "tunnel/tun_device.hpp"

#include "net/link.hpp"
#include "net/os_error.hpp"
#include "tunnel/tun_steering.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace mesh::tunnel {

namespace {
// Linux 6.2's USO flags, newer than Debian 12's <linux/if_tun.h>.
constexpr unsigned tun_f_uso4 = 0x20;
constexpr unsigned tun_f_uso6 = 0x40;
constexpr unsigned tun_offloads_tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

[[noreturn]] void throw_errno(const std::string& what)
{
    net::throw_os_error(what);
}

// What if_nametoindex(3) does, but when its socket cannot be had (EMFILE)
// it says so: if_nametoindex then reports "No such file or directory".
int interface_index(const std::string& name)
{
    const net::FileDescriptor fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd)
        throw_errno("finding interface " + name + ": socket");
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    if (::ioctl(fd.get(), SIOCGIFINDEX, &ifr) < 0)
        throw_errno("finding interface " + name);
    return ifr.ifr_ifindex;
}

// One queue of the interface; an empty descriptor when TUNSETIFF refuses
// (errno says why).
net::FileDescriptor open_queue(const std::string& name, short flags)
{
    net::FileDescriptor fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd)
        throw_errno("opening /dev/net/tun for " + name);
    ifreq ifr{};
    ifr.ifr_flags = flags;
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0)
        return net::FileDescriptor();
    return fd;
}

} // namespace

TunDevice::TunDevice(const std::string& name) : name_(name)
{
    if (name.empty() || name.size() >= IFNAMSIZ)
        throw std::invalid_argument("interface name '" + name + "' must have 1 to 15 characters");
    constexpr short flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
    // Two queues where the kernel takes them (tunnel/tun_steering.hpp); an
    // existing single-queue interface refuses IFF_MULTI_QUEUE (EINVAL).
    fd_ = open_queue(name, flags | IFF_MULTI_QUEUE);
    if (!fd_) {
        fd_ = open_queue(name, flags);
        if (!fd_)
            throw_errno("creating TUN interface " + name);
        priority_queue_error_ = "the interface exists with one queue (delete it to get two)";
    } else {
        const auto fail = [&](const char* step) {
            priority_queue_error_ = std::string(step) + ": " + std::strerror(errno);
            priority_fd_ = net::FileDescriptor();
        };
        priority_fd_ = open_queue(name, flags | IFF_MULTI_QUEUE);
        if (!priority_fd_) {
            fail("opening its second queue");
        } else {
            const SteeringProgram& program = shared_steering_program();
            int program_fd = program.fd.get();
            if (!program.fd) {
                errno = program.error;
                fail("loading the steering program (it needs CAP_BPF)");
            } else if (::ioctl(fd_.get(), TUNSETSTEERINGEBPF, &program_fd) < 0) {
                fail("attaching the steering program");
            }
        }
    }
    vnet_hdr_ = true;
    // Offer the most the kernel takes: an older kernel refuses the USO flags
    // (EINVAL), and with none at all the header is still there, only empty.
    for (const unsigned offloads : {tun_offloads_tcp | tun_f_uso4 | tun_f_uso6, tun_offloads_tcp}) {
        if (::ioctl(fd_.get(), TUNSETOFFLOAD, static_cast<unsigned long>(offloads)) == 0) {
            offloads_ = offloads;
            break;
        }
    }
    ifindex_ = interface_index(name);
}

void TunDevice::set_carrier(bool on)
{
    int carrier = on ? 1 : 0;
    if (::ioctl(fd_.get(), TUNSETCARRIER, &carrier) < 0)
        throw_errno("setting carrier of " + name_);
}

void TunReaper::adopt(const TunDevice& device)
{
    net::set_link_group(nl_, device.ifindex(), live_);
}

bool TunReaper::release(std::shared_ptr<TunDevice> device)
{
    try {
        net::set_link_group(nl_, device->ifindex(), released_group_);
    } catch (const std::runtime_error&) {
        return false;
    }
    released_.push_back(std::move(device));
    return true;
}

std::size_t TunReaper::reap()
{
    const auto released = std::exchange(released_, {});
    if (released.empty())
        return 0;
    return net::delete_link_group(nl_, released_group_) ? released.size() : 0;
}

std::size_t TunReaper::reap_all(std::span<const std::shared_ptr<TunDevice>> live)
{
    std::vector<int> ours;
    for (const auto& device : live)
        ours.push_back(device->ifindex());
    std::ranges::sort(ours);
    const auto members = net::link_group_members(nl_, live_);
    const bool alone = std::ranges::all_of(members, [&](int ifindex) { return std::ranges::binary_search(ours, ifindex); });
    std::size_t deleted = 0;
    if (alone) {
        if (!live.empty() && net::delete_link_group(nl_, live_))
            deleted = members.size();
    } else {
        for (const auto& device : live)
            release(device);
    }
    return deleted + reap();
}

} // namespace mesh::tunnel
