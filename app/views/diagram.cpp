#include "views/diagram.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "widgets/colormap.h"
#include "widgets/tensor_box.h"

namespace mla::app {

namespace {

std::vector<int64_t> live_dims(const DiagramNode& n, const Trace* t, int layer) {
    if (t && !n.id.empty())
        if (const TensorRecord* r = t->find(n.id, n.id == "logits" ? -1 : layer); r) return {r->shape[0], r->shape[1]};
    return n.dims;
}

void value_summary(const TensorRecord* r) {
    if (!r || r->data.empty()) return;
    float lo = r->data[0], hi = r->data[0];
    double ss = 0;
    for (float v : r->data) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
        ss += static_cast<double>(v) * v;
    }
    ImGui::Text("values: min %.4g, max %.4g, norm %.4g", lo, hi, std::sqrt(ss));
    std::string first = "first: ";
    char buf[32];
    for (size_t i = 0; i < std::min<size_t>(6, r->data.size()); ++i) {
        std::snprintf(buf, sizeof buf, "%s%.4f", i ? ", " : "", r->data[i]);
        first += buf;
    }
    if (r->data.size() > 6) first += ", ...";
    ImGui::TextUnformatted(first.c_str());
}

}  // namespace

DiagramDraw draw_diagram(const char* id, const Diagram& d, const Trace* trace, int layer, ImVec2 size,
                         const Frame& f) {
    DiagramDraw out;
    const Palette pal = palette(f.dark);
    const float font = ImGui::GetFontSize();
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    if (size.x <= 0) size.x = ImGui::GetContentRegionAvail().x;
    if (size.y <= 0) size.y = ImGui::GetContentRegionAvail().y;
    // Each row needs its name above the box, the box and its shape under it: never less than
    // kMinPitch lines. A diagram that needs more height than it was given takes it (the view scrolls)
    // rather than drawing one row's labels over the next.
    constexpr float kMinPitch = 5.0f;
    float rows_max = 0;
    for (const DiagramNode& n : d.nodes) rows_max = std::max(rows_max, n.row);
    size.y = std::max(size.y, font * (1.6f + 2.4f + kMinPitch * (rows_max + 1.0f)));
    ImGui::InvisibleButton(id, size);
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->PushClipRect(origin, ImVec2(origin.x + size.x, origin.y + size.y), true);

    const size_t N = d.nodes.size();
    std::vector<std::vector<int64_t>> dims(N);
    std::vector<std::string> names(N), shapes(N);
    int ncols = 0;
    float max_row = 0;
    int64_t widest = 1;
    int eq_no = 0;
    for (size_t i = 0; i < N; ++i) {
        const DiagramNode& n = d.nodes[i];
        dims[i] = live_dims(n, trace, layer);
        names[i] = n.equation.empty() ? n.label : std::string("(").append(std::to_string(++eq_no)).append(") ").append(n.label);
        shapes[i] = widgets::tensor_label(nullptr, dims[i].data(), static_cast<int>(dims[i].size()));
        ncols = std::max(ncols, static_cast<int>(std::lround(n.col)) + 1);
        max_row = std::max(max_row, n.row);
        // The unit: the widest per-token tensor inside the block fills max_px; x and attn_output
        // (d wide) and the T-long sides may be longer and are then drawn clamped.
        if (n.id != "x" && n.id != "attn_output" && !n.grows) widest = std::max<int64_t>(widest, dims[i].back());
    }

    // Rows share the height; box sides are linear in the dims, the input x as wide as max_px.
    const float top = font * 1.6f, bottom = font * 2.4f;
    const float pitch = std::max(font * kMinPitch, (size.y - top - bottom) / (max_row + 1.0f));
    const float gap = font * 2.4f;
    // The largest box side (max_px) for which the columns fit the width: labels set a floor on
    // each column's width, boxes grow with max_px. Bisect between 2 fonts and the row pitch.
    widgets::TensorBoxScale sc;
    std::vector<float> colw(static_cast<size_t>(ncols));
    std::vector<widgets::TensorBoxLayout> lay(N);
    auto layout = [&](float max_px) {
        sc.max_px = max_px;
        sc.min_px = std::max(4.0f, font * 0.55f);
        sc.px_per_unit = max_px / static_cast<float>(widest);
        std::fill(colw.begin(), colw.end(), 0.0f);
        for (size_t i = 0; i < N; ++i) {
            lay[i] = widgets::tensor_box_layout(dims[i].data(), static_cast<int>(dims[i].size()), sc);
            const float w = std::max({lay[i].size.x + font * 0.35f * static_cast<float>(lay[i].stack - 1),
                                      ImGui::CalcTextSize(names[i].c_str()).x, ImGui::CalcTextSize(shapes[i].c_str()).x});
            float& cw = colw[static_cast<size_t>(std::lround(d.nodes[i].col))];
            cw = std::max(cw, w);
        }
        float total = 0;
        for (float w : colw) total += w + gap;
        return total;
    };
    float lo = font * 1.2f, hi = std::max(lo, std::min(font * 10.0f, std::min(pitch * 0.7f, pitch - font * 3.5f)));
    if (layout(hi) <= size.x) {
        lo = hi;
    } else {
        for (int it = 0; it < 12; ++it) {
            const float mid = 0.5f * (lo + hi);
            if (layout(mid) <= size.x) lo = mid;
            else hi = mid;
        }
    }
    layout(lo);
    float total = 0;
    for (float w : colw) total += w + gap;
    std::vector<float> colx(static_cast<size_t>(ncols));
    float x = origin.x + std::max(0.0f, (size.x - total) * 0.5f) + gap * 0.5f;
    for (int c = 0; c < ncols; ++c) {
        colx[static_cast<size_t>(c)] = x;
        x += colw[static_cast<size_t>(c)] + gap;
    }

    // Title
    dl->AddText(ImVec2(origin.x + font * 0.3f, origin.y + font * 0.1f), pal.text, d.title.c_str());

    // Boxes
    std::vector<widgets::TensorBoxRect> rects(N);
    for (size_t i = 0; i < N; ++i) {
        const DiagramNode& n = d.nodes[i];
        const size_t c = static_cast<size_t>(std::lround(n.col));
        const float cy = origin.y + top + pitch * (n.row + 0.5f);
        const ImVec2 face(colx[c] + (colw[c] - lay[i].size.x) * 0.5f, cy - lay[i].size.y * 0.5f);
        const ImU32 fill = widgets::categorical_color(n.color);
        rects[i] = widgets::TensorBox(dl, face, nullptr, dims[i].data(), static_cast<int>(dims[i].size()), sc, fill);
        const float stack_off = font * 0.35f * static_cast<float>(lay[i].stack - 1);
        const ImVec2 nsz = ImGui::CalcTextSize(names[i].c_str());
        dl->AddText(ImVec2((rects[i].min.x + rects[i].max.x - nsz.x) * 0.5f, rects[i].min.y - stack_off - nsz.y - font * 0.2f),
                    n.cache ? fill : pal.text, names[i].c_str());
        if (n.cache && !dims[i].empty()) {
            // The row this step appended: the bottom row of the face.
            const int64_t rows = dims[i].size() >= 2 ? dims[i][dims[i].size() - 2] : 1;
            const float h = std::max(2.0f, (rects[i].max.y - rects[i].min.y) / static_cast<float>(std::max<int64_t>(rows, 1)));
            dl->AddRectFilled(ImVec2(rects[i].min.x, rects[i].max.y - h), rects[i].max, pal.warn);
        }
        if (rects[i].hovered) out.hovered = static_cast<int>(i);
    }

    // Arrows: from each input's right side to this node's left side, with an elbow in the gap.
    for (size_t i = 0; i < N; ++i) {
        const DiagramNode& n = d.nodes[i];
        for (int in : n.inputs) {
            const ImVec2 a = rects[static_cast<size_t>(in)].right_mid(), b = rects[i].left_mid();
            const ImU32 col = n.cache ? pal.warn : pal.dim;
            if (std::fabs(a.y - b.y) < 1.0f) {
                widgets::TensorArrow(dl, a, b, nullptr, col);
                continue;
            }
            const size_t c = static_cast<size_t>(std::lround(n.col));
            const float xm = std::max(a.x + font * 0.4f, colx[c] - gap * 0.45f);
            const float th = std::max(1.5f, font * 0.12f);
            dl->AddLine(a, ImVec2(xm, a.y), col, th);
            dl->AddLine(ImVec2(xm, a.y), ImVec2(xm, b.y), col, th);
            widgets::TensorArrow(dl, ImVec2(xm, b.y), b, nullptr, col);
        }
    }

    // Notes at the bottom
    float ny = origin.y + top + pitch * (max_row + 1.0f);
    for (const std::string& note : d.notes) {
        dl->AddText(ImVec2(origin.x + font * 0.3f, ny), pal.dim, note.c_str());
        ny += font * 1.2f;
    }
    dl->PopClipRect();
    out.used_height = size.y;

    if (out.hovered >= 0 && !f.exporting) {
        const DiagramNode& n = d.nodes[static_cast<size_t>(out.hovered)];
        ImGui::BeginTooltip();
        ImGui::Text("%s: %s", n.label.c_str(), shapes[static_cast<size_t>(out.hovered)].c_str());
        if (!n.equation.empty()) ImGui::TextUnformatted(n.equation.c_str());
        if (trace && !n.id.empty()) value_summary(trace->find(n.id, layer));
        ImGui::EndTooltip();
    }
    return out;
}

}  // namespace mla::app
