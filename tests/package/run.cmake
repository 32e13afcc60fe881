# Installs the corps build in CORPS_BINARY_DIR into a scratch prefix, then
# configures, builds and runs the consumer project in CONSUMER_SOURCE_DIR
# against it. Fails on the first step that fails.
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")

function(step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "step failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

step(${CMAKE_COMMAND} --install "${CORPS_BINARY_DIR}" --prefix "${prefix}")
step(${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${build}" -DCMAKE_PREFIX_PATH=${prefix})
step(${CMAKE_COMMAND} --build "${build}")
step("${build}/package_consumer")
