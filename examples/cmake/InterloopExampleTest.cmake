# examples/cmake/InterloopExampleTest.cmake — registers an example's ctests,
# one per backend of the build, each checking the example's output.
#
#   include(${PROJECT_SOURCE_DIR}/examples/cmake/InterloopExampleTest.cmake)
#   il_example_test(NAME hello COMMAND interloop-hello --delay 0.5
#     EXPECT "^Hello$" "^World"
#     LAST "^RESULT hello ok$")
#
# Adds example-<NAME>-<backend> for builtin, builtin-poll and every adapter
# the build has (or only the BACKENDS given). Each runs
# examples/cmake/check_example.sh, which runs the program with
# INTERLOOP_BACKEND=<backend> (and stdin from /dev/null) and passes only if:
#   - it exits with status 0;
#   - each EXPECT regex (grep -E) matches a line of its stdout, in the order
#     given, each on a later line than the previous one;
#   - the last line of its stdout matches LAST (if given);
#   - no REJECT regex matches a line of its stdout or stderr. The default
#     REJECT list, always applied, catches the loop's default error handler
#     ("interloop[backend]: ...") and sanitizer reports.
# The program's output is shown when a check fails.
#
# COMMAND is a target name (replaced by its file) or a path, then arguments;
# the text @BACKEND@ in an argument becomes the backend's name, for programs
# that take --backend. TIMEOUT defaults to 30 seconds.
include_guard(GLOBAL)

function(il_example_test)
  cmake_parse_arguments(A "" "NAME;LAST;TIMEOUT"
    "COMMAND;EXPECT;REJECT;BACKENDS" ${ARGN})
  if(NOT A_NAME OR NOT A_COMMAND)
    message(FATAL_ERROR "il_example_test: NAME and COMMAND are required")
  endif()
  if(A_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR
      "il_example_test(${A_NAME}): unknown arguments ${A_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 30)
  endif()
  if(NOT A_BACKENDS)
    get_property(adapters GLOBAL PROPERTY IL_CONFORMANCE_BACKENDS)
    set(A_BACKENDS builtin builtin-poll ${adapters})
  endif()

  list(POP_FRONT A_COMMAND program)
  if(TARGET ${program})
    set(program $<TARGET_FILE:${program}>)
  endif()

  set(checks)
  foreach(re IN LISTS A_EXPECT)
    list(APPEND checks --expect ${re})
  endforeach()
  foreach(re IN LISTS A_REJECT)
    list(APPEND checks --reject ${re})
  endforeach()
  if(DEFINED A_LAST)
    list(APPEND checks --last ${A_LAST})
  endif()

  foreach(b IN LISTS A_BACKENDS)
    string(REPLACE "@BACKEND@" "${b}" args "${A_COMMAND}")
    add_test(NAME example-${A_NAME}-${b}
      COMMAND ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/check_example.sh ${checks} -- ${program} ${args})
    set_tests_properties(example-${A_NAME}-${b} PROPERTIES
      ENVIRONMENT "INTERLOOP_BACKEND=${b}" TIMEOUT ${A_TIMEOUT})
  endforeach()
endfunction()
