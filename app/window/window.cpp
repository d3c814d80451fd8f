// The window and its loop, as in Dear ImGui's example_glfw_opengl3/main.cpp: window, GL
// context, ImGui context, loop, cleanup. Around the loop: fonts and UI scale, themes,
// remembered settings, the views (tabs or tiles), exports, the off-screen screenshot and
// the --frames benchmark.
//
// [SECTION] fonts, theme, assets
// [SECTION] App: setup and teardown
// [SECTION] App: one frame
// [SECTION] App: layout (toolbar, sidebar, views, status line)
// [SECTION] App: presentation mode (full screen, the bar, one view)
// [SECTION] App: exports
// [SECTION] App: session files (save, open, recent)
// [SECTION] entry points (run_window, render_screenshot)
#include "window/window.h"

#include <epoxy/gl.h>
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/assets.h"
#include "curves/svg_plot.h"
#include "gl/gl_context.h"
#include "window/key_queue.h"
#include "window/presentation.h"
#include "window/session_file.h"
#include "window/ui_settings.h"
#include "views/registry.h"
#include "views/sidebar.h"
#include "views/timeline.h"
#include "views/view_logic.h"

namespace mla::app {

// ============================================================================ [SECTION] fonts, theme, assets

namespace {

std::string g_glfw_error;
void on_glfw_error(int code, const char* desc) { g_glfw_error = std::string(desc) + " (GLFW error " + std::to_string(code) + ")"; }

// Latin-1 and Latin Extended-A, Greek, Cyrillic, punctuation, sub/superscripts, the euro sign,
// arrows, maths, the open-box space mark, shapes (all in DejaVu Sans).
const ImWchar kGlyphs[] = {0x0020, 0x017F, 0x0370, 0x03FF, 0x0400, 0x04FF, 0x2000, 0x206F, 0x2070, 0x209F, 0x20AC, 0x20AC,
                           0x2190, 0x21FF, 0x2200, 0x22FF, 0x2400, 0x243F, 0x25A0, 0x25FF, 0};

// The fonts folder (base/assets.h), when it holds the DejaVu fonts; "" = ImGui's own font.
std::string find_fonts_dir() {
    const std::string d = find_assets_subdir("fonts");
    std::error_code ec;
    return !d.empty() && std::filesystem::exists(std::filesystem::path(d) / "DejaVuSans.ttf", ec) ? d : "";
}

void apply_theme(bool dark, float scale) { ImGui::GetStyle() = theme_style(dark, scale); }

std::string without_prefix(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0 ? s.substr(prefix.size()) : s;
}

// An RGBA8 framebuffer of w x h (a renderbuffer as its colour), left bound. False when the GL
// cannot make it complete (fbo and rb are made all the same: the caller deletes them).
bool make_color_framebuffer(int w, int h, unsigned& fbo, unsigned& rb) {
    glGenFramebuffers(1, &fbo);
    glGenRenderbuffers(1, &rb);
    glBindRenderbuffer(GL_RENDERBUFFER, rb);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, w, h);
    glBindFramebuffer(GL_FRAMEBUFFER, fbo);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb);
    return glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE;
}

const char* view_title(const std::string& id) {
    const ViewEntry* v = find_view(id);
    return v ? v->title : "?";
}

}  // namespace

// ============================================================================ [SECTION] App: setup and teardown

class App {
public:
    App(const WindowOptions& o, const ModelSettings& m);
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    bool closing() const { return glfwWindowShouldClose(win_); }
    void frame(double dt);
    Image capture();        // the whole framebuffer of the last frame (before the swap)
    Session& session() { return *session_; }
    const WindowOptions& options() const { return opt_; }
    size_t tiled_views() const { return ui_.tiles ? ui_.open_views.size() : 1; }

private:
    void build_fonts();
    void shortcuts(Commands& cmds);
    void draw_ui(Commands& cmds);
    void draw_toolbar(const Frame& f, Commands& cmds);
    void draw_views(const Frame& f, Commands& cmds);
    void draw_view(const std::string& id, ImVec2 size, bool tile, const Frame& f, Commands& cmds);
    void set_presenting(bool on);           // enters or leaves presentation mode, full screen
    void draw_present(const Frame& f, Commands& cmds);
    float font_scale() const;               // the UI scale the fonts are built at (larger when presenting)
    void do_exports(const std::vector<ExportRequest>& reqs);
    void message(std::string m) { status_ = std::move(m); status_time_ = 6.0; }
    // A line under the toolbar until dismissed (warn) or for a while (not warn).
    void notify(std::string text, bool warn, std::string folder = "") {
        notice_ = std::move(text);
        notice_warn_ = warn;
        notice_time_ = warn ? -1 : 15;
        notice_folder_ = std::move(folder);
    }
    void draw_notice();

    // ---- session files
    SessionFile capture_session();
    void draw_session_menu();
    void open_session_file(const std::string& path);  // loads; applied after this frame
    void apply_pending_session();
    // The view, layout, lesson page and Curves of a session; what cannot be used is added to *problems.
    void restore_ui(const SessionFile& s, bool view, bool layout, bool lesson, std::vector<std::string>* problems);
    FileDialog session_dialog_;
    bool session_saving_ = false;           // the dialog saves (else it opens)
    struct PendingSession {
        SessionFile file;
        std::string path;
        std::vector<std::string> problems;
    };
    std::optional<PendingSession> pending_session_;
    std::string notice_;
    bool notice_warn_ = false;
    double notice_time_ = 0;
    std::string notice_folder_;             // the notice's "Open folder" button opens it

    // ---- slide-ready PNGs: the view alone, re-rendered at a chosen scale and theme
public:
    struct Slide {
        std::string view;
        float w = 0, h = 0;                 // the view's size on screen (ImGui units)
        int scale = 2;
        std::string theme;                  // "" = as shown, "dark", "light"
    };
    Image render_slide(const Slide& s);     // between frames
    std::string slide_stem(const std::string& view);  // "attention-mla-step24", "curves-deepseek-v3-llama-3-8b-bf16"
    std::string export_dir() const { return ui_.export_dir.empty() ? default_export_dir() : ui_.export_dir; }
    ImVec2 last_view_size() const { return ImVec2(view_max_.x - view_min_.x, view_max_.y - view_min_.y); }
private:
    void draw_png_popup(const std::string& id, ImVec2 size);
    void save_slide(const Slide& s);
    std::optional<Slide> slide_;            // asked for this frame, rendered after it
    bool sliding_ = false;                  // drawing a slide: the view alone, no controls
    float slide_font_ = 0;                  // the font scale while sliding (0: the UI's)
    bool slide_dark_ = true;
    char export_dir_edit_[1024] = {};

    WindowOptions opt_;
    UiSettings ui_;
    std::string settings_path_;
    GLFWwindow* win_ = nullptr;
    ImGuiContext* imgui_ = nullptr;
    bool imgui_glfw_ = false, imgui_gl_ = false;
    unsigned fbo_ = 0, color_rb_ = 0;
    int fb_w_ = 0, fb_h_ = 0;
    std::string fonts_dir_;
    ImFont* mono_ = nullptr;
    float built_scale_ = 0;
    Presentation present_;
    KeyQueue keys_;                         // transport key presses since the last frame (GLFW callback)
    int64_t follow_ = -1, follow_next_ = -1;  // the token hovered last frame / this frame (Frame::follow)
    std::string focused_tile_;              // the tile last focused (what a presentation from tiles shows)
    bool fullscreen_ = false;
    int windowed_x_ = 0, windowed_y_ = 0, windowed_w_ = 0, windowed_h_ = 0;  // to restore on leaving
    bool built_dark_ = true;
    std::unique_ptr<Session> session_;      // made after the GL context: the GPU backend runs in ours
    Sidebar sidebar_;
    Transport transport_;
    Timeline timeline_;
    Views views_;                           // every view's object (views/registry.h)
    std::string select_view_;               // a tab to bring to front next frame
    std::vector<ExportRequest> pending_;    // exports asked for last frame, done this frame
    bool exporting_ = false;
    ImVec2 view_min_{0, 0}, view_max_{0, 0};  // the active view's area last frame
    std::string status_;
    double status_time_ = 0;
    // Slow commands (a rebuild, the GPU switch, many steps) wait one frame, drawn with `busy_`
    // at the top, so the window says what it is doing before it stops to do it.
    Commands deferred_;
    std::string busy_;
    double frame_ms_ = 0;

public:
    double ui_ms_ = 0, gl_ms_ = 0;           // last frame: building the UI, drawing it with GL
    int vtx_ = 0, draws_ = 0;                // last frame: vertices and draw calls
    int lists_ = 0;                          // last frame: ImGui draw lists (one upload each before merging)
    void measure_fill();
    double fill_px_ = 0;                     // last frame: pixels covered by its triangles, clipped (overdraw counted)
    std::vector<std::pair<double, std::string>> fill_by_list_;  // the same per draw list, largest first
};

