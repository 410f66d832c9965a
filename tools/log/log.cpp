#include "tools/log/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <string>

namespace mesh::log {

namespace {
std::shared_ptr<spdlog::logger> topic(const std::string& name)
{
    if (auto existing = spdlog::get(name))
        return existing;
    auto logger = spdlog::stderr_color_mt(name);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
    return logger;
}
} // namespace

void init(spdlog::level::level_enum level)
{
    for (const char* name : {"ike", "esp", "gre", "routing", "config", "daemon"})
        topic(name)->set_level(level);
}

std::shared_ptr<spdlog::logger> ike() { return topic("ike"); }
std::shared_ptr<spdlog::logger> esp() { return topic("esp"); }
std::shared_ptr<spdlog::logger> gre() { return topic("gre"); }
std::shared_ptr<spdlog::logger> routing() { return topic("routing"); }
std::shared_ptr<spdlog::logger> config() { return topic("config"); }
std::shared_ptr<spdlog::logger> daemon() { return topic("daemon"); }

} // namespace mesh::log
