# Debian package with CPack: `cpack -G DEB` in the build folder (README, "Installing as a Debian
# package"). The GUI build gives `switchyard`; a -DSWITCHYARD_GUI=OFF build gives
# `switchyard-headless` (no Qt), and each replaces the other. Depends is computed from the
# binaries by dpkg-shlibdeps, so it names exactly the runtime libraries this build links.
set(SWITCHYARD_PACKAGE_MAINTAINER "Switchyard maintainers <maintainers@switchyard.invalid>"
    CACHE STRING "Maintainer field of the Debian package")

if(SWITCHYARD_GUI)
  set(CPACK_PACKAGE_NAME switchyard)
  set(_sy_other_package switchyard-headless)
  set(_sy_flavour "the command line tools and the Qt workbench")
else()
  set(CPACK_PACKAGE_NAME switchyard-headless)
  set(_sy_other_package switchyard)
  set(_sy_flavour "the command line tools only (no Qt, for servers)")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${SWITCHYARD_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "workbench for Mixture-of-Experts language model checkpoints")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Open a Hugging Face Mixture-of-Experts checkpoint of any size, read its structure, run it on
CPU or GPU, record how tokens are routed through the experts into HDF5, analyse the routing and
write checkpoints that transformers loads. This package holds ${_sy_flavour}.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)             # <name>_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# LibTorch calls BLAS through libblas.so.3; without OpenBLAS Debian falls back to the reference
# BLAS, about 30 times slower for the forward pass. apt installs Recommends by default.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS libopenblas0-pthread)
set(CPACK_DEBIAN_PACKAGE_CONFLICTS ${_sy_other_package})
set(CPACK_DEBIAN_PACKAGE_REPLACES ${_sy_other_package})
# Binaries stripped as Debian policy 10.1 asks; the build tree keeps its debug information.
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/build.*/;/\\\\.git/")

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/${CPACK_PACKAGE_NAME})

include(CPack)
