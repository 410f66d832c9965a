#pragma once
// The "ike" log topic. The daemon creates it (tools/log); in tests, where it
// does not exist, messages go to spdlog's default logger.

#include <spdlog/spdlog.h>

#include <memory>

namespace mesh::ike {

inline std::shared_ptr<spdlog::logger> ike_log()
{
    auto logger = spdlog::get("ike");
    return logger ? logger : spdlog::default_logger();
}

} // namespace mesh::ike
