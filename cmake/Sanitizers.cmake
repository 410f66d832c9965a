# The unit tests run once more under ASan and UBSan in CI (.ci/run), and the
# data plane's lock-free parts (SA table snapshot, SPSC rings, packet pump)
# under ThreadSanitizer, which cannot share a build with ASan.
if(MESH_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
else()
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
