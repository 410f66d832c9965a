#pragma once
// The "ike" log topic.

#include "net/log_topic.hpp"

namespace mesh::ike {

inline std::shared_ptr<spdlog::logger> ike_log()
{
    return net::log_topic("ike");
}

} // namespace mesh::ike
