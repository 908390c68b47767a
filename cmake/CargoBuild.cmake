# Run with `cmake -P` by the copc_cargo target: builds the C libraries and the `copc`
# CLI with one cargo invocation, records the native libraries the static library
# needs, copies the libraries into LIB_DIR with the SONAME links and the CLI into
# BIN_DIR, and writes copc.pc and CopcNativeLibs.cmake from that list.
cmake_minimum_required(VERSION 3.20)

set(_art "${TARGET_DIR}/${PROFILE_DIR}")
set(_libs_record "${_art}/copc-native-static-libs.txt")

execute_process(
  COMMAND "${CARGO}" build --lib --bin copc --locked --profile "${PROFILE}" --target-dir "${TARGET_DIR}"
  WORKING_DIRECTORY "${SOURCE_DIR}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cargo build failed (exit ${rc})")
endif()

# The native libraries: rustc prints them for a staticlib (--print native-static-libs).
# Asking it of the copc crate itself (`cargo rustc --lib -- --print ...`) would give
# the library unit other flags than the CLI's dependency on it, and the two builds
# would redo each other every time; a one-line staticlib that links the copc rlib
# (and so every crate below it) lists the same libraries. Redone when the rlib changes.
if(NOT EXISTS "${_libs_record}" OR "${_art}/libcopc.rlib" IS_NEWER_THAN "${_libs_record}")
  get_filename_component(_cargo_dir "${CARGO}" DIRECTORY)
  find_program(_rustc rustc HINTS "${_cargo_dir}" REQUIRED)
  set(_probe_dir "${_art}/native-libs-probe")
  file(MAKE_DIRECTORY "${_probe_dir}")
  file(WRITE "${_probe_dir}/probe.rs" "pub use copc;\n")
  execute_process(
    COMMAND "${_rustc}" --edition 2021 --crate-type staticlib --crate-name copc_native_probe
            --print native-static-libs -L "dependency=${_art}/deps" --extern "copc=${_art}/libcopc.rlib"
            -o "${_probe_dir}/libcopc_native_probe.a" "${_probe_dir}/probe.rs"
    WORKING_DIRECTORY "${SOURCE_DIR}"
    RESULT_VARIABLE rc
    ERROR_VARIABLE _err)
  file(REMOVE "${_probe_dir}/libcopc_native_probe.a")
  string(REGEX MATCH "native-static-libs: ([^\r\n]*)" _m "${_err}")
  if(NOT rc EQUAL 0 OR NOT _m)
    message(FATAL_ERROR "rustc did not list the static library's native libraries (exit ${rc}):\n${_err}")
  endif()
  file(WRITE "${_libs_record}" "${CMAKE_MATCH_1}\n")
endif()
file(STRINGS "${_libs_record}" _native LIMIT_COUNT 1)
string(STRIP "${_native}" _native)

# Libraries into LIB_DIR: libcopc.so.X.Y.Z, libcopc.so.X -> it, libcopc.so -> libcopc.so.X.
file(MAKE_DIRECTORY "${LIB_DIR}")
foreach(f libcopc.so libcopc.a copc)
  if(NOT EXISTS "${_art}/${f}")
    message(FATAL_ERROR "cargo did not produce ${_art}/${f}")
  endif()
endforeach()
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${_art}/libcopc.so" "${LIB_DIR}/${SHARED_REAL}")
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${_art}/libcopc.a" "${LIB_DIR}/libcopc.a")
file(CREATE_LINK "${SHARED_REAL}" "${LIB_DIR}/${SHARED_SONAME}" SYMBOLIC)
file(CREATE_LINK "${SHARED_SONAME}" "${LIB_DIR}/libcopc.so" SYMBOLIC)
file(MAKE_DIRECTORY "${BIN_DIR}")
execute_process(COMMAND "${CMAKE_COMMAND}" -E copy_if_different "${_art}/copc" "${BIN_DIR}/copc")

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
