#include "tools/cli/log_command.hpp"

#include "tools/cli/control_client.hpp"
#include "tools/log/log_spec.hpp"

#include <iostream>

namespace mesh::cli {

int log_command(const std::filesystem::path& socket, const std::string& spec)
{
    daemon::LogRequest request;
    if (!spec.empty()) {
        auto parsed = log::parse_log_spec(spec);
        if (!parsed) {
            std::cerr << "mesh-site: log: " << parsed.error() << "\n";
            return 1;
        }
        request.spec = std::move(*parsed);
    }
    const auto answer = cli::request(socket, request);
    const auto& levels = answer.at("levels");
    log::LogSpec now;
    for (const auto topic : log::topics) {
        const auto level = log::parse_log_spec(levels.at(std::string(topic)).get<std::string>());
        if (!level)
            throw std::runtime_error("the daemon answered with an unknown level for " + std::string(topic));
        now.push_back({std::string(topic), level->front().level});
    }
    std::cout << log::format_log_spec(now) << "\n";
    return 0;
}

} // namespace mesh::cli
