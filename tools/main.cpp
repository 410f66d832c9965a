// mesh-site: route-based site-to-site VPN daemon and its command line.
//   run            the daemon, in the foreground, logging to stderr or the journal
//   check-config   validate a configuration file
//   status         peers, tunnels and SAs of a running daemon
//   rekey          a peer's IKE SA or CHILD SAs rekeyed now
//   keys           the running daemon's SAs for Wireshark
//   log            the running daemon's log levels, per topic, shown or set
//   reload         the running daemon re-reads its configuration file
//   import-routeros  a RouterOS export of /ip ipsec as mesh-site TOML

#include "tools/cli/control_client.hpp"
#include "tools/cli/log_command.hpp"
#include "tools/cli/views.hpp"
#include "tools/config/config.hpp"
#include "tools/daemon/daemon.hpp"
#include "tools/daemon/ike_policy.hpp"
#include "tools/log/log.hpp"
#include "tools/routeros/import.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <iterator>

namespace {

std::filesystem::path control_socket(const std::string& config_file, const std::string& socket)
{
    if (!socket.empty())
        return socket;
    if (config_file.empty())
        throw std::runtime_error("name the daemon: -c FILE (its configuration) or -s SOCKET");
    return mesh::config::load(config_file).site.control_socket;
}

// --log-level then --log, over [site] log, over info for every topic.
int run_daemon(const std::string& config_file, const std::string& level, const std::string& spec)
{
    mesh::log::LogSpec command_line;
    for (const auto& text : {level, spec})
        if (!text.empty())
            std::ranges::copy(mesh::log::parse_log_spec(text).value(), std::back_inserter(command_line));
    mesh::log::init(spdlog::level::info);
    // Absolute: reload reads the same file again, whatever the working directory then.
    auto config = mesh::config::load(std::filesystem::absolute(config_file));
    mesh::log::apply(config.site.log_levels);
    mesh::log::apply(command_line);
    for (const auto& warning : config.warnings)
        mesh::log::config()->warn("{}", warning);
    mesh::log::config()->info("loaded {}: {} peer(s), {} tunnel(s)", config_file, config.peers.size(),
                              config.tunnels.size());
    mesh::daemon::Daemon daemon(std::move(config));
    return daemon.run();
}

// What run does with the file short of starting: load it (every file it
// names included) and build the IKE peers from it.
int check_config(const std::string& config_file)
{
    const auto config = mesh::config::load(config_file);
    [[maybe_unused]] const auto peers =
        mesh::daemon::ike_peers(config, [](const mesh::config::Peer&) { return mesh::net::IpAddress{}; });
    for (const auto& warning : config.warnings)
        std::cerr << warning << "\n";
    std::cout << config_file << ": ok";
    if (!config.warnings.empty())
        std::cout << " (" << config.warnings.size() << " warning" << (config.warnings.size() == 1 ? "" : "s") << ")";
    std::cout << "\n";
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"mesh-site: route-based site-to-site VPN (IKEv2, ESP-in-UDP, GRE) feeding FRRouting"};
    app.set_version_flag("--version", std::string("mesh-site ") + MESH_SITE_VERSION);
    app.require_subcommand(1);

    std::string config_file;
    std::string socket;
    std::string level;
    std::string log_spec;
    bool json = false;
    bool wireshark = false;
    std::string table = "esp";

    auto* run = app.add_subcommand("run", "run the daemon in the foreground, logging to stderr (or the journal under systemd)");
    run->add_option("-c,--config", config_file, "configuration file")->required()->check(CLI::ExistingFile);
    run->add_option("--log-level", level, "every topic's level: trace, debug, info, warn, error")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
    const CLI::Validator spec_check(
        [](const std::string& text) {
            const auto spec = mesh::log::parse_log_spec(text);
            return spec ? std::string() : spec.error();
        },
        "TOPIC=LEVEL,...");
    run->add_option("--log", log_spec, "levels per topic, over [site] log: ike=debug,esp=info (a bare level sets "
                                       "every topic)")
        ->check(spec_check);

    auto* check = app.add_subcommand("check-config", "validate a configuration file: exit 0, or print FILE:LINE:COL");
    check->add_option("-c,--config", config_file, "configuration file")->required();

