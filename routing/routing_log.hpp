#pragma once
// The "routing" log topic.

#include "net/log_topic.hpp"

namespace mesh::routing {

inline std::shared_ptr<spdlog::logger> routing_log()
{
    return net::log_topic("routing");
}

} // namespace mesh::routing