App::App(const WindowOptions& o, const ModelSettings& m) : opt_(o) {
    check_view(o.view);
    validate_settings(m);  // bad settings fail before a window opens
    views_.lesson.remember = o.remember && !o.offscreen;
    if (o.lesson_page > 0) views_.lesson.open(static_cast<int>(o.lesson_page) - 1, true);
    if (!o.convert.empty()) views_.convert.configure(o.convert);  // throws InputError naming the bad part  // throws for a page not in the lesson
    views_.lesson.take_key = [this](int key) { return keys_.take(key); };
    views_.lesson.draw_live = [this](const std::string& id, const Frame& f, Commands& c) {
        const ViewEntry* v = find_view(id);
        if (v && id != LessonView::kId) v->draw(views_, f, c);
    };
    if (o.remember) {
        settings_path_ = default_settings_path();
        std::string warn;
        ui_ = load_ui_settings(settings_path_, &warn);
        if (!warn.empty()) message(warn);
    }
    if (o.scale > 0) ui_.scale = std::clamp(o.scale, 0.5f, 3.0f);
    if (!o.theme.empty()) {
        if (o.theme != "dark" && o.theme != "light") throw InputError("theme '" + o.theme + "' is not known; use dark or light");
        ui_.dark = o.theme == "dark";
    }
    if (!o.layout.empty()) {
        if (o.layout != "tabs" && o.layout != "tiles") throw InputError("layout '" + o.layout + "' is not known; use tabs or tiles");
        ui_.tiles = o.layout == "tiles";
    }
    if (!o.view.empty()) {
        ui_.active_view = o.view;
        if (std::find(ui_.open_views.begin(), ui_.open_views.end(), o.view) == ui_.open_views.end()) {
            ui_.open_views.push_back(o.view);
            ui_ = ui_settings_from_json(to_json(ui_));  // back into tab order
        }
    }
    if (o.frames > 0 && o.layout.empty()) {
        ui_.tiles = true;  // the benchmark draws every view each frame
        ui_.open_views = view_ids();
    }
    select_view_ = ui_.active_view;

    glfwSetErrorCallback(on_glfw_error);
    if (!glfwInit())
        throw InputError("cannot open a window: " + g_glfw_error +
                         ". Is a display available? On a machine with none, run it under xvfb-run -a");
    gl::GlWindowSpec spec;
    spec.width = o.width;
    spec.height = o.height;
    spec.title = "MLA Lab: Multi-Head Latent Attention, token by token";
    spec.visible = !o.offscreen;
    win_ = gl::create_gl_window(spec);
    if (!win_) throw InputError("cannot open a window with OpenGL 3.3: " + g_glfw_error);
    glfwMakeContextCurrent(win_);
    glfwSwapInterval(o.frames > 0 || o.offscreen ? 0 : 1);
    gl::install_debug_callback();

    if (o.offscreen) {
        fb_w_ = o.width;
        fb_h_ = o.height;
        if (!make_color_framebuffer(fb_w_, fb_h_, fbo_, color_rb_))
            throw InputError("cannot make an off-screen framebuffer of " + std::to_string(fb_w_) + " x " + std::to_string(fb_h_));
        glBindFramebuffer(GL_FRAMEBUFFER, 0);
    }

    if (o.present) set_presenting(true);

    IMGUI_CHECKVERSION();
    imgui_ = ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // our own settings file remembers what matters
    io.ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;
    io.ConfigFlags &= ~ImGuiConfigFlags_NavEnableKeyboard;  // arrows belong to the timeline
    // Ours first: ImGui's backend chains to the callback installed before it.
    glfwSetWindowUserPointer(win_, this);
    if (!o.offscreen)
        glfwSetKeyCallback(win_, [](GLFWwindow* w, int key, int, int action, int mods) {
            if (auto* app = static_cast<App*>(glfwGetWindowUserPointer(w)))
                app->keys_.push(key, action, (mods & (GLFW_MOD_CONTROL | GLFW_MOD_ALT)) != 0);
        });
    imgui_glfw_ = ImGui_ImplGlfw_InitForOpenGL(win_, !o.offscreen);
    imgui_gl_ = ImGui_ImplOpenGL3_Init("#version 330");
    fonts_dir_ = find_fonts_dir();
    if (fonts_dir_.empty()) message("DejaVu fonts not found next to the executable: using ImGui's built-in font");
    build_fonts();

    ModelSettings start = m;
    std::optional<SessionFile> saved;
    std::vector<std::string> problems;
    if (!o.session.empty()) {
        saved = load_session_file(o.session, &problems);  // throws InputError: not a JSON object
        start = saved->model;
    }
    try {
        session_ = std::make_unique<Session>(start);
    } catch (const InputError& e) {
        if (!saved) throw;
        // The file's model reads well but does not run here (a GPU session on a machine with none).
        problems.push_back(o.session + ": model: " + e.what() + "; using " + (start.backend != "cpu" ? "the CPU" : "the default model"));
        if (start.backend != "cpu") start.backend = "cpu";
        else start = ModelSettings{};
        session_ = std::make_unique<Session>(start);
    }
    if (o.steps > session_->max_steps())
        throw InputError("--steps " + std::to_string(o.steps) + " is beyond the model's context of " +
                         std::to_string(session_->max_steps()) + " tokens; give at most " +
                         std::to_string(session_->max_steps()));
    if (o.steps > 0) {
        session_->step(o.steps);
    } else if (saved && saved->steps > 0) {
        if (saved->steps > session_->max_steps())
            problems.push_back(o.session + ": steps " + std::to_string(saved->steps) + " is past the model's context of " +
                               std::to_string(session_->max_steps()) + " tokens; stepping to it");
        session_->step(std::min(saved->steps, session_->max_steps()));
        if (saved->shown_step > 0) session_->select(saved->shown_step - 1);
    }
    if (saved) {
        std::vector<std::string> ui_problems;
        restore_ui(*saved, o.view.empty(), o.layout.empty(), o.lesson_page == 0, &ui_problems);
        for (const std::string& q : ui_problems) problems.push_back(o.session + ": " + q);
        for (const std::string& p : problems) std::fprintf(stderr, "mla-lab: warning: %s\n", p.c_str());
        if (o.remember) remember_session(ui_, std::filesystem::absolute(o.session).lexically_normal().string());
        if (!problems.empty())
            notify("Opened " + o.session + " with " + std::to_string(problems.size()) + " problem(s): " +
                       without_prefix(problems.front(), o.session + ": ") +
                       (problems.size() > 1 ? " (the others are in the terminal)" : ""),
                   true);
    }
    if (o.measure_heldout) {
        session_->measure_heldout();
        session_->wait_heldout();
    }
}

