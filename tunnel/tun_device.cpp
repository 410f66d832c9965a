#include "tunnel/tun_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace mesh::tunnel {

namespace {
using LinkPtr = net::NetlinkObject<rtnl_link, rtnl_link_put>::Ptr;
using AddrPtr = net::NetlinkObject<rtnl_addr, rtnl_addr_put>::Ptr;
using NlAddrPtr = net::NetlinkObject<nl_addr, nl_addr_put>::Ptr;

// Linux 6.2's USO flags, newer than Debian 12's <linux/if_tun.h>.
constexpr unsigned tun_f_uso4 = 0x20;
constexpr unsigned tun_f_uso6 = 0x40;
constexpr unsigned tun_offloads_tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

[[noreturn]] void throw_errno(const std::string& what)
{
    throw std::system_error(errno, std::generic_category(), what);
}

LinkPtr kernel_link(net::NetlinkSocket& nl, int ifindex)
{
    rtnl_link* link = nullptr;
    net::check_netlink(rtnl_link_get_kernel(nl.get(), ifindex, nullptr, &link), "reading link " + std::to_string(ifindex));
    return LinkPtr(link);
}

void change_link(net::NetlinkSocket& nl, int ifindex, void (*apply)(rtnl_link*, std::uint32_t), std::uint32_t value,
                 const std::string& what)
{
    const auto original = kernel_link(nl, ifindex);
    LinkPtr change(rtnl_link_alloc());
    apply(change.get(), value);
    net::check_netlink(rtnl_link_change(nl.get(), original.get(), change.get(), 0), what);
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

void set_link_mtu(net::NetlinkSocket& nl, int ifindex, std::uint32_t mtu)
{
    change_link(nl, ifindex, [](rtnl_link* l, std::uint32_t v) { rtnl_link_set_mtu(l, v); }, mtu,
                "setting MTU " + std::to_string(mtu));
}

void set_link_up(net::NetlinkSocket& nl, int ifindex, bool up)
{
    change_link(nl, ifindex,
                [](rtnl_link* l, std::uint32_t v) { v ? rtnl_link_set_flags(l, IFF_UP) : rtnl_link_unset_flags(l, IFF_UP); },
                up ? 1 : 0, up ? "setting link up" : "setting link down");
}

void set_link_txqueuelen(net::NetlinkSocket& nl, int ifindex, std::uint32_t packets)
{
    change_link(nl, ifindex, [](rtnl_link* l, std::uint32_t v) { rtnl_link_set_txqlen(l, v); }, packets,
                "setting txqueuelen " + std::to_string(packets));
}

void add_link_address(net::NetlinkSocket& nl, int ifindex, const net::IpPrefix& address)
{
    const int family = address.address().is_v4() ? AF_INET : AF_INET6;
    NlAddrPtr local(nl_addr_build(family, address.address().bytes(), address.address().size()));
    nl_addr_set_prefixlen(local.get(), address.length());
    AddrPtr addr(rtnl_addr_alloc());
    rtnl_addr_set_ifindex(addr.get(), ifindex);
    net::check_netlink(rtnl_addr_set_local(addr.get(), local.get()), "address " + address.to_string());
    // NLM_F_REPLACE: adding it again is not an error and makes the kernel
    // announce it again, which is what a routing daemon that missed it needs.
    net::check_netlink(rtnl_addr_add(nl.get(), addr.get(), NLM_F_REPLACE), "adding address " + address.to_string());
}

} // namespace mesh::tunnel
