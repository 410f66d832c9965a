// libFuzzer target for the configuration reader (tools/config/config.hpp):
// any text is either a Config or a ConfigError naming file, line and column.
// Anything else escaping parse() (std::out_of_range, toml++'s own exceptions,
// a crash) is a bug: libFuzzer reports the uncaught exception as a crash.

#include "tools/config/config.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)mesh::config::parse(text, "fuzz.toml");
    } catch (const mesh::config::ConfigError&) {
        // A refused configuration: the expected outcome for most inputs.
    }
    return 0;
}
