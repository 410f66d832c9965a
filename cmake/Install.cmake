# `cmake --install`: the daemon in sbin, the systemd unit, an example
# configuration in /etc/mesh-site (never over an existing one), the man pages
# and the docs where Debian puts them. The .deb (cmake/Package.cmake) is this
# install, staged.
include(GNUInstallDirs)
# Installing (and cpack, which installs) needs only the daemon and the man
# pages built, not every test: build those first (tests/interop/deb_package.sh).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(MESH_CONFIG_DIR /etc/mesh-site CACHE PATH
    "where the unit reads mesh-site@NAME's configuration, NAME.toml, and the example goes")
find_package(PkgConfig REQUIRED)
pkg_get_variable(systemd_unit_dir systemd systemdsystemunitdir)
if(NOT systemd_unit_dir)
  set(systemd_unit_dir ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
set(MESH_SYSTEMD_UNIT_DIR ${systemd_unit_dir} CACHE PATH "where mesh-site@.service goes")

install(TARGETS mesh-site RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})

# The unit names the binary by its installed path, known only at install
# time (cmake --install --prefix, or cpack's /usr): written then, with the
# configuration folder.
set(unit_template ${PROJECT_SOURCE_DIR}/tools/service/mesh-site@.service.in)
install(CODE "
  set(MESH_SBINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_SBINDIR}\")
  set(MESH_CONFIG_DIR \"${MESH_CONFIG_DIR}\")
  set(unit \"${MESH_SYSTEMD_UNIT_DIR}/mesh-site@.service\")
  message(STATUS \"Installing: \$ENV{DESTDIR}\${unit}\")
  configure_file(\"${unit_template}\" \"\$ENV{DESTDIR}\${unit}\" @ONLY)
  file(CHMOD \"\$ENV{DESTDIR}\${unit}\" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${unit}\")")

# Mode 0600: it holds a pre-shared key (check-config warns otherwise). An
# operator's edited copy stays, as dpkg keeps a changed conffile.
set(example ${PROJECT_SOURCE_DIR}/tools/service/example.toml)
install(CODE "
  set(config \"\$ENV{DESTDIR}${MESH_CONFIG_DIR}/example.toml\")
  if(EXISTS \"\${config}\")
    message(STATUS \"Keeping: \${config} (it exists)\")
  else()
    file(INSTALL \"${example}\" DESTINATION \"${MESH_CONFIG_DIR}\"
         FILE_PERMISSIONS OWNER_READ OWNER_WRITE)
  endif()")

# Man pages from the docs (one source of truth): mesh-site(8) from
# docs/commands.md, mesh-site.toml(5) from docs/configuration.md, each
# between a short NAME/SYNOPSIS head and a FILES/SEE ALSO tail (docs/man/).
# pandoc reads them as GitHub does (gfm); no date in them, so builds repeat.
find_program(PANDOC pandoc REQUIRED)
set(MESH_MAN_DIR ${PROJECT_BINARY_DIR}/man)
set(man_pages)
foreach(page IN ITEMS "mesh-site;8;commands" "mesh-site.toml;5;configuration")
  list(GET page 0 name)
  list(GET page 1 section)
  list(GET page 2 doc)
  set(head ${PROJECT_SOURCE_DIR}/docs/man/${name}.${section}.head.md)
  set(tail ${PROJECT_SOURCE_DIR}/docs/man/${name}.${section}.tail.md)
  set(out ${MESH_MAN_DIR}/${name}.${section})
  add_custom_command(
    OUTPUT ${out} ${out}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${MESH_MAN_DIR}
    COMMAND ${PANDOC} -f gfm -t man -s --lua-filter ${PROJECT_SOURCE_DIR}/docs/man/links.lua
            -M title=${name} -M section=${section} -M header=mesh-site\ manual
            -M footer=mesh-site\ ${PROJECT_VERSION}
            ${head} ${PROJECT_SOURCE_DIR}/docs/${doc}.md ${tail} -o ${out}
    COMMAND gzip -n -9 -f -k ${out}
    DEPENDS ${head} ${tail} ${PROJECT_SOURCE_DIR}/docs/${doc}.md ${PROJECT_SOURCE_DIR}/docs/man/links.lua
    COMMENT "Generating ${name}(${section}) from docs/${doc}.md"
    VERBATIM)
  list(APPEND man_pages ${out}.gz)
  install(FILES ${out}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(man_pages ALL DEPENDS ${man_pages})

file(GLOB docs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${docs} DESTINATION ${CMAKE_INSTALL_DOCDIR})
