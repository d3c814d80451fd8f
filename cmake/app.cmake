# The app: the GPU backend, the session, the views and widgets, the window and the command
# line, each folder its own library that sees only the layers below it
# (cli -> window -> views -> session -> core; widgets and gl beside).
find_package(PkgConfig REQUIRED)
find_package(glfw3 3.3 REQUIRED)
pkg_check_modules(IMGUI REQUIRED IMPORTED_TARGET imgui)
pkg_check_modules(EPOXY REQUIRED IMPORTED_TARGET epoxy)
find_package(OpenGL REQUIRED)
find_package(CLI11 REQUIRED)

# Shaders are built into the binary so it runs from any folder.
set(MLA_SHADERS absorb_query.comp add.comp attn_scores.comp attn_values.comp copy.comp copy_rows.comp
    embed.comp latent_output.comp matmul.comp matvec.comp rmsnorm.comp rope.comp softmax.comp swiglu.comp
    store_rows.comp load_rows.comp attend.comp attend_merge.comp cache_dtype.glsl)
list(TRANSFORM MLA_SHADERS PREPEND ${CMAKE_SOURCE_DIR}/shaders/)
set(MLA_SHADERS_CPP ${CMAKE_BINARY_DIR}/generated/shaders_embedded.cpp)
string(REPLACE ";" "|" MLA_SHADER_LIST "${MLA_SHADERS}")
add_custom_command(
  OUTPUT ${MLA_SHADERS_CPP}
  COMMAND ${CMAKE_COMMAND} -DOUT=${MLA_SHADERS_CPP} -DFILES=${MLA_SHADER_LIST}
          -P ${CMAKE_SOURCE_DIR}/cmake/embed_shaders.cmake
  DEPENDS ${MLA_SHADERS} ${CMAKE_SOURCE_DIR}/cmake/embed_shaders.cmake
  COMMENT "Embedding shaders" VERBATIM)

# ---- gl: the GPU backend (OpenGL 4.3 compute), the same interface as the CPU backend
mla_layer(mla_gl app/gl USES mla_model
  SOURCES gl_backend.cpp gl_context.cpp
  LIBS PkgConfig::EPOXY glfw OpenGL::GL)
target_sources(mla_gl PRIVATE ${MLA_SHADERS_CPP})

# ---- widgets: heatmap, plot, tensor box, colour map (ImGui only, nothing of core)
mla_layer(mla_widgets app/widgets
  SOURCES colormap.cpp heatmap.cpp plot.cpp tensor_box.cpp
  LIBS PkgConfig::IMGUI PkgConfig::EPOXY)

# ---- session: what the window shows, without ImGui (lanes, traces, settings, lesson state)
mla_layer(mla_session app/session USES mla_core mla_gl
  SOURCES backends.cpp lesson_state.cpp session.cpp)

# ---- views: one file per view, reading the session
mla_layer(mla_views app/views USES mla_session mla_widgets
  SOURCES absorption_view.cpp attention_view.cpp cache_view.cpp compare_view.cpp convert_view.cpp curves_view.cpp
          cache_dtype_panel.cpp diagram.cpp lesson_view.cpp predictions_view.cpp quality_view.cpp shapes_view.cpp sidebar.cpp timeline.cpp
          registry.cpp view.cpp view_logic.cpp
  LIBS PkgConfig::IMGUI)

# ---- window: the window and its loop, fonts, themes, exports, screenshots
mla_layer(mla_window app/window USES mla_views mla_gl
  SOURCES export.cpp plot_png.cpp presentation.cpp session_file.cpp ui_settings.cpp window.cpp
  LIBS PkgConfig::IMGUI glfw PkgConfig::EPOXY OpenGL::GL)

# ---- cli: every subcommand and command-line option
mla_layer(mla_cli app/cli USES mla_window
  SOURCES cache.cpp convert.cpp eval.cpp model.cpp model_options.cpp screenshot.cpp tokenize.cpp train.cpp window_options.cpp
  LIBS CLI11::CLI11)

add_executable(mla-lab app/main.cpp)
target_link_libraries(mla-lab PRIVATE mla_cli)
mla_target_options(mla-lab)
install(TARGETS mla-lab RUNTIME DESTINATION bin)

# ---- tests that need the app's libraries (no window) and tests that need GL (xvfb-run)
add_executable(app_tests
  tests/app/cli/test_cli_hostile.cpp tests/app/cli/test_cli_train_report.cpp tests/app/cli/test_cli_cache_dtype.cpp
  tests/app/cli/test_cli_eval.cpp tests/app/cli/test_cli_sampling.cpp tests/app/cli/test_cli_tokenize.cpp tests/app/cli/test_cli_convert.cpp
  tests/app/session/test_lesson_show_me.cpp tests/app/session/test_session.cpp tests/app/session/test_session_stress.cpp
  tests/app/views/test_curves_view.cpp tests/app/views/test_quality_view.cpp tests/app/views/test_view_logic.cpp
  tests/app/views/test_registry.cpp tests/app/views/test_number_field.cpp tests/app/views/test_colours.cpp
  tests/app/widgets/test_widgets.cpp
  tests/app/window/test_key_queue.cpp tests/app/window/test_presentation.cpp tests/app/window/test_session_file.cpp tests/app/window/test_ui_settings.cpp)
target_include_directories(app_tests PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(app_tests PRIVATE mla_cli Catch2::Catch2)
target_compile_definitions(app_tests PRIVATE MLA_FIXTURES_DIR="${CMAKE_SOURCE_DIR}/tests/fixtures"
                                             MLA_ASSETS_DIR="${CMAKE_SOURCE_DIR}/assets"
                                             MLA_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
mla_target_options(app_tests)
mla_test_executable(app_tests)
add_dependencies(app_tests mla-lab)  # the CLI tests run the executable
catch_discover_tests(app_tests TEST_PREFIX "app:")

add_executable(gl_tests
  tests/app/gl/test_gl_context.cpp tests/app/gl/test_gl_model.cpp tests/app/gl/test_gl_ops.cpp
  tests/app/window/test_plot_png.cpp tests/app/window/test_screenshots.cpp)
target_include_directories(gl_tests PRIVATE ${CMAKE_SOURCE_DIR}/tests)
target_link_libraries(gl_tests PRIVATE mla_cli Catch2::Catch2)
target_compile_definitions(gl_tests PRIVATE MLA_FIXTURES_DIR="${CMAKE_SOURCE_DIR}/tests/fixtures"
                                            MLA_BIN_DIR="${CMAKE_BINARY_DIR}/bin")
mla_target_options(gl_tests)
mla_test_executable(gl_tests)
add_dependencies(gl_tests mla-lab)  # the screenshot tests run the executable
catch_discover_tests(gl_tests TEST_PREFIX "gl:" DISCOVERY_TIMEOUT 60
                     PROPERTIES SKIP_REGULAR_EXPRESSION "MLA_TEST_SKIPPED")
