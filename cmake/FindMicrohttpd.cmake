# Finds GNU libmicrohttpd and defines the imported target Microhttpd::Microhttpd.
#
# Debian's libmicrohttpd-dev ships a pkg-config file but no CMake package;
# pkg-config's paths are used as hints for the header and the library.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_MICROHTTPD QUIET libmicrohttpd)
endif()

find_path(Microhttpd_INCLUDE_DIR microhttpd.h HINTS ${PC_MICROHTTPD_INCLUDE_DIRS})
find_library(Microhttpd_LIBRARY NAMES microhttpd HINTS ${PC_MICROHTTPD_LIBRARY_DIRS})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Microhttpd
    REQUIRED_VARS Microhttpd_LIBRARY Microhttpd_INCLUDE_DIR
    VERSION_VAR PC_MICROHTTPD_VERSION)

if(Microhttpd_FOUND AND NOT TARGET Microhttpd::Microhttpd)
  add_library(Microhttpd::Microhttpd UNKNOWN IMPORTED)
  set_target_properties(Microhttpd::Microhttpd PROPERTIES
      IMPORTED_LOCATION "${Microhttpd_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${Microhttpd_INCLUDE_DIR}")
endif()
