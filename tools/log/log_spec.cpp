#include "tools/log/log_spec.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace mesh::log {

namespace {

constexpr std::array<spdlog::level::level_enum, levels.size()> level_values{
    spdlog::level::trace, spdlog::level::debug, spdlog::level::info,
    spdlog::level::warn,  spdlog::level::err,   spdlog::level::off};

// Quoted for a message; the text may come from anyone who can open the
// control socket, so only short printable ASCII is shown as it is.
std::string quoted(std::string_view s)
{
    std::string out = "\"";
    for (const char c : s.substr(0, 32))
        out += (c >= 0x20 && c < 0x7f) ? std::string(1, c) : fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    return out + (s.size() > 32 ? "...\"" : "\"");
}

} // namespace

std::string_view level_name(spdlog::level::level_enum level)
{
    const auto* it = std::ranges::find(level_values, level);
    // critical has no name of its own here: it shows as the nearest, error.
    return it == level_values.end() ? "error" : levels[static_cast<std::size_t>(it - level_values.begin())];
}

std::expected<LogSpec, std::string> parse_log_spec(std::string_view text)
{
    if (text.empty())
        return std::unexpected(fmt::format("no log levels: write LEVEL or TOPIC=LEVEL[,TOPIC=LEVEL...] with the "
                                           "topics {} and the levels {}",
                                           fmt::join(topics, ", "), fmt::join(levels, ", ")));
    LogSpec spec;
    while (true) {
        const auto comma = text.find(',');
        const auto item = text.substr(0, comma);
        const auto equals = item.find('=');
        const auto topic = equals == std::string_view::npos ? std::string_view{} : item.substr(0, equals);
        const auto level = equals == std::string_view::npos ? item : item.substr(equals + 1);
        if (equals != std::string_view::npos && std::ranges::find(topics, topic) == topics.end())
            return std::unexpected(fmt::format("unknown log topic {}: the topics are {}", quoted(topic),
                                               fmt::join(topics, ", ")));
        const auto* known = std::ranges::find(levels, level);
        if (known == levels.end())
            return std::unexpected(fmt::format("unknown log level {}{}: the levels are {}", quoted(level),
                                               topic.empty() ? "" : fmt::format(" for {}", topic),
                                               fmt::join(levels, ", ")));
        spec.push_back({std::string(topic), level_values[static_cast<std::size_t>(known - levels.begin())]});
        if (comma == std::string_view::npos)
            return spec;
        text.remove_prefix(comma + 1);
    }
}

std::string format_log_spec(const LogSpec& spec)
{
    std::string out;
    for (const auto& setting : spec) {
        if (!out.empty())
            out += ',';
        if (!setting.topic.empty())
            out += setting.topic + '=';
        out += level_name(setting.level);
    }
    return out;
}

} // namespace mesh::log
