# Builds consumer.c with only `pkg-config --cflags --libs copc` (PKG_CONFIG_PATH at the
# installed, moved prefix).
cmake_minimum_required(VERSION 3.20)
file(REMOVE_RECURSE "${BIN}")
file(MAKE_DIRECTORY "${BIN}")
set(ENV{PKG_CONFIG_PATH} "${PREFIX}/${LIBDIR}/pkgconfig")
execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs copc OUTPUT_VARIABLE flags RESULT_VARIABLE rc
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags --libs copc failed")
endif()
message(STATUS "pkg-config --cflags --libs copc: ${flags}")
execute_process(COMMAND "${PKG_CONFIG}" --modversion copc OUTPUT_VARIABLE v OUTPUT_STRIP_TRAILING_WHITESPACE)
message(STATUS "pkg-config --modversion copc: ${v}")
separate_arguments(flag_list UNIX_COMMAND "${flags}")
# The run finds libcopc.so.N through an rpath to the libdir pkg-config gave.
execute_process(COMMAND "${PKG_CONFIG}" --variable=libdir copc OUTPUT_VARIABLE libdir OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND "${CC}" -std=c99 -Wall -Wextra -Werror "${SRC}" ${flag_list} -lm "-Wl,-rpath,${libdir}"
                        -o "${BIN}/consumer" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "compiling with pkg-config flags failed")
endif()
