# mla_layer(TARGET FOLDER SOURCES a.cpp ... [USES other layers] [LIBS packages])
#
# A static library made of one folder's sources. Its headers are reached as
# "<folder name>/<header>" through an include root of its own,
# <build>/include/<TARGET>/<folder name> -> the folder, which only this library and the
# libraries that link it see. A folder that includes a header of a layer it does not USE
# gets "No such file or directory" at build time.
function(mla_layer target folder)
  cmake_parse_arguments(ARG "" "" "SOURCES;USES;LIBS" ${ARGN})
  get_filename_component(name ${folder} NAME)
  set(root ${CMAKE_BINARY_DIR}/include/${target})
  file(MAKE_DIRECTORY ${root})
  if(NOT EXISTS ${root}/${name})
    file(CREATE_LINK ${CMAKE_SOURCE_DIR}/${folder} ${root}/${name} SYMBOLIC)
  endif()
  list(TRANSFORM ARG_SOURCES PREPEND ${CMAKE_SOURCE_DIR}/${folder}/)
  add_library(${target} STATIC ${ARG_SOURCES})
  target_include_directories(${target} PUBLIC ${root})
  target_link_libraries(${target} PUBLIC ${ARG_USES} ${ARG_LIBS})
  mla_target_options(${target})
endfunction()

# Warnings, and -march=native when MLA_NATIVE is on, for one target.
function(mla_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter
                         $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
  if(MLA_NATIVE)
    target_compile_options(${target} PRIVATE -march=native)
  endif()
endfunction()
