# ctest layout:includes (cmake -DSRC=<source dir> -P check_layout.cmake). The rules of
# README.md "Layout" that the compiler cannot see:
# - a project header is included by its folder ("model/config.h"), never by "../" or a bare
#   name, so a reader knows where it lives;
# - core includes nothing of GL, GLFW, ImGui, the command line, stb or app/;
# - the session includes nothing of ImGui or GLFW (it runs without a window);
# - core/ and app/ hold folders only (and app/main.cpp).
# Which layer may include which is enforced by the build itself (cmake/layers.cmake).
set(problems "")
file(GLOB_RECURSE files RELATIVE ${SRC} ${SRC}/core/*.h ${SRC}/core/*.cpp ${SRC}/app/*.h ${SRC}/app/*.cpp
     ${SRC}/tests/*.h ${SRC}/tests/*.cpp)
foreach(f ${files})
  file(STRINGS ${SRC}/${f} lines REGEX "^[ \t]*#[ \t]*include")
  foreach(line ${lines})
    if(line MATCHES "#[ \t]*include[ \t]*\"([^\"]*)\"")
      set(inc ${CMAKE_MATCH_1})
      if(inc MATCHES "\\.\\./")
        string(APPEND problems "${f}: '${inc}' climbs out of its folder; include it as \"folder/header.h\"\n")
      elseif(NOT inc MATCHES "/")
        string(APPEND problems "${f}: '${inc}' has no folder; include it as \"folder/${inc}\"\n")
      endif()
    endif()
    if(f MATCHES "^core/" AND line MATCHES "[<\"](GL/|GLFW/|imgui|backends/imgui|epoxy/|CLI/|stb/|app/|cli/|window/|views/|widgets/|session/|gl/)")
      string(APPEND problems "${f}: '${line}': core may not include GL, GLFW, ImGui, CLI11, stb or the app\n")
    endif()
    if(f MATCHES "^app/session/" AND line MATCHES "[<\"](GLFW/|imgui|backends/imgui|CLI/|views/|window/|cli/|widgets/)")
      string(APPEND problems "${f}: '${line}': the session may not include ImGui, GLFW, the views, the window or the CLI\n")
    endif()
  endforeach()
endforeach()
file(GLOB loose RELATIVE ${SRC} ${SRC}/core/*.h ${SRC}/core/*.cpp ${SRC}/app/*.h ${SRC}/app/*.cpp)
list(REMOVE_ITEM loose app/main.cpp)
foreach(f ${loose})
  string(APPEND problems "${f}: a file at the top of core/ or app/; put it in the folder of its concern\n")
endforeach()
if(problems)
  message(FATAL_ERROR "layout:\n${problems}")
endif()
list(LENGTH files n)
message(STATUS "layout: ${n} files follow the include rules")
