#pragma once
// What the configuration tests compare: the located message a mistake gives.

#include "tools/config/config.hpp"

#include <string>
#include <string_view>

namespace mesh::config::test {

// what() of the ConfigError that parsing text as "a.toml" throws, or "(no error)".
inline std::string error_of(std::string_view text)
{
    try {
        (void)parse(text, "a.toml");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace mesh::config::test
