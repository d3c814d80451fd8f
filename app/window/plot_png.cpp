#include "window/plot_png.h"

#include <epoxy/gl.h>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <unistd.h>

#include <cfloat>
#include <cmath>
#include <filesystem>

#include "base/assets.h"
#include "gl/gl_context.h"

namespace mla::app {

namespace {

std::string g_glfw_error;
void on_glfw_error(int code, const char* desc) { g_glfw_error = std::string(desc) + " (GLFW error " + std::to_string(code) + ")"; }

// Latin-1, Greek, punctuation, sub/superscripts, arrows, maths (as the window loads).
const ImWchar kGlyphs[] = {0x0020, 0x00FF, 0x0370, 0x03FF, 0x2000, 0x206F, 0x2070, 0x209F,
                           0x2190, 0x21FF, 0x2200, 0x22FF, 0};

// The DejaVu fonts next to the executable, else in the source tree; "" = ImGui's own font.
std::string fonts_dir() {
    const std::string d = find_assets_subdir("fonts");
    std::error_code ec;
    return !d.empty() && std::filesystem::exists(std::filesystem::path(d) / "DejaVuSans.ttf", ec) ? d : "";
}

// Everything made for one render, undone in reverse order whatever happens.
struct OffscreenImGui {
    GLFWerrorfun prev_callback = nullptr;
    GLFWwindow* prev_window = nullptr;
    ImGuiContext* prev_imgui = nullptr;
    GLFWwindow* win = nullptr;
    ImGuiContext* imgui = nullptr;
    bool glfw_backend = false, gl_backend = false;

    ~OffscreenImGui() {
        if (imgui) {
            if (gl_backend) ImGui_ImplOpenGL3_Shutdown();
            if (glfw_backend) ImGui_ImplGlfw_Shutdown();
            ImGui::DestroyContext(imgui);
        }
        ImGui::SetCurrentContext(prev_imgui);
        if (win) glfwDestroyWindow(win);
        glfwMakeContextCurrent(prev_window);
        glfwSetErrorCallback(prev_callback);
        // No glfwTerminate: the window or the GPU backend may still use GLFW in this process.
    }
};

}  // namespace

Image render_curves_image(const CurvesData& d, const CurvesSettings& s, const PlotPngOptions& o) {
    if (d.series.empty()) throw InputError("nothing to plot: no model has a curve for the chosen kinds");
    OffscreenImGui r;
    r.prev_imgui = ImGui::GetCurrentContext();
    g_glfw_error.clear();
    r.prev_callback = glfwSetErrorCallback(on_glfw_error);
    if (!glfwInit())
        throw InputError("cannot draw a PNG: no window can be made (" + g_glfw_error +
                         "). A PNG is drawn by the app's OpenGL renderer and needs a display: run the command under "
                         "xvfb-run -a, or write FILE.svg, which needs none");
    r.prev_window = glfwGetCurrentContext();
    gl::GlWindowSpec spec;
    spec.width = o.width;
    spec.height = o.height;
    spec.title = "mla-lab plot";
    spec.versions = {{3, 3}};
    r.win = gl::create_gl_window(spec);
    if (!r.win) throw InputError("cannot draw a PNG: no OpenGL 3.3 window (" + g_glfw_error + ")");
    glfwMakeContextCurrent(r.win);

    r.imgui = ImGui::CreateContext();
    ImGui::SetCurrentContext(r.imgui);
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    r.glfw_backend = ImGui_ImplGlfw_InitForOpenGL(r.win, false);
    r.gl_backend = ImGui_ImplOpenGL3_Init("#version 330");
    if (!r.glfw_backend || !r.gl_backend) throw InputError("cannot draw a PNG: the ImGui renderer did not start");
    ImFont* mono = nullptr;
    if (const std::string dir = fonts_dir(); !dir.empty()) {
        ImFontConfig cfg;
        cfg.OversampleH = 2;
        io.Fonts->AddFontFromFileTTF((dir + "/DejaVuSans.ttf").c_str(), std::round(16.0f * o.scale), &cfg, kGlyphs);
        mono = io.Fonts->AddFontFromFileTTF((dir + "/DejaVuSansMono.ttf").c_str(), std::round(15.0f * o.scale), &cfg, kGlyphs);
    } else {
        io.Fonts->AddFontDefault();
        io.FontGlobalScale = o.scale;
    }
    if (o.dark) ImGui::StyleColorsDark();
    else ImGui::StyleColorsLight();
    ImGuiStyle& st = ImGui::GetStyle();
    st.WindowPadding = ImVec2(14, 12);
    st.ItemSpacing = ImVec2(8, 5);
    st.WindowBorderSize = 0;
    if (!o.dark) st.Colors[ImGuiCol_WindowBg] = ImVec4(1, 1, 1, 1);
    st.ScaleAllSizes(o.scale);

    int fb_w = 0, fb_h = 0;
    Image img;
    for (int frame = 0; frame < 3; ++frame) {  // the first frames settle fonts and sizes
        ImGui_ImplOpenGL3_NewFrame();
        ImGui_ImplGlfw_NewFrame();
        glfwGetFramebufferSize(r.win, &fb_w, &fb_h);
        io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);  // no hover readout in a file
        ImGui::NewFrame();
        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(io.DisplaySize);
        ImGui::Begin("##plot", nullptr, ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoMove);
        draw_curves_chart(d, s, 0, o.dark, mono);
        ImGui::End();
        ImGui::Render();

        glBindFramebuffer(GL_FRAMEBUFFER, 0);
        glDrawBuffer(GL_BACK);
        glViewport(0, 0, fb_w, fb_h);
        const ImVec4 bg = st.Colors[ImGuiCol_WindowBg];
        glClearColor(bg.x, bg.y, bg.z, 1.0f);
        glClear(GL_COLOR_BUFFER_BIT);
        ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    }
    glFinish();
    glReadBuffer(GL_BACK);  // before any swap: the back buffer holds this frame
    img = read_pixels(0, 0, fb_w, fb_h, fb_h);
    if (const GLenum e = glGetError(); e != GL_NO_ERROR)
        throw InputError("cannot draw a PNG: OpenGL error " + std::to_string(e) + " while reading the pixels back");
    return img;
}

void write_curves_png(const std::string& path, const CurvesData& d, const CurvesSettings& s, const PlotPngOptions& o) {
    const Image img = render_curves_image(d, s, o);
    std::string err;
    if (!write_png(path, img, &err)) throw InputError(err);
}

}  // namespace mla::app
