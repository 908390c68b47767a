# Run with `cmake -P` by the copc_cargo target: builds the C libraries with cargo,
# records the native libraries the static library needs (from rustc's
# `--print native-static-libs`), copies the libraries into LIB_DIR with the SONAME
# links, and writes copc.pc and CopcNativeLibs.cmake from that list.
cmake_minimum_required(VERSION 3.20)

set(_art "${TARGET_DIR}/${PROFILE_DIR}")
set(_libs_record "${_art}/copc-native-static-libs.txt")

function(copc_cargo out_err)
  execute_process(
    COMMAND "${CARGO}" rustc --lib --locked --profile "${PROFILE}" --target-dir "${TARGET_DIR}"
            -- --print native-static-libs
    WORKING_DIRECTORY "${SOURCE_DIR}"
    RESULT_VARIABLE rc
    ERROR_VARIABLE err
    ECHO_ERROR_VARIABLE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "cargo failed (exit ${rc})")
  endif()
  set(${out_err} "${err}" PARENT_SCOPE)
endfunction()

copc_cargo(_err)
string(REGEX MATCH "native-static-libs: ([^\r\n]*)" _m "${_err}")
if(_m)
  file(WRITE "${_libs_record}" "${CMAKE_MATCH_1}\n")
elseif(NOT EXISTS "${_libs_record}")
  # The libraries were up to date but built by a run that did not record the list:
  # make cargo compile the crate once more (only the copc crate) to print it.
  message(STATUS "copc: recording the static library's native libraries (recompiling the copc crate once)")
  file(TOUCH "${SOURCE_DIR}/src/lib.rs")
  copc_cargo(_err)
  string(REGEX MATCH "native-static-libs: ([^\r\n]*)" _m "${_err}")
  if(NOT _m)
    message(FATAL_ERROR "cargo did not print the native-static-libs line")
  endif()
  file(WRITE "${_libs_record}" "${CMAKE_MATCH_1}\n")
endif()
file(STRINGS "${_libs_record}" _native LIMIT_COUNT 1)
string(STRIP "${_native}" _native)

# Libraries into LIB_DIR: libcopc.so.X.Y.Z, libcopc.so.X -> it, libcopc.so -> libcopc.so.X.
file(MAKE_DIRECTORY "${LIB_DIR}")
foreach(f libcopc.so libcopc.a)
  if(NOT EXISTS "${_art}/${f}")
    message(FATAL_ERROR "cargo did not produce ${_art}/${f}")
  endif()
endforeach()
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${_art}/libcopc.so" "${LIB_DIR}/${SHARED_REAL}")
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${_art}/libcopc.a" "${LIB_DIR}/libcopc.a")
file(CREATE_LINK "${SHARED_REAL}" "${LIB_DIR}/${SHARED_SONAME}" SYMBOLIC)
file(CREATE_LINK "${SHARED_SONAME}" "${LIB_DIR}/libcopc.so" SYMBOLIC)

# The list as pkg-config flags and as CMake link items (-lfoo -> foo).
separate_arguments(_items UNIX_COMMAND "${_native}")
set(_cmake_items "")
foreach(i IN LISTS _items)
  if(i MATCHES "^-l(.+)$")
    list(APPEND _cmake_items "${CMAKE_MATCH_1}")
  else()
    list(APPEND _cmake_items "${i}")
  endif()
endforeach()
file(WRITE "${NATIVE_LIBS_FILE}" "${_native}\n")
set(LIBS_PRIVATE "${_native}")
configure_file("${PC_IN}" "${PC_OUT}" @ONLY)
file(CONFIGURE OUTPUT "${LIBS_CMAKE_OUT}" CONTENT [=[
# Native libraries the static libcopc.a needs (rustc --print native-static-libs).
set(COPC_NATIVE_STATIC_LIBS "@_cmake_items@")
]=] @ONLY)
