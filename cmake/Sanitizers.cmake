# The unit tests run once more under ASan and UBSan in CI (.ci/run), and the
# data plane's lock-free parts (SA table snapshot, SPSC rings, packet pump)
# under ThreadSanitizer, which cannot share a build with ASan.
if(MESH_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  # Boost.Asio fences each handler it runs (std::atomic_thread_fence), which
  # TSan does not model (GCC's -Wtsan, an error here). Its scheduler hands
  # handlers between threads under a mutex, which TSan sees: without the
  # fences (IKE's crypto pool posting to the control thread) nothing is lost.
  add_compile_definitions(BOOST_ASIO_DISABLE_FENCED_BLOCK)
else()
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