// What llvmpipe pays for: each triangle's area inside its clip rectangle (the bounding box
// of the triangle clipped, halved; exact for ImGui's axis-aligned quads), summed per draw list.
void App::measure_fill() {
    fill_px_ = 0;
    fill_by_list_.clear();
    const ImDrawData* dd = ImGui::GetDrawData();
    if (!dd) return;
    for (int i = 0; i < dd->CmdListsCount; ++i) {
        const ImDrawList* dl = dd->CmdLists[i];
        double area = 0;
        for (const ImDrawCmd& cmd : dl->CmdBuffer) {
            if (cmd.UserCallback) continue;
            for (unsigned k = 0; k + 2 < cmd.ElemCount; k += 3) {
                const ImDrawVert* v[3];
                for (int j = 0; j < 3; ++j)
                    v[j] = &dl->VtxBuffer[static_cast<int>(cmd.VtxOffset + dl->IdxBuffer[static_cast<int>(cmd.IdxOffset + k + static_cast<unsigned>(j))])];
                const float x0 = std::max(cmd.ClipRect.x, std::min({v[0]->pos.x, v[1]->pos.x, v[2]->pos.x}));
                const float x1 = std::min(cmd.ClipRect.z, std::max({v[0]->pos.x, v[1]->pos.x, v[2]->pos.x}));
                const float y0 = std::max(cmd.ClipRect.y, std::min({v[0]->pos.y, v[1]->pos.y, v[2]->pos.y}));
                const float y1 = std::min(cmd.ClipRect.w, std::max({v[0]->pos.y, v[1]->pos.y, v[2]->pos.y}));
                if (x1 > x0 && y1 > y0) area += 0.5 * static_cast<double>(x1 - x0) * static_cast<double>(y1 - y0);
            }
        }
        fill_px_ += area;
        fill_by_list_.emplace_back(area, dl->_OwnerName ? dl->_OwnerName : "?");
    }
    std::sort(fill_by_list_.begin(), fill_by_list_.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
}

App::~App() {
    if (opt_.remember && !settings_path_.empty() && opt_.frames == 0 && !opt_.offscreen) {
        std::string err;
        if (!save_ui_settings(ui_, settings_path_, &err)) std::fprintf(stderr, "mla-lab: warning: %s\n", err.c_str());
    }
    if (win_) glfwMakeContextCurrent(win_);
    session_.reset();  // the GPU backend's buffers live in this window's context
    if (imgui_) {
        if (imgui_gl_) ImGui_ImplOpenGL3_Shutdown();
        if (imgui_glfw_) ImGui_ImplGlfw_Shutdown();
        ImGui::DestroyContext(imgui_);
    }
    if (win_) {
        glfwMakeContextCurrent(win_);
        if (fbo_) glDeleteFramebuffers(1, &fbo_);
        if (color_rb_) glDeleteRenderbuffers(1, &color_rb_);
        glfwDestroyWindow(win_);
    }
    // No glfwTerminate: the GPU backend may hold a hidden window of its own for the process.
}

float App::font_scale() const {
    if (slide_font_ > 0) return slide_font_;
    if (!present_.on) return ui_.scale;
    int h = fb_h_;
    if (!opt_.offscreen && win_) glfwGetWindowSize(win_, nullptr, &h);
    return presentation_scale(ui_.scale, h);
}

void App::build_fonts() {
    const float scale = font_scale();
    ImGuiIO& io = ImGui::GetIO();
    io.Fonts->Clear();
    mono_ = nullptr;
    if (!fonts_dir_.empty()) {
        ImFontConfig cfg;
        cfg.OversampleH = 2;
        io.Fonts->AddFontFromFileTTF((fonts_dir_ + "/DejaVuSans.ttf").c_str(), std::round(16.0f * scale), &cfg, kGlyphs);
        mono_ = io.Fonts->AddFontFromFileTTF((fonts_dir_ + "/DejaVuSansMono.ttf").c_str(), std::round(15.0f * scale), &cfg,
                                             kGlyphs);
        io.FontGlobalScale = 1.0f;
    } else {
        io.Fonts->AddFontDefault();
        io.FontGlobalScale = scale;
    }
    io.Fonts->Build();
    if (imgui_gl_) {
        ImGui_ImplOpenGL3_DestroyFontsTexture();
        ImGui_ImplOpenGL3_CreateFontsTexture();
    }
    apply_theme(ui_.dark, scale);
    built_scale_ = scale;
    built_dark_ = ui_.dark;
}

// ============================================================================ [SECTION] App: one frame

void App::frame(double dt) {
    const auto t0 = std::chrono::steady_clock::now();
    glfwMakeContextCurrent(win_);  // the GPU backend's check may have made its hidden context current
    if (built_scale_ != font_scale()) build_fonts();
    if (built_dark_ != ui_.dark) {
        apply_theme(ui_.dark, built_scale_);
        built_dark_ = ui_.dark;
    }
    exporting_ = !pending_.empty();

    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplGlfw_NewFrame();
    ImGuiIO& io = ImGui::GetIO();
    if (opt_.offscreen) {
        io.DisplaySize = ImVec2(static_cast<float>(fb_w_), static_cast<float>(fb_h_));
        io.DisplayFramebufferScale = ImVec2(1, 1);
        io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);  // no hover highlights in a screenshot
    } else {
        glfwGetFramebufferSize(win_, &fb_w_, &fb_h_);
    }
    ImGui::NewFrame();

    Commands cmds;
    shortcuts(cmds);
    transport_.tick(dt, *session_, cmds, ui_.play_speed);
    follow_next_ = -1;
    draw_ui(cmds);
    follow_ = follow_next_;  // what is hovered now is followed in every view next frame
    keys_.clear();  // what no one took this frame (keys of no use here) is not kept for the next
    glfwMakeContextCurrent(win_);  // the sidebar's GPU check may have made another context current
    ImGui::Render();
    lists_ = ImGui::GetDrawData() ? ImGui::GetDrawData()->CmdListsCount : 0;
    if (opt_.frames > 0) measure_fill();
    const auto t1 = std::chrono::steady_clock::now();

    glBindFramebuffer(GL_FRAMEBUFFER, fbo_);
    glViewport(0, 0, fb_w_, fb_h_);
    const ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
    glClearColor(bg.x, bg.y, bg.z, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());

    // Exports asked for last frame read this frame's pixels (drawn without tooltips).
    if (!pending_.empty()) {
        do_exports(pending_);
        pending_.clear();
    }
    pending_ = std::move(cmds.exports);
    if (opt_.frames > 0) glFinish();
    const auto t2 = std::chrono::steady_clock::now();
    if (!opt_.offscreen) glfwSwapBuffers(win_);
    gl::check_errors("frame");
    ui_ms_ = std::chrono::duration<double, std::milli>(t1 - t0).count();
    vtx_ = ImGui::GetDrawData() ? ImGui::GetDrawData()->TotalVtxCount : 0;
    draws_ = 0;
    if (const ImDrawData* dd = ImGui::GetDrawData())
        for (int i = 0; i < dd->CmdListsCount; ++i) draws_ += dd->CmdLists[i]->CmdBuffer.Size;
    gl_ms_ = std::chrono::duration<double, std::milli>(t2 - t1).count();

    // Between frames. Slow commands first get one frame that says so (not in screenshots or
    // the --frames benchmark, which draw a fixed number of frames).
    if (!busy_.empty()) {
        for (SessionCommand& c : cmds.session) deferred_.push(std::move(c));
        cmds.session = std::move(deferred_.session);
        deferred_ = Commands{};
        busy_.clear();
    } else if (!opt_.offscreen && opt_.frames == 0) {
        busy_ = busy_text(*session_, cmds);
        if (!busy_.empty()) {
            deferred_.session = std::move(cmds.session);
            cmds.session.clear();
        }
    }
    session_->apply(cmds);
    apply_pending_session();
    if (slide_) {
        const Slide asked = *slide_;
        slide_.reset();
        save_slide(asked);
    }
    glfwMakeContextCurrent(win_);
    if (status_time_ > 0) status_time_ -= dt;
    if (notice_time_ > 0 && (notice_time_ -= dt) <= 0) notice_.clear();
    frame_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

Image App::capture() {
    glBindFramebuffer(GL_FRAMEBUFFER, fbo_);
    if (!fbo_) glReadBuffer(GL_BACK);
    if (opt_.view_only && view_max_.x > view_min_.x && view_max_.y > view_min_.y) {
        const int x0 = std::clamp(static_cast<int>(view_min_.x), 0, fb_w_), y0 = std::clamp(static_cast<int>(view_min_.y), 0, fb_h_);
        const int x1 = std::clamp(static_cast<int>(view_max_.x), 0, fb_w_), y1 = std::clamp(static_cast<int>(view_max_.y), 0, fb_h_);
        return read_pixels(x0, y0, x1 - x0, y1 - y0, fb_h_);
    }
    return read_pixels(0, 0, fb_w_, fb_h_, fb_h_);
}

void App::shortcuts(Commands& cmds) {
    const ImGuiIO& io = ImGui::GetIO();
    const bool esc_taken = io.WantTextInput || ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId);
    switch (present_.key(ImGui::IsKeyPressed(GLFW_KEY_F5, false), ImGui::IsKeyPressed(GLFW_KEY_ESCAPE, false), esc_taken)) {
        case Presentation::Key::Enter: set_presenting(true); break;
        case Presentation::Key::Leave: set_presenting(false); break;
        case Presentation::Key::None: break;
    }
    if (io.KeyCtrl) {
        if (ImGui::IsKeyPressed(GLFW_KEY_EQUAL) || ImGui::IsKeyPressed(GLFW_KEY_KP_ADD))
            ui_.scale = std::min(3.0f, std::round(ui_.scale * 11.0f) / 10.0f);
        if (ImGui::IsKeyPressed(GLFW_KEY_MINUS) || ImGui::IsKeyPressed(GLFW_KEY_KP_SUBTRACT))
            ui_.scale = std::max(0.5f, std::round(ui_.scale * 9.0f) / 10.0f);
        if (ImGui::IsKeyPressed(GLFW_KEY_0)) ui_.scale = 1.0f;
        for (int k = 0; k < static_cast<int>(view_ids().size()) && k < 9; ++k)
            if (ImGui::IsKeyPressed(GLFW_KEY_1 + k)) {
                const std::string& id = view_ids()[static_cast<size_t>(k)];
                if (present_.on) present_.view = id;  // the presentation shows that view instead
                else select_view_ = id;
            }
        keys_.clear();
        return;
    }
    // Every press since the last frame counts (keys_), not only the keys down now.
    if (io.WantTextInput || ImGui::IsPopupOpen("", ImGuiPopupFlags_AnyPopupId)) {
        keys_.clear();  // they were typed into a field or a dialog
        return;
    }
    if (keys_.take(GLFW_KEY_SPACE) % 2) transport_.playing = !transport_.playing;
    views_.lesson.arrows = present_.on ? present_.view == LessonView::kId : !ui_.tiles && ui_.active_view == LessonView::kId;
    if (views_.lesson.arrows) return;  // the lesson's tab: arrows turn pages (it takes them from keys_)
    const int64_t sel = session_->selected();
    const int right = keys_.take(GLFW_KEY_RIGHT), left = keys_.take(GLFW_KEY_LEFT);
    if (right > 0) cmds.forward(right);  // through the recorded steps first
    if (left > 0 && sel > 0) cmds.select(std::max<int64_t>(0, sel - left));
    if (keys_.take(GLFW_KEY_HOME)) cmds.select(0);
    if (keys_.take(GLFW_KEY_END)) cmds.select(session_->steps() - 1);
}

