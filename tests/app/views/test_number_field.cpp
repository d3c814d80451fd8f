// The sidebar's number fields in a headless ImGui context (no window, no GL): typing 999
// applies nothing until Enter, then applies 999 once; the - and + buttons apply at once.
#include <catch2/catch.hpp>

#include <imgui.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "views/view.h"

using namespace mla::app;

namespace {

struct Headless {
    ImGuiContext* ctx = ImGui::CreateContext();
    Headless() {
        ImGuiIO& io = ImGui::GetIO();
        io.IniFilename = nullptr;
        io.DisplaySize = ImVec2(800, 600);
        io.DeltaTime = 1.0f / 60.0f;
        io.KeyMap[ImGuiKey_Enter] = 13;
        unsigned char* px = nullptr;
        int w = 0, h = 0;
        io.Fonts->GetTexDataAsRGBA32(&px, &w, &h);
    }
    ~Headless() { ImGui::DestroyContext(ctx); }
    // One frame with the field in a window; returns what number_field returned.
    bool frame(const std::function<bool()>& draw) {
        ImGui::NewFrame();
        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(ImVec2(400, 300));
        ImGui::Begin("w");
        const bool r = draw();
        ImGui::End();
        ImGui::Render();
        return r;
    }
};

}  // namespace

TEST_CASE("number field: typed digits apply on Enter only, not per keystroke", "[view][field]") {
    Headless h;
    ImGuiIO& io = ImGui::GetIO();
    int64_t v = 32;
    bool focus = true;
    std::vector<int64_t> applied;
    auto field = [&] {
        if (focus) ImGui::SetKeyboardFocusHere();
        focus = false;
        const bool r = number_field("d_c latent", &v, 8, 200);
        if (r) applied.push_back(v);
        return r;
    };
    h.frame(field);  // focus: the text is selected, typing replaces it
    h.frame(field);
    for (char c : {'9', '9', '9'}) {
        io.AddInputCharacter(static_cast<unsigned>(c));
        h.frame(field);
        h.frame(field);
    }
    CHECK(v == 999);          // the field holds what is typed ...
    CHECK(applied.empty());   // ... and nothing ran: not 9, not 99
    io.KeysDown[13] = true;
    h.frame(field);
    io.KeysDown[13] = false;
    h.frame(field);
    h.frame(field);
    CHECK(applied == std::vector<int64_t>{999});  // once, on Enter
}

TEST_CASE("number field: - and + apply at once, and an unsigned field stops at 0", "[view][field]") {
    Headless h;
    ImGuiIO& io = ImGui::GetIO();
    uint64_t v = 3;
    int applied = 0;
    auto field = [&] {
        const bool r = number_field("batch", &v, uint64_t{5}, 200);
        applied += r ? 1 : 0;
        return r;
    };
    h.frame(field);
    // The field, then - and + (square, frame height), right of it: under the title bar and padding.
    const ImGuiStyle& st = ImGui::GetStyle();
    const float fh = ImGui::GetFrameHeight(), sp = st.ItemInnerSpacing.x;
    const float title = ImGui::GetFontSize() + st.FramePadding.y * 2;
    const float input_w = 200 - 2 * (fh + sp);
    const ImVec2 minus(st.WindowPadding.x + input_w + sp + fh * 0.5f, title + st.WindowPadding.y + fh * 0.5f);
    const ImVec2 plus(minus.x + fh + sp, minus.y);
    auto click = [&](ImVec2 at) {
        io.MousePos = at;
        h.frame(field);
        io.MouseDown[0] = true;
        h.frame(field);
        io.MouseDown[0] = false;
        h.frame(field);
    };
    click(minus);
    CHECK(v == 0);  // 3 - 5 stops at 0
    CHECK(applied == 1);
    click(plus);
    CHECK(v == 5);
    CHECK(applied == 2);
}
