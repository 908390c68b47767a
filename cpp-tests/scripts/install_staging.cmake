# Installs the build into STAGE, checks the tree, then moves it to MOVED (the
# consumers use the moved copy: every path must be relative).
cmake_minimum_required(VERSION 3.20)
file(REMOVE_RECURSE "${STAGE}" "${MOVED}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${STAGE}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed")
endif()
set(expected
  "${LIBDIR}/libcopc.so.${VERSION}" "${LIBDIR}/${SONAME}" "${LIBDIR}/libcopc.so" "${LIBDIR}/libcopc.a"
  include/copc.h include/copc.hpp
  "${LIBDIR}/cmake/Copc/CopcConfig.cmake" "${LIBDIR}/cmake/Copc/CopcConfigVersion.cmake"
  "${LIBDIR}/cmake/Copc/CopcNativeLibs.cmake" "${LIBDIR}/pkgconfig/copc.pc" bin/copc)
foreach(f IN LISTS expected)
  if(NOT EXISTS "${STAGE}/${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
foreach(link "${SONAME}" libcopc.so)
  if(NOT IS_SYMLINK "${STAGE}/${LIBDIR}/${link}")
    message(FATAL_ERROR "${LIBDIR}/${link} should be a symbolic link")
  endif()
endforeach()
# No absolute path of the build or the staging prefix in the package files.
foreach(f "${LIBDIR}/cmake/Copc/CopcConfig.cmake" "${LIBDIR}/cmake/Copc/CopcNativeLibs.cmake" "${LIBDIR}/pkgconfig/copc.pc")
  file(READ "${STAGE}/${f}" text)
  foreach(p "${STAGE}" "${BUILD_DIR}" "${SOURCE_DIR}")
    string(FIND "${text}" "${p}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${f} contains the absolute path ${p}: not relocatable")
    endif()
  endforeach()
endforeach()
file(COPY "${STAGE}/" DESTINATION "${MOVED}")
file(REMOVE_RECURSE "${STAGE}")
# The installed CLI runs from the moved prefix and names the package's version.
execute_process(COMMAND "${MOVED}/bin/copc" --version RESULT_VARIABLE rc OUTPUT_VARIABLE out)
string(STRIP "${out}" out)
string(FIND "${out}" "copc ${VERSION} " at)
if(NOT rc EQUAL 0 OR NOT at EQUAL 0)
  message(FATAL_ERROR "${MOVED}/bin/copc --version gave '${out}' (exit ${rc}), expected 'copc ${VERSION} (laz ...)'")
endif()
message(STATUS "installed, checked, and moved to ${MOVED}")
