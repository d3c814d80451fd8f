// Line chart widget in Dear ImGui's Begin/End spirit (our own small ImPlot; ImPlot is not
// packaged on the target platform).
//
//     using namespace mla::widgets;
//     PlotAxes axes;
//     axes.title = "KV cache per sequence";
//     axes.x = {"tokens T", AxisScale::Log10, AxisFormat::Count};
//     axes.y = {"cache", AxisScale::Log10, AxisFormat::BytesBinary};
//     if (BeginPlot("##cache", ImVec2(-1, 0), axes)) {
//         PlotLine("MHA", ts, mha_bytes, n, categorical_color(0));   // colormap.h
//         PlotLine("MLA", ts, mla_bytes, n, categorical_color(3));
//         PlotMarker(T_now, mla_now, "current run");
//         PlotVLine(4096, "context 4k");
//         PlotResult r = EndPlot();      // r.hovered, r.mouse_x, ... if the view wants them
//     }
//
// - Data: raw pointer + count. PlotLine copies the points, so temporaries are fine; the
//   plot is laid out and drawn in EndPlot, once every series is known, so the auto-fit
//   range always covers this frame's data.
// - Range: auto-fit from the visible series, markers and lines (with padding), unless
//   PlotAxis::min/max are set (finite). On a log axis, values <= 0 are skipped (the line
//   breaks there) and do not take part in the fit.
// - Ticks: 1-2-5 steps on linear axes; decades with 2 and 5 minors on log axes (the
//   minors are labelled when the range is short). Labels use the axis's AxisFormat;
//   a BytesBinary axis puts its ticks at round KiB / MiB / GiB values.
// - Legend: one entry per PlotLine label; clicking an entry hides/shows that series
//   (kept in ImGui's per-window storage, keyed by plot id + label). A label starting
//   with "##" gets no legend entry. "name##id" shows only "name", as in ImGui.
// - Hover: a crosshair, and a readout box with the x under the mouse and, for each
//   visible series, the y of its point nearest in x (with a dot on that point).
// - Sizes are multiples of the font size (readable on a projector); colours of axes,
//   grid, text and background come from the ImGui style (dark and light both work).
//   Series colours are the caller's: colormap.h has a colour-blind-safe palette.
//
// The pure helpers at the end of this header (range fit, ticks, transforms, nearest
// point, number formatting) need no ImGui context and are unit-tested in
// tests/app/widgets/test_widgets.cpp.
#pragma once

#include <imgui.h>

#include <string>
#include <vector>

