// Heatmap as one GL texture: see heatmap.h.
//
// [SECTION] Pure helpers: mask, colorize, label thinning and cutting, hit test
// [SECTION] Heatmap: texture lifetime and upload
// [SECTION] Heatmap::draw: layout, image, labels, hover
#include "widgets/heatmap.h"

#include <epoxy/gl.h>

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

#include "widgets/colormap.h"

namespace mla::widgets {

// ---------------------------------------------------------------------------------------
// [SECTION] Pure helpers: mask, colorize, label thinning and cutting, hit test
// ---------------------------------------------------------------------------------------

bool causal_masked(int row, int col, int rows, int cols) {
    return col > cols - rows + row;
}

void colorize(const float* data, int rows, int cols, float vmin, float vmax, bool causal, uint8_t* rgba) {
    for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) {
            const float v = data[static_cast<size_t>(r) * cols + c];
            uint8_t* px = rgba + (static_cast<size_t>(r) * cols + c) * 4;
            if ((causal && causal_masked(r, c, rows, cols)) || !std::isfinite(v)) {
                px[0] = px[1] = px[2] = px[3] = 0;
                continue;
            }
            colormap_rgb(colormap_t(v, vmin, vmax), px);
            px[3] = 255;
        }
    }
}

int label_stride(int count, float cell_px, float label_px) {
    if (count <= 1) return 1;
    if (!(cell_px > 0)) return count;
    for (int mag = 1;; mag *= 10) {
        for (int m : {1, 2, 5}) {
            const int k = m * mag;
            if (k * cell_px >= label_px || k >= count) return k;
        }
    }
}

std::string cut_label(const char* label, int max_chars) {
    std::string out;
    if (!label) return out;
    max_chars = std::max(max_chars, 3);
    // Byte offsets where each UTF-8 character starts.
    std::string clean = label;
    for (char& ch : clean)
        if (ch == '\n' || ch == '\t' || ch == '\r') ch = ' ';
    int chars = 0;
    size_t cut = clean.size();
    for (size_t i = 0; i < clean.size(); ++i) {
        if ((static_cast<unsigned char>(clean[i]) & 0xC0) == 0x80) continue;  // continuation byte
        if (chars == max_chars - 2) cut = std::min(cut, i);
        ++chars;
    }
    if (chars <= max_chars) return clean;
    return clean.substr(0, cut) + "..";
}

int cell_at(float px, float extent, int n) {
    if (n <= 0 || !(extent > 0) || px < 0 || px >= extent) return -1;
    return std::min(n - 1, static_cast<int>(px / extent * n));
}

// ---------------------------------------------------------------------------------------
// [SECTION] Heatmap: texture lifetime and upload
// ---------------------------------------------------------------------------------------

Heatmap::~Heatmap() {
    if (texture_) glDeleteTextures(1, &texture_);
}

Heatmap::Heatmap(Heatmap&& o) noexcept
    : texture_(std::exchange(o.texture_, 0u)), rows_(std::exchange(o.rows_, 0)), cols_(std::exchange(o.cols_, 0)),
      vmin_(o.vmin_), vmax_(o.vmax_), causal_(o.causal_), values_(std::move(o.values_)), rgba_(std::move(o.rgba_)) {}

Heatmap& Heatmap::operator=(Heatmap&& o) noexcept {
    if (this != &o) {
        if (texture_) glDeleteTextures(1, &texture_);
        texture_ = std::exchange(o.texture_, 0u);
        rows_ = std::exchange(o.rows_, 0);
        cols_ = std::exchange(o.cols_, 0);
        vmin_ = o.vmin_;
        vmax_ = o.vmax_;
        causal_ = o.causal_;
        values_ = std::move(o.values_);
        rgba_ = std::move(o.rgba_);
    }
    return *this;
}

void Heatmap::update(const float* data, int rows, int cols, float vmin, float vmax, bool causal) {
    assert(data && rows >= 1 && cols >= 1 && "Heatmap::update: empty data");
    rows_ = rows;
    cols_ = cols;
    vmin_ = vmin;
    vmax_ = vmax;
    causal_ = causal;
    const size_t n = static_cast<size_t>(rows) * cols;
    values_.assign(data, data + n);
    rgba_.resize(n * 4);
    colorize(data, rows, cols, vmin, vmax, causal, rgba_.data());

    GLint previous = 0;
    glGetIntegerv(GL_TEXTURE_BINDING_2D, &previous);
    if (!texture_) glGenTextures(1, &texture_);
    glBindTexture(GL_TEXTURE_2D, texture_);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);  // RGBA8 rows are always 4-byte aligned
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, cols, rows, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba_.data());
    glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(previous));
}

// ---------------------------------------------------------------------------------------
// [SECTION] Heatmap::draw: layout, image, labels, hover
// ---------------------------------------------------------------------------------------

namespace {

// Outline readable on any viridis colour: dark outside, light inside.
void add_cell_outline(ImDrawList* dl, ImVec2 a, ImVec2 b) {
    dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), IM_COL32(0, 0, 0, 255), 0, 0, 3.0f);
    dl->AddRect(a, b, IM_COL32(255, 255, 255, 255), 0, 0, 1.5f);
}

