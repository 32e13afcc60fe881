# corps_generate_protobuf(TARGET <target> ROOT <dir> OUT_DIR <dir>
#                         [IMPORT_DIRS <dir>...] PROTOS <file>...)
#
# Runs protoc on each .proto (given relative to ROOT) and adds the generated
# C++ to TARGET, keeping the proto's path: ROOT/corps/x.proto becomes
# OUT_DIR/corps/x.pb.h, so code includes "corps/x.pb.h". (CMake 3.25's
# protobuf_generate names outputs after the path from the source directory
# instead, which breaks that include.)
function(corps_generate_protobuf)
  cmake_parse_arguments(ARG "" "TARGET;ROOT;OUT_DIR" "IMPORT_DIRS;PROTOS" ${ARGN})
  set(include_flags -I "${ARG_ROOT}")
  foreach(dir IN LISTS ARG_IMPORT_DIRS)
    list(APPEND include_flags -I "${dir}")
  endforeach()
  foreach(proto IN LISTS ARG_PROTOS)
    string(REGEX REPLACE "\\.proto$" "" stem "${proto}")
    set(header "${ARG_OUT_DIR}/${stem}.pb.h")
    set(source "${ARG_OUT_DIR}/${stem}.pb.cc")
    add_custom_command(
        OUTPUT "${header}" "${source}"
        COMMAND protobuf::protoc --cpp_out "${ARG_OUT_DIR}" ${include_flags} "${ARG_ROOT}/${proto}"
        DEPENDS "${ARG_ROOT}/${proto}" protobuf::protoc
        COMMENT "protoc ${proto}"
        VERBATIM)
    target_sources(${ARG_TARGET} PRIVATE "${header}" "${source}")
  endforeach()
  file(MAKE_DIRECTORY "${ARG_OUT_DIR}")
endfunction()
