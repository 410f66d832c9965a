#pragma once
// Log topics an operator filters on: each is a named spdlog logger writing to
// stderr ("[esp] ...", "[ike] ...").

#include <spdlog/spdlog.h>

#include <memory>

namespace mesh::log {

void init(spdlog::level::level_enum level);

std::shared_ptr<spdlog::logger> ike();
std::shared_ptr<spdlog::logger> esp();
std::shared_ptr<spdlog::logger> gre();
std::shared_ptr<spdlog::logger> routing();
std::shared_ptr<spdlog::logger> config();
std::shared_ptr<spdlog::logger> daemon();

} // namespace mesh::log
