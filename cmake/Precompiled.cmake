# Precompiled headers: the standard library, spdlog and fmt, and Botan's
# secure vectors, which most translation units parse, compiled once per build
# tree instead of once per .cpp. One header, built by mesh_pch, is reused by
# every target (REUSE_FROM). It also carries net/fmt_extern.hpp, so that no
# .cpp compiles fmt's formatting engine again.
#
# Kept out, as measured (GCC 12, -O2 -g): nlohmann json and Boost.Asio cost
# every translation unit 0.4-0.6 s more to load than the ~30 that include
# each save; toml++ is in 8; doctest parses in 0.05 s, and its CHECK and FAIL
# macros must not reach the daemon's code.
#
# A reused header is valid only where the macros it saw are defined alike, so
# every target gets the definitions of the libraries in it (spdlog's
# SPDLOG_COMPILED_LIB, fmt's FMT_SHARED), also one that does not link them.
# GCC checks this (-Winvalid-pch, which CMake adds, an error under
# MESH_WERROR) and clang refuses a mismatch.
# -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON builds without them.

# ccache caches a translation unit that uses a precompiled header only with
# this sloppiness (ccache(1), "Precompiled headers"); the header itself is
# hashed, so a changed one still misses.
if(CMAKE_CXX_COMPILER_LAUNCHER MATCHES "ccache")
  set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env CCACHE_SLOPPINESS=pch_defines,time_macros ${CMAKE_CXX_COMPILER_LAUNCHER})
endif()

set(mesh_pch_headers
    <algorithm> <array> <chrono> <cstddef> <cstdint> <cstring> <expected> <functional> <map>
    <memory> <optional> <span> <string> <string_view> <utility> <vector>
    <spdlog/spdlog.h> <botan/secmem.h> <botan/rng.h> ${PROJECT_SOURCE_DIR}/net/fmt_extern.hpp)

add_library(mesh_pch OBJECT EXCLUDE_FROM_ALL ${CMAKE_CURRENT_LIST_DIR}/pch.cpp)
target_link_libraries(mesh_pch PUBLIC spdlog::spdlog PkgConfig::BOTAN)
target_precompile_headers(mesh_pch PRIVATE ${mesh_pch_headers})

if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  # Without it clang records the headers' mtimes, and a header that ccache
  # hands back to another build folder is refused as out of date.
  target_compile_options(mesh_pch PRIVATE -Xclang -fno-pch-timestamp)
endif()

# Every C++ target under DIR reuses mesh_pch.
function(mesh_precompile_targets dir)
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type MATCHES "^(STATIC_LIBRARY|OBJECT_LIBRARY|EXECUTABLE)$" AND NOT target STREQUAL "mesh_pch")
      target_precompile_headers(${target} REUSE_FROM mesh_pch)
      target_compile_definitions(${target} PRIVATE $<TARGET_PROPERTY:mesh_pch,INTERFACE_COMPILE_DEFINITIONS>)
      target_compile_options(${target} PRIVATE $<TARGET_PROPERTY:mesh_pch,INTERFACE_COMPILE_OPTIONS>)
    endif()
  endforeach()
  get_property(subdirectories DIRECTORY ${dir} PROPERTY SUBDIRECTORIES)
  foreach(subdirectory IN LISTS subdirectories)
    mesh_precompile_targets(${subdirectory})
  endforeach()
endfunction()
