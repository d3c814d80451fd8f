// Colours: one per attention kind everywhere, and text that keeps a contrast of at least
// 4.5:1 (WCAG 2, level AA) against the background it is drawn on, in both themes. The
// ratios are computed here from the sRGB values, independently of view.cpp.
#include <catch2/catch.hpp>

#include <cmath>

#include "views/view.h"
#include "widgets/colormap.h"

using namespace mla;
using namespace mla::app;

namespace {

double lin(double s) { return s <= 0.04045 ? s / 12.92 : std::pow((s + 0.055) / 1.055, 2.4); }

double lum(double r, double g, double b) { return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b); }

double lum(ImU32 c) {
    return lum(((c >> IM_COL32_R_SHIFT) & 0xFF) / 255.0, ((c >> IM_COL32_G_SHIFT) & 0xFF) / 255.0,
               ((c >> IM_COL32_B_SHIFT) & 0xFF) / 255.0);
}

// The colour `c` drawn over the opaque `bg` (ImGui's alpha blend), as 8-bit sRGB.
ImVec4 over(const ImVec4& c, const ImVec4& bg) {
    return ImVec4(c.x * c.w + bg.x * (1 - c.w), c.y * c.w + bg.y * (1 - c.w), c.z * c.w + bg.z * (1 - c.w), 1);
}

double ratio(double la, double lb) { return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05); }
double ratio(const ImVec4& a, const ImVec4& b) { return ratio(lum(a.x, a.y, a.z), lum(b.x, b.y, b.z)); }
double ratio(ImU32 a, const ImVec4& b) { return ratio(lum(a), lum(b.x, b.y, b.z)); }

}  // namespace

TEST_CASE("colours: text keeps 4.5:1 against its background in both themes", "[colours]") {
    for (bool dark : {true, false}) {
        INFO((dark ? "dark" : "light") << " theme");
        const ImGuiStyle st = theme_style(dark, 1.0f);
        const ImVec4 bg = st.Colors[ImGuiCol_WindowBg];
        REQUIRE(bg.w == 1.0f);  // the window clears with it
        // Sidebar, tiles and popups draw their own backgrounds over the window's.
        const ImVec4 child = over(st.Colors[ImGuiCol_ChildBg], bg), popup = over(st.Colors[ImGuiCol_PopupBg], bg);
        for (const ImVec4& under : {bg, child, popup}) {
            CHECK(ratio(st.Colors[ImGuiCol_Text], under) >= 4.5);
            CHECK(ratio(st.Colors[ImGuiCol_TextDisabled], under) >= 4.5);
            const Palette p = palette(dark);
            for (ImU32 text : {p.text, p.dim, p.accent, p.warn, p.good}) {
                INFO("palette colour " << std::hex << text);
                CHECK(ratio(text, under) >= 4.5);
            }
            for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
                INFO("kind " << display_name(k));
                CHECK(ratio(kind_text_color(k, dark), under) >= 4.5);
            }
        }
        // Text on fields and buttons.
        CHECK(ratio(st.Colors[ImGuiCol_Text], over(st.Colors[ImGuiCol_FrameBg], bg)) >= 4.5);
        CHECK(ratio(st.Colors[ImGuiCol_Text], over(st.Colors[ImGuiCol_Button], bg)) >= 4.5);
    }
    // The helper the views use agrees with the computation here.
    CHECK(contrast_ratio(IM_COL32(0, 0, 0, 255), IM_COL32(255, 255, 255, 255)) == Approx(21.0));
    CHECK(contrast_ratio(IM_COL32(119, 119, 119, 255), IM_COL32(255, 255, 255, 255)) == Approx(4.48).margin(0.01));
}

TEST_CASE("colours: one colour per attention kind, four different Okabe-Ito hues", "[colours]") {
    const AttnKind kinds[] = {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA};
    const ImU32 okabe_ito[] = {IM_COL32(230, 159, 0, 255), IM_COL32(86, 180, 233, 255), IM_COL32(213, 94, 0, 255),
                               IM_COL32(0, 158, 115, 255)};
    for (int i = 0; i < 4; ++i) {
        CHECK(kind_color(kinds[i]) == okabe_ito[i]);
        CHECK(kind_text_color(kinds[i], true) == okabe_ito[i]);
        for (int j = 0; j < i; ++j) CHECK(kind_color(kinds[i]) != kind_color(kinds[j]));
    }
}