// ============================================================================ [SECTION] App: layout

void App::draw_ui(Commands& cmds) {
    const ImGuiIO& io = ImGui::GetIO();
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(io.DisplaySize);
    // No background: glClear paints the same colour (one full-screen blend less for software GL).
    ImGui::Begin("##main", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                     ImGuiWindowFlags_NoBringToFrontOnFocus | ImGuiWindowFlags_NoBackground);
    Frame f{*session_, session_->selected(), session_->trace(), ui_.dark, mono_, exporting_};
    f.follow = follow_ < session_->steps() ? follow_ : -1;
    f.follow_next = &follow_next_;
    if (sliding_) {
        f.dark = slide_dark_;
        f.exporting = f.slide = true;
        f.follow = -1;
        draw_view(slide_->view, ImVec2(0, 0), false, f, cmds);
        ImGui::End();
        return;
    }
    if (present_.on) {
        draw_present(f, cmds);
        ImGui::End();
        return;
    }
    draw_toolbar(f, cmds);
    draw_notice();
    // Where the run stands against the model's context, at the top where a class looks.
    if (!busy_.empty()) text_wrapped_colored(palette(ui_.dark).accent, "%s ...", busy_.c_str());
    const RunNotice notice = run_notice(*session_);
    if (notice.level != RunNotice::Level::None)
        text_wrapped_colored(palette(ui_.dark).warn, "%s%s", notice.level == RunNotice::Level::Stop ? "Stopped: " : "",
                             notice.text.c_str());
    timeline_.draw(f, cmds);

    const float font = ImGui::GetFontSize();
    const float status_h = ImGui::GetFrameHeightWithSpacing();
    const float side_w = std::min(font * 19.0f, io.DisplaySize.x * 0.3f);
    ImGui::BeginChild("##sidebar", ImVec2(side_w, -status_h), true);
    sidebar_.draw(f, cmds);
    ImGui::EndChild();
    ImGui::SameLine();
    ImGui::BeginChild("##viewarea", ImVec2(0, -status_h), false);
    draw_views(f, cmds);
    ImGui::EndChild();

    // Status line
    ImGui::Separator();
    const int n_dec = session_->decoder_count();
    const std::string decoders = n_dec == 1 ? "1 decoder" : std::to_string(n_dec) + " decoders in lockstep";
    ImGui::TextDisabled("%s %s | step %.2f ms (%s) | frame %.1f ms | Ctrl+= / Ctrl+- scale %.0f%% | Ctrl+1..%d views",
                        session_->backend_name().c_str(), session_->backend_device().c_str(), session_->last_step_ms(),
                        decoders.c_str(), frame_ms_, ui_.scale * 100.0f,
                        static_cast<int>(std::min<size_t>(9, view_ids().size())));
    if (status_time_ > 0 && !status_.empty()) {
        ImGui::SameLine();
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(palette(ui_.dark).good), "  %s", status_.c_str());
    }
    ImGui::End();
}

void App::draw_toolbar(const Frame& f, Commands& cmds) {
    const float font = ImGui::GetFontSize();
    const float right = ImGui::GetWindowContentRegionMax().x;
    // The buttons on the right take their own width; the transport's line wraps before them.
    const ImGuiStyle& st = ImGui::GetStyle();
    const auto button_w = [&](const char* label) { return ImGui::CalcTextSize(label).x + st.FramePadding.x * 2 + st.ItemSpacing.x; };
    const float buttons = button_w("Session") + button_w("Present") + button_w(ui_.tiles ? "Tabs" : "Tiles") +
                          button_w(ui_.dark ? "Light theme" : "Dark theme") + button_w("A-") + ImGui::CalcTextSize("300%").x +
                          st.ItemSpacing.x + button_w("A+");
    // The transport's buttons, then at least ten characters of its step line, must fit left of
    // ours; when they do not (a narrow window, a large scale), ours take the first line alone.
    const float transport = button_w("Step >") + font * 4 + st.ItemSpacing.x + font * 8 + st.ItemSpacing.x +
                            button_w("Reset") + font;
    const bool own_line = right - buttons < transport + font * 10;
    if (own_line) ImGui::SetCursorPosX(std::max(ImGui::GetCursorPosX(), right - buttons));
    else {
        transport_.draw(f, cmds, ui_.play_speed, buttons + font);
        ImGui::SameLine(std::max(ImGui::GetCursorPosX() + font, right - buttons));
    }
    if (ImGui::Button("Session")) ImGui::OpenPopup("##session_menu");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Save what is on screen (model, prompt, steps, view, lesson page, Curves) or open a saved session");
    draw_session_menu();
    ImGui::SameLine();
    if (ImGui::Button("Present")) set_presenting(true);
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Presentation mode (F5): full screen, %s alone, large type; Esc leaves",
                          ui_.tiles ? "one tile" : "this view");
    ImGui::SameLine();
    if (ImGui::Button(ui_.tiles ? "Tabs" : "Tiles")) ui_.tiles = !ui_.tiles;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip(ui_.tiles ? "One view at a time, as tabs" : "All open views at once");
    ImGui::SameLine();
    if (ImGui::Button(ui_.dark ? "Light theme" : "Dark theme")) ui_.dark = !ui_.dark;
    ImGui::SameLine();
    if (ImGui::Button("A-")) ui_.scale = std::max(0.5f, std::round(ui_.scale * 9.0f) / 10.0f);
    ImGui::SameLine();
    ImGui::Text("%.0f%%", ui_.scale * 100.0f);
    ImGui::SameLine();
    if (ImGui::Button("A+")) ui_.scale = std::min(3.0f, std::round(ui_.scale * 11.0f) / 10.0f);
    if (own_line) transport_.draw(f, cmds, ui_.play_speed, 0);
}

