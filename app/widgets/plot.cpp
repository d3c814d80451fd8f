// Line chart widget: see plot.h.
//
// [SECTION] Pure helpers: range fit, transforms, ticks, nearest point, formatting
// [SECTION] Submission state (between BeginPlot and EndPlot)
// [SECTION] Drawing helpers
// [SECTION] BeginPlot / Plot* / EndPlot
#include "widgets/plot.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <limits>

namespace mla::widgets {

// ---------------------------------------------------------------------------------------
// [SECTION] Pure helpers: range fit, transforms, ticks, nearest point, formatting
// ---------------------------------------------------------------------------------------

namespace {

bool usable(double v, AxisScale scale) {
    return std::isfinite(v) && (scale == AxisScale::Linear || v > 0);
}

double to_axis_space(double v, AxisScale scale) {
    return scale == AxisScale::Log10 ? std::log10(v) : v;
}

}  // namespace

Range fit_range(const double* values, int count, AxisScale scale, double pad, bool include_zero) {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    for (int i = 0; i < count; ++i) {
        if (!usable(values[i], scale)) continue;
        lo = std::min(lo, values[i]);
        hi = std::max(hi, values[i]);
    }
    if (!(lo <= hi)) return scale == AxisScale::Log10 ? Range{1, 10} : Range{0, 1};

    if (scale == AxisScale::Log10) {
        double l = std::log10(lo), h = std::log10(hi);
        if (h - l < 1e-12) {
            l -= 0.5;
            h += 0.5;
        }
        const double p = (h - l) * pad;
        return {std::pow(10.0, l - p), std::pow(10.0, h + p)};
    }

    bool zero_lo = false, zero_hi = false;  // a side pinned at 0 by include_zero gets no pad
    if (include_zero) {
        if (lo >= 0) { lo = 0; zero_lo = true; }
        if (hi <= 0) { hi = 0; zero_hi = true; }
    }
    if (hi - lo < 1e-300) {
        const double half = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
        if (zero_lo && zero_hi) return {0, 1};
        return {zero_lo ? 0 : lo - half, zero_hi ? 0 : hi + half};
    }
    const double p = (hi - lo) * pad;
    return {zero_lo ? lo : lo - p, zero_hi ? hi : hi + p};
}

double axis_to_unit(double v, Range r, AxisScale scale) {
    if (scale == AxisScale::Log10) {
        if (!(v > 0)) return std::numeric_limits<double>::quiet_NaN();
        const double l = std::log10(r.lo), h = std::log10(r.hi);
        return (std::log10(v) - l) / (h - l);
    }
    return (v - r.lo) / (r.hi - r.lo);
}

double unit_to_axis(double u, Range r, AxisScale scale) {
    if (scale == AxisScale::Log10) {
        const double l = std::log10(r.lo), h = std::log10(r.hi);
        return std::pow(10.0, l + u * (h - l));
    }
    return r.lo + u * (r.hi - r.lo);
}

double nice_step(double span, int target) {
    if (!(span > 0) || !std::isfinite(span)) return 1;
    target = std::max(target, 1);
    const double raw = span / target;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / mag;  // in [1, 10)
    const double nice = norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10;
    return nice * mag;
}

namespace {

std::vector<Tick> linear_ticks(Range r, int target, bool binary) {
    std::vector<Tick> ticks;
    double step = nice_step(r.hi - r.lo, target);
    if (binary) {
        // 1-2-5 steps in the 1024-power unit the labels will use: 0.5 GiB, not 0.537 GiB.
        double unit = 1;
        const double big = std::max(std::abs(r.lo), std::abs(r.hi));
        while (unit * 1024 <= big) unit *= 1024;
        step = nice_step((r.hi - r.lo) / unit, target) * unit;
    }
    const double eps = step * 1e-9;
    const double first = std::ceil((r.lo - eps) / step);
    const double last = std::floor((r.hi + eps) / step);
    for (double k = first; k <= last && ticks.size() < 1000; k += 1) {
        double v = k * step;
        if (std::abs(v) < eps) v = 0;  // no "-0" or 1e-17
        ticks.push_back({v, true, true, step});
    }
    return ticks;
}

}  // namespace

std::vector<Tick> make_ticks(Range r, AxisScale scale, int target, bool binary) {
    if (!(r.hi > r.lo)) return {};
    target = std::max(target, 2);
    if (scale == AxisScale::Linear) return linear_ticks(r, target, binary);

    const double l = std::log10(r.lo), h = std::log10(r.hi);
    const double decades = h - l;
    const double tol = 1e-9;
    const bool minors = decades <= 6;
    const bool label_minors = decades < 2.5;
    auto inside = [&](double v) {
        const double a = std::log10(v);
        return a >= l - tol && a <= h + tol;
    };

    // "Decade" values d with their index n (for thinning labels): 10^n, or in binary
    // 1024^k * 10^j with n = 3k + j (1 KiB, 10 KiB, 100 KiB, 1 MiB, ...).
    struct Decade {
        double value;
        int index;
    };
    std::vector<Decade> ds;
    if (binary) {
        const int k0 = static_cast<int>(std::floor(l / std::log10(1024.0))) - 1;
        const int k1 = static_cast<int>(std::ceil(h / std::log10(1024.0))) + 1;
        for (int k = k0; k <= k1; ++k)
            for (int j = 0; j < 3; ++j) ds.push_back({std::pow(1024.0, k) * std::pow(10.0, j), 3 * k + j});
    } else {
        const int e0 = static_cast<int>(std::floor(l + tol)) - 1;
        const int e1 = static_cast<int>(std::ceil(h - tol)) + 1;
        for (int e = e0; e <= e1; ++e) ds.push_back({std::pow(10.0, e), e});
    }
    int n_inside = 0;
    for (const Decade& d : ds) n_inside += inside(d.value) ? 1 : 0;
    int stride = std::max(1, (n_inside + target - 1) / target);
    if (binary && stride > 1) stride = stride <= 3 ? 3 : (stride + 2) / 3 * 3;  // keep 1 KiB, 1 MiB, ...

    std::vector<Tick> ticks;
    int labelled = 0;
    for (const Decade& d : ds) {
        const double mults[3] = {1, 2, 5};
        for (double m : mults) {
            if (m != 1 && !minors) continue;
            const double v = m * d.value;
            if (!inside(v)) continue;
            Tick t;
            t.value = v;
            t.major = m == 1;
            t.labelled = m == 1 ? (((d.index % stride) + stride) % stride == 0) : label_minors;
            t.step = d.value;
            labelled += t.labelled ? 1 : 0;
            ticks.push_back(t);
        }
    }
    std::sort(ticks.begin(), ticks.end(), [](const Tick& a, const Tick& b) { return a.value < b.value; });
    if (labelled < 2 && decades < 1.5) {
        // Too short for decades: 1-2-5 ticks in value space (all positive here).
        std::vector<Tick> lin = linear_ticks(r, target, binary);
        lin.erase(std::remove_if(lin.begin(), lin.end(), [](const Tick& t) { return t.value <= 0; }),
                  lin.end());
        if (lin.size() >= 2) return lin;
    }
    return ticks;
}

int nearest_point(const double* xs, const double* ys, int count, double x, AxisScale xscale) {
    if (!usable(x, xscale)) return -1;
    const double ax = to_axis_space(x, xscale);
    int best = -1;
    double best_d = std::numeric_limits<double>::infinity();
    for (int i = 0; i < count; ++i) {
        if (!usable(xs[i], xscale) || !std::isfinite(ys[i])) continue;
        const double d = std::abs(to_axis_space(xs[i], xscale) - ax);
        if (d < best_d) {
            best_d = d;
            best = i;
        }
    }
    return best;
}

namespace {

// Decimals that resolve `step`, raised (up to 3) until v prints exactly enough.
int decimals_for(double v, double step) {
    int d = 0;
    if (step > 0) d = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    else if (v != 0) d = std::max(0, 2 - static_cast<int>(std::floor(std::log10(std::abs(v)))));
    if (step > 0) {
        while (d < 3) {
            const double scale = std::pow(10.0, d);
            if (std::abs(std::round(v * scale) / scale - v) <= 1e-6 * std::max(std::abs(v), 1e-300)) break;
            ++d;
        }
    }
    return std::min(d, 6);
}

std::string fixed_trimmed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    std::string s = buf;
    if (s.find('.') != std::string::npos) {
        while (!s.empty() && s.back() == '0') s.pop_back();
        if (!s.empty() && s.back() == '.') s.pop_back();
    }
    if (s == "-0") s = "0";
    return s;
}

// "1.5e7" style for plain numbers that are too large or too small for fixed notation.
std::string scientific(double v) {
    const int e = static_cast<int>(std::floor(std::log10(std::abs(v))));
    double m = v / std::pow(10.0, e);
    std::string ms = fixed_trimmed(m, 2);
    if (ms == "10" || ms == "-10") return scientific(v * 1.0000001);  // rounding crossed a decade
    return ms + "e" + std::to_string(e);
}

struct UnitSystem {
    double base;
    const char* const* suffixes;  // suffixes[0] is the unit of 1
    int count;
};

}  // namespace

