#pragma once
// Log topics an operator filters on: each is a named spdlog logger ("[esp]
// ...", "[ike] ...") with a level of its own (tools/log/log_spec.hpp). They
// write to stderr, or to the journal when stderr is the journal's stream
// (tools/log/journal_sink.hpp), as under systemd.

#include "net/fmt_extern.hpp"
#include "tools/log/log_spec.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace mesh::log {

// Every topic at level.
void init(spdlog::level::level_enum level);

// The settings of spec, left to right; topics not named keep their level.
void apply(const LogSpec& spec);

// Every topic with its level now, in the order of `topics`.
[[nodiscard]] std::vector<std::pair<std::string_view, spdlog::level::level_enum>> current_levels();

std::shared_ptr<spdlog::logger> ike();
std::shared_ptr<spdlog::logger> esp();
std::shared_ptr<spdlog::logger> gre();
std::shared_ptr<spdlog::logger> routing();
std::shared_ptr<spdlog::logger> config();
std::shared_ptr<spdlog::logger> daemon();

} // namespace mesh::log
