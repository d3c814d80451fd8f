// Tensor boxes and arrows for data-flow diagrams (the Shapes view), drawn on an
// ImDrawList at positions the caller chooses.
//
//     ImDrawList* dl = ImGui::GetWindowDrawList();
//     TensorBoxScale s = default_tensor_box_scale();          // relative to the font size
//     const int64_t x_shape[] = {1, 4096}, ckv_shape[] = {17, 32};
//     TensorBoxRect a = TensorBox(dl, origin, "x", x_shape, 2, s, categorical_color(1));
//     TensorBoxRect b = TensorBox(dl, ImVec2(a.max.x + gap, origin.y), "c_KV", ckv_shape, 2, s,
//                                 categorical_color(2));
//     TensorArrow(dl, a.right_mid(), b.left_mid(), "W_DKV x");
//     if (b.hovered) ImGui::SetTooltip("latent KV cache");
//
// - The box's height is proportional to rows and its width to cols (maths order (rows,
//   cols)), at scale.px_per_unit pixels per element (or per log2 step, scale.log).
//   Each side is clamped to [scale.min_px, scale.max_px] so that 1 x 4096 and 17 x 32
//   both stay visible; a side cut down to max_px is drawn with break marks ("//" across
//   its edges) to say "longer than drawn".
// - More than 2 dims (e.g. heads x T x d_h): the last two give the face, the leading dims
//   are drawn as a stack of offset copies behind it (up to 3).
// - The label "name: d0 x d1 [x d2...]" is drawn centred under the box.
#pragma once

#include <imgui.h>

#include <cstdint>
#include <string>

namespace mla::widgets {

struct TensorBoxScale {
    float px_per_unit = 4;   // pixels per element (linear) or per doubling (log)
    float min_px = 6;        // smallest drawn side
    float max_px = 240;      // largest drawn side
    bool log = false;        // side = px_per_unit * (1 + log2(dim)) instead of dim * px_per_unit
};

// A scale relative to the current font size (needs an ImGui context): linear, with
// min_px = font/2 and max_px = 12 fonts.
TensorBoxScale default_tensor_box_scale();

// A linear scale that draws `max_dim` elements as max_px, clamped as above.
TensorBoxScale fit_tensor_box_scale(int64_t max_dim, float min_px, float max_px);

struct TensorBoxLayout {
    ImVec2 size;                             // face of the box: (width = cols, height = rows)
    bool clamped_w = false, clamped_h = false;  // that side was cut down to max_px (longer than drawn)
    int stack = 1;                           // copies drawn behind (1..3), from leading dims
};

// Side length for one dim under `scale`, clamped to [min_px, max_px]; *clamped is set
// when it was cut down to max_px (raising a tiny side to min_px does not count).
float tensor_side_px(int64_t dim, const TensorBoxScale& scale, bool* clamped = nullptr);

// Layout of a box for dims[0..ndims-1] (ndims >= 1; 1 dim = a single row).
TensorBoxLayout tensor_box_layout(const int64_t* dims, int ndims, const TensorBoxScale& scale);

// "c_KV: 17 x 32" (name may be nullptr or empty: "17 x 32").
std::string tensor_label(const char* name, const int64_t* dims, int ndims);

// Where a drawn box ended up, in screen pixels.
struct TensorBoxRect {
    ImVec2 min, max;                 // the face of the box (without the stack and label)
    ImVec2 label_min, label_max;     // the label under it
    bool hovered = false;            // mouse over the face (needs the window hovered)
    ImVec2 center() const { return ImVec2((min.x + max.x) * 0.5f, (min.y + max.y) * 0.5f); }
    ImVec2 left_mid() const { return ImVec2(min.x, (min.y + max.y) * 0.5f); }
    ImVec2 right_mid() const { return ImVec2(max.x, (min.y + max.y) * 0.5f); }
    ImVec2 top_mid() const { return ImVec2((min.x + max.x) * 0.5f, min.y); }
    ImVec2 bottom_mid() const { return ImVec2((min.x + max.x) * 0.5f, label_max.y); }  // below the label
};

// Draws the box with its face's top-left corner at pos. fill: the face colour (drawn
// translucent, outlined in full); label text uses the style's text colour.
TensorBoxRect TensorBox(ImDrawList* dl, ImVec2 pos, const char* name, const int64_t* dims,
                        int ndims, const TensorBoxScale& scale, ImU32 fill);

// An arrow from -> to with an equation label (or nullptr) beside its midpoint: above
// a mostly horizontal arrow, to the right of a mostly vertical one. color 0 = style text.
void TensorArrow(ImDrawList* dl, ImVec2 from, ImVec2 to, const char* label, ImU32 color = 0);

}  // namespace mla::widgets