std::string format_value(double v, AxisFormat format, double step) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (v == 0) v = 0;  // drop the sign of -0

    static const char* const kSI[] = {"", "k", "M", "G", "T", "P", "E"};
    static const char* const kCount[] = {"", "k", "M", "B", "T"};
    static const char* const kBytes[] = {" B", " KB", " MB", " GB", " TB", " PB", " EB"};
    static const char* const kBinary[] = {" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB"};

    UnitSystem units{};
    switch (format) {
    case AxisFormat::Number: {
        const double a = std::abs(v);
        if (a != 0 && (a >= 1e6 || a < 1e-4)) return scientific(v);
        return fixed_trimmed(v, decimals_for(v, step));
    }
    case AxisFormat::Percent: {
        return fixed_trimmed(v * 100, decimals_for(v * 100, step * 100)) + "%";
    }
    case AxisFormat::SI: units = {1000, kSI, 7}; break;
    case AxisFormat::Count: units = {1000, kCount, 5}; break;
    case AxisFormat::Bytes: units = {1000, kBytes, 7}; break;
    case AxisFormat::BytesBinary: units = {1024, kBinary, 7}; break;
    }

    const double a = std::abs(v);
    if (format == AxisFormat::Count && step == 0 && a < 1e5 && v == std::round(v))
        return fixed_trimmed(v, 0);  // a readout of 2048 tokens says 2048, not 2.05k
    int p = 0;
    while (p + 1 < units.count && a >= std::pow(units.base, p + 1)) ++p;
    for (;;) {
        const double div = std::pow(units.base, p);
        const double s = v / div;
        const int d = decimals_for(s, step / div);
        std::string text = fixed_trimmed(s, d);
        // 999.96 rounds to "1000": say "1k" instead.
        if (std::abs(std::stod(text)) >= units.base && p + 1 < units.count) {
            ++p;
            continue;
        }
        return text + units.suffixes[p];
    }
}

