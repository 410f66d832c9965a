#pragma once
// Files that hold secrets (a private key, a secret-file, a configuration with
// `secret` or static-sa keys) are for their owner only. As OpenSSH refuses a
// private key that group or others may use, the configuration refuses such a
// key or secret file and warns of such a configuration file.

#include <filesystem>
#include <optional>
#include <string>

namespace mesh::config::detail {

// How file, with these permissions, is open to group or others, and the
// chmod that closes it, to follow "FILE is ":
//   "readable by group and others (mode 0644): chmod 600 key.pem"
// nullopt when only its owner may use it.
[[nodiscard]] std::optional<std::string> exposure(const std::filesystem::path& file, std::filesystem::perms perms);

// The same for the file as it is now; nullopt too when it cannot be looked at
// (reading it will then say why).
[[nodiscard]] std::optional<std::string> exposure(const std::filesystem::path& file);

} // namespace mesh::config::detail
