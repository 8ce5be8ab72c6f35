# il_add_adapter(): the build of one engine adapter, the same for every
# engine. It makes
#   lib/interloop-0/libinterloop-<name>.so   the run-time plugin: no
#       libinterloop (the core is reached through il_backend_host_t), only
#       il_backend_plugin exported, --no-undefined;
#   lib/libinterloop-<name>.so.0 and .a      the linkable library for
#       applications that adopt their own loop, exported as
#       interloop::interloop-<name>[_static];
# installs both and include/interloop/<name>.h, registers the conformance
# runs (owned and adopted) and the ctest <name>-symbols (check-symbols.sh).
#
#   il_add_adapter(NAME uv
#     BACKEND_SOURCES uv.c ...   compiled into the plugin and the libraries
#     PLUGIN_SOURCES uv_plugin.c PLUGIN_MAP uv_plugin.map
#     [PLUGIN_DEFINITIONS ...] [PLUGIN_LIBS ...]   (default: ENGINE_LIBS)
#     LIBRARY_SOURCES uv_adopt.c LIBRARY_MAP interloop-uv.map
#     ENGINE_INCLUDES ... ENGINE_LIBS ...)
function(il_add_adapter)
  cmake_parse_arguments(A "NO_PLUGIN_ENGINE_LINK" "NAME;PLUGIN_MAP;LIBRARY_MAP"
    "BACKEND_SOURCES;PLUGIN_SOURCES;PLUGIN_DEFINITIONS;PLUGIN_LIBS;LIBRARY_SOURCES;ENGINE_INCLUDES;ENGINE_LIBS"
    ${ARGN})
  set(n ${A_NAME})
  set(src ${CMAKE_CURRENT_SOURCE_DIR})
  if(NOT A_PLUGIN_LIBS AND NOT A_NO_PLUGIN_ENGINE_LINK)
    set(A_PLUGIN_LIBS ${A_ENGINE_LIBS})
  endif()

  set(plugin interloop-${n}-plugin)
  add_library(${plugin} MODULE ${A_BACKEND_SOURCES} ${A_PLUGIN_SOURCES})
  il_project_flags(${plugin})
  target_include_directories(${plugin} PRIVATE ${CMAKE_SOURCE_DIR}/spec/include
    ${src}/include ${A_ENGINE_INCLUDES})
  target_compile_definitions(${plugin} PRIVATE ${A_PLUGIN_DEFINITIONS})
  target_link_libraries(${plugin} PRIVATE ${A_PLUGIN_LIBS} Threads::Threads
    ${CMAKE_DL_LIBS})
  target_link_options(${plugin} PRIVATE
    -Wl,--version-script=${src}/${A_PLUGIN_MAP} -Wl,--no-undefined)
  set_target_properties(${plugin} PROPERTIES OUTPUT_NAME interloop-${n}
    PREFIX "lib" LIBRARY_OUTPUT_DIRECTORY ${IL_PLUGIN_OUTPUT_DIR}
    LINK_DEPENDS ${src}/${A_PLUGIN_MAP})
  install(TARGETS ${plugin} LIBRARY DESTINATION ${IL_PLUGIN_INSTALL_DIR})

  set(engine_includes "")
  foreach(dir ${A_ENGINE_INCLUDES})
    list(APPEND engine_includes $<BUILD_INTERFACE:${dir}>)
  endforeach()
  foreach(kind SHARED STATIC)
    if(kind STREQUAL "SHARED")
      set(t interloop-${n})
      set(core interloop)
    else()
      set(t interloop-${n}_static)
      set(core interloop_static)
    endif()
    add_library(${t} ${kind} ${A_BACKEND_SOURCES} ${A_LIBRARY_SOURCES})
    il_project_flags(${t})
    target_include_directories(${t} PUBLIC $<BUILD_INTERFACE:${src}/include>
      ${engine_includes} $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    # The engine is public: <interloop/<name>.h> includes the engine's
    # header, and an application that adopts its loop calls the engine.
    target_link_libraries(${t} PUBLIC ${core} ${A_ENGINE_LIBS} Threads::Threads)
    set_target_properties(${t} PROPERTIES EXPORT_NAME ${t})
    add_library(interloop::${t} ALIAS ${t})
  endforeach()
  set_target_properties(interloop-${n} PROPERTIES VERSION ${PROJECT_VERSION}
    SOVERSION ${IL_ABI_MAJOR} LINK_DEPENDS ${src}/${A_LIBRARY_MAP})
  target_link_options(interloop-${n} PRIVATE
    -Wl,--version-script=${src}/${A_LIBRARY_MAP} -Wl,--no-undefined)
  set_target_properties(interloop-${n}_static PROPERTIES
    OUTPUT_NAME interloop-${n})
  install(TARGETS interloop-${n} interloop-${n}_static EXPORT interloopTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(FILES ${src}/include/interloop/${n}.h
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/interloop)

  set_property(GLOBAL APPEND PROPERTY IL_CONFORMANCE_BACKENDS ${n})
  set_property(GLOBAL APPEND PROPERTY IL_CONFORMANCE_ADOPTED ${n})
  if(BUILD_TESTING)
    add_test(NAME ${n}-symbols COMMAND ${src}/check-symbols.sh
      $<TARGET_FILE:${plugin}> $<TARGET_FILE:interloop-${n}>)
  endif()
endfunction()

# il_adapter_readme_test(NAME [PASS_REGULAR_EXPRESSION re]): the first ```c
# block of adapters/<name>/README.md, built against the linkable library and
# run as the ctest <name>-readme.
function(il_adapter_readme_test n)
  cmake_parse_arguments(A "" "PASS_REGULAR_EXPRESSION" "" ${ARGN})
  set(readme ${CMAKE_CURRENT_SOURCE_DIR}/README.md)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${readme})
  file(READ ${readme} text)
  string(REGEX MATCH "```c\n([^`]*)```" block "${text}")
  if(NOT CMAKE_MATCH_1)
    message(FATAL_ERROR "${readme} has no ```c block")
  endif()
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/readme_example.c "${CMAKE_MATCH_1}")
  add_executable(interloop-${n}-readme ${CMAKE_CURRENT_BINARY_DIR}/readme_example.c)
  il_project_flags(interloop-${n}-readme)
  target_link_libraries(interloop-${n}-readme PRIVATE interloop-${n})
  add_test(NAME ${n}-readme COMMAND interloop-${n}-readme)
  set_tests_properties(${n}-readme PROPERTIES TIMEOUT 30)
  if(A_PASS_REGULAR_EXPRESSION)
    set_tests_properties(${n}-readme PROPERTIES
      PASS_REGULAR_EXPRESSION "${A_PASS_REGULAR_EXPRESSION}")
  endif()
endfunction()
