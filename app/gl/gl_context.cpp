#include "gl/gl_context.h"

#include <epoxy/gl.h>
// epoxy first: GLFW must not pull in the system GL header.
#include <GLFW/glfw3.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <mutex>

namespace mla::gl {

// ---- log ------------------------------------------------------------------------------

namespace {

struct LogState {
    std::mutex mu;
    LogSink sink;
    std::deque<std::string> history;
};
LogState& log_state() {
    static LogState s;
    return s;
}
std::atomic<int64_t> g_errors{0};

}  // namespace

void set_log_sink(LogSink sink) {
    LogState& s = log_state();
    std::lock_guard<std::mutex> lock(s.mu);
    s.sink = std::move(sink);
}

void log(const std::string& line) {
    LogState& s = log_state();
    LogSink sink;
    {
        std::lock_guard<std::mutex> lock(s.mu);
        s.history.push_back(line);
        while (s.history.size() > 256) s.history.pop_front();
        sink = s.sink;
    }
    if (sink) sink(line);  // outside the lock: a sink may log again
}

std::vector<std::string> log_history() {
    LogState& s = log_state();
    std::lock_guard<std::mutex> lock(s.mu);
    return {s.history.begin(), s.history.end()};
}

int64_t error_count() { return g_errors.load(); }
void reset_error_count() { g_errors.store(0); }

namespace {

const char* error_name(GLenum e) {
    switch (e) {
        case GL_INVALID_ENUM: return "GL_INVALID_ENUM";
        case GL_INVALID_VALUE: return "GL_INVALID_VALUE";
        case GL_INVALID_OPERATION: return "GL_INVALID_OPERATION";
        case GL_INVALID_FRAMEBUFFER_OPERATION: return "GL_INVALID_FRAMEBUFFER_OPERATION";
        case GL_OUT_OF_MEMORY: return "GL_OUT_OF_MEMORY";
        case GL_STACK_OVERFLOW: return "GL_STACK_OVERFLOW";
        case GL_STACK_UNDERFLOW: return "GL_STACK_UNDERFLOW";
        default: return "unknown GL error";
    }
}

const char* type_name(GLenum t) {
    switch (t) {
        case GL_DEBUG_TYPE_ERROR: return "error";
        case GL_DEBUG_TYPE_DEPRECATED_BEHAVIOR: return "deprecated";
        case GL_DEBUG_TYPE_UNDEFINED_BEHAVIOR: return "undefined behaviour";
        case GL_DEBUG_TYPE_PORTABILITY: return "portability";
        case GL_DEBUG_TYPE_PERFORMANCE: return "performance";
        case GL_DEBUG_TYPE_MARKER: return "marker";
        default: return "other";
    }
}

const char* severity_name(GLenum s) {
    switch (s) {
        case GL_DEBUG_SEVERITY_HIGH: return "high";
        case GL_DEBUG_SEVERITY_MEDIUM: return "medium";
        case GL_DEBUG_SEVERITY_LOW: return "low";
        default: return "note";
    }
}

void GLAPIENTRY debug_callback(GLenum source, GLenum type, GLuint id, GLenum severity, GLsizei length,
                               const GLchar* message, const void* user) {
    if (type == GL_DEBUG_TYPE_ERROR) g_errors.fetch_add(1);
    std::string text = length >= 0 ? std::string(message, static_cast<size_t>(length)) : std::string(message);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    log(std::string("gl ") + type_name(type) + " (" + severity_name(severity) + ", id " + std::to_string(id) +
        "): " + text);
}

}  // namespace

int check_errors(const char* where) {
    int n = 0;
    for (GLenum e = glGetError(); e != GL_NO_ERROR && n < 16; e = glGetError()) {
        ++n;
        g_errors.fetch_add(1);
        log(std::string("gl error ") + error_name(e) + " after " + where);
    }
    return n;
}

// ---- context --------------------------------------------------------------------------

namespace {

struct ContextState {
    bool ok = false;
    bool failed = false;
    std::string reason;
    ContextInfo info;
    GLFWwindow* hidden = nullptr;  // ours, kept for the life of the process
    GLFWwindow* used = nullptr;    // the context info describes
};
ContextState& state() {
    static ContextState s;
    return s;
}

std::string gl_string(GLenum name) {
    const GLubyte* s = glGetString(name);
    return s ? reinterpret_cast<const char*>(s) : "";
}

std::string glfw_error() {
    const char* desc = nullptr;
    int code = glfwGetError(&desc);
    if (code == GLFW_NO_ERROR || !desc) return "";
    std::string s = desc;
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.pop_back();
    return s;
}

ContextInfo read_info(bool hidden) {
    ContextInfo i;
    i.renderer = gl_string(GL_RENDERER);
    i.vendor = gl_string(GL_VENDOR);
    i.version = gl_string(GL_VERSION);
    i.hidden = hidden;
    const int v = epoxy_gl_version();  // 45 for 4.5
    i.major = v / 10;
    i.minor = v % 10;
    if (v >= 20) i.glsl = gl_string(GL_SHADING_LANGUAGE_VERSION);
    return i;
}

bool has_compute(const ContextInfo& i) {
    if (!epoxy_is_desktop_gl()) return false;
    if (i.major * 10 + i.minor >= 43) return true;
    return epoxy_has_gl_extension("GL_ARB_compute_shader") &&
           epoxy_has_gl_extension("GL_ARB_shader_storage_buffer_object");
}

std::string needs(const ContextInfo& i) {
    return "OpenGL " + std::to_string(i.major) + "." + std::to_string(i.minor) + " (" + i.renderer +
           "), without compute shaders and storage buffers";
}

// What a plain context on this display offers, for the message when 4.3 core fails.
std::string probe_default_context() {
    glfwDefaultWindowHints();
    glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
    GLFWwindow* w = glfwCreateWindow(16, 16, "mla-lab probe", nullptr, nullptr);
    if (!w) return "no OpenGL context at all (" + glfw_error() + ")";
    glfwMakeContextCurrent(w);
    std::string s = "OpenGL " + gl_string(GL_VERSION) + " (" + gl_string(GL_RENDERER) + ")";
    glfwMakeContextCurrent(nullptr);
    glfwDestroyWindow(w);
    return s;
}

bool fail(ContextState& s, std::string why, std::string* reason) {
    s.ok = false;
    s.failed = true;
    s.reason = std::move(why);
    log("gl: no compute context: " + s.reason);
    if (reason) *reason = s.reason;
    return false;
}

bool adopt(ContextState& s, GLFWwindow* w, bool hidden, std::string* reason) {
    ContextInfo info = read_info(hidden);
    if (!has_compute(info)) {
        return fail(s, (hidden ? "this display gives " : "the window's context is ") + needs(info), reason);
    }
    s.ok = true;
    s.failed = false;
    s.reason.clear();
    s.used = w;
    s.info = info;
    install_debug_callback();  // sets s.info.debug_output
    log("gl: " + std::string(hidden ? "hidden context: " : "window context: ") + describe(s.info));
    return true;
}

}  // namespace

GLFWwindow* create_gl_window(const GlWindowSpec& spec) {
    GLFWwindow* w = nullptr;
    for (auto [major, minor] : spec.versions) {
        glfwDefaultWindowHints();
        glfwWindowHint(GLFW_VISIBLE, spec.visible ? GLFW_TRUE : GLFW_FALSE);
        glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, major);
        glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, minor);
        glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
        glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
        if (spec.debug) glfwWindowHint(GLFW_OPENGL_DEBUG_CONTEXT, GLFW_TRUE);
        w = glfwCreateWindow(spec.width, spec.height, spec.title, nullptr, nullptr);
        if (w) break;
    }
    glfwDefaultWindowHints();
    return w;
}

