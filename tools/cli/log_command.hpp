#pragma once
// `mesh-site log [SPEC]`: a running daemon's log levels, set first when SPEC
// names some. The levels print as one spec, "ike=debug,esp=info,...", which
// `mesh-site log` takes back to restore them.

#include <filesystem>
#include <string>

namespace mesh::cli {

// The exit status: 0, or 1 with the reason on stderr when SPEC is not a
// log spec (naming the valid topics and levels) or the daemon refuses it.
// Throws std::runtime_error when the daemon cannot be reached.
int log_command(const std::filesystem::path& socket, const std::string& spec);

} // namespace mesh::cli
