#include "views/view.h"

#include "base/numbers.h"
#include "widgets/colormap.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <cstdarg>
#include <cstdio>

namespace mla::app {

Palette palette(bool dark) {
    Palette p;
    if (dark) {
        p.text = IM_COL32(235, 235, 235, 255);
        p.dim = IM_COL32(170, 170, 175, 255);
        p.faint = IM_COL32(90, 90, 100, 255);
        p.line = IM_COL32(200, 200, 205, 255);
        p.accent = IM_COL32(86, 180, 233, 255);   // sky blue
        p.warn = IM_COL32(230, 159, 0, 255);      // orange
        p.good = IM_COL32(0, 158, 115, 255);      // bluish green
        p.panel = IM_COL32(40, 42, 48, 255);
    } else {
        p.text = IM_COL32(20, 20, 20, 255);
        p.dim = IM_COL32(90, 90, 95, 255);
        p.faint = IM_COL32(185, 185, 190, 255);
        p.line = IM_COL32(60, 60, 65, 255);
        p.accent = IM_COL32(0, 114, 178, 255);    // blue
        p.warn = IM_COL32(180, 70, 0, 255);       // vermillion, darkened to 5:1 on the light background
        p.good = IM_COL32(0, 120, 84, 255);
        p.panel = IM_COL32(232, 232, 236, 255);
    }
    return p;
}

ImGuiStyle theme_style(bool dark, float scale) {
    ImGuiStyle st;
    if (dark) ImGui::StyleColorsDark(&st);
    else ImGui::StyleColorsLight(&st);
    st.WindowRounding = 0;
    st.ChildRounding = 3;
    st.FrameRounding = 3;
    st.GrabRounding = 3;
    st.TabRounding = 3;
    st.FramePadding = ImVec2(6, 4);
    st.ItemSpacing = ImVec2(8, 5);
    if (dark) {
        st.Colors[ImGuiCol_WindowBg].w = 1.0f;  // the window clears with it: opaque, as drawn
    } else {  // fields must stand out from the background on a projector
        st.Colors[ImGuiCol_WindowBg] = ImVec4(0.96f, 0.96f, 0.96f, 1.0f);
        st.Colors[ImGuiCol_FrameBg] = ImVec4(0.84f, 0.87f, 0.92f, 1.0f);
        st.Colors[ImGuiCol_FrameBgHovered] = ImVec4(0.76f, 0.82f, 0.92f, 1.0f);
        st.Colors[ImGuiCol_FrameBgActive] = ImVec4(0.70f, 0.78f, 0.92f, 1.0f);
        st.Colors[ImGuiCol_TextDisabled] = ImVec4(0.37f, 0.37f, 0.39f, 1.0f);  // ImGui's 0.60 grey is 2.6:1 here
        st.FrameBorderSize = 1.0f;
    }
    st.ScaleAllSizes(scale);
    return st;
}

ImU32 kind_color(AttnKind k) {
    switch (k) {
        case AttnKind::MHA: return widgets::categorical_color(0);  // orange
        case AttnKind::GQA: return widgets::categorical_color(1);  // sky blue
        case AttnKind::MQA: return widgets::categorical_color(3);  // vermillion
        case AttnKind::MLA: return widgets::categorical_color(2);  // bluish green
    }
    return widgets::categorical_color(4);
}

ImU32 kind_text_color(AttnKind k, bool dark) {
    if (dark) return kind_color(k);
    switch (k) {  // the same hues, darker
        case AttnKind::MHA: return IM_COL32(150, 90, 0, 255);
        case AttnKind::GQA: return IM_COL32(0, 100, 155, 255);
        case AttnKind::MQA: return IM_COL32(180, 70, 0, 255);
        case AttnKind::MLA: return IM_COL32(0, 120, 84, 255);
    }
    return IM_COL32(20, 20, 20, 255);
}

namespace {
double luminance(ImU32 c) {
    auto lin = [](unsigned v) {
        const double s = v / 255.0;
        return s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * lin((c >> IM_COL32_R_SHIFT) & 0xFF) + 0.7152 * lin((c >> IM_COL32_G_SHIFT) & 0xFF) +
           0.0722 * lin((c >> IM_COL32_B_SHIFT) & 0xFF);
}
}  // namespace

double contrast_ratio(ImU32 a, ImU32 b) {
    const double la = luminance(a), lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}


void mono_text(const Frame& f, const char* fmt, ...) {
    if (f.mono) ImGui::PushFont(f.mono);
    va_list args;
    va_start(args, fmt);
    ImGui::TextV(fmt, args);
    va_end(args);
    if (f.mono) ImGui::PopFont();
}

Panes begin_panes(const char* id, float min_wide, float left_frac, float min_high) {
    const float font = ImGui::GetFontSize();
    const ImVec2 view = ImGui::GetContentRegionAvail();
    Panes p;
    p.stacked = view.x < font * min_wide;
    if (p.stacked) ImGui::BeginChild(id, view, false);
    const float scroll_w = p.stacked ? ImGui::GetStyle().ScrollbarSize + font * 0.3f : 0.0f;
    p.avail = ImVec2(view.x - scroll_w, p.stacked ? std::max(view.y, font * min_high) : view.y);
    p.left_w = p.stacked ? p.avail.x : p.avail.x * left_frac;
    return p;
}

void end_panes(const Panes& p) {
    if (p.stacked) ImGui::EndChild();
}

void text_wrapped_colored(ImU32 color, const char* fmt, ...) {
    ImGui::PushStyleColor(ImGuiCol_Text, color);
    va_list args;
    va_start(args, fmt);
    ImGui::TextWrappedV(fmt, args);
    va_end(args);
    ImGui::PopStyleColor();
}

void empty_state(const char* text) {
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const ImVec2 sz = ImGui::CalcTextSize(text, nullptr, false, avail.x * 0.8f);
    const ImVec2 p = ImGui::GetCursorPos();
    ImGui::SetCursorPos(ImVec2(p.x + std::max(0.0f, (avail.x - sz.x) * 0.5f), p.y + std::max(0.0f, avail.y * 0.4f)));
    ImGui::PushTextWrapPos(ImGui::GetCursorPos().x + avail.x * 0.8f);
    ImGui::TextDisabled("%s", text);
    ImGui::PopTextWrapPos();
}

namespace {

template <class T>
bool number_field_impl(const char* label, T* v, T step, float width) {
    const ImGuiDataType type = std::is_floating_point_v<T> ? ImGuiDataType_Double
                               : std::is_signed_v<T>       ? ImGuiDataType_S64
                                                           : ImGuiDataType_U64;
    const ImGuiStyle& st = ImGui::GetStyle();
    const float button = ImGui::GetFrameHeight();
    bool apply = false;
    ImGui::PushID(label);
    ImGui::BeginGroup();
    ImGui::SetNextItemWidth(std::max(button, width - (step > 0 ? 2 * (button + st.ItemInnerSpacing.x) : 0.0f)));
    ImGui::InputScalar("##value", type, v, nullptr, nullptr, std::is_floating_point_v<T> ? "%g" : nullptr);
    const bool typing = ImGui::IsItemActive();
    if (ImGui::IsItemDeactivatedAfterEdit()) apply = true;  // Enter, Tab or a click elsewhere
    if (step > 0) {
        ImGui::SameLine(0, st.ItemInnerSpacing.x);
        if (ImGui::Button("-", ImVec2(button, button))) {
            if constexpr (std::is_signed_v<T>) *v -= step;
            else *v = *v >= step ? *v - step : 0;
            apply = true;
        }
        ImGui::SameLine(0, st.ItemInnerSpacing.x);
        if (ImGui::Button("+", ImVec2(button, button))) {
            *v += step;
            apply = true;
        }
    }
    if (label[0] != '#' || label[1] != '#') {
        ImGui::SameLine(0, st.ItemInnerSpacing.x);
        ImGui::TextUnformatted(label);
    }
    ImGui::EndGroup();
    ImGui::PopID();
    if (typing) ImGui::TextDisabled("Enter or click elsewhere to apply, Esc to undo");
    return apply;
}

}  // namespace

bool number_field(const char* label, int64_t* v, int64_t step, float width) { return number_field_impl(label, v, step, width); }
bool number_field(const char* label, uint64_t* v, uint64_t step, float width) { return number_field_impl(label, v, step, width); }
bool number_field(const char* label, double* v, double step, float width) { return number_field_impl(label, v, step, width); }

std::string fmt_count(double v) { return with_commas(v); }

std::string fmt_bytes(double b) {
    std::string s = fmt_count(b) + " B";
    const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = b;
    int u = -1;
    while (v >= 1024.0 && u < 3) {
        v /= 1024.0;
        ++u;
    }
    if (u >= 0) {
        char buf[48];
        std::snprintf(buf, sizeof buf, " (%.3g %s)", v, units[u]);
        s += buf;
    }
    return s;
}

std::string fmt_flops(double f) { return fmt_count(f) + " FLOPs"; }

}  // namespace mla::app
