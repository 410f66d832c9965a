#pragma once
// A log topic an operator filters on ("ike", "routing", ...). The daemon
// creates the topics (tools/log); where one does not exist, as in the unit
// tests, messages go to spdlog's default logger.

#include "net/fmt_extern.hpp"

#include <spdlog/spdlog.h>

#include <memory>

namespace mesh::net {

inline std::shared_ptr<spdlog::logger> log_topic(const char* name)
{
    auto logger = spdlog::get(name);
    return logger ? logger : spdlog::default_logger();
}

} // namespace mesh::net
