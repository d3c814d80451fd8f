// Tensor boxes and arrows: see tensor_box.h.
#include "widgets/tensor_box.h"

#include <algorithm>
#include <cmath>

namespace mla::widgets {

TensorBoxScale default_tensor_box_scale() {
    const float font = ImGui::GetFontSize();
    TensorBoxScale s;
    s.px_per_unit = font * 0.3f;
    s.min_px = font * 0.5f;
    s.max_px = font * 12.0f;
    return s;
}

TensorBoxScale fit_tensor_box_scale(int64_t max_dim, float min_px, float max_px) {
    TensorBoxScale s;
    s.min_px = min_px;
    s.max_px = max_px;
    s.px_per_unit = max_dim > 0 ? max_px / static_cast<float>(max_dim) : max_px;
    return s;
}

float tensor_side_px(int64_t dim, const TensorBoxScale& scale, bool* clamped) {
    float px = scale.min_px;
    if (dim > 0) {
        px = scale.log ? scale.px_per_unit * (1.0f + std::log2(static_cast<float>(dim)))
                       : scale.px_per_unit * static_cast<float>(dim);
    }
    if (clamped) *clamped = px > scale.max_px;
    return std::clamp(px, scale.min_px, std::max(scale.min_px, scale.max_px));
}

TensorBoxLayout tensor_box_layout(const int64_t* dims, int ndims, const TensorBoxScale& scale) {
    TensorBoxLayout l;
    const int64_t rows = ndims >= 2 ? dims[ndims - 2] : 1;
    const int64_t cols = ndims >= 1 ? dims[ndims - 1] : 1;
    l.size.x = tensor_side_px(cols, scale, &l.clamped_w);
    l.size.y = tensor_side_px(rows, scale, &l.clamped_h);
    int64_t lead = 1;
    for (int i = 0; i + 2 < ndims; ++i) lead *= std::max<int64_t>(dims[i], 1);
    l.stack = static_cast<int>(std::min<int64_t>(lead, 3));
    return l;
}

std::string tensor_label(const char* name, const int64_t* dims, int ndims) {
    std::string s = name && *name ? std::string(name) + ": " : std::string();
    for (int i = 0; i < ndims; ++i) {
        if (i > 0) s += " x ";
        s += std::to_string(dims[i]);
    }
    return s;
}

namespace {

// Two short parallel slashes across an edge at `c`, over a gap in the window colour:
// the usual "axis break" mark. horizontal_edge: the edge runs along x.
void add_break_mark(ImDrawList* dl, ImVec2 c, bool horizontal_edge, float size, ImU32 col) {
    const ImU32 bg = ImGui::GetColorU32(ImGuiCol_WindowBg);
    const float g = size * 0.25f, h = size * 0.5f;
    if (horizontal_edge) {
        dl->AddQuadFilled(ImVec2(c.x - g - h * 0.5f, c.y + h), ImVec2(c.x - g + h * 0.5f, c.y - h),
                          ImVec2(c.x + g + h * 0.5f, c.y - h), ImVec2(c.x + g - h * 0.5f, c.y + h), bg);
        for (float dx : {-g, g})
            dl->AddLine(ImVec2(c.x + dx - h * 0.5f, c.y + h), ImVec2(c.x + dx + h * 0.5f, c.y - h), col, 1.5f);
    } else {
        dl->AddQuadFilled(ImVec2(c.x - h, c.y - g + h * 0.5f), ImVec2(c.x + h, c.y - g - h * 0.5f),
                          ImVec2(c.x + h, c.y + g - h * 0.5f), ImVec2(c.x - h, c.y + g + h * 0.5f), bg);
        for (float dy : {-g, g})
            dl->AddLine(ImVec2(c.x - h, c.y + dy + h * 0.5f), ImVec2(c.x + h, c.y + dy - h * 0.5f), col, 1.5f);
    }
}

ImU32 with_alpha(ImU32 c, float a) {
    const ImU32 alpha = static_cast<ImU32>(std::clamp(a, 0.0f, 1.0f) * 255.0f + 0.5f);
    return (c & ~IM_COL32_A_MASK) | (alpha << IM_COL32_A_SHIFT);
}

}  // namespace

TensorBoxRect TensorBox(ImDrawList* dl, ImVec2 pos, const char* name, const int64_t* dims, int ndims,
                        const TensorBoxScale& scale, ImU32 fill) {
    const float font = ImGui::GetFontSize();
    const TensorBoxLayout l = tensor_box_layout(dims, ndims, scale);
    TensorBoxRect r;
    r.min = pos;
    r.max = ImVec2(pos.x + l.size.x, pos.y + l.size.y);

    // Stack copies behind, offset up and to the right.
    const float off = font * 0.35f;
    for (int k = l.stack - 1; k >= 1; --k) {
        const ImVec2 a(r.min.x + off * k, r.min.y - off * k), b(r.max.x + off * k, r.max.y - off * k);
        dl->AddRectFilled(a, b, ImGui::GetColorU32(ImGuiCol_WindowBg));
        dl->AddRectFilled(a, b, with_alpha(fill, 0.2f));
        dl->AddRect(a, b, with_alpha(fill, 0.8f), 0, 0, 1.0f);
    }

    // The face, with a faint element grid when elements are big enough to see.
    dl->AddRectFilled(r.min, r.max, ImGui::GetColorU32(ImGuiCol_WindowBg));
    dl->AddRectFilled(r.min, r.max, with_alpha(fill, 0.35f));
    const int64_t rows = ndims >= 2 ? dims[ndims - 2] : 1, cols = ndims >= 1 ? dims[ndims - 1] : 1;
    const float cw = l.size.x / static_cast<float>(std::max<int64_t>(cols, 1));
    const float ch = l.size.y / static_cast<float>(std::max<int64_t>(rows, 1));
    const ImU32 grid = with_alpha(fill, 0.35f);
    if (!l.clamped_w && cw >= font * 0.35f && cols <= 64)
        for (int64_t c = 1; c < cols; ++c) dl->AddLine(ImVec2(r.min.x + cw * c, r.min.y), ImVec2(r.min.x + cw * c, r.max.y), grid);
    if (!l.clamped_h && ch >= font * 0.35f && rows <= 64)
        for (int64_t q = 1; q < rows; ++q) dl->AddLine(ImVec2(r.min.x, r.min.y + ch * q), ImVec2(r.max.x, r.min.y + ch * q), grid);
    dl->AddRect(r.min, r.max, fill, 0, 0, std::max(1.5f, font * 0.12f));
    const float mark = std::min(font * 0.8f, std::min(l.size.x, l.size.y) * 2.0f);
    if (l.clamped_w) {
        add_break_mark(dl, ImVec2(r.min.x + l.size.x * 0.5f, r.min.y), true, mark, fill);
        add_break_mark(dl, ImVec2(r.min.x + l.size.x * 0.5f, r.max.y), true, mark, fill);
    }
    if (l.clamped_h) {
        add_break_mark(dl, ImVec2(r.min.x, r.min.y + l.size.y * 0.5f), false, mark, fill);
        add_break_mark(dl, ImVec2(r.max.x, r.min.y + l.size.y * 0.5f), false, mark, fill);
    }

    // Label centred under the face.
    const std::string label = tensor_label(name, dims, ndims);
    const ImVec2 sz = ImGui::CalcTextSize(label.c_str());
    r.label_min = ImVec2((r.min.x + r.max.x - sz.x) * 0.5f, r.max.y + font * 0.25f);
    r.label_max = ImVec2(r.label_min.x + sz.x, r.label_min.y + sz.y);
    dl->AddText(r.label_min, ImGui::GetColorU32(ImGuiCol_Text), label.c_str());

    r.hovered = ImGui::IsWindowHovered() && ImGui::IsMouseHoveringRect(r.min, r.max, false);
    if (r.hovered) dl->AddRect(ImVec2(r.min.x - 2, r.min.y - 2), ImVec2(r.max.x + 2, r.max.y + 2),
                               ImGui::GetColorU32(ImGuiCol_Text), 0, 0, 2.0f);
    return r;
}

void TensorArrow(ImDrawList* dl, ImVec2 from, ImVec2 to, const char* label, ImU32 color) {
    const float font = ImGui::GetFontSize();
    const ImU32 col = color ? color : ImGui::GetColorU32(ImGuiCol_Text);
    const float dx = to.x - from.x, dy = to.y - from.y;
    const float len = std::sqrt(dx * dx + dy * dy);
    if (len < 1) return;
    const float ux = dx / len, uy = dy / len;
    const float head = std::min(font * 0.6f, len * 0.5f), half = head * 0.5f;
    const ImVec2 base(to.x - ux * head, to.y - uy * head);
    dl->AddLine(from, base, col, std::max(1.5f, font * 0.12f));
    dl->AddTriangleFilled(to, ImVec2(base.x - uy * half, base.y + ux * half), ImVec2(base.x + uy * half, base.y - ux * half), col);

    if (!label || !*label) return;
    const ImVec2 sz = ImGui::CalcTextSize(label);
    const ImVec2 mid((from.x + to.x) * 0.5f, (from.y + to.y) * 0.5f);
    const ImVec2 tp = std::abs(dx) >= std::abs(dy) ? ImVec2(mid.x - sz.x * 0.5f, mid.y - sz.y - font * 0.25f)
                                                   : ImVec2(mid.x + font * 0.4f, mid.y - sz.y * 0.5f);
    dl->AddText(tp, ImGui::GetColorU32(ImGuiCol_Text), label);
}

}  // namespace mla::widgets
