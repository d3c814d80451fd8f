#include "views/view.h"

#include "base/numbers.h"

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
        p.warn = IM_COL32(213, 94, 0, 255);       // vermillion
        p.good = IM_COL32(0, 128, 90, 255);
        p.panel = IM_COL32(232, 232, 236, 255);
    }
    return p;
}

void request_png(const char* view, ImVec2 min, ImVec2 max, Commands& cmds) {
    ExportRequest r;
    r.kind = ExportRequest::Kind::Png;
    r.view = view;
    r.x0 = min.x;
    r.y0 = min.y;
    r.x1 = max.x;
    r.y1 = max.y;
    cmds.exports.push_back(r);
}

void mono_text(const Frame& f, const char* fmt, ...) {
    if (f.mono) ImGui::PushFont(f.mono);
    va_list args;
    va_start(args, fmt);
    ImGui::TextV(fmt, args);
    va_end(args);
    if (f.mono) ImGui::PopFont();
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
