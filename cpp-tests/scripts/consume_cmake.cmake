# Configures and builds cpp-tests/consumer against the installed package at PREFIX
# (find_package(Copc CONFIG REQUIRED) only); STATIC=ON links Copc::copc_static.
cmake_minimum_required(VERSION 3.20)
file(REMOVE_RECURSE "${BIN}")
execute_process(COMMAND "${CMAKE_COMMAND}" -S "${SRC}" -B "${BIN}" -G "${GENERATOR}"
                        "-DCMAKE_PREFIX_PATH=${PREFIX}" "-DCOPC_CONSUMER_STATIC=${STATIC}"
                        "-DCMAKE_C_COMPILER=${CC}" "-DCMAKE_CXX_COMPILER=${CXX}" -DCMAKE_BUILD_TYPE=Release
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the ${KIND} consumer failed")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BIN}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the ${KIND} consumer failed")
endif()
execute_process(COMMAND readelf -d "${BIN}/consumer" OUTPUT_VARIABLE dyn)
if(STATIC AND dyn MATCHES "libcopc\\.so")
  message(FATAL_ERROR "the static consumer needs libcopc.so:\n${dyn}")
elseif(NOT STATIC AND NOT dyn MATCHES "NEEDED.*\\[libcopc\\.so\\.[0-9]+\\]")
  message(FATAL_ERROR "the shared consumer does not need libcopc.so.N:\n${dyn}")
endif()
message(STATUS "${KIND} consumer built")
