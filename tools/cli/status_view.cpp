#include "tools/cli/views.hpp"

#include <fmt/format.h>

namespace mesh::cli {

namespace {

// Routes like RouterOS' /ip route print: where each owned prefix goes now.
std::string render_routes(const nlohmann::json& routing, const nlohmann::json& tunnels)
{
    const auto interface_of = [&](int ifindex) {
        for (const auto& tunnel : tunnels)
            if (tunnel.value("ifindex", 0) == ifindex)
                return tunnel.value("interface", std::to_string(ifindex));
        return std::to_string(ifindex);
    };
    std::string out = fmt::format("\nroutes ({}{})\n", routing.value("backend", "?"),
                                  routing.value("connected", true) ? "" : ", not connected");
    out += fmt::format(" {:>2} {:<20} {:<24} {:>8} {:<16}\n", "#", "PREFIX", "VIA", "DISTANCE", "STATE");
    int index = 0;
    for (const auto& route : routing.value("routes", nlohmann::json::array())) {
        std::string via;
        for (const auto& ifindex : route.value("ifindexes", nlohmann::json::array()))
            via += (via.empty() ? "" : ",") + interface_of(ifindex.get<int>());
        out += fmt::format(" {:>2} {:<20} {:<24} {:>8} {:<16}\n", index++, route.value("prefix", ""),
                           via.empty() ? "blackhole (tunnel down)" : via, route.value("distance", 0),
                           route.value("state", ""));
    }
    if (index == 0)
        out += "    (no routes)\n";
    return out;
}

} // namespace

std::string render_status(const nlohmann::json& status)
{
    std::string out = fmt::format("site {}, up {} s\n", status.value("site", ""), status.value("uptime-s", 0));

    out += "\nactive peers\n";
    out += fmt::format(" {:>2} {:<16} {:<40} {:<12} {:>8} {:>8}\n", "#", "PEER", "REMOTE-ADDRESS", "STATE", "UPTIME",
                       "CHILDREN");
    int index = 0;
    for (const auto& peer : status["peers"]) {
        out += fmt::format(" {:>2} {:<16} {:<40} {:<12} {:>7}s {:>8}\n", index++, peer.value("name", ""),
                           peer.value("remote-address", ""), peer.value("state", ""), peer.value("uptime-s", 0),
                           peer.value("children", 0));
        // What IKE found on the way and does about it: NAT (keepalives from
        // the end behind one), fragmentation, the next rekey of the IKE SA.
        std::string notes;
        if (peer.value("behind-nat", false))
            notes += ", behind a NAT: sending keepalives";
        else if (peer.value("nat-detected", false))
            notes += ", NAT detected in front of the peer";
        if (peer.value("fragmentation", false))
            notes += ", IKE fragmentation";
        if (peer.contains("rekey-in-s"))
            notes += fmt::format(", IKE SA rekey in {} s", peer["rekey-in-s"].get<std::int64_t>());
        // Mode config: the address the peer assigned us, or the one we leased it.
        if (peer.contains("mode-config"))
            for (const auto& address : peer["mode-config"].value("addresses", nlohmann::json::array()))
                notes += fmt::format(", {} {}", peer["mode-config"].value("role", "") == "serve" ? "leased" : "assigned",
                                     address.get<std::string>());
        if (!notes.empty())
            out += fmt::format("    {}\n", notes.substr(2));
        // Each CHILD SA with its age and when this end rekeys it.
        if (peer.contains("child-sas"))
            for (const auto& child : peer["child-sas"])
                out += fmt::format("    child {} in {} out {} {}, age {} s{}\n", child.value("tunnel", ""),
                                   child.value("spi-in", ""), child.value("spi-out", ""), child.value("state", ""),
                                   child.value("age-s", 0),
                                   child.contains("rekey-in-s")
                                       ? fmt::format(", rekey in {} s", child["rekey-in-s"].get<std::int64_t>())
                                       : std::string());
    }
    if (index == 0)
        out += "    (no IKE SA)\n";

    if (status.contains("peer-errors"))
        for (const auto& failure : status["peer-errors"])
            out += fmt::format("    ! {}: {} ({} s ago)\n", failure.value("peer", ""), failure.value("error", ""),
                               failure.value("age-s", 0));

    // Peers named by DNS: the address each name gave, and the resolver's last error.
    if (status.contains("peer-names")) {
        out += "\npeer names\n";
        for (const auto& name : status["peer-names"])
            out += fmt::format("    {} {} -> {}{}\n", name.value("peer", ""), name.value("name", ""),
                               name.value("address", ""),
                               name.contains("error") ? ", " + name.value("error", "") : std::string());
    }

    out += "\ntunnels\n";
    out += fmt::format(" {:>2} {:<16} {:<16} {:<5} {:<5} {:>6} {:<16}\n", "#", "NAME", "INTERFACE", "MODE", "STATE",
                       "MTU", "REMOTE-ADDRESS");
    index = 0;
    for (const auto& tunnel : status["tunnels"])
        out += fmt::format(" {:>2} {:<16} {:<16} {:<5} {:<5} {:>6} {:<16}\n", index++, tunnel.value("name", ""),
                           tunnel.value("interface", ""), tunnel.value("mode", ""), tunnel.value("state", ""),
                           tunnel.value("mtu", 0), tunnel.value("remote-address", ""));
    // Configured with disabled = true (or on a disabled peer): no TUN, no IKE.
    if (status.contains("disabled"))
        for (const auto& tunnel : status["disabled"])
            out += fmt::format(" {:>2} {:<16} {:<16} {:<5} {:<8} (peer {}, disabled by its {})\n", "-",
                               tunnel.value("name", ""), "-", "-", "disabled", tunnel.value("peer", ""),
                               tunnel.value("by", ""));

    // A template peer's branches, one line per instance under its template.
    if (status.contains("templates"))
        for (const auto& t : status["templates"]) {
            out += fmt::format("\ntemplate {} (peer {}, {} {}*): {} of {} instance(s) up\n", t.value("name", ""),
                               t.value("peer", ""), t.value("mode", ""), t.value("interface-prefix", ""),
                               t.value("instances-up", 0), t["instances"].size());
            if (t["instances"].empty())
                continue;
            out += fmt::format(" {:>2} {:<40} {:<16} {:<5} {:<20} {:<16} {:<16} {:>3}\n", "#", "BRANCH", "INTERFACE",
                               "STATE", "ADDRESS", "BRANCH-ADDRESS", "REMOTE-ADDRESS", "SAS");
            index = 0;
            for (const auto& i : t["instances"])
                out += fmt::format(" {:>2} {:<40} {:<16} {:<5} {:<20} {:<16} {:<16} {:>3}\n", index++,
                                   i.value("branch", ""), i.value("interface", ""), i.value("state", ""),
                                   i.value("address", "-"), i.value("branch-address", "-"),
                                   i.value("remote-address", ""), i.value("sas", 0));
        }

    out += "\ninstalled SAs\n";
    out += fmt::format(" {:>2} {:<16} {:<3} {:<10} {:<18} {:>12} {:>14} {:>10} {:>10} {:>10} {:>7}\n", "#", "TUNNEL",
                       "DIR", "SPI", "ALGORITHM", "PACKETS", "BYTES", "AUTH-DROP", "REPLAY", "MALFORMED", "AGE");
    index = 0;
    for (const auto& tunnel : status["tunnels"])
        for (const auto& sa : tunnel["sas"]) {
            std::string algorithm = sa.value("enc-algorithm", "");
            if (sa.contains("auth-algorithm"))
                algorithm += "/" + sa["auth-algorithm"].get<std::string>();
            out += fmt::format(" {:>2} {:<16} {:<3} {:<10} {:<18} {:>12} {:>14} {:>10} {:>10} {:>10} {:>6}s\n", index++,
                               tunnel.value("name", ""), sa.value("direction", ""), sa.value("spi", ""), algorithm,
                               sa.value("packets", 0), sa.value("bytes", 0), sa.value("auth-drops", 0),
                               sa.value("replay-drops", 0), sa.value("malformed-drops", 0), sa.value("age-s", 0));
        }

    if (status.contains("routing"))
        out += render_routes(status["routing"], status["tunnels"]);

    const auto& counters = status["counters"];
    out += fmt::format("\nunknown-SPI drops {}, runt drops {}, NAT keepalives {}, IKE datagrams {}\n",
                       counters.value("unknown-spi-drops", 0), counters.value("runt-drops", 0),
                       counters.value("keepalives", 0), counters.value("ike-datagrams", 0));
    if (status.contains("sockets")) {
        // Datagrams the kernel dropped before the daemon read them (receive buffer full).
        std::string drops;
        for (const auto& [name, socket] : status["sockets"].items())
            drops += fmt::format("{}{} {}", drops.empty() ? "" : ", ", name, socket.value("kernel-drops", 0));
        out += "kernel receive drops: " + drops + "\n";
    }
    return out;
}

} // namespace mesh::cli
