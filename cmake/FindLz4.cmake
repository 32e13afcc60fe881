# Finds the LZ4 frame library and defines the imported target Lz4::Lz4.
#
# Debian's liblz4-dev ships a pkg-config file but no CMake package; pkg-config's
# paths are used as hints for the header and the library.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_LZ4 QUIET liblz4)
endif()

find_path(Lz4_INCLUDE_DIR lz4frame.h HINTS ${PC_LZ4_INCLUDE_DIRS})
find_library(Lz4_LIBRARY NAMES lz4 HINTS ${PC_LZ4_LIBRARY_DIRS})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Lz4
    REQUIRED_VARS Lz4_LIBRARY Lz4_INCLUDE_DIR
    VERSION_VAR PC_LZ4_VERSION)

if(Lz4_FOUND AND NOT TARGET Lz4::Lz4)
  add_library(Lz4::Lz4 UNKNOWN IMPORTED)
  set_target_properties(Lz4::Lz4 PROPERTIES
      IMPORTED_LOCATION "${Lz4_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${Lz4_INCLUDE_DIR}")
endif()
