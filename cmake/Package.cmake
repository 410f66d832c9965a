# `cpack -G DEB` in the build folder: mesh-site_VERSION_ARCH.deb, the
# install of cmake/Install.cmake staged under /usr. Its Depends come from the
# libraries the binary links (dpkg-shlibdeps); /etc/mesh-site/example.toml is
# a conffile, so dpkg keeps an operator's changes on upgrade and purge
# removes it.
set(CPACK_PACKAGE_NAME mesh-site)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "mesh-site maintainers <mesh-site@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "route-based site-to-site VPN: IKEv2, ESP-in-UDP and GRE over TUN for FRRouting")
set(CPACK_PACKAGE_DESCRIPTION
    "Each tunnel is an IKEv2-keyed userspace ESP connection (ESP-in-UDP, RFC 3948)\nthat shows up as a TUN interface carrying GRE, so FRRouting's OSPF or BGP can\nrun over it. The configuration speaks RouterOS IPsec. Runs as the systemd\nservice mesh-site@NAME, reading /etc/mesh-site/NAME.toml.")
# DESTDIR staging: the install runs with prefix /usr, which the unit's
# ExecStart= and the absolute /etc/mesh-site need.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "frr")

# CPack marks nothing under /etc as a conffile by itself.
set(package_control ${PROJECT_BINARY_DIR}/deb-control)
file(WRITE ${package_control}/conffiles "${MESH_CONFIG_DIR}/example.toml\n")
foreach(script IN ITEMS postinst prerm postrm)
  configure_file(${PROJECT_SOURCE_DIR}/tools/service/deb/${script} ${package_control}/${script} COPYONLY)
  file(CHMOD ${package_control}/${script}
       PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${package_control}/conffiles ${package_control}/postinst ${package_control}/prerm ${package_control}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
