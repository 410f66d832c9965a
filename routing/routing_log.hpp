#pragma once
// The "routing" log topic. The daemon creates it (tools/log); in tests, where
// it does not exist, messages go to spdlog's default logger.

#include <spdlog/spdlog.h>

#include <memory>

namespace mesh::routing {

inline std::shared_ptr<spdlog::logger> routing_log()
{
    auto logger = spdlog::get("routing");
    return logger ? logger : spdlog::default_logger();
}

} // namespace mesh::routing