// ---------------------------------------------------------------------------------------
// [SECTION] Submission state (between BeginPlot and EndPlot)
// ---------------------------------------------------------------------------------------
// Transient per-frame scratch, like ImGui's own current-window pointer: filled by the
// Plot* calls, consumed by EndPlot. Persistent state (hidden series) lives in ImGui's
// window storage.

namespace {

struct Series {
    std::string label;   // full label (id); display part is before "##"
    std::vector<double> xs, ys;
    ImU32 color = 0;
    float thickness = 0;
    bool hidden = false;
    ImGuiID id = 0;
};

struct Marker {
    double x = 0, y = 0;
    std::string label;
    ImU32 color = 0;
};

struct RefLine {
    double v = 0;
    bool vertical = true;
    std::string label;
    ImU32 color = 0;
};

struct Box {  // a screen rectangle
    ImVec2 a, b;
    Box(ImVec2 min, ImVec2 max) : a(min), b(max) {}
    bool contains(ImVec2 p) const { return p.x >= a.x && p.x < b.x && p.y >= a.y && p.y < b.y; }
    bool overlaps(const Box& o) const { return a.x < o.b.x && o.a.x < b.x && a.y < o.b.y && o.a.y < b.y; }
};

struct PlotState {
    bool active = false;
    PlotAxes axes;
    ImVec2 frame_min, frame_max;
    bool item_hovered = false, item_clicked = false;
    std::vector<Series> series;
    std::vector<Marker> markers;
    std::vector<RefLine> lines;
};

PlotState g_plot;

// ---------------------------------------------------------------------------------------
// [SECTION] Drawing helpers
// ---------------------------------------------------------------------------------------

std::string display_label(const std::string& label) {
    const size_t pos = label.find("##");
    return pos == std::string::npos ? label : label.substr(0, pos);
}

// A dashed line (ImDrawList has none).
void add_dashed_line(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 col, float thickness, float dash) {
    const float dx = b.x - a.x, dy = b.y - a.y;
    const float len = std::sqrt(dx * dx + dy * dy);
    if (len <= 0) return;
    const float ux = dx / len, uy = dy / len;
    for (float t = 0; t < len; t += 2 * dash) {
        const float t1 = std::min(t + dash, len);
        dl->AddLine(ImVec2(a.x + ux * t, a.y + uy * t), ImVec2(a.x + ux * t1, a.y + uy * t1), col, thickness);
    }
}

// Text on a translucent window-coloured plate, so it reads over grid and lines.
void add_plated_text(ImDrawList* dl, ImVec2 pos, ImU32 col, const char* text) {
    const ImVec2 sz = ImGui::CalcTextSize(text);
    const float pad = ImGui::GetFontSize() * 0.15f;
    dl->AddRectFilled(ImVec2(pos.x - pad, pos.y), ImVec2(pos.x + sz.x + pad, pos.y + sz.y),
                      ImGui::GetColorU32(ImGuiCol_WindowBg, 0.8f), pad);
    dl->AddText(pos, col, text);
}

}  // namespace

void AddTextVertical(ImDrawList* dl, ImVec2 pos, ImU32 col, const char* text, bool upward) {
    const int first = dl->VtxBuffer.Size;
    dl->AddText(pos, col, text);
    for (int i = first; i < dl->VtxBuffer.Size; ++i) {
        ImDrawVert& v = dl->VtxBuffer[i];
        const float dx = v.pos.x - pos.x, dy = v.pos.y - pos.y;
        v.pos = upward ? ImVec2(pos.x + dy, pos.y - dx) : ImVec2(pos.x - dy, pos.y + dx);
    }
}

// ---------------------------------------------------------------------------------------
// [SECTION] BeginPlot / Plot* / EndPlot
// ---------------------------------------------------------------------------------------

bool BeginPlot(const char* id, ImVec2 size, const PlotAxes& axes) {
    assert(!g_plot.active && "BeginPlot: nested plots are not supported (missing EndPlot?)");
    const float font = ImGui::GetFontSize();
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    if (size.x <= 0) size.x = std::max(avail.x, font * 10);
    if (size.y <= 0) size.y = font * 18;

    if (!ImGui::IsRectVisible(size)) {
        ImGui::Dummy(size);
        return false;
    }
    ImGui::PushID(id);
    g_plot.active = true;
    g_plot.axes = axes;
    g_plot.frame_min = ImGui::GetCursorScreenPos();
    g_plot.frame_max = ImVec2(g_plot.frame_min.x + size.x, g_plot.frame_min.y + size.y);
    g_plot.series.clear();
    g_plot.markers.clear();
    g_plot.lines.clear();
    ImGui::InvisibleButton("##plot", size);
    g_plot.item_hovered = ImGui::IsItemHovered();
    g_plot.item_clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
    return true;
}

