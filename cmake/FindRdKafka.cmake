# Finds librdkafka's C library and defines the imported target RdKafka::rdkafka.
#
# librdkafka ships a pkg-config file but, in Debian's package, no CMake
# package; this module looks for the header and library directly, with
# pkg-config's paths as hints.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_RDKAFKA QUIET rdkafka)
endif()

find_path(RdKafka_INCLUDE_DIR librdkafka/rdkafka.h HINTS ${PC_RDKAFKA_INCLUDE_DIRS})
find_library(RdKafka_LIBRARY NAMES rdkafka HINTS ${PC_RDKAFKA_LIBRARY_DIRS})
set(RdKafka_VERSION ${PC_RDKAFKA_VERSION})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(RdKafka
    REQUIRED_VARS RdKafka_LIBRARY RdKafka_INCLUDE_DIR
    VERSION_VAR RdKafka_VERSION)

if(RdKafka_FOUND AND NOT TARGET RdKafka::rdkafka)
  add_library(RdKafka::rdkafka UNKNOWN IMPORTED)
  set_target_properties(RdKafka::rdkafka PROPERTIES
      IMPORTED_LOCATION "${RdKafka_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${RdKafka_INCLUDE_DIR}")
endif()
mark_as_advanced(RdKafka_INCLUDE_DIR RdKafka_LIBRARY)