void App::draw_views(const Frame& f, Commands& cmds) {
    auto& open = ui_.open_views;
    if (ui_.tiles) {
        const int n = static_cast<int>(open.size());
        if (n == 0) {
            empty_state("All views are closed: switch to Tabs and use + to open one.");
            return;
        }
        // A tile is at least 30 x 20 characters, so its diagrams and maps stay readable; when the
        // open views do not fit at that size, the tiles scroll.
        const float font = ImGui::GetFontSize();
        const ImVec2 avail = ImGui::GetContentRegionAvail();
        const float sp = ImGui::GetStyle().ItemSpacing.x;
        const float min_w = font * 30, min_h = font * 20;
        const int want = n <= 1 ? 1 : (n <= 4 ? 2 : 3);
        const int cols = std::clamp(static_cast<int>((avail.x + sp) / (min_w + sp)), 1, want);
        const int rows = (n + cols - 1) / cols;
        const float scroll_w = rows * (min_h + sp) > avail.y ? ImGui::GetStyle().ScrollbarSize : 0.0f;
        const ImVec2 cell((avail.x - scroll_w - sp * static_cast<float>(cols - 1)) / static_cast<float>(cols),
                          std::max(min_h, (avail.y - sp * static_cast<float>(rows - 1)) / static_cast<float>(rows)));
        for (int i = 0; i < n; ++i) {
            if (i % cols) ImGui::SameLine();
            draw_view(open[static_cast<size_t>(i)], cell, true, f, cmds);
        }
        return;
    }
    if (!ImGui::BeginTabBar("##views", ImGuiTabBarFlags_FittingPolicyScroll)) return;
    std::string close;
    for (const std::string& id : open) {
        bool keep = true;
        const ImGuiTabItemFlags flags = select_view_ == id ? ImGuiTabItemFlags_SetSelected : 0;
        if (ImGui::BeginTabItem(view_title(id), &keep, flags)) {
            ui_.active_view = id;
            draw_view(id, ImVec2(0, 0), false, f, cmds);
            ImGui::EndTabItem();
        }
        if (!keep) close = id;
    }
    select_view_.clear();
    if (!close.empty()) open.erase(std::find(open.begin(), open.end(), close));
    if (open.size() < view_ids().size()) {
        if (ImGui::TabItemButton("+", ImGuiTabItemFlags_Trailing)) ImGui::OpenPopup("##addview");
        if (ImGui::BeginPopup("##addview")) {
            for (const std::string& id : view_ids())
                if (std::find(open.begin(), open.end(), id) == open.end() && ImGui::Selectable(view_title(id))) {
                    open.push_back(id);
                    ui_ = ui_settings_from_json(to_json(ui_));  // tab order
                    select_view_ = id;
                }
            ImGui::EndPopup();
        }
    }
    ImGui::EndTabBar();
    if (open.empty()) empty_state("All views are closed: use + to open one.");
}

void App::draw_view(const std::string& id, ImVec2 size, bool tile, const Frame& f, Commands& cmds) {
    ImGui::BeginChild(("##view_" + id).c_str(), size, tile);
    const ImVec2 wmin = ImGui::GetWindowPos(), wsz = ImGui::GetWindowSize();
    if (tile && ImGui::IsWindowFocused(ImGuiFocusedFlags_ChildWindows)) focused_tile_ = id;
    if (tile) {  // the title; double-click shows the view alone (as a tab)
        ImGui::Selectable(view_title(id), false, ImGuiSelectableFlags_AllowDoubleClick,
                          ImVec2(ImGui::CalcTextSize(view_title(id)).x, 0));
        if (ImGui::IsItemHovered() && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) {
            ui_.tiles = false;
            ui_.active_view = select_view_ = id;
        }
        if (ImGui::IsItemHovered() && !exporting_) ImGui::SetTooltip("Double-click: %s alone (Tiles brings the others back)", view_title(id));
        ImGui::SameLine();
    }
    if (!present_.on && !sliding_) {  // a presentation and a slide show the view alone
        // Export buttons, right-aligned on the view's first line.
        const float font = ImGui::GetFontSize();
        ImGui::SameLine(std::max(ImGui::GetCursorPosX(), ImGui::GetWindowContentRegionMax().x - font * 11.5f));
        if (ImGui::SmallButton("Export PNG")) {
            std::snprintf(export_dir_edit_, sizeof export_dir_edit_, "%s", export_dir().c_str());
            ImGui::OpenPopup("##export_png");
        }
        if (ImGui::IsItemHovered() && !ImGui::IsPopupOpen("##export_png"))
            ImGui::SetTooltip("Save this view alone (no buttons or sidebar) as a PNG, at 1x, 2x or 3x, in %s", export_dir().c_str());
        draw_png_popup(id, wsz);
        ImGui::SameLine();
        if (ImGui::SmallButton("Trace JSON")) {
            ExportRequest r;
            r.kind = ExportRequest::Kind::TraceJson;
            r.view = id;
            cmds.exports.push_back(r);
        }
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("Save every tensor of the selected step (all layers) as JSON");
        ImGui::SetCursorPosY(ImGui::GetCursorPosY() - ImGui::GetTextLineHeight() - ImGui::GetStyle().ItemSpacing.y);
        ImGui::NewLine();
    }

    if (const ViewEntry* v = find_view(id)) v->draw(views_, f, cmds);
    if (const auto focus = views_.lesson.take_focus()) {  // after Show me: the page's layer and head
        views_.shapes.layer = views_.attention.layer = views_.compare.layer = focus->layer;
        if (focus->head >= 0) views_.attention.head = views_.compare.head = focus->head;
        views_.attention.enlarged = focus->view == "attention" && focus->head >= 0;
    }
    ImGui::EndChild();
    if (!sliding_ && (present_.on ? id == present_.view : id == ui_.active_view)) {
        view_min_ = wmin;
        view_max_ = ImVec2(wmin.x + wsz.x, wmin.y + wsz.y);
    }
}

// ============================================================================ [SECTION] App: presentation mode

void App::set_presenting(bool on) {
    if (on == present_.on) return;
    if (on) {
        present_.enter(ui_, focused_tile_);
    } else {
        if (!ui_.tiles) select_view_ = ui_.active_view = present_.view;  // back on the tab presented last
        present_.leave();
    }
    // Full screen only for a window on a screen: a screenshot or the benchmark keeps its size.
    if (opt_.offscreen || opt_.frames > 0 || !win_) return;
    if (on) {
        GLFWmonitor* mon = glfwGetPrimaryMonitor();
        const GLFWvidmode* mode = mon ? glfwGetVideoMode(mon) : nullptr;
        if (!mode) {
            std::fprintf(stderr, "mla-lab: no monitor found; presenting in the window\n");
            return;
        }
        glfwGetWindowPos(win_, &windowed_x_, &windowed_y_);
        glfwGetWindowSize(win_, &windowed_w_, &windowed_h_);
        glfwSetWindowMonitor(win_, mon, 0, 0, mode->width, mode->height, mode->refreshRate);
        fullscreen_ = true;
    } else if (fullscreen_) {
        glfwSetWindowMonitor(win_, nullptr, windowed_x_, windowed_y_, windowed_w_, windowed_h_, 0);
        fullscreen_ = false;
    }
}

