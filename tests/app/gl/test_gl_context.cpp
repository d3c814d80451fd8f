// The context, the log, shader compile errors, and make_backend's names and messages.
#include <catch2/catch.hpp>

#include "model/config.h"
#include "session/backends.h"
#include "support/gl_fixture.h"

#include <epoxy/gl.h>

using namespace mla;

TEST_CASE("make_backend: cpu always, unknown names refused", "[gl]") {
    auto cpu = make_backend("cpu");
    REQUIRE(cpu->name() == "cpu");
    REQUIRE_THROWS_AS(make_backend("tpu"), InputError);
    REQUIRE_THROWS_WITH(make_backend("tpu"), Catch::Contains("use cpu or gpu"));
}

TEST_CASE("gpu backend: available, or refused with the reason", "[gl]") {
    std::string why;
    if (gpu_available(&why)) {
        auto gpu = make_backend("gpu");
        REQUIRE(gpu->name() == "gpu");
        REQUIRE_FALSE(gpu->device().empty());
        WARN("GL renderer: " << gpu->device());
    } else {
        REQUIRE_FALSE(why.empty());
        REQUIRE_THROWS_AS(make_backend("gpu"), InputError);
        REQUIRE_THROWS_WITH(make_backend("gpu"), Catch::Contains("needs OpenGL 4.3") &&
                                                    Catch::Contains("use --backend cpu") && Catch::Contains(why));
        WARN("gpu backend unavailable, as expected here: " << why);
    }
}

TEST_CASE("context: 4.3 or better, debug output on, no GL error", "[gl]") {
    gl::GlBackend* gpu = gltest::gpu_or_skip();
    if (!gpu) return;
    const gl::ContextInfo& info = gl::context_info();
    REQUIRE(info.major * 10 + info.minor >= 43);
    REQUIRE_FALSE(info.renderer.empty());
    REQUIRE(info.debug_output);
    REQUIRE(gl::check_errors("context test") == 0);
    bool ready_logged = false;
    for (const auto& line : gl::log_history()) ready_logged |= line.find("backend ready") != std::string::npos;
    REQUIRE(ready_logged);
}

TEST_CASE("log: the sink sees GL debug errors, and they are counted", "[gl]") {
    if (!gltest::gpu_or_skip()) return;
    std::vector<std::string> seen;
    gl::set_log_sink([&](const std::string& s) { seen.push_back(s); });
    const int64_t before = gl::error_count();
    glBindBuffer(0x1234, 0);  // an invalid target: GL_INVALID_ENUM through the debug callback
    gl::check_errors("deliberate error");  // clears the flag (and counts it if the callback did not)
    gl::set_log_sink(nullptr);
    REQUIRE(gl::error_count() > before);
    REQUIRE_FALSE(seen.empty());
    gl::reset_error_count();
}

TEST_CASE("a shader that fails to compile names its file and line", "[gl]") {
    if (!gltest::gpu_or_skip()) return;
    const char* bad =
        "#version 430\n"
        "layout(local_size_x = 1) in;\n"
        "void main() {\n"
        "    undeclared_thing = 1.0;\n"
        "}\n";
    try {
        gl::compile_compute("broken.comp", bad);
        FAIL("compiled a broken shader");
    } catch (const std::runtime_error& e) {
        const std::string msg = e.what();
        INFO(msg);
        REQUIRE(msg.find("shaders/broken.comp") != std::string::npos);
        REQUIRE(msg.find('4') != std::string::npos);  // the line of the error
        REQUIRE(msg.find("undeclared_thing") != std::string::npos);
    }
    REQUIRE_THROWS_WITH(gl::compile_compute("missing.comp", nullptr), Catch::Contains("shaders/missing.comp"));
    gl::check_errors("after compile test");
    gl::reset_error_count();
}
