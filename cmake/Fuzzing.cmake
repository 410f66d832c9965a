# libFuzzer comes with clang only: Debian 12's clang-16 (clang 14 cannot
# compile libstdc++ 12's std::variant and std::expected of non-trivial types).
# Even clang 16 reports __cpp_concepts as 201907, so libstdc++ 12 hides
# std::expected from it although clang 16 compiles that header fine; raising
# the macro is the least intrusive way to reuse the GCC-built code unchanged.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "MESH_FUZZ needs clang: cmake -DCMAKE_CXX_COMPILER=clang++-16 -DMESH_FUZZ=ON")
endif()
add_compile_options(-Wno-macro-redefined -D__cpp_concepts=202002L
                    -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
add_link_options(-fsanitize=address,undefined)
