#pragma once
// `mesh-site import-routeros FILE.rsc`: a RouterOS 7 export of /ip ipsec
// (profile, proposal, peer, identity, policy, mode-config), /ip pool,
// /interface gre and /ip address, written as mesh-site TOML
// (docs/routeros.md has the mapping). What cannot be mapped is written as a
// `#` comment saying why, above where it would go.

#include "tools/routeros/rsc_reader.hpp"

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace mesh::routeros {

struct Imported {
    std::string toml;
    std::size_t mapped = 0;      // RouterOS items written as sections
    std::size_t unmapped = 0;    // comments saying what could not be mapped
    std::vector<std::string> skipped_menus;  // "/ip firewall filter (3 lines)"
    std::vector<std::string> files;          // secret files and certificates the output names
};

// site_name: for [site] when the export has no /system identity.
[[nodiscard]] Imported import_export(const Export& rsc, std::string_view site_name);

// The command: reads file, writes the TOML to out and a summary to err.
// Returns the exit code: 0, or 1 when the file cannot be read.
int import_routeros(const std::string& file, std::ostream& out, std::ostream& err);

} // namespace mesh::routeros
