#pragma once
// Per-topic log levels, as RouterOS sets logging topics: "ike=debug,esp=info"
// sets two topics; a bare level ("debug") sets every topic. Items apply left
// to right, so "warn,ike=debug" quiets all but IKE. The same text is read from
// `--log`, `[site] log` and the control socket's `log` request, without
// spaces, so that format_log_spec gives back the text it was read from.

#include <spdlog/common.h>

#include <array>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::log {

// The topics an operator filters on, in the order they are shown.
inline constexpr std::array<std::string_view, 6> topics{"ike", "esp", "gre", "routing", "config", "daemon"};
inline constexpr std::array<std::string_view, 6> levels{"trace", "debug", "info", "warn", "error", "off"};

struct LevelSetting {
    std::string topic;   // empty: every topic
    spdlog::level::level_enum level = spdlog::level::info;
    bool operator==(const LevelSetting&) const = default;
};

using LogSpec = std::vector<LevelSetting>;

// The settings in text, or what is wrong with it, naming the valid topics or
// levels. An empty text is refused: it would change nothing.
[[nodiscard]] std::expected<LogSpec, std::string> parse_log_spec(std::string_view text);

// The text parse_log_spec reads back as spec.
[[nodiscard]] std::string format_log_spec(const LogSpec& spec);

// A level by its name in `levels`.
[[nodiscard]] std::string_view level_name(spdlog::level::level_enum level);

} // namespace mesh::log
