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
    using tunnel::PumpCounters;
    const auto& pump = *pump_;
    std::uint64_t natt_kernel_drops = tunnel::kernel_drops(socket_->fd());
    nlohmann::json workers = nlohmann::json::array();
    std::uint64_t priority_kernel_drops = 0;
    for (std::size_t i = 0; i < pump.workers(); ++i) {
        const auto drops = tunnel::kernel_drops(worker_sockets_[i]->fd());
        const auto priority_drops = tunnel::kernel_drops(priority_sockets_[i]->fd());
        natt_kernel_drops += drops;
        priority_kernel_drops += priority_drops;
        workers.push_back({{"kernel-drops", drops},
                           {"unknown-spi-drops", pump.counters(i).unknown_spi_drops.get()},
                           {"priority-datagrams", pump.counters(i).priority_datagrams.get()},
                           {"priority-kernel-drops", priority_drops},
                           {"scheduling", tunnel::to_string(pump.scheduling(i))},
                           {"realtime-demotions", pump.counters(i).realtime_demotions.get()},
                           {"deferred-wakeups", pump.counters(i).deferred_wakeups.get()}});
    }
    nlohmann::json report{{"site", config_.site.name},
                          {"uptime-s", age_seconds(started_)},
                          {"peers", nlohmann::json::array()},
                          {"tunnels", nlohmann::json::array()},
                          {"workers", std::move(workers)},
                          {"counters",
                           {{"unknown-spi-drops", pump.total(&PumpCounters::unknown_spi_drops)},
                            {"runt-drops", natt_runt_drops_ + pump.total(&PumpCounters::runt_drops)},
                            {"keepalives", natt_keepalives_ + pump.total(&PumpCounters::keepalives)},
                            {"keepalives-sent", keepalives_sent_},
                            {"ike-datagrams", ike_datagrams_},
                            {"misrouted-drops", natt_misrouted_drops_ + pump.total(&PumpCounters::ike_misrouted_drops)},
                            {"claim-drops", pump.total(&PumpCounters::claim_drops)},
                            {"receive-errors", pump.total(&PumpCounters::receive_errors)},
                            {"gro-datagrams", pump.total(&PumpCounters::gro_datagrams)}}}};
    // Datagrams the kernel dropped before the daemon read them (SO_MEMINFO),
    // per socket: a flood beyond what the daemon keeps up with shows here.
    // The NAT-T port's are its control socket's (IKE) and its workers'.
    // The workers' priority sockets on the same port apart (tunnel/spi_steering.hpp).
    report["sockets"] = {{"esp-in-udp", {{"local", socket_->local().to_string()}, {"kernel-drops", natt_kernel_drops}}},
                         {"esp-in-udp-priority", {{"local", socket_->local().to_string()}, {"kernel-drops", priority_kernel_drops}}}};
    if (ike_socket_)
        report["sockets"]["ike"] = {{"local", ike_socket_->local().to_string()}, {"kernel-drops", tunnel::kernel_drops(ike_socket_->fd())}};
    if (raw_esp_)
        report["sockets"]["esp"] = {{"kernel-drops", tunnel::kernel_drops(raw_esp_->fd())}};
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
            if (!sa.remote_id.empty())
                report["peers"].back()["remote-id"] = sa.remote_id;
            if (sa.rekey_in_s)
                report["peers"].back()["rekey-in-s"] = *sa.rekey_in_s;
            // Mode config: what the peer assigned us, or what we leased it.
            for (const auto& [role, given] : {std::pair{"request", &sa.assigned}, std::pair{"serve", &sa.leased}}) {
                if (!*given)
                    continue;
                nlohmann::json addresses = nlohmann::json::array();
                for (const auto& address : {(*given)->address4, (*given)->address6})
                    if (address)
                        addresses.push_back(address->to_string());
                nlohmann::json subnets = nlohmann::json::array();
                for (const auto& subnet : (*given)->subnets)
                    subnets.push_back(subnet.to_string());
                nlohmann::json dns = nlohmann::json::array();
                for (const auto& server : (*given)->dns)
                    dns.push_back(server.to_string());
                report["peers"].back()["mode-config"] = {
                    {"role", role}, {"addresses", addresses}, {"split-include", subnets}, {"dns", dns}};
            }
        }
        if (!lease_pools_.empty())
            report["mode-config"] = mode_config_status();
        if (peer_names_ && !peer_names_->empty())
            report["peer-names"] = peer_names_->status();
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
                                     {"cfg-replies-refused", c.cfg_replies_refused},
                                     {"internal-address-failures", c.internal_address_failures},
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
        const auto worker = pump_->worker_of_tun(tunnel.device->fd());
        report["tunnels"].push_back({{"name", tunnel.name},
                                     {"peer", tunnel.config->peer},
                                     {"interface", tunnel.interface},
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
        if (worker)
            report["tunnels"].back()["worker"] = *worker;   // the one that reads its TUN and seals
    }
    report["disabled"] = disabled_tunnels();
    report["templates"] = templates();
    report["routing"] = route_sink_->status();
    return report;
}

nlohmann::json Daemon::peer_status(const std::string& peer) const
{
    if (!config_.peers.contains(peer))
        return {{"error", "no peer '" + peer + "' in the configuration"}};
    auto report = status();
    for (const char* list : {"peers", "peer-errors", "tunnels", "templates", "peer-names", "disabled"}) {
        if (!report.contains(list))
            continue;
        const char* key = std::string_view(list) == "peers" ? "name" : "peer";
        auto& entries = report[list];
        entries.erase(std::remove_if(entries.begin(), entries.end(),
                                     [&](const nlohmann::json& e) { return e.value(key, std::string{}) != peer; }),
                      entries.end());
    }
    report["peer"] = peer;
    return report;
}

nlohmann::json Daemon::templates() const
{
    nlohmann::json all = nlohmann::json::array();
    for (const auto& [name, pool] : templates_) {
        const config::Tunnel& config = config_.tunnels.at(name);
        nlohmann::json instances = nlohmann::json::array();
        std::size_t up = 0;
        for (const auto& tunnel : tunnels_) {
            if (tunnel.config != &config || !tunnel.branch)
                continue;
            up += tunnel.up ? 1 : 0;
            instances.push_back({{"branch", *tunnel.branch},
                                 {"tunnel", tunnel.name},
                                 {"interface", tunnel.interface},
                                 {"state", tunnel.up ? "up" : "down"},
                                 {"remote-address", tunnel.peer.address.to_string()},
                                 {"sas", table_.tunnels().at(tunnel.id).sas.size()}});
            if (tunnel.address)
                instances.back()["address"] = tunnel.address->to_string();
            if (tunnel.branch_address)
                instances.back()["branch-address"] = tunnel.branch_address->to_string();
            if (!tunnel.routes.empty()) {
                instances.back()["routes"] = nlohmann::json::array();
                for (const auto& prefix : tunnel.routes)
                    instances.back()["routes"].push_back(prefix.to_string());
            }
        }
        all.push_back({{"name", name},
                       {"peer", config.peer},
                       {"interface-prefix", config.interface},
                       {"mode", config.mode == config::TunnelMode::gre ? "gre" : "ip"},
                       {"instances-up", up},
                       {"instances", std::move(instances)}});
        if (config.address_pool)
            all.back()["address-pool"] = {{"prefix", config.address_pool->to_string()},
                                          {"block-length", config.branch_prefix_length},
                                          {"capacity", pool.capacity()},
                                          {"in-use", pool.in_use()}};
    }
    return all;
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
