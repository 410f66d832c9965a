#pragma once
// What to write instead of a RouterOS-ism: the configuration reader refuses
// these with the hint (config_reader.cpp), and `mesh-site import-routeros`
// writes the same words above what it could not map (tools/routeros/).

#include <optional>
#include <string>
#include <string_view>

namespace mesh::config {

// A value RouterOS takes and mesh-site does not, in a list of algorithms or
// groups: "3des is not supported: use aes-128-cbc or aes-128-gcm". kind is
// the section's kind ("profile", "proposal", "tunnel"), key the list's key.
[[nodiscard]] std::optional<std::string> routeros_value_hint(std::string_view kind, std::string_view key,
                                                             std::string_view value);

// A key or table of RouterOS that mesh-site has elsewhere or not at all:
// "exchange-mode: mesh-site speaks IKEv2 only, remove it", "dpd-interval
// belongs in a [profile]: ...". kind is empty at the top level, where
// table_name is the first NAME of an unknown [key.NAME] table.
[[nodiscard]] std::optional<std::string> routeros_key_hint(std::string_view kind, std::string_view key,
                                                           std::string_view table_name = {});

// "yes" or "no" where true or false belongs.
[[nodiscard]] bool is_routeros_boolean(std::string_view value);

} // namespace mesh::config
