#include "tools/daemon/log_request.hpp"

#include "tools/log/log.hpp"

#include <string>

namespace mesh::daemon {

nlohmann::json answer_log_request(const LogRequest& request)
{
    // spdlog keeps a logger's level in an atomic: the threads logging now see
    // the new level from their next line on.
    log::apply(request.spec);
    nlohmann::json levels = nlohmann::json::object();
    std::string now;
    for (const auto& [topic, level] : log::current_levels()) {
        levels[std::string(topic)] = log::level_name(level);
        now += fmt::format("{}{}={}", now.empty() ? "" : ",", topic, log::level_name(level));
    }
    if (!request.spec.empty())
        log::daemon()->info("log levels set on request ({}): now {}", log::format_log_spec(request.spec), now);
    return {{"levels", levels}};
}

} // namespace mesh::daemon
