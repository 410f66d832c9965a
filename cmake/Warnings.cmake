add_compile_options(-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
# CI (tests/run-all.sh) builds with MESH_WERROR so that no warning is merged.
if(MESH_WERROR)
  add_compile_options(-Werror)
endif()
