// Heatmap drawn as one GL texture (an RGBA8 image colour-mapped with viridis on the CPU,
// shown with ImGui::Image and nearest filtering), not thousands of rectangles.
//
//     // in the view's state (one per head shown):
//     mla::widgets::Heatmap probs_map;
//     // when a new trace arrives (not every frame):
//     probs_map.update(p, T, T, 0.0f, 1.0f, /*causal=*/true);
//     // every frame:
//     HeatmapOptions o;
//     o.row_labels = tokens; o.col_labels = tokens;   // const char* per row / col
//     o.row_title = "query"; o.col_title = "key";
//     HeatmapResult r = probs_map.draw("##head3", ImVec2(0, 0), o);
//     if (r.clicked) enlarged_head = 3;
//
// - Cell (r, c) is data[r * cols + c] (row-major, maths order (rows, cols)).
// - causal = true: the rows are the LAST `rows` query positions of a sequence whose keys
//   are the `cols` columns, so row r sits at position (cols - rows + r) and every cell
//   with c > cols - rows + r is in the future. Those cells (and any non-finite value,
//   e.g. -inf scores) are transparent in the texture and show the style's neutral
//   background; the readout reports them as masked.
// - Axis labels: row labels on the left, column labels under the map (vertical text).
//   When cells are smaller than a line of text, labels are thinned to every k-th; long
//   labels are cut with "..".
// - Hover: the hovered cell is outlined and, when options.tooltip, a tooltip shows
//   "'row label' (step r) attends to 'col label' (step c): value" when labels are given
//   (axis or hover labels), else "row r -> col c". The result gives row, col and value.
// - The texture is created on the first update (a GL context must be current), deleted
//   by the destructor (so destroy heatmaps before the GL context). Heatmap is movable
//   (the texture moves with it), not copyable.
#pragma once

#include <imgui.h>

#include <cstdint>
#include <string>
#include <vector>

#include "widgets/plot.h"  // AxisFormat

namespace mla::widgets {

struct HeatmapOptions {
    const char* const* row_labels = nullptr;  // `rows` strings (e.g. tokens), or nullptr
    const char* const* col_labels = nullptr;  // `cols` strings, or nullptr
    const char* row_title = nullptr;          // e.g. "query", drawn left of the row labels
    const char* col_title = nullptr;          // e.g. "key", drawn under the col labels
    bool square_cells = true;                 // keep cells square (map centred in the area)
    bool tooltip = true;                      // show the hover tooltip
    AxisFormat value_format = AxisFormat::Number;
    int highlight_row = -1;                   // outline a whole row (e.g. the current query)
    int max_label_chars = 10;                 // labels longer than this are cut with ".."
    // Labels for the tooltip only (a small map with no room for axis labels); when set, the
    // tooltip names both tokens: "'S' (step 24) attends to 'p' (step 18): 0.41".
    const char* const* hover_labels = nullptr;
    const char* verb = "attends to";          // the tooltip's word between row and column
    int index_base = 1;                       // the tooltip's numbers: index + this ("step" from 1)
    // One token followed across the views: its row and its column tinted (the query it asks
    // with and the key it is read as); -1 = none.
    int follow = -1;
};

struct HeatmapResult {
    bool hovered = false;        // a cell is under the mouse
    bool clicked = false;        // left click on the map this frame
    bool double_clicked = false;
    int row = -1, col = -1;      // hovered cell (when hovered)
    float value = 0;             // its value (when hovered and not masked)
    bool masked = false;         // the hovered cell is in the causal future / non-finite
};

class Heatmap {
public:
    Heatmap() = default;
    ~Heatmap();
    Heatmap(const Heatmap&) = delete;
    Heatmap& operator=(const Heatmap&) = delete;
    Heatmap(Heatmap&& other) noexcept;
    Heatmap& operator=(Heatmap&& other) noexcept;

    // Colour-maps data (rows x cols, row-major) over [vmin, vmax] and uploads it; keeps
    // a copy of the values for the hover readout. Call when the data change, not every
    // frame. Needs a current GL context. rows, cols >= 1.
    void update(const float* data, int rows, int cols, float vmin, float vmax,
                bool causal = false);

    // Draws the map and its labels as one ImGui item of `size` pixels (x <= 0: the
    // available width; y <= 0: as tall as square cells need, at most the available
    // height). Before the first update it draws an empty frame and reports nothing.
    HeatmapResult draw(const char* id, ImVec2 size, const HeatmapOptions& options = {}) const;

    bool empty() const { return rows_ == 0; }
    int rows() const { return rows_; }
    int cols() const { return cols_; }
    float vmin() const { return vmin_; }
    float vmax() const { return vmax_; }
    float value(int row, int col) const { return values_[static_cast<size_t>(row) * cols_ + col]; }
    unsigned int texture() const { return texture_; }  // GL name, 0 before the first update

private:
    unsigned int texture_ = 0;
    int rows_ = 0, cols_ = 0;
    float vmin_ = 0, vmax_ = 1;
    bool causal_ = false;
    std::vector<float> values_;
    std::vector<uint8_t> rgba_;        // staging for the upload
};

// ---- Pure helpers (no GL or ImGui context needed; unit-tested) ---------------------

// True when cell (row, col) of a causal rows x cols map is in the future
// (col > cols - rows + row).
bool causal_masked(int row, int col, int rows, int cols);

// Colour-maps data into rgba (rows * cols * 4 bytes): viridis over [vmin, vmax];
// masked (causal future) and non-finite cells get alpha 0.
void colorize(const float* data, int rows, int cols, float vmin, float vmax, bool causal,
              uint8_t* rgba);

// Show every k-th of `count` labels so that labels `label_px` tall never overlap on
// cells `cell_px` apart: k = 1, 2, 5, 10, 20, ... (1-2-5, so the shown indices are round).
int label_stride(int count, float cell_px, float label_px);

// label cut to at most max_chars UTF-8 characters: longer ones keep max_chars - 2
// and end in "..". Newlines and tabs are shown as spaces.
std::string cut_label(const char* label, int max_chars);

// Cell index (0..n-1) at offset px from the map's start with n cells over extent px;
// -1 outside.
int cell_at(float px, float extent, int n);

}  // namespace mla::widgets
