// The OpenGL context the GPU backend runs in, and the GL log.
//
// The backend needs an OpenGL 4.3 core context (compute shaders, shader storage buffers)
// current on the calling thread. In the window that is the app's own context; in the CLI
// and the tests there is none, so ensure_context() makes a hidden GLFW window once and
// keeps it for the life of the process. When 4.3 is not available, the reason is a
// sentence a user can act on ("no X display (DISPLAY is not set)", "this display gives
// OpenGL 3.3 (llvmpipe)"): the CLI prints it and exits 2, the window greys out "gpu".
//
// The log: GL debug messages (KHR_debug, core in 4.3) and the backend's own lines go to
// a sink the app can set, and to a short history it can read; errors are counted so
// tests can assert "no GL error". All log functions are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

struct GLFWwindow;

namespace mla::gl {

// A GLFW window with a forward-compatible core-profile OpenGL context, made the one way the
// app, the plot renderer and the compute context all use: the first version of `versions`
// that the display gives. Returns nullptr when none (GLFW's error callback has the reason).
// Resets the window hints afterwards, so no hint is left for the next window. GLFW must be
// initialised.
struct GlWindowSpec {
    int width = 16, height = 16;
    const char* title = "mla-lab";
    bool visible = false;
    bool debug = false;  // a debug context (KHR_debug messages)
    std::vector<std::pair<int, int>> versions = {{4, 3}, {3, 3}};
};
GLFWwindow* create_gl_window(const GlWindowSpec& spec);

struct ContextInfo {
    std::string renderer;  // GL_RENDERER, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
    std::string vendor;    // GL_VENDOR
    std::string version;   // GL_VERSION, e.g. "4.5 (Core Profile) Mesa 22.3.6"
    std::string glsl;      // GL_SHADING_LANGUAGE_VERSION
    int major = 0, minor = 0;
    bool hidden = false;   // true: our hidden window; false: the app's context
    bool debug_output = false;  // the debug-message callback is installed
};

// Makes sure a GL 4.3 core context is current on this thread: the current one when it has
// 4.3 (or compute shaders and storage buffers as extensions), else a hidden window made
// once (GLFW_VISIBLE false). Returns false and sets *reason when none can be had. Call
// from the thread that owns GLFW (the main thread). After a failure, later calls repeat
// the reason without trying again, unless another context has become current.
bool ensure_context(std::string* reason = nullptr);

// The context ensure_context() found or made (empty fields before a success).
const ContextInfo& context_info();
std::string describe(const ContextInfo& info);  // "llvmpipe (LLVM 15.0.6, 256 bits), OpenGL 4.5 (Core Profile) Mesa 22.3.6"

// Installs the debug-message callback on the current context (done by ensure_context;
// call it again after making another context current). Notifications are filtered out.
void install_debug_callback();

// ---- log
using LogSink = std::function<void(const std::string&)>;
void set_log_sink(LogSink sink);          // nullptr: history only (the default)
void log(const std::string& line);        // to the sink and the history
std::vector<std::string> log_history();   // the last 256 lines
int64_t error_count();                    // GL errors seen so far (debug type ERROR, or glGetError)
void reset_error_count();

// Polls glGetError until it is clear; counts and logs each error with `where`.
// Returns the number of errors found.
int check_errors(const char* where);

}  // namespace mla::gl