// The bar: [< Previous] [Next >] (the lesson's pages, when it is presented), < Back, Step >,
// Play; the step on the same line when it fits, else under; the indicator on the right.
void App::draw_present(const Frame& f, Commands& cmds) {
    const Palette pal = palette(ui_.dark);
    const float font = ImGui::GetFontSize();
    const float right = ImGui::GetWindowContentRegionMax().x;
    const char* indicator = "\u25CF Presenting \u2014 Esc to leave";
    ImGui::SetWindowFontScale(0.8f);
    const float ind_w = ImGui::CalcTextSize(indicator).x;
    ImGui::SetWindowFontScale(1.0f);

    if (present_.view == LessonView::kId) {
        ImGui::BeginDisabled(views_.lesson.at_first_page());
        if (ImGui::Button("< Previous")) views_.lesson.turn(-1, f, cmds);
        ImGui::EndDisabled();
        ImGui::SameLine();
        ImGui::BeginDisabled(views_.lesson.at_last_page());
        if (ImGui::Button("Next >")) views_.lesson.turn(+1, f, cmds);
        ImGui::EndDisabled();
        ImGui::SameLine(0, font);
    }
    transport_.draw_compact(f, cmds);
    const float y0 = ImGui::GetCursorPosY();
    ImGui::SameLine(0, font);
    const float x = ImGui::GetCursorPosX();
    const std::string line = f.step < 0 ? "no step yet: Step feeds the first prompt token" : step_line(f.session, f.step);
    const bool same_line = x + ImGui::CalcTextSize(line.c_str()).x <= right - ind_w - font;
    ImGui::SetWindowFontScale(0.8f);
    ImGui::SameLine(right - ind_w);
    ImGui::AlignTextToFramePadding();
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.accent), "%s", indicator);
    ImGui::SetWindowFontScale(1.0f);
    if (same_line) {
        ImGui::SameLine(x);
        ImGui::AlignTextToFramePadding();
        ImGui::TextUnformatted(line.c_str());
    } else {
        ImGui::SetCursorPosY(y0);
        ImGui::PushTextWrapPos(right);
        ImGui::TextWrapped("%s", line.c_str());
        ImGui::PopTextWrapPos();
    }
    if (f.step >= 0 && f.session.scrubbed_back())
        text_wrapped_colored(pal.warn, "scrubbed back: Step replays the recorded steps; End = newest");
    if (!busy_.empty()) text_wrapped_colored(pal.accent, "%s ...", busy_.c_str());
    const RunNotice notice = run_notice(*session_);
    if (notice.level != RunNotice::Level::None)
        text_wrapped_colored(pal.warn, "%s%s", notice.level == RunNotice::Level::Stop ? "Stopped: " : "", notice.text.c_str());
    draw_view(present_.view, ImVec2(0, 0), false, f, cmds);
}

// ============================================================================ [SECTION] App: exports

void App::do_exports(const std::vector<ExportRequest>& reqs) {
    const int64_t step = session_->selected();
    const std::string at = "step" + std::to_string(step < 0 ? 0 : step + 1);  // steps count from 1, as on screen
    const std::string dir = export_dir();
    for (const ExportRequest& r : reqs) {
        std::string path, err;
        bool ok = false;
        switch (r.kind) {
            case ExportRequest::Kind::TraceJson: {
                const Trace* t = session_->trace();
                if (!t) {
                    err = "nothing to export yet: step once";
                    break;
                }
                path = export_path(dir, "trace-" + at, "json");
                ok = write_text(path, trace_json(*t, session_->config()).dump(1) + "\n", &err);
                break;
            }
            case ExportRequest::Kind::HeadCsv: {
                if (step < 0) {
                    err = "nothing to export yet: step once";
                    break;
                }
                path = export_path(dir, "attention-l" + std::to_string(r.layer) + "-h" + std::to_string(r.head) + "-" + at, "csv");
                ok = write_text(path,
                                head_csv(session_->main().traces, session_->token_labels(), step, r.layer, r.head), &err);
                break;
            }
            case ExportRequest::Kind::CurvesSvg:
            case ExportRequest::Kind::CurvesCsv: {
                const CurvesData& d = views_.curves.data;
                if (d.series.empty()) {
                    err = "nothing to export: tick a model in the Curves view";
                    break;
                }
                const bool svg = r.kind == ExportRequest::Kind::CurvesSvg;
                path = export_path(dir, slide_stem("curves"), svg ? "svg" : "csv", "");
                PlotOptions po;  // as `mla-lab plot --out FILE.svg` writes it
                po.log = views_.curves.settings.log;
                po.subtitle = d.subtitle;
                ok = write_text(path, svg ? plot_svg(d.series, d.callouts, po) : plot_csv(d.series), &err);
                break;
            }
        }
        if (ok) {
            path = std::filesystem::absolute(path).lexically_normal().string();
            notify("Saved " + path, false, std::filesystem::path(path).parent_path().string());
        } else {
            notify("Export failed, nothing was saved: " + err, true);
        }
        if (opt_.frames == 0) std::printf("%s\n", notice_.c_str());
    }
}

namespace {

// "Qwen2.5-7B" -> "qwen2-5-7b": lower case, a dash for anything else, no dashes twice.
std::string slug(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        const bool keep = std::isalnum(c) != 0;
        if (keep) out += static_cast<char>(std::tolower(c));
        else if (!out.empty() && out.back() != '-') out += '-';
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out;
}

}  // namespace

std::string App::slide_stem(const std::string& id) {
    const int64_t step = session_->selected();
    const std::string at = "step" + std::to_string(step < 0 ? 0 : step + 1);  // from 1, as on screen
    if (id == "curves") {
        std::string stem = "curves";
        for (const std::string& m : views_.curves.selected_presets()) stem += "-" + slug(m);
        for (const CurvesModel& m : views_.curves.models)
            if (m.selected && !m.path.empty()) stem += "-" + slug(m.name);
        return stem + "-" + slug(views_.curves.settings.dtype);
    }
    if (id == "quality" || id == "convert") return id;
    if (id == "lesson")
        return views_.lesson.loaded && views_.lesson.lesson.page_count() > 0
                   ? "lesson-" + slug(page_key(views_.lesson.lesson, views_.lesson.progress.page))
                   : "lesson";
    if (id == "compare") return "compare-" + at;
    return id + "-" + to_string(session_->config().attn_kind()) + "-" + at;
}

