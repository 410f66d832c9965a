// What the control socket reports: status (docs/commands.md's `status --json`
// document, to which fields are only ever added) and keys.

#include "tools/daemon/daemon.hpp"

#include <botan/hex.h>
#include <fmt/format.h>

namespace mesh::daemon {

namespace {
std::string spi_text(std::uint32_t spi)
{
    return fmt::format("0x{:08x}", spi);
}

std::int64_t age_seconds(std::chrono::steady_clock::time_point since)
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - since).count();
}

nlohmann::json sa_entry(const char* direction, std::uint32_t spi, const tunnel::SaParams& params,
                        const tunnel::SaCounters& counters, std::chrono::steady_clock::time_point installed_at,
                        std::uint64_t sequence)
{
    nlohmann::json entry{{"direction", direction},
                         {"spi", spi_text(spi)},
                         {"enc-algorithm", tunnel::info(params.cipher).name},
                         {"packets", counters.packets.get()},
                         {"bytes", counters.bytes.get()},
                         {"auth-drops", counters.auth_drops.get()},
                         {"replay-drops", counters.replay_drops.get()},
                         {"malformed-drops", counters.malformed_drops.get()},
                         {"age-s", age_seconds(installed_at)},
                         {"sequence", sequence}};
    if (params.integrity != tunnel::EspIntegrity::none)
        entry["auth-algorithm"] = tunnel::info(params.integrity).name;
    return entry;
}
} // namespace

nlohmann::json Daemon::status() const
{
    const auto& pump = pump_->counters();
    nlohmann::json report{{"site", config_.site.name},
                          {"uptime-s", age_seconds(started_)},
                          {"peers", nlohmann::json::array()},
                          {"tunnels", nlohmann::json::array()},
                          {"counters",
                           {{"unknown-spi-drops", pump.unknown_spi_drops.get()},
                            {"runt-drops", pump.runt_drops.get()},
                            {"keepalives", pump.keepalives.get()},
                            {"keepalives-sent", keepalives_sent_},
                            {"ike-datagrams", pump.ike_datagrams.get()},
                            {"ike-queue-drops", pump.ike_queue_drops.get()},
                            {"receive-errors", pump.receive_errors.get()},
                            {"gro-datagrams", pump.gro_datagrams.get()}}}};
    // Datagrams the kernel dropped before the daemon read them (SO_RXQ_OVFL),
    // per socket: a flood beyond what the daemon keeps up with shows here.
    report["sockets"] = {{"esp-in-udp",
                          {{"local", socket_->local().to_string()}, {"kernel-drops", pump.udp_kernel_drops.get()}}}};
    if (ike_socket_)
        report["sockets"]["ike"] = {{"local", ike_socket_->local().to_string()}, {"kernel-drops", ike_kernel_drops_}};
    if (raw_esp_)
        report["sockets"]["esp"] = {{"kernel-drops", pump.raw_esp_kernel_drops.get()}};
    if (ike_) {
        for (const auto& sa : ike_->status(std::chrono::steady_clock::now())) {
            nlohmann::json children = nlohmann::json::array();
            for (const auto& child : sa.child_sas) {
                children.push_back({{"tunnel", child.tunnel},
                                    {"spi-in", fmt::format("0x{:08x}", child.spi_in)},
                                    {"spi-out", fmt::format("0x{:08x}", child.spi_out)},
                                    {"state", ike::to_string(child.state)},
                                    {"age-s", child.age_s},
                                    {"suite", child.suite}});
                if (child.rekey_in_s)
                    children.back()["rekey-in-s"] = *child.rekey_in_s;
                if (child.expires_in_s)
                    children.back()["expires-in-s"] = *child.expires_in_s;
            }
            report["peers"].push_back({{"name", sa.peer},
                                       {"remote-address", sa.remote.address.to_string()},
                                       {"remote-port", sa.remote.port},
                                       {"state", ike::to_string(sa.state)},
                                       {"uptime-s", sa.uptime_s},
                                       {"ike-spi-i", fmt::format("0x{:016x}", sa.spi_i)},
                                       {"ike-spi-r", fmt::format("0x{:016x}", sa.spi_r)},
                                       {"children", sa.children},
                                       {"nat-detected", sa.nat_detected},
                                       {"behind-nat", sa.behind_nat},
                                       {"fragmentation", sa.fragmentation},
                                       {"initiator", sa.initiator},
                                       {"suite", sa.suite},
                                       {"child-sas", std::move(children)}});
            if (sa.rekey_in_s)
                report["peers"].back()["rekey-in-s"] = *sa.rekey_in_s;
        }
        report["peer-errors"] = nlohmann::json::array();
        for (const auto& [peer, failure] : ike_->failures())
            report["peer-errors"].push_back(
                {{"peer", peer}, {"error", failure.text}, {"age-s", age_seconds(failure.at)}});
        const auto& c = ike_->counters();
        report["counters"]["ike"] = {{"messages-in", c.messages_in},
                                     {"messages-out", c.messages_out},
                                     {"retransmits", c.retransmits},
                                     {"malformed", c.malformed},
                                     {"no-proposal-chosen", c.no_proposal_chosen},
                                     {"authentication-failed", c.authentication_failed},
                                     {"ts-unacceptable", c.ts_unacceptable},
                                     {"liveness-checks", c.liveness_checks},
                                     {"peers-dead", c.peers_dead},
                                     {"peers-moved", c.peers_moved},
                                     {"cookies-sent", c.cookies_sent},
                                     {"init-refused", c.init_refused},
                                     {"init-no-peer", c.init_no_peer},
                                     {"init-retransmits", c.init_retransmits},
                                     {"unknown-spi", c.unknown_spi},
                                     {"ike-rekeys", c.ike_rekeys},
                                     {"ike-rekey-collisions", c.ike_rekey_collisions},
                                     {"initial-contacts", c.initial_contacts},
                                     {"duplicate-ike-sas", c.duplicate_ike_sas},
                                     {"ike-sas-replaced", c.ike_sas_replaced},
                                     {"messages-fragmented", c.messages_fragmented},
                                     {"messages-reassembled", c.messages_reassembled},
                                     {"fragments-refused", c.fragments_refused},
                                     {"child-sas-created", c.child_sas_created},
                                     {"child-rekeys", c.child_rekeys},
                                     {"child-rekeys-answered", c.child_rekeys_answered},
                                     {"rekey-collisions", c.rekey_collisions},
                                     {"rekey-failures", c.rekey_failures},
                                     {"child-sas-expired", c.child_sas_expired}};
    }
    for (const auto& tunnel : tunnels_) {
        const auto& state = table_.tunnels().at(tunnel.id);
        const auto& c = *state.counters;
        nlohmann::json sas = nlohmann::json::array();
        for (const auto& installed : state.sas)
            sas.push_back(sa_entry("in", installed.inbound->spi(), installed.inbound->params(),
                                   installed.inbound->counters(), installed.installed_at,
                                   installed.inbound->highest_sequence()));
        if (const auto* sending = state.sending_sa()) {
            const auto& out = *sending->outbound;
            sas.push_back(sa_entry("out", out.spi(), out.params(), out.counters(), sending->installed_at,
                                   out.next_sequence()));
        }
        report["tunnels"].push_back({{"name", tunnel.config->name},
                                     {"peer", tunnel.config->peer},
                                     {"interface", tunnel.config->interface},
                                     {"ifindex", tunnel.device->ifindex()},
                                     {"mode", tunnel.config->mode == config::TunnelMode::gre ? "gre" : "ip"},
                                     {"state", tunnel.up ? "up" : "down"},
                                     {"mtu", tunnel.mtu},
                                     {"local-address", tunnel.local.to_string()},
                                     {"remote-address", tunnel.peer.address.to_string()},
                                     {"encapsulation", tunnel.udp_encapsulation ? "udp" : "esp"},
                                     {"sas", sas},
                                     {"counters",
                                      {{"no-sa-drops", c.no_sa_drops.get()},
                                       {"not-ip-drops", c.not_ip_drops.get()},
                                       {"seal-drops", c.seal_drops.get()},
                                       {"send-errors", c.send_errors.get()},
                                       {"mss-clamped", c.mss_clamped.get()},
                                       {"gso-packets", c.gso_packets.get()},
                                       {"offload-drops", c.offload_drops.get()},
                                       {"gre-drops", c.gre_drops.get()},
                                       {"inner-drops", c.inner_drops.get()},
                                       {"tun-write-errors", c.tun_write_errors.get()},
                                       {"coalesced-packets", c.coalesced_packets.get()},
                                       {"coalesced-segments", c.coalesced_segments.get()}}}});
    }
    report["routing"] = route_sink_->status();
    return report;
}