std::string cell_name(const char* title, const char* const* labels, int index, const char* fallback, int max_chars) {
    std::string s = title ? title : fallback;
    s += ' ';  // appended piecewise: GCC 12 warns falsely on "literal" + string&&
    s += std::to_string(index);
    if (labels && labels[index]) {
        s += " '";
        s += cut_label(labels[index], max_chars * 2);
        s += '\'';
    }
    return s;
}

}  // namespace

HeatmapResult Heatmap::draw(const char* id, ImVec2 size, const HeatmapOptions& o) const {
    HeatmapResult res;
    const float font = ImGui::GetFontSize();
    const float pad = font * 0.3f;
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    if (size.x <= 0) size.x = std::max(avail.x, font * 6);

    if (empty()) {
        if (size.y <= 0) size.y = font * 10;
        const ImVec2 p = ImGui::GetCursorScreenPos();
        ImGui::Dummy(size);
        ImGui::GetWindowDrawList()->AddRect(p, ImVec2(p.x + size.x, p.y + size.y),
                                            ImGui::GetColorU32(ImGuiCol_Border));
        return res;
    }

    // ---- label sizes
    const int max_chars = o.max_label_chars;
    float row_label_w = 0, col_label_h = 0;
    if (o.row_labels)
        for (int r = 0; r < rows_; ++r)
            if (o.row_labels[r]) row_label_w = std::max(row_label_w, ImGui::CalcTextSize(cut_label(o.row_labels[r], max_chars).c_str()).x);
    if (o.col_labels)
        for (int c = 0; c < cols_; ++c)
            if (o.col_labels[c]) col_label_h = std::max(col_label_h, ImGui::CalcTextSize(cut_label(o.col_labels[c], max_chars).c_str()).x);
    const float row_title_w = o.row_title ? font * 1.3f : 0;
    const float col_title_h = o.col_title ? font * 1.3f : 0;
    const float left = row_title_w + (o.row_labels ? row_label_w + pad : 0) + pad * 0.5f;
    const float bottom = (o.col_labels ? col_label_h + pad : 0) + col_title_h + pad * 0.5f;
    const float top = pad * 0.5f, right = pad * 0.5f;

    // ---- map size
    const float map_w_avail = std::max(size.x - left - right, 1.0f);
    float cell_w, cell_h;
    if (size.y <= 0) {
        cell_w = cell_h = map_w_avail / cols_;
        const float max_h = std::max(avail.y - bottom - top, font * 8);
        if (cell_h * rows_ > max_h) cell_h = max_h / rows_;
        if (o.square_cells) cell_w = cell_h = std::min(cell_w, cell_h);
        size.y = cell_h * rows_ + top + bottom;
    } else {
        cell_w = map_w_avail / cols_;
        cell_h = std::max(size.y - top - bottom, 1.0f) / rows_;
        if (o.square_cells) cell_w = cell_h = std::min(cell_w, cell_h);
    }
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const ImVec2 mmin(p.x + left, p.y + top);
    const ImVec2 mmax(mmin.x + cell_w * cols_, mmin.y + cell_h * rows_);

    ImGui::InvisibleButton(id, size);
    const bool item_hovered = ImGui::IsItemHovered();
    const bool clicked = ImGui::IsItemClicked(ImGuiMouseButton_Left);
    if (!ImGui::IsItemVisible()) return res;

    // ---- hover
    if (item_hovered) {
        const ImVec2 m = ImGui::GetMousePos();
        const int c = cell_at(m.x - mmin.x, mmax.x - mmin.x, cols_);
        const int r = cell_at(m.y - mmin.y, mmax.y - mmin.y, rows_);
        if (r >= 0 && c >= 0) {
            res.hovered = true;
            res.row = r;
            res.col = c;
            const float v = value(r, c);
            res.masked = (causal_ && causal_masked(r, c, rows_, cols_)) || !std::isfinite(v);
            res.value = res.masked ? 0.0f : v;
            res.clicked = clicked;
            res.double_clicked = ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left);
        }
    }

    // ---- the map: neutral background (shows through masked cells), then the texture
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(mmin, mmax, ImGui::GetColorU32(ImGuiCol_TextDisabled, 0.22f));
    dl->AddImage(reinterpret_cast<ImTextureID>(static_cast<intptr_t>(texture_)), mmin, mmax);
    dl->AddRect(ImVec2(mmin.x - 1, mmin.y - 1), ImVec2(mmax.x + 1, mmax.y + 1), ImGui::GetColorU32(ImGuiCol_Text, 0.4f));
    if (o.follow >= 0) {  // the followed token: a band over its row and its column
        const ImU32 band = ImGui::GetColorU32(ImGuiCol_Text, 0.28f), edge = ImGui::GetColorU32(ImGuiCol_Text, 0.8f);
        if (o.follow < rows_) {
            const float y0 = mmin.y + cell_h * static_cast<float>(o.follow);
            dl->AddRectFilled(ImVec2(mmin.x, y0), ImVec2(mmax.x, y0 + cell_h), band);
            dl->AddRect(ImVec2(mmin.x - 1, y0), ImVec2(mmax.x + 1, y0 + cell_h), edge, 0, 0, 1.0f);
        }
        if (o.follow < cols_) {
            const float x0 = mmin.x + cell_w * static_cast<float>(o.follow);
            dl->AddRectFilled(ImVec2(x0, mmin.y), ImVec2(x0 + cell_w, mmax.y), band);
            dl->AddRect(ImVec2(x0, mmin.y - 1), ImVec2(x0 + cell_w, mmax.y + 1), edge, 0, 0, 1.0f);
        }
    }
    if (o.highlight_row >= 0 && o.highlight_row < rows_) {
        const float y0 = mmin.y + cell_h * o.highlight_row;
        dl->AddRect(ImVec2(mmin.x - 2, y0 - 1), ImVec2(mmax.x + 2, y0 + cell_h + 1), ImGui::GetColorU32(ImGuiCol_Text), 0, 0, 2.0f);
    }
    if (res.hovered) {
        const ImVec2 a(mmin.x + cell_w * res.col, mmin.y + cell_h * res.row);
        add_cell_outline(dl, a, ImVec2(a.x + cell_w, a.y + cell_h));
    }

    // ---- labels, thinned; the hovered row / col label is always shown, highlighted
    const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
    const ImU32 plate = ImGui::GetColorU32(ImGuiCol_HeaderHovered);
    if (o.row_labels) {
        const int stride = label_stride(rows_, cell_h, font);
        for (int r = 0; r < rows_; ++r) {
            const bool hot = res.hovered && r == res.row;
            const bool near_hot = res.hovered && !hot && std::abs(r - res.row) < stride;  // would overlap it
            if ((r % stride != 0 && !hot) || near_hot || !o.row_labels[r]) continue;
            const std::string s = cut_label(o.row_labels[r], max_chars);
            const ImVec2 sz = ImGui::CalcTextSize(s.c_str());
            const ImVec2 tp(mmin.x - pad - sz.x, mmin.y + cell_h * (r + 0.5f) - sz.y * 0.5f);
            if (hot) dl->AddRectFilled(ImVec2(tp.x - 2, tp.y), ImVec2(tp.x + sz.x + 2, tp.y + sz.y), plate, 2.0f);
            dl->AddText(tp, text, s.c_str());
        }
    }
    if (o.col_labels) {
        const int stride = label_stride(cols_, cell_w, font);
        for (int c = 0; c < cols_; ++c) {
            const bool hot = res.hovered && c == res.col;
            const bool near_hot = res.hovered && !hot && std::abs(c - res.col) < stride;  // would overlap it
            if ((c % stride != 0 && !hot) || near_hot || !o.col_labels[c]) continue;
            const std::string s = cut_label(o.col_labels[c], max_chars);
            const float w = ImGui::CalcTextSize(s.c_str()).x;
            const ImVec2 tp(mmin.x + cell_w * (c + 0.5f) + font * 0.5f, mmax.y + pad);
            if (hot) dl->AddRectFilled(ImVec2(tp.x - font, tp.y - 2), ImVec2(tp.x, tp.y + w + 2), plate, 2.0f);
            AddTextVertical(dl, tp, text, s.c_str(), false);
        }
    }
    if (o.row_title) {
        const float w = ImGui::CalcTextSize(o.row_title).x;
        AddTextVertical(dl, ImVec2(p.x, (mmin.y + mmax.y + w) * 0.5f), text, o.row_title, true);
    }
    if (o.col_title) {
        const float w = ImGui::CalcTextSize(o.col_title).x;
        dl->AddText(ImVec2((mmin.x + mmax.x - w) * 0.5f, p.y + size.y - col_title_h + font * 0.15f), text, o.col_title);
    }

    if (res.hovered && o.tooltip) {
        const bool future = causal_ && causal_masked(res.row, res.col, rows_, cols_);
        const std::string v = future ? std::string("masked: in the future")
                                     : format_value(value(res.row, res.col), o.value_format);
        const char* const* rl = o.row_labels ? o.row_labels : o.hover_labels;
        const char* const* cl = o.col_labels ? o.col_labels : o.hover_labels;
        if (rl && cl && rl[res.row] && cl[res.col]) {
            auto named = [&](const char* label, int index) {
                return "'" + cut_label(label, max_chars * 2) + "' (step " + std::to_string(index + o.index_base) + ")";
            };
            ImGui::SetTooltip("%s %s %s: %s", named(rl[res.row], res.row).c_str(), future ? "cannot see" : o.verb,
                              named(cl[res.col], res.col).c_str(), v.c_str());
        } else {
            const std::string a = cell_name(o.row_title, o.row_labels, res.row, "row", max_chars);
            const std::string b = cell_name(o.col_title, o.col_labels, res.col, "col", max_chars);
            ImGui::SetTooltip("%s -> %s\n%s", a.c_str(), b.c_str(), v.c_str());
        }
    }
    return res;
}

}  // namespace mla::widgets