void PlotLine(const char* label, const double* xs, const double* ys, int count, ImU32 color,
              float thickness) {
    assert(g_plot.active && "PlotLine outside BeginPlot/EndPlot");
    Series s;
    s.label = label ? label : "";
    s.xs.assign(xs, xs + std::max(count, 0));
    s.ys.assign(ys, ys + std::max(count, 0));
    s.color = color;
    s.thickness = thickness;
    s.id = ImGui::GetID(s.label.c_str());
    s.hidden = ImGui::GetStateStorage()->GetBool(s.id, false);
    g_plot.series.push_back(std::move(s));
}

void PlotMarker(double x, double y, const char* label, ImU32 color) {
    assert(g_plot.active && "PlotMarker outside BeginPlot/EndPlot");
    g_plot.markers.push_back({x, y, label ? label : "", color});
}

void PlotVLine(double x, const char* label, ImU32 color) {
    assert(g_plot.active && "PlotVLine outside BeginPlot/EndPlot");
    g_plot.lines.push_back({x, true, label ? label : "", color});
}

void PlotHLine(double y, const char* label, ImU32 color) {
    assert(g_plot.active && "PlotHLine outside BeginPlot/EndPlot");
    g_plot.lines.push_back({y, false, label ? label : "", color});
}

namespace {

struct Frame {
    ImVec2 min, max;  // plot area (inside the axes)
    Range xr, yr;
    AxisScale xs, ys;
    float x_px(double x) const { return static_cast<float>(min.x + axis_to_unit(x, xr, xs) * (max.x - min.x)); }
    float y_px(double y) const { return static_cast<float>(max.y - axis_to_unit(y, yr, ys) * (max.y - min.y)); }
    ImVec2 to_px(double x, double y) const { return ImVec2(x_px(x), y_px(y)); }
    double px_to_x(float px) const { return unit_to_axis((px - min.x) / (max.x - min.x), xr, xs); }
    double px_to_y(float py) const { return unit_to_axis((max.y - py) / (max.y - min.y), yr, ys); }
};

Range axis_range(const PlotAxis& axis, bool is_x) {
    if (axis.min < axis.max && (axis.scale == AxisScale::Linear || axis.min > 0)) return {axis.min, axis.max};
    std::vector<double> vals;
    for (const Series& s : g_plot.series) {
        if (s.hidden) continue;
        for (size_t i = 0; i < s.xs.size(); ++i) {
            if (!std::isfinite(s.xs[i]) || !std::isfinite(s.ys[i])) continue;
            vals.push_back(is_x ? s.xs[i] : s.ys[i]);
        }
    }
    for (const Marker& m : g_plot.markers) vals.push_back(is_x ? m.x : m.y);
    for (const RefLine& l : g_plot.lines)
        if (l.vertical == is_x) vals.push_back(l.v);
    return fit_range(vals.data(), static_cast<int>(vals.size()), axis.scale, 0.05, axis.include_zero);
}

std::vector<std::string> tick_labels(const std::vector<Tick>& ticks, AxisFormat format) {
    std::vector<std::string> out;
    out.reserve(ticks.size());
    for (const Tick& t : ticks) out.push_back(t.labelled ? format_value(t.value, format, t.step) : std::string());
    return out;
}

bool labels_fit(const std::vector<Tick>& ticks, Range r, const PlotAxis& axis, float width, float font) {
    const std::vector<std::string> labels = tick_labels(ticks, axis.format);
    float prev_right = -1e30f;
    for (size_t i = 0; i < ticks.size(); ++i) {
        if (!ticks[i].labelled) continue;
        const float cx = static_cast<float>(axis_to_unit(ticks[i].value, r, axis.scale) * width);
        const float w = ImGui::CalcTextSize(labels[i].c_str()).x;
        if (cx - w * 0.5f < prev_right + font * 0.6f) return false;
        prev_right = cx + w * 0.5f;
    }
    return true;
}

// x ticks whose labels do not overlap at this width: fewer ticks until they fit; on a
// log axis the minors lose their labels first.
std::vector<Tick> fit_x_ticks(Range r, const PlotAxis& axis, float width, float font) {
    int target = std::max(2, static_cast<int>(width / (font * 4)));
    std::vector<Tick> ticks;
    for (int attempt = 0; attempt < 8; ++attempt) {
        ticks = make_ticks(r, axis.scale, target, axis.format == AxisFormat::BytesBinary);
        if (labels_fit(ticks, r, axis, width, font)) return ticks;
        bool minors_labelled = false;
        for (const Tick& t : ticks) minors_labelled |= !t.major && t.labelled;
        if (minors_labelled) {
            std::vector<Tick> majors_only = ticks;
            for (Tick& t : majors_only)
                if (!t.major) t.labelled = false;
            if (labels_fit(majors_only, r, axis, width, font)) return majors_only;
        }
        if (target <= 2) break;
        target = std::max(2, target * 2 / 3);
    }
    return ticks;
}

// The legend's entries: one per named series, in `cols` columns (filled top to bottom).
struct LegendLayout {
    int entries = 0, cols = 1, rows = 0;
    float entry_w = 0;  // one column: swatch, label, padding
    ImVec2 size;        // the box (0 x 0 when no series is named)
};

// max_w > 0: as many columns as fit in that width (the Below legend); else one column.
LegendLayout legend_layout(float max_w = 0) {
    const float font = ImGui::GetFontSize();
    const float pad = font * 0.35f, swatch = font * 1.2f, row_h = font * 1.15f;
    LegendLayout l;
    float w = 0;
    for (const Series& s : g_plot.series) {
        const std::string d = display_label(s.label);
        if (d.empty()) continue;
        w = std::max(w, ImGui::CalcTextSize(d.c_str()).x);
        ++l.entries;
    }
    if (l.entries == 0) return l;
    l.entry_w = pad * 2 + swatch + w + font * 0.5f;
    if (max_w > 0) l.cols = std::clamp(static_cast<int>((max_w - pad) / l.entry_w), 1, l.entries);
    l.rows = (l.entries + l.cols - 1) / l.cols;
    l.size = ImVec2(pad + l.entry_w * static_cast<float>(l.cols), pad * 2 + row_h * static_cast<float>(l.rows));
    return l;
}

ImVec2 legend_size() { return legend_layout().size; }

// The legend box's top-left corner at a corner of the plot area (Right: beside it).
ImVec2 legend_corner(const Frame& f, LegendPos pos, ImVec2 size) {
    const float m = ImGui::GetFontSize() * 0.4f;
    switch (pos) {
    case LegendPos::Right: return ImVec2(f.max.x + m * 1.5f, f.min.y);
    case LegendPos::Below: return ImVec2(g_plot.frame_min.x, g_plot.frame_max.y - size.y);
    case LegendPos::TopLeft: return ImVec2(f.min.x + m, f.min.y + m);
    case LegendPos::TopRight: return ImVec2(f.max.x - m - size.x, f.min.y + m);
    case LegendPos::BottomLeft: return ImVec2(f.min.x + m, f.max.y - m - size.y);
    default: return ImVec2(f.max.x - m - size.x, f.max.y - m - size.y);
    }
}

// Auto: the corner where the box hides least. A label under it costs as much as 50 points of
// curve (each segment sampled 8 times, so straight lines count too).
LegendPos best_legend_corner(const Frame& f, ImVec2 size, const std::vector<Box>& labels) {
    const LegendPos order[] = {LegendPos::TopLeft, LegendPos::TopRight, LegendPos::BottomRight, LegendPos::BottomLeft};
    LegendPos best = LegendPos::TopLeft;
    double best_cost = 1e300;
    for (LegendPos pos : order) {
        const ImVec2 p = legend_corner(f, pos, size);
        const Box box(p, ImVec2(p.x + size.x, p.y + size.y));
        double cost = 0;
        for (const Box& r : labels)
            if (r.overlaps(box)) cost += 50;
        for (const Series& s : g_plot.series) {
            if (s.hidden) continue;
            bool have = false;
            ImVec2 prev;
            for (size_t i = 0; i < s.xs.size(); ++i) {
                if (!usable(s.xs[i], f.xs) || !usable(s.ys[i], f.ys)) {
                    have = false;
                    continue;
                }
                const ImVec2 q = f.to_px(s.xs[i], s.ys[i]);
                if (!have && box.contains(q)) cost += 1;
                if (have)
                    for (int k = 1; k <= 8; ++k) {
                        const float t = static_cast<float>(k) / 8.0f;
                        if (box.contains(ImVec2(prev.x + (q.x - prev.x) * t, prev.y + (q.y - prev.y) * t))) cost += 1;
                    }
                prev = q;
                have = true;
            }
        }
        if (cost < best_cost) {
            best_cost = cost;
            best = pos;
        }
    }
    return best;
}

// Draws the legend; returns true when the mouse is over it. `labels`: what Auto avoids.
bool draw_legend(ImDrawList* dl, const Frame& f, LegendPos pos, bool hovered, bool& consumed_click,
                 const std::vector<Box>& labels) {
    if (pos == LegendPos::None) return false;
    const float font = ImGui::GetFontSize();
    const float pad = font * 0.35f, swatch = font * 1.2f, row_h = font * 1.15f;
    const LegendLayout lay = legend_layout(pos == LegendPos::Below ? g_plot.frame_max.x - g_plot.frame_min.x : 0.0f);
    const ImVec2 size = lay.size;
    if (size.x <= 0) return false;
    if (pos == LegendPos::Auto) pos = best_legend_corner(f, size, labels);
    const ImVec2 p = legend_corner(f, pos, size);
    dl->AddRectFilled(p, ImVec2(p.x + size.x, p.y + size.y), ImGui::GetColorU32(ImGuiCol_WindowBg, 0.85f),
                      font * 0.2f);
    dl->AddRect(p, ImVec2(p.x + size.x, p.y + size.y), ImGui::GetColorU32(ImGuiCol_Border), font * 0.2f);

    const ImVec2 mouse = ImGui::GetMousePos();
    int entry = 0;
    for (Series& s : g_plot.series) {
        const std::string d = display_label(s.label);
        if (d.empty()) continue;
        const float x0 = p.x + lay.entry_w * static_cast<float>(entry / lay.rows);
        const float y = p.y + pad + row_h * static_cast<float>(entry % lay.rows);
        ++entry;
        const ImVec2 rmin(x0, y), rmax(lay.cols > 1 ? x0 + lay.entry_w : p.x + size.x, y + row_h);
        const bool row_hovered = hovered && mouse.x >= rmin.x && mouse.x < rmax.x && mouse.y >= rmin.y &&
                                 mouse.y < rmax.y;
        if (row_hovered) {
            dl->AddRectFilled(rmin, rmax, ImGui::GetColorU32(ImGuiCol_HeaderHovered, 0.5f));
            ImGui::SetMouseCursor(ImGuiMouseCursor_Hand);
            if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) {
                s.hidden = !s.hidden;
                ImGui::GetStateStorage()->SetBool(s.id, s.hidden);
                consumed_click = true;
            }
        }
        const float cy = y + row_h * 0.5f;
        const ImVec2 a(x0 + pad, cy), b(x0 + pad + swatch, cy);
        if (s.hidden) {
            dl->AddLine(a, b, ImGui::GetColorU32(ImGuiCol_TextDisabled), 1.0f);
        } else {
            dl->AddLine(a, b, s.color, std::max(2.0f, font * 0.2f));
        }
        dl->AddText(ImVec2(b.x + pad, y + (row_h - font) * 0.5f),
                    ImGui::GetColorU32(s.hidden ? ImGuiCol_TextDisabled : ImGuiCol_Text), d.c_str());
    }
    return hovered && mouse.x >= p.x && mouse.x < p.x + size.x && mouse.y >= p.y && mouse.y < p.y + size.y;
}

