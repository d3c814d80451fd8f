// What every view gets each frame, and small helpers they share.
//
// A view is a struct holding its UI state with `void draw(const Frame&, Commands&)`.
// It reads the session (its traces and settings) and pushes commands; it never changes
// the session itself.
#pragma once

#include <imgui.h>

#include <string>

#include "session/session.h"

namespace mla::app {

struct Frame {
    const Session& session;
    int64_t step = -1;            // the selected step (-1: none yet)
    const Trace* trace = nullptr; // the main lane's trace at `step` (nullptr when none)
    bool dark = true;             // theme
    ImFont* mono = nullptr;       // monospace font for numbers and equations (may be null)
    bool exporting = false;       // a screenshot is being made: hide hover-only decorations
    bool slide = false;           // an exported picture of the view alone: no controls (Curves: the chart and table only)
    // One token followed everywhere: the step (0-based) hovered last frame in any view (a
    // timeline chip, a heatmap cell's key, a cache row), -1 = none. A view that finds one under
    // the mouse this frame writes it to *follow_next (the window passes it on to the next frame).
    int64_t follow = -1;
    int64_t* follow_next = nullptr;
    void hover_token(int64_t step) const {
        if (follow_next && !exporting) *follow_next = step;
    }
};

// Theme-aware colours for drawings (not series: those come from widgets/colormap.h).
struct Palette {
    ImU32 text, dim, faint, line, accent, warn, good, panel;
};
Palette palette(bool dark);

// The window's ImGui style for a theme at a UI scale: the one source of its background and
// text colours (the window applies it; tests check the text contrast against it).
ImGuiStyle theme_style(bool dark, float scale);

// One colour per attention kind, the same in every view and export (Okabe-Ito, colour-blind
// safe): MHA orange, GQA sky blue, MQA vermillion, MLA bluish green. kind_color is for lines,
// bars and marks; kind_text_color for text in that colour, darkened on the light theme so it
// keeps a contrast of 4.5:1 or more against the background.
ImU32 kind_color(AttnKind k);
ImU32 kind_text_color(AttnKind k, bool dark);

// WCAG 2 contrast ratio of two opaque colours (1 to 21).
double contrast_ratio(ImU32 a, ImU32 b);


// A line of text in the monospace font (when loaded).
void mono_text(const Frame& f, const char* fmt, ...) IM_FMTARGS(2);

// The empty state of a view: a centred sentence.
void empty_state(const char* text);

// Exact figures with thousands separators: "1,234,567", "15,360 B", "2,048 FLOPs";
// fmt_bytes adds the binary unit when it helps: "61,440 B (60 KiB)".
std::string fmt_count(double n);
std::string fmt_bytes(double bytes);
std::string fmt_flops(double flops);

// A number field that takes effect on Enter or when it loses focus, so typing 999 never runs
// 9 and 99 first; its - and + buttons (when step > 0) take effect at once. Returns true when
// the value is to be applied. While it is being typed in, a line under it says how to apply.
// `width` is the whole field with its buttons; the label follows, as ImGui's own fields.
bool number_field(const char* label, int64_t* v, int64_t step, float width);
bool number_field(const char* label, uint64_t* v, uint64_t step, float width);
bool number_field(const char* label, double* v, double step, float width);

// Two panes side by side when the view is at least `min_wide` characters wide; else one above
// the other in a scrolled child named `id` (a tile, a lesson page, a large UI scale), the panes
// then given at least `min_high` characters of height. end_panes closes what begin_panes opened.
struct Panes {
    bool stacked = false;
    ImVec2 avail;      // the room for the panes (less the scrollbar when stacked)
    float left_w = 0;  // the first pane's width: left_frac of avail.x, or all of it when stacked
};
Panes begin_panes(const char* id, float min_wide, float left_frac, float min_high);
void end_panes(const Panes& p);

// Wrapped text in a colour.
void text_wrapped_colored(ImU32 color, const char* fmt, ...) IM_FMTARGS(2);

}  // namespace mla::app
