# Finds cpp-httplib (built as a library, as Debian's libcpp-httplib-dev is)
# and defines the imported target CppHttplib::CppHttplib, with the feature
# macros its header must be compiled with (OpenSSL, zlib, Brotli).
#
# Debian ships only a pkg-config file for it.
find_package(PkgConfig REQUIRED)
pkg_check_modules(PC_CPPHTTPLIB QUIET cpp-httplib)

find_path(CppHttplib_INCLUDE_DIR httplib.h HINTS ${PC_CPPHTTPLIB_INCLUDE_DIRS})
find_library(CppHttplib_LIBRARY NAMES cpp-httplib HINTS ${PC_CPPHTTPLIB_LIBRARY_DIRS})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CppHttplib
    REQUIRED_VARS CppHttplib_LIBRARY CppHttplib_INCLUDE_DIR
    VERSION_VAR PC_CPPHTTPLIB_VERSION)

if(CppHttplib_FOUND AND NOT TARGET CppHttplib::CppHttplib)
  add_library(CppHttplib::CppHttplib UNKNOWN IMPORTED)
  set_target_properties(CppHttplib::CppHttplib PROPERTIES
      IMPORTED_LOCATION "${CppHttplib_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${CppHttplib_INCLUDE_DIR}"
      INTERFACE_COMPILE_OPTIONS "${PC_CPPHTTPLIB_CFLAGS_OTHER}")
endif()