    auto* status = app.add_subcommand("status", "peers, tunnels and their SAs");
    auto* keys = app.add_subcommand("keys", "the current SAs with their keys");
    auto* rekey = app.add_subcommand("rekey", "rekey a peer's IKE SA, or its CHILD SAs, now");
    auto* log = app.add_subcommand("log", "show the log level of every topic, or set some: ike=debug,esp=info");
    log->add_option("spec", log_spec, "levels to set: TOPIC=LEVEL[,TOPIC=LEVEL...], or a LEVEL for every topic");
    auto* reload = app.add_subcommand("reload", "re-read the daemon's configuration file and apply the difference");
    std::string peer;
    bool child = false;
    rekey->add_option("peer", peer, "the peer's name in the configuration")->required();
    status->add_option("peer", peer, "only this peer (its IKE SAs, tunnels and template instances)");
    rekey->add_flag("--child", child, "the CHILD SAs instead of the IKE SA");
    for (auto* sub : {status, keys, rekey, log, reload}) {
        auto* by_config = sub->add_option("-c,--config", config_file, "configuration of the daemon to ask");
        sub->add_option("-s,--socket", socket, "control socket of the daemon to ask")->excludes(by_config);
    }
    status->add_flag("--json", json, "print JSON");
    keys->add_flag("--wireshark", wireshark, "print Wireshark 4.0 UAT records")->required();
    keys->add_option("table", table, "esp (esp_sa records) or ikev2 (ikev2_decryption_table records)")
        ->check(CLI::IsMember({"esp", "ikev2"}));

    auto* import_ros = app.add_subcommand("import-routeros", "write a RouterOS 7 /export of /ip ipsec as mesh-site TOML");
    std::string rsc_file;
    import_ros->add_option("file", rsc_file, "the export (.rsc)")->required();

    CLI11_PARSE(app, argc, argv);

    try {
        if (*run)
            return run_daemon(config_file, level, log_spec);
        if (*check)
            return check_config(config_file);
        if (*import_ros)
            return mesh::routeros::import_routeros(rsc_file, std::cout, std::cerr);
        if (*status) {
            if (const auto wrong = mesh::daemon::check_peer_name(peer); !peer.empty() && !wrong.empty()) {
                std::cerr << "mesh-site: status: " << wrong << "\n";
                return 1;
            }
            const auto answer =
                mesh::cli::request(control_socket(config_file, socket), mesh::daemon::StatusRequest{peer});
            std::cout << (json ? answer.dump() + "\n" : mesh::cli::render_status(answer));
            return 0;
        }
        if (*rekey) {
            if (const auto wrong = mesh::daemon::check_peer_name(peer); !wrong.empty()) {
                std::cerr << "mesh-site: rekey: " << wrong << "\n";
                return 1;
            }
            const mesh::daemon::RekeyRequest request{
                child ? mesh::daemon::RekeyRequest::Sa::child : mesh::daemon::RekeyRequest::Sa::ike, peer};
            const auto answer = mesh::cli::request(control_socket(config_file, socket), request);
            std::cout << "rekeying " << answer.value("count", 0) << (child ? " CHILD SA(s)" : " IKE SA(s)") << " with "
                      << peer << "\n";
            return 0;
        }
        if (*log)
            return mesh::cli::log_command(control_socket(config_file, socket), log_spec);
        if (*reload) {
            const auto answer = mesh::cli::request(control_socket(config_file, socket), mesh::daemon::ReloadRequest{});
            std::cout << "reloaded " << answer.value("reloaded", "") << ": " << answer.value("changes", "") << " ("
                      << answer.value("took-ms", 0) << " ms)\n";
            // Applied but for these (a TUN that could not be made): the operator must look.
            for (const auto& failure : answer.value("failed", nlohmann::json::array()))
                std::cerr << "mesh-site: reload: " << failure.get<std::string>() << "\n";
            return answer.value("failed", nlohmann::json::array()).empty() ? 0 : 1;
        }
        if (*keys) {
            const auto answer = mesh::cli::request(control_socket(config_file, socket), mesh::daemon::KeysRequest{});
            std::cout << (table == "esp" ? mesh::cli::render_wireshark_esp(answer)
                                         : mesh::cli::render_wireshark_ikev2(answer));
            return 0;
        }
    } catch (const mesh::config::ConfigError& error) {
        std::cerr << error.what() << "\n";
        return 1;
    } catch (const std::exception& error) {
        std::cerr << "mesh-site: " << error.what() << "\n";
        return 1;
    }
    return 0;
}
