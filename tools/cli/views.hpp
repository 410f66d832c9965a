#pragma once
// Text renderings of the daemon's JSON answers.

#include <nlohmann/json.hpp>

#include <string>

namespace mesh::cli {

// Peers like RouterOS `active-peers print`, tunnels and SAs like `installed-sa print`.
[[nodiscard]] std::string render_status(const nlohmann::json& status);

// Wireshark 4.0 UAT records: `esp_sa` (8 fields) or `ikev2_decryption_table`.
[[nodiscard]] std::string render_wireshark_esp(const nlohmann::json& keys);
[[nodiscard]] std::string render_wireshark_ikev2(const nlohmann::json& keys);

} // namespace mesh::cli