// Secrets leave the daemon only here, on the owner-only control socket, for
// `mesh-site keys` (docs/commands.md: the one deliberate way to export them).
nlohmann::json Daemon::keys() const
{
    nlohmann::json report{{"esp", nlohmann::json::array()}, {"ikev2", nlohmann::json::array()}};
    auto add = [&](const Tunnel& tunnel, const tunnel::SaParams& params, bool inbound) {
        const auto& local = tunnel.local;
        const auto& remote = tunnel.peer.address;
        report["esp"].push_back({{"family", remote.is_v4() ? "IPv4" : "IPv6"},
                                 {"src", (inbound ? remote : local).to_string()},
                                 {"dst", (inbound ? local : remote).to_string()},
                                 {"spi", spi_text(params.spi)},
                                 {"enc-algorithm", tunnel::info(params.cipher).name},
                                 {"enc-key", Botan::hex_encode(params.cipher_key, false)},
                                 {"auth-algorithm", params.integrity == tunnel::EspIntegrity::none
                                                        ? "none"
                                                        : tunnel::info(params.integrity).name},
                                 {"auth-key", Botan::hex_encode(params.integrity_key, false)}});
    };
    if (ike_) {
        for (const auto& sa : ike_->keys()) {
            const auto& cipher = ike::info(sa.suite.cipher);
            const auto* integ = ike::info(sa.suite.integ);
            report["ikev2"].push_back({{"spi-i", fmt::format("{:016x}", sa.spi_i)},
                                       {"spi-r", fmt::format("{:016x}", sa.spi_r)},
                                       {"enc-algorithm", cipher.name},
                                       {"sk-ei", Botan::hex_encode(sa.keys->sk_ei, false)},
                                       {"sk-er", Botan::hex_encode(sa.keys->sk_er, false)},
                                       {"auth-algorithm", integ != nullptr ? integ->name : "none"},
                                       {"sk-ai", Botan::hex_encode(sa.keys->sk_ai, false)},
                                       {"sk-ar", Botan::hex_encode(sa.keys->sk_ar, false)}});
        }
    }
    for (const auto& tunnel : tunnels_) {
        const auto& state = table_.tunnels().at(tunnel.id);
        // Every outbound half: one that stopped sending may still have packets in flight.
        for (const auto& installed : state.sas) {
            add(tunnel, installed.inbound->params(), true);
            add(tunnel, installed.outbound->params(), false);
        }
    }
    return report;
}

} // namespace mesh::daemon
