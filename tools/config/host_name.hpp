#pragma once
// A peer's address given as a DNS name ("branch1.example.net"): what makes
// a valid host name, checked when the configuration is read; resolving it
// is the daemon's (tools/daemon/peer_names.hpp).

#include <optional>
#include <string>
#include <string_view>

namespace mesh::config {

// Why text is not a host name (RFC 1123 section 2.1, RFC 3696 section 2),
// in words that say what to fix; nullopt when it is one. Labels of 1 to 63
// letters, digits and '-', neither first nor last; 253 characters at most,
// one final '.' allowed; the last label not all digits, so that a mistyped
// address ("10.0.0.300") is never taken for a name.
[[nodiscard]] std::optional<std::string> host_name_problem(std::string_view text);

} // namespace mesh::config
