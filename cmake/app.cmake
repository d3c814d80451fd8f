# The window, the GL backend and the CLI executable.
find_package(PkgConfig REQUIRED)
find_package(glfw3 3.3 REQUIRED)
pkg_check_modules(IMGUI REQUIRED IMPORTED_TARGET imgui)
pkg_check_modules(EPOXY REQUIRED IMPORTED_TARGET epoxy)
find_package(OpenGL REQUIRED)
find_package(CLI11 REQUIRED)

# Shaders are built into the binary so it runs from any folder.
file(GLOB MLA_SHADERS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/shaders/*.comp ${CMAKE_SOURCE_DIR}/shaders/*.vert
     ${CMAKE_SOURCE_DIR}/shaders/*.frag)
set(MLA_SHADERS_CPP ${CMAKE_BINARY_DIR}/generated/shaders_embedded.cpp)
add_custom_command(
  OUTPUT ${MLA_SHADERS_CPP}
  COMMAND ${CMAKE_COMMAND} -DOUT=${MLA_SHADERS_CPP} -DSRC_DIR=${CMAKE_SOURCE_DIR}/shaders
          -P ${CMAKE_SOURCE_DIR}/cmake/embed_shaders.cmake
  DEPENDS ${MLA_SHADERS} ${CMAKE_SOURCE_DIR}/cmake/embed_shaders.cmake
  COMMENT "Embedding shaders")

# ---- GL backend (OpenGL 4.3 compute), same interface as the CPU backend
file(GLOB MLA_GL_SOURCES CONFIGURE_DEPENDS app/gl/*.cpp)
add_library(mla_gl STATIC ${MLA_GL_SOURCES} ${MLA_SHADERS_CPP})
target_include_directories(mla_gl PUBLIC app)
target_link_libraries(mla_gl PUBLIC mla_core PkgConfig::EPOXY glfw OpenGL::GL)
mla_warnings(mla_gl)

# ---- the app: views, widgets, CLI subcommands (everything under app/ but main.cpp)
file(GLOB MLA_APP_SOURCES CONFIGURE_DEPENDS app/*.cpp app/views/*.cpp app/widgets/*.cpp)
list(REMOVE_ITEM MLA_APP_SOURCES ${CMAKE_SOURCE_DIR}/app/main.cpp)
add_library(mla_app STATIC ${MLA_APP_SOURCES})
target_include_directories(mla_app PUBLIC app)
target_link_libraries(mla_app PUBLIC mla_core mla_gl PkgConfig::IMGUI glfw PkgConfig::EPOXY OpenGL::GL CLI11::CLI11)
mla_warnings(mla_app)

add_executable(mla-lab app/main.cpp)
target_link_libraries(mla-lab PRIVATE mla_app)
mla_warnings(mla-lab)

# ---- tests that need the app library (no window) and tests that need GL (xvfb-run)
file(GLOB MLA_APP_TESTS CONFIGURE_DEPENDS tests/app/*.cpp)
add_executable(app_tests ${CMAKE_SOURCE_DIR}/tests/catch_main.cpp ${MLA_APP_TESTS})
target_link_libraries(app_tests PRIVATE mla_app Catch2::Catch2)
target_compile_definitions(app_tests PRIVATE MLA_FIXTURES_DIR="${CMAKE_SOURCE_DIR}/tests/fixtures"
                                             MLA_ASSETS_DIR="${CMAKE_SOURCE_DIR}/assets"
                                             MLA_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
add_dependencies(app_tests mla-lab)  # the CLI tests run the executable
catch_discover_tests(app_tests TEST_PREFIX "app:")

file(GLOB MLA_GL_TESTS CONFIGURE_DEPENDS tests/gl/*.cpp)
add_executable(gl_tests ${CMAKE_SOURCE_DIR}/tests/catch_main.cpp ${MLA_GL_TESTS})
target_link_libraries(gl_tests PRIVATE mla_app Catch2::Catch2)
target_compile_definitions(gl_tests PRIVATE MLA_FIXTURES_DIR="${CMAKE_SOURCE_DIR}/tests/fixtures"
                                            MLA_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
catch_discover_tests(gl_tests TEST_PREFIX "gl:" DISCOVERY_TIMEOUT 60)