namespace mla::widgets {

enum class AxisScale { Linear, Log10 };

// How tick labels and readouts print values.
enum class AxisFormat {
    Number,       // plain: 0.25, 12, 1500, 1.2e+07 (at most ~4 significant digits)
    SI,           // 1000-based with k M G T P suffix: 950, 1.5k, 20M, 3G (FLOPs, FLOP/s)
    Count,        // 1000-based with k M B T (B = billion): 1k 10k 128k 1M 236B (tokens, params)
    Bytes,        // 1000-based: 512 B, 1.5 KB, 64 MB, 6 GB, 2 TB
    BytesBinary,  // 1024-based: 512 B, 1.5 KiB, 64 MiB, 5.6 GiB, 2 TiB
    Percent,      // fraction shown as percent: 0.25 -> 25%
};

struct PlotAxis {
    const char* label = nullptr;            // axis title under / left of the axis, or nullptr
    AxisScale scale = AxisScale::Linear;
    AxisFormat format = AxisFormat::Number;
    double min = 0, max = 0;                // fixed range when min < max; otherwise auto-fit
    bool include_zero = false;              // linear auto-fit: stretch the range to contain 0
};

// Auto: the corner whose box covers the fewest labels (markers, reference lines) and the
// least of the curves, in the order top-left, top-right, bottom-right, bottom-left on ties.
// Right: outside the plot area, on its right (the area narrows to make room). Below: under
// the x axis, in as many columns as fit (the area shortens to make room).
enum class LegendPos { None, TopLeft, TopRight, BottomLeft, BottomRight, Auto, Right, Below };

struct PlotAxes {
    const char* title = nullptr;            // drawn above the plot area, or nullptr
    PlotAxis x, y;
    LegendPos legend = LegendPos::Auto;     // inside the plot area
    bool hover_readout = true;              // crosshair + nearest-point readout on hover
};

// What EndPlot reports about the mouse this frame.
struct PlotResult {
    bool hovered = false;                   // mouse over the plot area
    bool clicked = false;                   // left click inside the plot area (not the legend)
    double mouse_x = 0, mouse_y = 0;        // data coordinates of the mouse (when hovered)
};

// Starts a plot. size: pixels; x <= 0 fills the available width, y <= 0 uses a default
// height (about 18 lines of text). Returns false when the plot is clipped away: then
// call nothing else and do NOT call EndPlot (as with ImGui::BeginTable).
bool BeginPlot(const char* id, ImVec2 size, const PlotAxes& axes);

// A series: count points (xs[i], ys[i]). Non-finite points break the line. thickness in
// pixels, 0 = a default relative to the font size.
void PlotLine(const char* label, const double* xs, const double* ys, int count, ImU32 color,
              float thickness = 0);

// A point with a dot and a short label beside it, e.g. "current run". color 0 = style text.
void PlotMarker(double x, double y, const char* label, ImU32 color = 0);

// A vertical / horizontal reference line across the plot, labelled at its end
// (label may be nullptr). color 0 = style text, drawn dimmed.
void PlotVLine(double x, const char* label, ImU32 color = 0);
void PlotHLine(double y, const char* label, ImU32 color = 0);

// Lays out, draws and handles input for everything submitted since BeginPlot.
PlotResult EndPlot();

// Text drawn rotated by 90 degrees (used for axis titles; also by heatmap and colour
// bar). upward = true: reads bottom to top, `pos` is the bottom-left corner of the
// rotated text's box (glyph tops face left). upward = false: reads top to bottom, `pos`
// is the top-right corner (glyph tops face right). The box is (line height) x (text width).
void AddTextVertical(ImDrawList* dl, ImVec2 pos, ImU32 col, const char* text, bool upward);

// ---- Pure helpers (no ImGui context needed; unit-tested) ---------------------------

struct Range {
    double lo = 0, hi = 1;
};

// Range of values (skipping non-finite ones, and values <= 0 on a log axis) with
// `pad` of the span added on both sides (in log10 space on a log axis). A single value
// or an all-equal set gets a sensible non-empty range around it. No usable value:
// {0, 1} (linear) or {1, 10} (log).
Range fit_range(const double* values, int count, AxisScale scale, double pad = 0.05,
                bool include_zero = false);

// Position of v in [lo, hi] as a fraction 0..1 (linear or in log10 space), and back.
double axis_to_unit(double v, Range r, AxisScale scale);
double unit_to_axis(double u, Range r, AxisScale scale);

// The 1-2-5 step for about `target` intervals over span: 1, 2 or 5 times a power of 10.
double nice_step(double span, int target);

struct Tick {
    double value = 0;
    bool major = true;      // majors get a grid line and a longer tick mark
    bool labelled = true;
    double step = 0;        // spacing this label must resolve (for formatting precision)
};

// Ticks inside [r.lo, r.hi] (inclusive, with a tiny tolerance), ascending.
// Linear: multiples of nice_step(span, target), all major and labelled.
// Log10: majors at decades (every k-th decade labelled when there are more than
// `target`), minors at 2 and 5 times each decade (drawn when the range covers at most 6
// decades, labelled when fewer than 2.5). A range shorter than a decade with fewer than
// two labelled ticks falls back to 1-2-5 linear ticks in value space.
// binary (for AxisFormat::BytesBinary): steps in units of 1024^k, so labels read
// "512 MiB, 1 GiB": linear steps are 1-2-5 of the unit; log "decades" are 1, 10 and 100
// times 1024^k (thinned to whole 1024^k first).
std::vector<Tick> make_ticks(Range r, AxisScale scale, int target = 6, bool binary = false);

// Index of the point whose x is nearest to x (distance measured in axis space, so on
// a log axis in log10 space), skipping non-finite points (and x <= 0 on log); -1 if
// none. xs need not be sorted.
int nearest_point(const double* xs, const double* ys, int count, double x, AxisScale xscale);

// Formats v. step > 0: enough decimals to resolve `step` (tick labels); step = 0:
// about 3 significant digits (readouts), except that a whole Count below 100k prints in
// full ("2048"). Trailing zeros are dropped: "1.5k", not "1.50k".
std::string format_value(double v, AxisFormat format, double step = 0);

}  // namespace mla::widgets
