#pragma once
// fmt's formatting engine, detail::vformat_to<char>, is compiled once into
// libfmt.so, but fmt 9 (Debian 12) does not declare that instance in its
// header (fmt 10 does): every .cpp that logs with arguments through spdlog
// compiled a copy of its own, float formatting included, about 80 KB of code
// and 2-3 s of compile time each. Declared here, they call the library's.
// Included wherever spdlog or fmt/format.h enters (net/log_topic.hpp,
// tools/log/log.hpp, ike/ike_engine.hpp) and in the precompiled header
// (cmake/Precompiled.cmake). Not for clang (the fuzz build): it mangles this
// instance's name otherwise than the GCC that built libfmt.so, so the link
// would miss it.

#include <fmt/format.h>

#if FMT_VERSION < 100000 && !defined(FMT_HEADER_ONLY) && !defined(__clang__)
FMT_BEGIN_NAMESPACE
namespace detail {
extern template FMT_API void vformat_to<char>(buffer<char>&, basic_string_view<char>,
                                              basic_format_args<buffer_context<char>>, locale_ref);
} // namespace detail
FMT_END_NAMESPACE
#endif
