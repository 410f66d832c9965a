#pragma once
// [tunnel.NAME.static-sa]: manual keying of one tunnel (docs/configuration.md), read
// and checked against the chosen cipher; and the ESP algorithm names that
// it shares with [proposal.NAME].

#include "tools/config/config_reader.hpp"

#include <array>
#include <string>
#include <string_view>

namespace mesh::config::detail {

inline constexpr std::array<std::string_view, 5> esp_cipher_names{"aes-256-gcm", "aes-128-gcm", "aes-256-cbc",
                                                                   "aes-128-cbc", "chacha20-poly1305"};
inline constexpr std::array<std::string_view, 3> esp_integrity_names{"sha256", "sha384", "sha512"};

// For names already checked against the lists above.
[[nodiscard]] tunnel::EspCipher to_esp_cipher(std::string_view name);
[[nodiscard]] tunnel::EspIntegrity to_esp_integrity(std::string_view name);

struct StaticSaRead {
    StaticSa sa;
    const toml::node* spi_in;  // for the check that no two tunnels receive on one SPI
};

[[nodiscard]] StaticSaRead read_static_sa(const Source& source, const toml::table& table, std::string path);

} // namespace mesh::config::detail