void draw_readout(ImDrawList* dl, const Frame& f, ImVec2 mouse) {
    const PlotAxes& ax = g_plot.axes;
    const float font = ImGui::GetFontSize();
    const ImU32 cross = ImGui::GetColorU32(ImGuiCol_Text, 0.35f);
    dl->AddLine(ImVec2(mouse.x, f.min.y), ImVec2(mouse.x, f.max.y), cross);
    dl->AddLine(ImVec2(f.min.x, mouse.y), ImVec2(f.max.x, mouse.y), cross);

    const double mx = f.px_to_x(mouse.x);
    struct Line {
        ImU32 color;
        std::string text;
    };
    std::vector<Line> lines;
    std::vector<double> xs_at;
    std::vector<std::pair<const Series*, int>> hits;
    for (const Series& s : g_plot.series) {
        if (s.hidden) continue;
        const int i = nearest_point(s.xs.data(), s.ys.data(), static_cast<int>(s.xs.size()), mx, ax.x.scale);
        if (i < 0 || !usable(s.ys[i], ax.y.scale)) continue;
        hits.push_back({&s, i});
        xs_at.push_back(s.xs[i]);
    }
    const bool same_x = !xs_at.empty() && std::all_of(xs_at.begin(), xs_at.end(), [&](double x) {
        return x == xs_at.front();
    });
    const std::string x_name = ax.x.label ? ax.x.label : "x";
    if (same_x) lines.push_back({ImGui::GetColorU32(ImGuiCol_Text), x_name + " = " + format_value(xs_at.front(), ax.x.format)});
    else lines.push_back({ImGui::GetColorU32(ImGuiCol_Text), x_name + " = " + format_value(mx, ax.x.format)});
    for (const auto& [s, i] : hits) {
        const ImVec2 p = f.to_px(s->xs[i], s->ys[i]);
        dl->AddCircleFilled(p, font * 0.3f, s->color);
        dl->AddCircle(p, font * 0.3f, ImGui::GetColorU32(ImGuiCol_Text), 0, 1.0f);
        // Built piecewise: GCC 12 -O3 warns falsely (-Wrestrict) on some string concatenations.
        std::string t = display_label(s->label);
        if (t.empty()) t.push_back('y');
        t += ": ";
        t += format_value(s->ys[i], ax.y.format);
        if (!same_x) {
            t += "  (at ";
            t += format_value(s->xs[i], ax.x.format);
            t += ")";
        }
        lines.push_back({s->color, t});
    }

    // The box: right of and below the mouse, flipped to stay inside the plot area.
    const float pad = font * 0.35f, swatch = font * 0.6f;
    float w = 0;
    for (const Line& l : lines) w = std::max(w, ImGui::CalcTextSize(l.text.c_str()).x);
    const ImVec2 size(pad * 3 + swatch + w, pad * 2 + font * lines.size());
    ImVec2 p(mouse.x + font, mouse.y + font);
    if (p.x + size.x > f.max.x) p.x = mouse.x - font - size.x;
    if (p.y + size.y > f.max.y) p.y = mouse.y - font - size.y;
    p.x = std::max(p.x, f.min.x);
    p.y = std::max(p.y, f.min.y);
    dl->AddRectFilled(p, ImVec2(p.x + size.x, p.y + size.y), ImGui::GetColorU32(ImGuiCol_PopupBg, 0.92f),
                      font * 0.2f);
    dl->AddRect(p, ImVec2(p.x + size.x, p.y + size.y), ImGui::GetColorU32(ImGuiCol_Border), font * 0.2f);
    float y = p.y + pad;
    for (size_t k = 0; k < lines.size(); ++k) {
        if (k > 0)
            dl->AddRectFilled(ImVec2(p.x + pad, y + font * 0.25f), ImVec2(p.x + pad + swatch, y + font * 0.75f),
                              lines[k].color);
        dl->AddText(ImVec2(p.x + pad * 2 + swatch, y), ImGui::GetColorU32(ImGuiCol_Text), lines[k].text.c_str());
        y += font;
    }
}

}  // namespace