void App::draw_png_popup(const std::string& id, ImVec2 size) {
    if (!ImGui::BeginPopup("##export_png")) return;
    const float font = ImGui::GetFontSize();
    ImGui::TextUnformatted("Export PNG: this view alone, without buttons, sidebar or tooltips");
    ImGui::Separator();
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("Scale ");
    for (int k = 1; k <= 3; ++k) {
        ImGui::SameLine();
        ImGui::RadioButton((std::to_string(k) + "x").c_str(), &ui_.export_scale, k);
    }
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("Theme ");
    for (const char* t : {"", "dark", "light"}) {
        ImGui::SameLine();
        if (ImGui::RadioButton(*t ? t : "as shown", ui_.export_theme == t)) ui_.export_theme = t;
    }
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted("Folder");
    ImGui::SameLine();
    ImGui::SetNextItemWidth(font * 26);
    ImGui::InputText("##export_dir", export_dir_edit_, sizeof export_dir_edit_);
    if (ImGui::IsItemDeactivatedAfterEdit()) ui_.export_dir = export_dir_edit_ == default_export_dir() ? "" : export_dir_edit_;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Kept for the next exports; created when missing. Default: %s", default_export_dir().c_str());
    const int w = static_cast<int>(std::lround(size.x * static_cast<float>(ui_.export_scale)));
    const int h = static_cast<int>(std::lround(size.y * static_cast<float>(ui_.export_scale)));
    ImGui::TextDisabled("%s.png, %d x %d pixels", slide_stem(id).c_str(), w, h);
    if (ImGui::Button("Save PNG")) {
        ui_.export_dir = std::string(export_dir_edit_) == default_export_dir() ? "" : export_dir_edit_;
        slide_ = Slide{id, size.x, size.y, ui_.export_scale, ui_.export_theme};
        ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel")) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
}

Image App::render_slide(const Slide& s) {
    constexpr int kMaxSide = 8192;  // our cap on a side; the GL's own limit when it is lower
    int max_rb = 0;
    glGetIntegerv(GL_MAX_RENDERBUFFER_SIZE, &max_rb);
    const int limit = std::min(kMaxSide, max_rb > 0 ? max_rb : kMaxSide);
    const int w = std::clamp(static_cast<int>(std::lround(s.w * static_cast<float>(s.scale))), 16, limit);
    const int h = std::clamp(static_cast<int>(std::lround(s.h * static_cast<float>(s.scale))), 16, limit);
    unsigned fbo = 0, rb = 0;
    const bool complete = make_color_framebuffer(w, h, fbo, rb);

    Image img;
    if (complete) {
        slide_ = s;  // draw_ui reads the view from it
        slide_font_ = built_scale_ * static_cast<float>(s.scale);
        slide_dark_ = s.theme.empty() ? ui_.dark : s.theme == "dark";
        const bool keep_dark = ui_.dark;
        ui_.dark = slide_dark_;
        build_fonts();  // at the slide's scale, in its theme
        // A picture has nothing to scroll (what does not fit is left out, as on screen): no scrollbars drawn.
        for (ImGuiCol c : {ImGuiCol_ScrollbarBg, ImGuiCol_ScrollbarGrab, ImGuiCol_ScrollbarGrabHovered, ImGuiCol_ScrollbarGrabActive})
            ImGui::GetStyle().Colors[c].w = 0;
        sliding_ = true;
        for (int i = 0; i < 3; ++i) {  // a few frames: auto-fitted sizes and plots settle
            ImGui_ImplOpenGL3_NewFrame();
            ImGui_ImplGlfw_NewFrame();
            ImGuiIO& io = ImGui::GetIO();
            io.DisplaySize = ImVec2(static_cast<float>(w), static_cast<float>(h));
            io.DisplayFramebufferScale = ImVec2(1, 1);
            io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
            io.DeltaTime = 1.0f / 60.0f;
            ImGui::NewFrame();
            Commands ignored;  // nothing a slide's frame does changes the session
            draw_ui(ignored);
            ImGui::Render();
            glBindFramebuffer(GL_FRAMEBUFFER, fbo);
            glViewport(0, 0, w, h);
            const ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
            glClearColor(bg.x, bg.y, bg.z, 1.0f);
            glClear(GL_COLOR_BUFFER_BIT);
            ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
        }
        img = read_pixels(0, 0, w, h, h);
        sliding_ = false;
        slide_.reset();
        slide_font_ = 0;
        ui_.dark = keep_dark;
        build_fonts();
    }
    glBindFramebuffer(GL_FRAMEBUFFER, fbo_);
    glDeleteFramebuffers(1, &fbo);
    glDeleteRenderbuffers(1, &rb);
    if (!complete) throw InputError("cannot make a " + std::to_string(w) + " x " + std::to_string(h) + " picture on this GL");
    return img;
}

void App::save_slide(const Slide& s) {
    const std::string dir = export_dir();
    std::string err, path;
    bool ok = false;
    try {
        const Image img = render_slide(s);
        path = export_path(dir, slide_stem(s.view), "png", "");
        ok = write_png(path, img, &err);
        if (ok) {
            path = std::filesystem::absolute(path).lexically_normal().string();
            notify("Saved " + path + " (" + std::to_string(img.width) + " x " + std::to_string(img.height) + ", " +
                       (s.theme.empty() ? std::string(ui_.dark ? "dark" : "light") : s.theme) + ")",
                   false, std::filesystem::path(path).parent_path().string());
        }
    } catch (const InputError& e) {
        err = e.what();
    }
    if (!ok) notify("Export failed, nothing was saved: " + err, true);
    if (opt_.frames == 0) std::printf("%s\n", notice_.c_str());
}

// ============================================================================ [SECTION] App: session files (save, open, recent)

SessionFile App::capture_session() {
    SessionFile s;
    s.model = session_->settings();
    s.steps = session_->steps();
    s.shown_step = session_->scrubbed_back() ? session_->selected() + 1 : 0;
    s.view = present_.on ? present_.view : ui_.active_view;
    s.layout = ui_.tiles ? "tiles" : "tabs";
    if (views_.lesson.loaded && views_.lesson.lesson.page_count() > 0)
        s.lesson_page = page_key(views_.lesson.lesson, views_.lesson.progress.page);
    views_.curves.update();  // the presets load on the view's first draw
    s.has_curves = true;
    s.curves.models = views_.curves.selected_presets();
    s.curves.configs = views_.curves.opened_configs();
    s.curves.settings = views_.curves.settings;
    return s;
}

void App::restore_ui(const SessionFile& s, bool view, bool layout, bool lesson, std::vector<std::string>* problems) {
    if (view && !s.view.empty()) {
        ui_.active_view = select_view_ = s.view;
        if (std::find(ui_.open_views.begin(), ui_.open_views.end(), s.view) == ui_.open_views.end()) {
            ui_.open_views.push_back(s.view);
            ui_ = ui_settings_from_json(to_json(ui_));  // back into tab order
        }
        if (present_.on) present_.view = s.view;
    }
    if (layout && !s.layout.empty()) ui_.tiles = s.layout == "tiles";
    if (lesson && !s.lesson_page.empty()) {
        if (!views_.lesson.loaded) views_.lesson.load();
        const Lesson& l = views_.lesson.lesson;
        int found = -1;
        for (int i = 0; i < l.page_count() && found < 0; ++i)
            if (page_key(l, i) == s.lesson_page) found = i;
        if (found >= 0) views_.lesson.open(found, false);
        else if (problems) problems->push_back("lesson_page '" + s.lesson_page + "' is not a page of this lesson; left as it is");
    }
    if (s.has_curves) views_.curves.restore(s.curves.models, s.curves.configs, s.curves.settings, problems);
}

void App::open_session_file(const std::string& path) {
    PendingSession p;
    p.path = std::filesystem::absolute(path).lexically_normal().string();
    p.file = load_session_file(p.path, &p.problems);  // throws InputError
    pending_session_ = std::move(p);
}

// Between frames, as the session's own commands are: the model, then the steps, then the views.
void App::apply_pending_session() {
    if (!pending_session_) return;
    PendingSession p = std::move(*pending_session_);
    pending_session_.reset();
    const SessionFile& s = p.file;
    if (!session_->apply_settings(s.model, Field::None)) {
        notify("Could not open " + p.path + ": " + session_->error() + " (the simulator is as it was)", true);
        session_->clear_error();
        return;
    }
    session_->reset();
    if (s.steps > session_->max_steps())
        p.problems.push_back(p.path + ": steps " + std::to_string(s.steps) + " is past the model's context of " +
                             std::to_string(session_->max_steps()) + " tokens; stepping to it");
    if (s.steps > 0) session_->step(std::min(s.steps, session_->max_steps()));
    if (s.shown_step > 0) session_->select(s.shown_step - 1);
    std::vector<std::string> ui_problems;
    restore_ui(s, true, true, true, &ui_problems);
    for (const std::string& q : ui_problems) p.problems.push_back(p.path + ": " + q);
    sidebar_.synced = false;  // its fields show the opened settings
    remember_session(ui_, p.path);
    for (const std::string& q : p.problems) std::fprintf(stderr, "mla-lab: warning: %s\n", q.c_str());
    if (p.problems.empty()) notify("Opened session " + p.path, false);
    else
        notify("Opened " + p.path + " with " + std::to_string(p.problems.size()) + " problem(s): " +
                   without_prefix(p.problems.front(), p.path + ": ") +
                   (p.problems.size() > 1 ? " (the others are in the terminal)" : ""),
               true);
}

void App::draw_notice() {
    if (notice_.empty()) return;
    const Palette pal = palette(ui_.dark);
    if (ImGui::SmallButton("Dismiss##notice")) notice_.clear();
    ImGui::SameLine();
    if (!notice_folder_.empty()) {
        if (ImGui::SmallButton("Open folder##notice")) {
            // xdg-open, the desktop's file manager; waited for on a thread of its own.
            pid_t pid = 0;
            const std::string folder = notice_folder_;
            char* argv[] = {const_cast<char*>("xdg-open"), const_cast<char*>(folder.c_str()), nullptr};
            if (posix_spawnp(&pid, "xdg-open", nullptr, nullptr, argv, environ) == 0)
                std::thread([pid] { waitpid(pid, nullptr, 0); }).detach();
            else
                notify("Cannot open the folder (no xdg-open here): it is " + folder, true);
        }
        ImGui::SameLine();
    }
    text_wrapped_colored(notice_warn_ ? pal.warn : pal.good, "%s", notice_.c_str());
}

void App::draw_session_menu() {
    bool open_dialog = false;
    if (ImGui::BeginPopup("##session_menu")) {
        if (ImGui::Selectable("Save session...")) {
            session_saving_ = true;
            open_dialog = true;
        }
        if (ImGui::Selectable("Open session...")) {
            session_saving_ = false;
            open_dialog = true;
        }
        ImGui::Separator();
        if (ui_.recent_sessions.empty()) ImGui::TextDisabled("No recent sessions");
        else ImGui::TextDisabled("Recent sessions");
        for (const std::string& r : ui_.recent_sessions)
            if (ImGui::Selectable(r.c_str())) {
                try {
                    open_session_file(r);
                } catch (const InputError& e) {
                    notify(e.what(), true);
                }
            }
        ImGui::EndPopup();
    }
    if (open_dialog) {
        const std::string start =
            ui_.recent_sessions.empty() ? "" : std::filesystem::path(ui_.recent_sessions.front()).parent_path().string();
        session_dialog_.action = session_saving_ ? "Save" : "Open";
        session_dialog_.intro =
            session_saving_ ? "Save the model settings, prompt, steps, the view shown, the lesson page and the Curves "
                              "view's choices as a session file (JSON). Type a file name and press Enter, or pick a file "
                              "to replace it."
                            : "Open a session file saved by MLA Lab. A field it cannot use is named in a notice and left "
                              "at its default.";
        session_dialog_.show(start, session_saving_ ? "session.json" : "");
    }
    session_dialog_.draw(session_saving_ ? "Save session" : "Open session", ui_.dark, [&](const std::string& typed) {
        std::string path = std::filesystem::absolute(typed).lexically_normal().string();
        try {
            if (session_saving_) {
                if (std::filesystem::path(path).extension().empty()) path += ".json";
                save_session_file(capture_session(), path);
                remember_session(ui_, path);
                notify("Saved session to " + path, false);
            } else {
                open_session_file(path);
            }
        } catch (const InputError& e) {
            return std::string(e.what());
        }
        return std::string();
    });
}

// ============================================================================ [SECTION] entry points

void parse_size(const std::string& s, int& w, int& h) {
    int a = 0, b = 0;
    char x = 0, extra = 0;
    if (std::sscanf(s.c_str(), "%d%c%d%c", &a, &x, &b, &extra) != 3 || (x != 'x' && x != 'X') || a < 320 || b < 240 ||
        a > 8192 || b > 8192)
        throw InputError("size '" + s + "' is not valid; write WIDTHxHEIGHT in pixels, e.g. 1600x1000 (320x240 to 8192x8192)");
    w = a;
    h = b;
}

int run_window(const WindowOptions& o, const ModelSettings& m) {
    App app(o, m);
    using clock = std::chrono::steady_clock;
    auto last = clock::now();
    std::vector<double> times;
    double ui_sum = 0, gl_sum = 0, cpu_sum = 0;
    auto cpu_ms = [] {
        timespec ts{};
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) * 1e-6;
    };
    for (int i = 0; o.frames > 0 ? i < o.frames : !app.closing(); ++i) {
        if (o.frames > 0) glfwPollEvents();
        else glfwWaitEventsTimeout(1.0 / 60.0);  // idle: wake for input, the play clock or a blinking cursor
        const auto now = clock::now();
        const double dt = std::chrono::duration<double>(now - last).count();
        last = now;
        const auto t0 = clock::now();
        const double c0 = cpu_ms();
        app.frame(std::min(dt, 0.25));
        if (o.frames > 0) {
            glFinish();
            times.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
            if (i >= 3) {
                cpu_sum += cpu_ms() - c0;
                ui_sum += app.ui_ms_;
                gl_sum += app.gl_ms_;
            }
        }
    }
    if (o.frames > 0) {
        // The first frames build fonts and textures: report them apart.
        const size_t warm = std::min<size_t>(3, times.size() - 1);
        std::vector<double> t(times.begin() + static_cast<long>(warm), times.end());
        std::sort(t.begin(), t.end());
        double sum = 0;
        for (double v : t) sum += v;
        const double mean = sum / static_cast<double>(t.size());
        const std::string views = o.layout == "tabs" ? (o.view.empty() ? std::string("one tab") : o.view)
                                                     : std::to_string(app.tiled_views()) + " of " +
                                                           std::to_string(view_ids().size()) + " as tiles";
        std::printf("frames: %zu (after %zu warm-up) at %dx%d, %lld tokens, views: %s\n", t.size(), warm, o.width, o.height,
                    static_cast<long long>(app.session().steps()), views.c_str());
        std::printf("frame time ms: mean %.2f, median %.2f, p95 %.2f, max %.2f (first frame %.1f)\n", mean,
                    t[t.size() / 2], t[std::min(t.size() - 1, t.size() * 95 / 100)], t.back(), times.front());
        std::printf("CPU time per frame (all threads of this process, software GL included): %.2f ms\n",
                    cpu_sum / static_cast<double>(t.size()));
        std::printf("of which: building the UI %.2f ms, GL drawing %.2f ms (mean); last frame: %d vertices, %d draw calls\n",
                    ui_sum / static_cast<double>(t.size()), gl_sum / static_cast<double>(t.size()), app.vtx_, app.draws_);
        std::printf("pixels filled by the last frame's triangles: %.2f M, %.1fx the window's %.2f M, in %d draw lists; "
                    "most:", app.fill_px_ * 1e-6, app.fill_px_ / (static_cast<double>(o.width) * o.height),
                    static_cast<double>(o.width) * o.height * 1e-6, app.lists_);
        for (size_t i = 0; i < std::min<size_t>(4, app.fill_by_list_.size()); ++i) {
            const std::string& n = app.fill_by_list_[i].second;
            const size_t cut = n.rfind('/');
            std::printf("%s %s %.2f M", i ? "," : "", (cut == std::string::npos ? n : n.substr(cut + 1)).c_str(), app.fill_by_list_[i].first * 1e-6);
        }
        std::printf("\n");
    }
    return 0;
}

