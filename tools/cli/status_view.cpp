#include "tools/cli/views.hpp"

#include <fmt/format.h>

namespace mesh::cli {

std::string render_status(const nlohmann::json& status)
{
    std::string out = fmt::format("site {}, up {} s\n", status.value("site", ""), status.value("uptime-s", 0));

    out += "\nactive peers\n";
    out += fmt::format(" {:>2} {:<16} {:<40} {:<12} {:>8} {:>8}\n", "#", "PEER", "REMOTE-ADDRESS", "STATE", "UPTIME",
                       "CHILDREN");
    int index = 0;
    for (const auto& peer : status["peers"])
        out += fmt::format(" {:>2} {:<16} {:<40} {:<12} {:>7}s {:>8}\n", index++, peer.value("name", ""),
                           peer.value("remote-address", ""), peer.value("state", ""), peer.value("uptime-s", 0),
                           peer.value("children", 0));
    if (index == 0)
        out += "    (no IKE SA)\n";

    if (status.contains("peer-errors"))
        for (const auto& failure : status["peer-errors"])
            out += fmt::format("    ! {}: {} ({} s ago)\n", failure.value("peer", ""), failure.value("error", ""),
                               failure.value("age-s", 0));

    out += "\ntunnels\n";
    out += fmt::format(" {:>2} {:<16} {:<16} {:<5} {:<5} {:>6} {:<16}\n", "#", "NAME", "INTERFACE", "MODE", "STATE",
                       "MTU", "REMOTE-ADDRESS");
    index = 0;
    for (const auto& tunnel : status["tunnels"])
        out += fmt::format(" {:>2} {:<16} {:<16} {:<5} {:<5} {:>6} {:<16}\n", index++, tunnel.value("name", ""),
                           tunnel.value("interface", ""), tunnel.value("mode", ""), tunnel.value("state", ""),
                           tunnel.value("mtu", 0), tunnel.value("remote-address", ""));

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

    const auto& counters = status["counters"];
    out += fmt::format("\nunknown-SPI drops {}, runt drops {}, NAT keepalives {}, IKE datagrams {}\n",
                       counters.value("unknown-spi-drops", 0), counters.value("runt-drops", 0),
                       counters.value("keepalives", 0), counters.value("ike-datagrams", 0));
    return out;
}

} // namespace mesh::cli
