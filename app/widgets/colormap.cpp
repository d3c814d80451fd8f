// Colour maps and the colour bar: see colormap.h.
#include "widgets/colormap.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

namespace mla::widgets {

namespace {

// Viridis (van der Walt and Smith, matplotlib 1.5) at t = 0, 1/8, ..., 1: the nine
// published colours #440154 #472D7B #3B528B #2C728E #21908C #27AD81 #5DC863 #AADC32
// #FDE725. The 256-entry table runs a Catmull-Rom spline through them per channel.
constexpr int kAnchors = 9;
constexpr float kViridisAnchors[kAnchors][3] = {
    {68, 1, 84},    {71, 45, 123},  {59, 82, 139},  {44, 114, 142}, {33, 144, 140},
    {39, 173, 129}, {93, 200, 99},  {170, 220, 50}, {253, 231, 37},
};

constexpr float catmull_rom(float p0, float p1, float p2, float p3, float u) {
    const float u2 = u * u, u3 = u2 * u;
    return 0.5f * (2 * p1 + (p2 - p0) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u2 + (3 * p1 - p0 - 3 * p2 + p3) * u3);
}

constexpr uint8_t to_byte(float v) {
    if (v <= 0) return 0;
    if (v >= 255) return 255;
    return static_cast<uint8_t>(v + 0.5f);
}

constexpr std::array<std::array<uint8_t, 3>, kColormapSize> make_viridis() {
    std::array<std::array<uint8_t, 3>, kColormapSize> table{};
    for (int i = 0; i < kColormapSize; ++i) {
        const float x = static_cast<float>(i) * (kAnchors - 1) / (kColormapSize - 1);
        int seg = static_cast<int>(x);
        if (seg > kAnchors - 2) seg = kAnchors - 2;
        const float u = x - seg;
        const int i0 = seg > 0 ? seg - 1 : 0, i1 = seg, i2 = seg + 1;
        const int i3 = seg + 2 < kAnchors ? seg + 2 : kAnchors - 1;
        for (int c = 0; c < 3; ++c)
            table[i][c] = to_byte(catmull_rom(kViridisAnchors[i0][c], kViridisAnchors[i1][c], kViridisAnchors[i2][c],
                                              kViridisAnchors[i3][c], u));
    }
    return table;
}

constexpr auto kViridis = make_viridis();
static_assert(kViridis[0][0] == 68 && kViridis[0][1] == 1 && kViridis[0][2] == 84, "viridis starts at #440154");
static_assert(kViridis[255][0] == 253 && kViridis[255][1] == 231 && kViridis[255][2] == 37, "viridis ends at #FDE725");

int table_index(float t) {
    if (!(t > 0)) return 0;  // also NaN
    if (t >= 1) return kColormapSize - 1;
    return static_cast<int>(t * (kColormapSize - 1) + 0.5f);
}

// Okabe and Ito (2008), "Color Universal Design": orange, sky blue, bluish green,
// vermillion, blue, reddish purple, yellow (black left out: it vanishes on dark styles).
constexpr uint8_t kOkabeIto[7][3] = {
    {230, 159, 0}, {86, 180, 233}, {0, 158, 115}, {213, 94, 0}, {0, 114, 178}, {204, 121, 167}, {240, 228, 66},
};

}  // namespace

ImU32 colormap(float t) {
    const auto& c = kViridis[table_index(t)];
    return IM_COL32(c[0], c[1], c[2], 255);
}

void colormap_rgb(float t, uint8_t rgb[3]) {
    const auto& c = kViridis[table_index(t)];
    rgb[0] = c[0];
    rgb[1] = c[1];
    rgb[2] = c[2];
}

ImU32 categorical_color(int i) {
    const uint8_t* c = kOkabeIto[((i % 7) + 7) % 7];
    return IM_COL32(c[0], c[1], c[2], 255);
}

bool ColorBar(const char* id, ImVec2 size, float vmin, float vmax, AxisFormat format, const char* label) {
    const float font = ImGui::GetFontSize();
    const float bar_w = font * 1.1f, tick_len = font * 0.3f, gap = font * 0.25f;
    const float top_pad = label ? font * 1.3f : font * 0.5f;  // room for the top label's half
    if (size.y <= 0) size.y = font * 12;
    const float bar_h = std::max(size.y - top_pad - font * 0.5f, font);

    const Range r{std::min(vmin, vmax), vmax > vmin ? double(vmax) : double(vmin) + 1e-6};
    const std::vector<Tick> ticks = make_ticks(r, AxisScale::Linear, std::max(2, static_cast<int>(bar_h / (font * 2.2f))));
    std::vector<std::string> labels;
    float label_w = 0;
    for (const Tick& t : ticks) {
        labels.push_back(format_value(t.value, format, t.step));
        label_w = std::max(label_w, ImGui::CalcTextSize(labels.back().c_str()).x);
    }
    if (size.x <= 0) {
        size.x = bar_w + tick_len + gap + label_w + font * 0.3f;
        if (label) size.x = std::max(size.x, ImGui::CalcTextSize(label).x);
    }

    const ImVec2 p = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton(id, size);
    const bool hovered = ImGui::IsItemHovered();
    if (!ImGui::IsItemVisible()) return hovered;

    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
    if (label) dl->AddText(p, text, label);
    const ImVec2 bmin(p.x, p.y + top_pad), bmax(p.x + bar_w, p.y + top_pad + bar_h);

    // The bar as 64 gradient bands, top = vmax.
    const int bands = 64;
    for (int i = 0; i < bands; ++i) {
        const float y0 = bmax.y - bar_h * i / bands, y1 = bmax.y - bar_h * (i + 1) / bands;
        const ImU32 c0 = colormap(static_cast<float>(i) / bands), c1 = colormap(static_cast<float>(i + 1) / bands);
        dl->AddRectFilledMultiColor(ImVec2(bmin.x, y1), ImVec2(bmax.x, y0), c1, c1, c0, c0);
    }
    dl->AddRect(bmin, bmax, ImGui::GetColorU32(ImGuiCol_Text, 0.5f));

    for (size_t i = 0; i < ticks.size(); ++i) {
        const float u = static_cast<float>(axis_to_unit(ticks[i].value, r, AxisScale::Linear));
        const float y = bmax.y - u * bar_h;
        dl->AddLine(ImVec2(bmax.x, y), ImVec2(bmax.x + tick_len, y), text);
        dl->AddText(ImVec2(bmax.x + tick_len + gap, y - font * 0.5f), text, labels[i].c_str());
    }

    if (hovered) {
        const ImVec2 m = ImGui::GetMousePos();
        if (m.y >= bmin.y && m.y <= bmax.y) {
            const double v = unit_to_axis((bmax.y - m.y) / bar_h, r, AxisScale::Linear);
            dl->AddLine(ImVec2(bmin.x, m.y), ImVec2(bmax.x, m.y), ImGui::GetColorU32(ImGuiCol_Text), 2.0f);
            ImGui::SetTooltip("%s", format_value(v, format).c_str());
        }
    }
    return hovered;
}

}  // namespace mla::widgets
