#include "tunnel/tun_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace mesh::tunnel {

namespace {
// Linux 6.2's USO flags, newer than Debian 12's <linux/if_tun.h>.
constexpr unsigned tun_f_uso4 = 0x20;
constexpr unsigned tun_f_uso6 = 0x40;
constexpr unsigned tun_offloads_tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

[[noreturn]] void throw_errno(const std::string& what)
{
    throw std::system_error(errno, std::generic_category(), what);
}

} // namespace

TunDevice::TunDevice(const std::string& name) : name_(name)
{
    if (name.empty() || name.size() >= IFNAMSIZ)
        throw std::invalid_argument("interface name '" + name + "' must have 1 to 15 characters");
    fd_ = net::FileDescriptor(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd_)
        throw_errno("opening /dev/net/tun");
    ifreq ifr{};
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
    std::memcpy(ifr.ifr_name, name.data(), name.size());
    if (::ioctl(fd_.get(), TUNSETIFF, &ifr) < 0)
        throw_errno("creating TUN interface " + name);
    vnet_hdr_ = true;
    // Offer the most the kernel takes: an older kernel refuses the USO flags
    // (EINVAL), and with none at all the header is still there, only empty.
    for (const unsigned offloads : {tun_offloads_tcp | tun_f_uso4 | tun_f_uso6, tun_offloads_tcp}) {
        if (::ioctl(fd_.get(), TUNSETOFFLOAD, static_cast<unsigned long>(offloads)) == 0) {
            offloads_ = offloads;
            break;
        }
    }
    ifindex_ = static_cast<int>(::if_nametoindex(name.c_str()));
    if (ifindex_ == 0)
        throw_errno("finding interface " + name);
}

void TunDevice::set_carrier(bool on)
{
    int carrier = on ? 1 : 0;
    if (::ioctl(fd_.get(), TUNSETCARRIER, &carrier) < 0)
        throw_errno("setting carrier of " + name_);
}

} // namespace mesh::tunnel
