# cmake -DSOURCE_DIR=<dir> -DBINARY_DIR=<dir> -DGENERATOR=<gen> -DEXPECT=<regex>
#       [-DOPTIONS=<a|b|c>] -P expect_configure_failure.cmake
# Passes iff configuring the project fails and its output matches EXPECT. OPTIONS is a
# '|'-separated list of extra cache arguments.
cmake_minimum_required(VERSION 3.21)
file(REMOVE_RECURSE "${BINARY_DIR}")
string(REPLACE "|" ";" options "${OPTIONS}")
execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR}" ${options}
    RESULT_VARIABLE result
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output)
if(result EQUAL 0)
    message(FATAL_ERROR "configuring ${SOURCE_DIR} succeeded, but it must fail. Output:\n${output}")
endif()
if(NOT output MATCHES "${EXPECT}")
    message(FATAL_ERROR "configure failed, but not with '${EXPECT}'. Output:\n${output}")
endif()
message(STATUS "configure failed as expected")
