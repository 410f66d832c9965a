#pragma once
// The client side of the control socket: one request, one JSON answer.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace mesh::cli {

// Throws std::runtime_error naming the socket when the daemon cannot be reached.
[[nodiscard]] nlohmann::json request(const std::filesystem::path& socket, const std::string& what);

} // namespace mesh::cli