std::string describe(const ContextInfo& info) {
    if (info.renderer.empty()) return "no OpenGL context";
    return info.renderer + ", OpenGL " + info.version;
}

const ContextInfo& context_info() { return state().info; }

bool ensure_context(std::string* reason) {
    ContextState& s = state();
    if (!glfwInit()) {  // returns at once when the app already initialised GLFW
        const char* display = std::getenv("DISPLAY");
        const std::string err = glfw_error();
        std::string why = (display == nullptr || *display == '\0')
                              ? "no X display (DISPLAY is not set" + (err.empty() ? "" : "; " + err) + ")"
                              : "GLFW could not start on DISPLAY=" + std::string(display) + (err.empty() ? "" : " (" + err + ")");
        return fail(s, why, reason);
    }
    GLFWwindow* cur = glfwGetCurrentContext();
    if (s.ok && cur == s.used && cur) return true;
    if (cur) return adopt(s, cur, cur == s.hidden, reason);
    if (s.hidden) {  // ours exists but was released: make it current again
        glfwMakeContextCurrent(s.hidden);
        return adopt(s, s.hidden, true, reason);
    }
    if (s.failed) {
        if (reason) *reason = s.reason;
        return false;
    }
    GlWindowSpec spec;
    spec.title = "mla-lab compute";
    spec.debug = true;
    spec.versions = {{4, 3}};
    GLFWwindow* w = create_gl_window(spec);
    if (!w) {
        const std::string err = glfw_error();
        std::string why = "this display gives " + probe_default_context() +
                          ", not an OpenGL 4.3 core context with compute shaders";
        if (!err.empty()) why += " (" + err + ")";
        return fail(s, why, reason);
    }
    s.hidden = w;
    glfwMakeContextCurrent(w);
    return adopt(s, w, true, reason);
}

void install_debug_callback() {
    ContextState& s = state();
    s.info.debug_output = false;
    if (!(epoxy_gl_version() >= 43 || epoxy_has_gl_extension("GL_KHR_debug"))) return;
    glEnable(GL_DEBUG_OUTPUT);
    glEnable(GL_DEBUG_OUTPUT_SYNCHRONOUS);  // messages arrive in the call that caused them
    glDebugMessageCallback(debug_callback, nullptr);
    glDebugMessageControl(GL_DONT_CARE, GL_DONT_CARE, GL_DONT_CARE, 0, nullptr, GL_TRUE);
    glDebugMessageControl(GL_DONT_CARE, GL_DONT_CARE, GL_DEBUG_SEVERITY_NOTIFICATION, 0, nullptr, GL_FALSE);
    s.info.debug_output = true;
}

}  // namespace mla::gl