PlotResult EndPlot() {
    assert(g_plot.active && "EndPlot without a BeginPlot that returned true");
    const PlotAxes& ax = g_plot.axes;
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float font = ImGui::GetFontSize();
    const float pad = font * 0.5f, tick_len = font * 0.35f;
    const ImU32 text_col = ImGui::GetColorU32(ImGuiCol_Text);

    // ---- layout: title on top, x tick labels + x title below, y title + labels left
    Frame f;
    f.xs = ax.x.scale;
    f.ys = ax.y.scale;
    f.xr = axis_range(ax.x, true);
    f.yr = axis_range(ax.y, false);
    const ImVec2 fmin = g_plot.frame_min, fmax = g_plot.frame_max;
    const float top = fmin.y + pad + (ax.title ? font * 1.4f : 0);
    // An automatic legend too big for a corner of this plot (a short chart, large type) goes
    // below it instead: a corner box that large would hide the curves and could not show all rows.
    LegendPos legend = ax.legend;
    if (legend == LegendPos::Auto) {
        const ImVec2 ls = legend_size();
        const float area_h = fmax.y - pad - font - tick_len - (ax.x.label ? font * 1.2f : 0) - top;
        const float area_w = fmax.x - fmin.x - font * 4;
        if (ls.y > area_h * 0.45f || ls.x > area_w * 0.6f) legend = LegendPos::Below;
    }
    const float below = legend == LegendPos::Below ? legend_layout(fmax.x - fmin.x).size.y + font * 0.3f : 0.0f;
    const float bottom = fmax.y - pad - font - tick_len - (ax.x.label ? font * 1.2f : 0) - below;
    const float plot_h = std::max(bottom - top, font);
    const std::vector<Tick> yticks = make_ticks(f.yr, f.ys, std::max(2, static_cast<int>(plot_h / (font * 2.2f))),
                                                ax.y.format == AxisFormat::BytesBinary);
    const std::vector<std::string> ylabels = tick_labels(yticks, ax.y.format);
    float ylabel_w = 0;
    for (const std::string& s : ylabels) ylabel_w = std::max(ylabel_w, ImGui::CalcTextSize(s.c_str()).x);
    const float left = fmin.x + pad + (ax.y.label ? font * 1.3f : 0) + ylabel_w + tick_len + font * 0.2f;
    // Room for the last x label's half, and for a legend beside the area.
    const float beside = legend == LegendPos::Right && legend_size().x > 0 ? legend_size().x + font * 0.9f : 0.0f;
    const float right = fmax.x - pad - font * 0.8f - beside;
    f.min = ImVec2(left, top);
    f.max = ImVec2(std::max(right, left + font), top + plot_h);
    const std::vector<Tick> xticks = fit_x_ticks(f.xr, ax.x, f.max.x - f.min.x, font);
    const std::vector<std::string> xlabels = tick_labels(xticks, ax.x.format);

    // ---- background, grid, axes, tick labels, titles
    dl->AddRectFilled(f.min, f.max, ImGui::GetColorU32(ImGuiCol_FrameBg, 0.35f));
    const ImU32 grid_major = ImGui::GetColorU32(ImGuiCol_Text, 0.14f);
    const ImU32 grid_minor = ImGui::GetColorU32(ImGuiCol_Text, 0.06f);
    for (size_t i = 0; i < xticks.size(); ++i) {
        const float x = f.x_px(xticks[i].value);
        dl->AddLine(ImVec2(x, f.min.y), ImVec2(x, f.max.y), xticks[i].major ? grid_major : grid_minor);
        dl->AddLine(ImVec2(x, f.max.y), ImVec2(x, f.max.y + (xticks[i].major ? tick_len : tick_len * 0.5f)), text_col);
        if (xticks[i].labelled) {
            const ImVec2 sz = ImGui::CalcTextSize(xlabels[i].c_str());
            dl->AddText(ImVec2(x - sz.x * 0.5f, f.max.y + tick_len + font * 0.1f), text_col, xlabels[i].c_str());
        }
    }
    for (size_t i = 0; i < yticks.size(); ++i) {
        const float y = f.y_px(yticks[i].value);
        dl->AddLine(ImVec2(f.min.x, y), ImVec2(f.max.x, y), yticks[i].major ? grid_major : grid_minor);
        dl->AddLine(ImVec2(f.min.x - (yticks[i].major ? tick_len : tick_len * 0.5f), y), ImVec2(f.min.x, y), text_col);
        if (yticks[i].labelled) {
            const ImVec2 sz = ImGui::CalcTextSize(ylabels[i].c_str());
            dl->AddText(ImVec2(f.min.x - tick_len - font * 0.2f - sz.x, y - sz.y * 0.5f), text_col, ylabels[i].c_str());
        }
    }
    dl->AddRect(f.min, f.max, ImGui::GetColorU32(ImGuiCol_Text, 0.5f));
    if (ax.title) {
        const ImVec2 sz = ImGui::CalcTextSize(ax.title);
        dl->AddText(ImVec2((f.min.x + f.max.x - sz.x) * 0.5f, fmin.y + pad * 0.5f), text_col, ax.title);
    }
    if (ax.x.label) {
        const ImVec2 sz = ImGui::CalcTextSize(ax.x.label);
        dl->AddText(ImVec2((f.min.x + f.max.x - sz.x) * 0.5f, fmax.y - pad * 0.5f - font - below), text_col, ax.x.label);
    }
    if (ax.y.label) {
        const ImVec2 sz = ImGui::CalcTextSize(ax.y.label);
        AddTextVertical(dl, ImVec2(fmin.x + pad * 0.5f, (f.min.y + f.max.y + sz.x) * 0.5f), text_col, ax.y.label, true);
    }

    // ---- data, clipped to the plot area
    dl->PushClipRect(f.min, f.max, true);
    const float default_thickness = std::max(1.5f, font * 0.14f);
    std::vector<Box> ref_labels;
    for (const RefLine& l : g_plot.lines) {
        const ImU32 col = l.color ? l.color : ImGui::GetColorU32(ImGuiCol_Text, 0.6f);
        if (l.vertical) {
            if (!usable(l.v, f.xs)) continue;
            const float x = f.x_px(l.v);
            add_dashed_line(dl, ImVec2(x, f.min.y), ImVec2(x, f.max.y), col, 1.5f, font * 0.4f);
            if (!l.label.empty()) {
                const float w = ImGui::CalcTextSize(l.label.c_str()).x;
                const float tx = x + font * 0.25f + w > f.max.x ? x - font * 0.25f - w : x + font * 0.25f;
                add_plated_text(dl, ImVec2(tx, f.min.y + font * 0.2f), col, l.label.c_str());
                ref_labels.emplace_back(ImVec2(tx, f.min.y + font * 0.2f), ImVec2(tx + w, f.min.y + font * 1.2f));
            }
        } else {
            if (!usable(l.v, f.ys)) continue;
            const float y = f.y_px(l.v);
            add_dashed_line(dl, ImVec2(f.min.x, y), ImVec2(f.max.x, y), col, 1.5f, font * 0.4f);
            if (!l.label.empty()) {
                const float w = ImGui::CalcTextSize(l.label.c_str()).x;
                add_plated_text(dl, ImVec2(f.max.x - w - font * 0.3f, y - font * 1.1f), col, l.label.c_str());
                ref_labels.emplace_back(ImVec2(f.max.x - w - font * 0.3f, y - font * 1.1f), ImVec2(f.max.x, y - font * 0.1f));
            }
        }
    }
    std::vector<ImVec2> pts;
    std::vector<Box> labels;  // where text sits on the plot: an automatic legend keeps off it
    for (const Series& s : g_plot.series) {
        if (s.hidden) continue;
        const float th = s.thickness > 0 ? s.thickness : default_thickness;
        pts.clear();
        auto flush = [&] {
            if (pts.size() == 1) dl->AddCircleFilled(pts[0], th, s.color);
            else if (pts.size() > 1) dl->AddPolyline(pts.data(), static_cast<int>(pts.size()), s.color, ImDrawFlags_None, th);
            pts.clear();
        };
        for (size_t i = 0; i < s.xs.size(); ++i) {
            if (!usable(s.xs[i], f.xs) || !usable(s.ys[i], f.ys)) {
                flush();
                continue;
            }
            pts.push_back(f.to_px(s.xs[i], s.ys[i]));
        }
        flush();
    }
    for (const Marker& m : g_plot.markers) {
        if (!usable(m.x, f.xs) || !usable(m.y, f.ys)) continue;
        const ImU32 col = m.color ? m.color : text_col;
        const ImVec2 p = f.to_px(m.x, m.y);
        const float r = font * 0.38f;
        dl->AddCircleFilled(p, r, col);
        dl->AddCircle(p, r + 1.5f, ImGui::GetColorU32(ImGuiCol_WindowBg), 0, 2.0f);
        if (!m.label.empty()) {
            const ImVec2 sz = ImGui::CalcTextSize(m.label.c_str());
            ImVec2 tp(p.x + r + font * 0.3f, p.y - sz.y - r * 0.5f);
            if (tp.x + sz.x > f.max.x) tp.x = p.x - r - font * 0.3f - sz.x;
            if (tp.y < f.min.y) tp.y = p.y + r * 0.5f;
            add_plated_text(dl, tp, text_col, m.label.c_str());
            labels.emplace_back(tp, ImVec2(tp.x + sz.x, tp.y + sz.y));
        }
        labels.emplace_back(ImVec2(p.x - r, p.y - r), ImVec2(p.x + r, p.y + r));
    }

    // ---- legend (clickable), hover readout
    const ImVec2 mouse = ImGui::GetMousePos();
    const bool in_area = g_plot.item_hovered && mouse.x >= f.min.x && mouse.x < f.max.x && mouse.y >= f.min.y &&
                         mouse.y < f.max.y;
    bool legend_click = false;
    labels.insert(labels.end(), ref_labels.begin(), ref_labels.end());
    const bool outside = legend == LegendPos::Right || legend == LegendPos::Below;  // drawn after the area's clip
    const bool over_legend = !outside && draw_legend(dl, f, legend, g_plot.item_hovered, legend_click, labels);
    PlotResult result;
    if (in_area) {
        result.hovered = true;
        result.mouse_x = f.px_to_x(mouse.x);
        result.mouse_y = f.px_to_y(mouse.y);
        result.clicked = g_plot.item_clicked && !over_legend;
        if (ax.hover_readout && !over_legend) draw_readout(dl, f, mouse);
    }
    dl->PopClipRect();
    if (outside) draw_legend(dl, f, legend, g_plot.item_hovered, legend_click, labels);

    g_plot.active = false;
    ImGui::PopID();
    return result;
}

}  // namespace mla::widgets
