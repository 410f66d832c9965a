#include "net/link.hpp"

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace mesh::net {

namespace {
using LinkPtr = NetlinkObject<rtnl_link, rtnl_link_put>::Ptr;
using AddrPtr = NetlinkObject<rtnl_addr, rtnl_addr_put>::Ptr;
using NlAddrPtr = NetlinkObject<nl_addr, nl_addr_put>::Ptr;
using MessagePtr = NetlinkObject<nl_msg, nlmsg_free>::Ptr;
using QdiscPtr = NetlinkObject<rtnl_qdisc, rtnl_qdisc_put>::Ptr;

LinkPtr kernel_link(NetlinkSocket& nl, int ifindex)
{
    rtnl_link* link = nullptr;
    check_netlink(rtnl_link_get_kernel(nl.get(), ifindex, nullptr, &link), "reading link " + std::to_string(ifindex));
    return LinkPtr(link);
}

void change_link(NetlinkSocket& nl, int ifindex, void (*apply)(rtnl_link*, std::uint32_t), std::uint32_t value,
                 const std::string& what)
{
    const auto original = kernel_link(nl, ifindex);
    LinkPtr change(rtnl_link_alloc());
    apply(change.get(), value);
    check_netlink(rtnl_link_change(nl.get(), original.get(), change.get(), 0), what);
}
} // namespace

void set_link_mtu(NetlinkSocket& nl, int ifindex, std::uint32_t mtu)
{
    change_link(nl, ifindex, [](rtnl_link* l, std::uint32_t v) { rtnl_link_set_mtu(l, v); }, mtu,
                "setting MTU " + std::to_string(mtu));
}

void set_link_up(NetlinkSocket& nl, int ifindex, bool up)
{
    change_link(nl, ifindex,
                [](rtnl_link* l, std::uint32_t v) { v ? rtnl_link_set_flags(l, IFF_UP) : rtnl_link_unset_flags(l, IFF_UP); },
                up ? 1 : 0, up ? "setting link up" : "setting link down");
}

void set_link_txqueuelen(NetlinkSocket& nl, int ifindex, std::uint32_t packets)
{
    change_link(nl, ifindex, [](rtnl_link* l, std::uint32_t v) { rtnl_link_set_txqlen(l, v); }, packets,
                "setting txqueuelen " + std::to_string(packets));
}

namespace {
AddrPtr link_address(int ifindex, const IpPrefix& address)
{
    const int family = address.address().is_v4() ? AF_INET : AF_INET6;
    NlAddrPtr local(nl_addr_build(family, address.address().bytes(), address.address().size()));
    nl_addr_set_prefixlen(local.get(), address.length());
    AddrPtr addr(rtnl_addr_alloc());
    rtnl_addr_set_ifindex(addr.get(), ifindex);
    check_netlink(rtnl_addr_set_local(addr.get(), local.get()), "address " + address.to_string());
    return addr;
}
} // namespace

void remove_link_address(NetlinkSocket& nl, int ifindex, const IpPrefix& address)
{
    const AddrPtr addr = link_address(ifindex, address);
    check_netlink(rtnl_addr_delete(nl.get(), addr.get(), 0), "removing address " + address.to_string());
}

void add_link_address(NetlinkSocket& nl, int ifindex, const IpPrefix& address)
{
    const AddrPtr addr = link_address(ifindex, address);
    // NLM_F_REPLACE: adding it again is not an error and makes the kernel
    // announce it again, which is what a routing daemon that missed it needs.
    check_netlink(rtnl_addr_add(nl.get(), addr.get(), NLM_F_REPLACE), "adding address " + address.to_string());
}

void set_link_noqueue(NetlinkSocket& nl, int ifindex)
{
    QdiscPtr qdisc(rtnl_qdisc_alloc());
    if (!qdisc)
        throw std::runtime_error("setting qdisc noqueue: out of memory");
    rtnl_tc_set_ifindex(TC_CAST(qdisc.get()), ifindex);
    rtnl_tc_set_parent(TC_CAST(qdisc.get()), TC_H_ROOT);
    check_netlink(rtnl_tc_set_kind(TC_CAST(qdisc.get()), "noqueue"), "setting qdisc noqueue");
    check_netlink(rtnl_qdisc_add(nl.get(), qdisc.get(), NLM_F_CREATE | NLM_F_REPLACE), "setting qdisc noqueue");
}

void set_link_group(NetlinkSocket& nl, int ifindex, std::uint32_t group)
{
    change_link(nl, ifindex, [](rtnl_link* l, std::uint32_t v) { rtnl_link_set_group(l, v); }, group,
                "setting group " + std::to_string(group));
}

bool delete_link_group(NetlinkSocket& nl, std::uint32_t group)
{
    // libnl's rtnl_link_delete() wants an index or a name; a deletion by
    // group is an RTM_DELLINK with index 0 and IFLA_GROUP (rtnl_group_dellink).
    MessagePtr message(nlmsg_alloc_simple(RTM_DELLINK, 0));
    if (!message)
        throw std::runtime_error("deleting interface group " + std::to_string(group) + ": out of memory");
    ifinfomsg header{};
    header.ifi_family = AF_UNSPEC;
    check_netlink(nlmsg_append(message.get(), &header, sizeof header, NLMSG_ALIGNTO),
                  "deleting interface group " + std::to_string(group));
    check_netlink(nla_put_u32(message.get(), IFLA_GROUP, group), "deleting interface group " + std::to_string(group));
    const int result = nl_send_sync(nl.get(), message.release());
    if (result == -NLE_NODEV || result == -NLE_OBJ_NOTFOUND)
        return false;
    check_netlink(result, "deleting interface group " + std::to_string(group));
    return true;
}

std::vector<int> link_group_members(NetlinkSocket& nl, std::uint32_t group)
{
    nl_cache* cache = nullptr;
    check_netlink(rtnl_link_alloc_cache(nl.get(), AF_UNSPEC, &cache), "listing interfaces");
    const std::unique_ptr<nl_cache, void (*)(nl_cache*)> owner(cache, nl_cache_free);
    std::vector<int> members;
    for (nl_object* object = nl_cache_get_first(cache); object != nullptr; object = nl_cache_get_next(object)) {
        auto* link = reinterpret_cast<rtnl_link*>(object);
        if (rtnl_link_get_group(link) == group)
            members.push_back(rtnl_link_get_ifindex(link));
    }
    return members;
}

} // namespace mesh::net