Image render_slide_picture(const WindowOptions& o, const ModelSettings& m, int scale, const std::string& theme) {
    if (scale < 1 || scale > 3) throw InputError("the export scale must be 1, 2 or 3, not " + std::to_string(scale));
    if (!theme.empty() && theme != "dark" && theme != "light")
        throw InputError("theme '" + theme + "' is not known; use dark or light");
    WindowOptions w = o;
    w.offscreen = true;
    w.remember = false;
    w.frames = 0;
    w.view_only = false;
    if (w.layout.empty()) w.layout = "tabs";
    if (w.theme.empty()) w.theme = "dark";
    if (w.scale <= 0) w.scale = 1.0f;
    check_view(w.view);
    if (w.view.empty()) w.view = "shapes";
    App app(w, m);
    for (int i = 0; i < 3; ++i) app.frame(1.0 / 60.0);
    const ImVec2 size = app.last_view_size();
    return app.render_slide(App::Slide{w.view, size.x, size.y, scale, theme});
}

Image render_screenshot(const WindowOptions& o, const ModelSettings& m) {
    WindowOptions w = o;
    w.offscreen = true;
    w.remember = false;
    w.frames = 0;
    if (w.layout.empty() && w.session.empty()) w.layout = "tabs";
    if (w.theme.empty()) w.theme = "dark";
    if (w.scale <= 0) w.scale = 1.0f;
    check_view(w.view);
    if (w.view.empty() && w.session.empty()) w.view = "shapes";
    App app(w, m);
    for (int i = 0; i < 3; ++i) app.frame(1.0 / 60.0);  // let the layout settle (tabs, auto-fit sizes, textures)
    Image img = app.capture();
    if (gl::error_count() > 0) std::fprintf(stderr, "mla-lab: warning: %lld GL error(s) while rendering\n",
                                            static_cast<long long>(gl::error_count()));
    return img;
}

}  // namespace mla::app
