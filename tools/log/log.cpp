#include "tools/log/log.hpp"

#include "tools/log/journal_sink.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <string>

namespace mesh::log {

namespace {

// One sink for every topic, chosen once: the journal's or stderr.
spdlog::sink_ptr shared_sink()
{
    static const spdlog::sink_ptr sink = stderr_is_journal()
                                             ? spdlog::sink_ptr(std::make_shared<JournalSink>())
                                             : spdlog::sink_ptr(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    return sink;
}

std::shared_ptr<spdlog::logger> topic(std::string_view name)
{
    const std::string key(name);
    if (auto existing = spdlog::get(key))
        return existing;
    auto logger = std::make_shared<spdlog::logger>(key, shared_sink());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ [%n] %v");
    spdlog::register_logger(logger);
    return logger;
}

} // namespace

void init(spdlog::level::level_enum level)
{
    for (const auto name : topics)
        topic(name)->set_level(level);
}

void apply(const LogSpec& spec)
{
    for (const auto& setting : spec) {
        if (setting.topic.empty())
            init(setting.level);
        else
            topic(setting.topic)->set_level(setting.level);
    }
}

std::vector<std::pair<std::string_view, spdlog::level::level_enum>> current_levels()
{
    std::vector<std::pair<std::string_view, spdlog::level::level_enum>> out;
    for (const auto name : topics)
        out.emplace_back(name, topic(name)->level());
    return out;
}

std::shared_ptr<spdlog::logger> ike() { return topic("ike"); }
std::shared_ptr<spdlog::logger> esp() { return topic("esp"); }
std::shared_ptr<spdlog::logger> gre() { return topic("gre"); }
std::shared_ptr<spdlog::logger> routing() { return topic("routing"); }
std::shared_ptr<spdlog::logger> config() { return topic("config"); }
std::shared_ptr<spdlog::logger> daemon() { return topic("daemon"); }

} // namespace mesh::log
