#pragma once
// The client side of the control socket: one request, one JSON answer
// (the protocol: tools/daemon/control_request.hpp).

#include "tools/daemon/control_request.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>

namespace mesh::cli {

// A daemon answers within milliseconds; one that has not after this is stuck.
inline constexpr std::chrono::milliseconds answer_timeout = std::chrono::seconds(5);
// The largest answer read (`keys` of many tunnels is some kilobytes).
inline constexpr std::size_t max_answer = 16 * 1024 * 1024;

// The daemon's answer. Throws std::runtime_error naming the socket when the
// daemon cannot be reached, does not answer within timeout, answers with
// something that is not JSON, or refuses the request ({"error": ...}).
[[nodiscard]] nlohmann::json request(const std::filesystem::path& socket, const daemon::Request& what,
                                     std::chrono::milliseconds timeout = answer_timeout);

} // namespace mesh::cli
