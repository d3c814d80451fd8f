#include "views/absorption_view.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "views/cache_dtype_panel.h"
#include "views/view_logic.h"
#include "widgets/colormap.h"
#include "widgets/plot.h"
#include "widgets/tensor_box.h"

namespace mla::app {

namespace {

// One cell of the side-by-side table: a tensor box drawn to scale, its name and shape,
// and the equation that makes it.
void tensor_cell(const char* name, std::vector<int64_t> dims, const char* eq, int color, float unit, const Frame& f) {
    const float font = ImGui::GetFontSize();
    widgets::TensorBoxScale sc;
    sc.px_per_unit = unit;
    sc.min_px = std::max(3.0f, font * 0.35f);
    sc.max_px = font * 4.5f;
    const widgets::TensorBoxLayout l = widgets::tensor_box_layout(dims.data(), static_cast<int>(dims.size()), sc);
    const float stack = font * 0.35f * static_cast<float>(l.stack - 1);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float box_w = font * 5.8f;
    widgets::TensorBox(ImGui::GetWindowDrawList(), ImVec2(p.x + std::max(0.0f, (box_w - font * 0.5f - l.size.x) * 0.5f), p.y + stack + 1), nullptr, dims.data(),
                       static_cast<int>(dims.size()), sc, widgets::categorical_color(color));
    ImGui::SetCursorScreenPos(ImVec2(p.x + box_w, p.y));
    ImGui::BeginGroup();
    const std::string shape = widgets::tensor_label(name, dims.data(), static_cast<int>(dims.size()));
    ImGui::TextUnformatted(shape.c_str());
    if (f.mono) ImGui::PushFont(f.mono);
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("%s", eq);
    ImGui::PopTextWrapPos();
    if (f.mono) ImGui::PopFont();
    ImGui::EndGroup();
    const float h = std::max(ImGui::GetItemRectMax().y - p.y, l.size.y + stack + font * 1.3f);
    ImGui::SetCursorScreenPos(ImVec2(p.x, p.y + h));
    ImGui::Dummy(ImVec2(1, 1));
}

void never_built(const char* what) { ImGui::TextDisabled("%s", what); }

}  // namespace

void AbsorptionView::draw(const Frame& f, Commands& cmds) {
    const Session& s = f.session;
    const Palette pal = palette(f.dark);
    if (!s.has_paths()) return empty_state("The MLA paths are not running in this session.");
    const ModelSettings& ms = s.settings();
    const int64_t step = f.step;

    // ---- the switch and the headline difference
    bool rope = ms.rope_on_latent;
    if (ImGui::Checkbox("RoPE on the compressed keys", &rope)) {
        ModelSettings m = ms;
        m.rope_on_latent = rope;
        cmds.apply(m, Field::RopeOnLatent);
    }
    ImGui::SameLine();
    text_wrapped_colored(pal.dim, "(the same tokens and weights run on all three MLA paths in lockstep)");
    if (step < 0 || step >= static_cast<int64_t>(s.path_diffs().size())) {
        empty_state("Step once: the three MLA paths then run on the same token and their outputs are compared.");
        return;
    }
    const PathDiff& d = s.path_diffs()[static_cast<size_t>(step)];
    const Trace* rc = s.path(MlaPath::Recompute).trace(step);
    const Trace* ab = s.path(MlaPath::Absorbed).trace(step);
    const Trace* ck = s.path(MlaPath::CachedKV).trace(step);
    if (!rc || !ab || !ck) return empty_state("Step once.");
    const Config& c = s.path(MlaPath::Absorbed).cfg;
    const int64_t H = c.num_attention_heads, C = c.kv_lora_rank, Dn = c.qk_nope_head_dim, Dr = c.qk_rope_head_dim,
                  Dv = c.v_head_dim, T = ab->cache_tokens;

    // One line when it fits, else one line per figure.
    const float font = ImGui::GetFontSize();
    const bool one_line = ImGui::GetContentRegionAvail().x > font * 62;
    ImGui::Text("Largest |difference| of the logits at step %lld (T = %lld):", static_cast<long long>(step + 1),
                static_cast<long long>(T));
    if (one_line) ImGui::SameLine();
    const bool broken = d.absorbed_vs_recompute > 1e-3;
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(broken ? pal.warn : pal.good), "absorbed vs recompute %.3g", d.absorbed_vs_recompute);
    ImGui::SameLine();
    ImGui::Text("  cached-kv vs recompute %.3g", d.cached_vs_recompute);
    if (one_line) ImGui::SameLine();
    ImGui::Text("%s(attention weights: %.3g)", one_line ? "  " : "", d.probs_absorbed_vs_recompute);
    ImGui::PushTextWrapPos(0);
    if (!ms.rope_on_latent && ms.cache_dtype != CacheDtype::F32) {
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.dim),
                           "Absorbed and recompute read the same %s-rounded c_KV, so they agree to float32 rounding: absorption only "
                           "regroups matrix products, q_nope^T (W_UK c_KV) = (W_UK^T q_nope)^T c_KV. Cached-kv stores K and V "
                           "rounded instead of c_KV, so it differs from them by about that rounding.",
                           to_string(ms.cache_dtype));
    } else if (!ms.rope_on_latent) {
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.dim),
                           "The paths agree to float32 rounding: absorption only regroups matrix products, "
                           "q_nope^T (W_UK c_KV) = (W_UK^T q_nope)^T c_KV, so W_UK moves into the query once per step and K is never built.");
    } else {
        ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.warn),
                           "RoPE on the compressed keys: the difference jumps. RoPE rotates key j by R_j, which depends on its position, "
                           "so the score becomes q^T R_t^T R_j W_UK c_KV(j): the matrix between the query and c_KV changes with j and "
                           "W_UK cannot be folded into the query once per step. The absorbed path never builds the keys, so it cannot "
                           "rotate them and drifts away; recompute and cached-kv still agree. This is why DeepSeek keeps RoPE on a "
                           "separate small key k_R shared by all heads and leaves c_KV position-free.");
    }
    ImGui::PopTextWrapPos();
    ImGui::Separator();

    // ---- left: the two paths side by side; right: numbers and charts. Narrow: one above the
    // other, the view scrolled, each at a size it reads at.
    const Panes panes = begin_panes("##absorption_scroll", 56, 0.54f, 30);
    const bool stacked = panes.stacked;
    const ImVec2 avail = panes.avail;
    const float left_w = panes.left_w;
    ImGui::BeginChild("##paths", ImVec2(left_w, stacked ? std::max(avail.y, font * 34) : avail.y), false);
    const float unit = ImGui::GetFontSize() * 4.0f / static_cast<float>(std::max<int64_t>(C + Dr, 1));
    if (ImGui::BeginTable("##sbs", 2, ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY)) {
        ImGui::TableSetupScrollFreeze(0, 1);
        ImGui::TableSetupColumn("Recompute: rebuild K and V from the latent");
        ImGui::TableSetupColumn("Absorbed: fold W_UK and W_UV into q and out");
        ImGui::TableHeadersRow();
        auto row = [] { ImGui::TableNextRow(); ImGui::TableNextColumn(); };
        const std::string Ts = std::to_string(T);
        row();
        tensor_cell("c_KV", {T, C}, "cache read: the latent of every token", 2, unit, f);
        ImGui::TableNextColumn();
        tensor_cell("c_KV", {T, C}, "cache read: the same latent", 2, unit, f);
        row();
        tensor_cell("K_nope", {H, T, Dn}, "= c_KV W_UK,h^T for every head, all T tokens, every step", 2, unit, f);
        ImGui::TableNextColumn();
        tensor_cell("q_absorbed", {H, C + Dr}, "= [W_UK,h^T q_nope,h ; q_rope,h], once per step", 1, unit, f);
        never_built("K is never built");
        row();
        tensor_cell("V", {H, T, Dv}, "= c_KV W_UV,h^T for every head, all T tokens, every step", 2, unit, f);
        ImGui::TableNextColumn();
        never_built("V is never built");
        row();
        tensor_cell("att_scores", {H, T}, "= (q_nope . K_nope + q_rope . k_R) / sqrt(d_n + d_r)", 5, unit, f);
        ImGui::TableNextColumn();
        tensor_cell("att_scores", {H, T}, "= q_absorbed . [c_KV ; k_R] / sqrt(d_n + d_r)", 5, unit, f);
        row();
        tensor_cell("att_out", {H, Dv}, "= sum_j att_probs(j) V(j)", 0, unit, f);
        ImGui::TableNextColumn();
        tensor_cell("o_latent", {H, C}, "= sum_j att_probs(j) c_KV(j)", 2, unit, f);
        tensor_cell("att_out", {H, Dv}, "= W_UV,h o_latent,h", 0, unit, f);
        ImGui::EndTable();
    }
    ImGui::EndChild();
    if (!stacked) ImGui::SameLine();

    ImGui::BeginChild("##numbers", ImVec2(stacked ? avail.x : 0, avail.y), false);
    if (ImGui::BeginTable("##cost", 4, ImGuiTableFlags_Borders | ImGuiTableFlags_SizingStretchProp)) {
        ImGui::TableSetupColumn("this step");
        ImGui::TableSetupColumn("FLOPs");
        ImGui::TableSetupColumn("cache read");
        ImGui::TableSetupColumn("cache held");
        ImGui::TableHeadersRow();
        const Trace* tr[] = {ck, rc, ab};
        const char* names[] = {"cached-kv", "recompute", "absorbed"};
        for (int i = 0; i < 3; ++i) {
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(names[i]);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(fmt_count(tr[i]->cost.flops()).c_str());
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(fmt_count(tr[i]->cost.cache_read_bytes()).c_str());
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(fmt_count(tr[i]->cost.cache_bytes(cache_dtype_bytes(ms.cache_dtype))).c_str());
        }
        ImGui::EndTable();
    }
    text_wrapped_colored(pal.dim, "FLOPs of the whole step (all %lld layers); bytes as stored (%s).",
                         static_cast<long long>(c.num_hidden_layers), to_string(ms.cache_dtype));
    cache_dtype_effect(f, cmds, true);

    const float chart_h = std::max(ImGui::GetFontSize() * 11, (ImGui::GetContentRegionAvail().y - ImGui::GetFrameHeightWithSpacing()) * 0.5f);
    const int64_t maxT = std::max<int64_t>(64, T * 2);
    if (memo_.revision != s.revision() || memo_.max_T != maxT) {  // once per step, not per frame
        memo_.revision = s.revision();
        memo_.max_T = maxT;
        memo_.flops = path_flops_series(ms, maxT);
    }
    const std::vector<Series>& fl = memo_.flops;
    widgets::PlotAxes ax;
    ax.title = "FLOPs per step as the context grows";
    ax.x = {"tokens T", widgets::AxisScale::Linear, widgets::AxisFormat::Count};
    ax.y = {"FLOPs", log_flops ? widgets::AxisScale::Log10 : widgets::AxisScale::Linear, widgets::AxisFormat::SI};
    if (widgets::BeginPlot("##pathflops", ImVec2(-1, chart_h), ax)) {
        for (size_t i = 0; i < fl.size(); ++i)
            widgets::PlotLine(fl[i].label.c_str(), fl[i].x.data(), fl[i].y.data(), static_cast<int>(fl[i].x.size()),
                              widgets::categorical_color(static_cast<int>(i)));
        widgets::PlotVLine(static_cast<double>(T), "now");
        widgets::EndPlot();
    }

    // |difference| per step over the run, log scale, float32 rounding as the floor
    std::vector<double> xs, ya, yc;
    for (size_t i = 0; i < s.path_diffs().size(); ++i) {
        xs.push_back(static_cast<double>(i + 1));  // steps from 1
        // Exact zeros have no place on a log axis: they break the line.
        const double a = s.path_diffs()[i].absorbed_vs_recompute, b = s.path_diffs()[i].cached_vs_recompute;
        ya.push_back(a > 0 ? a : NAN);
        yc.push_back(b > 0 ? b : NAN);
    }
    widgets::PlotAxes dx;
    dx.title = "largest |difference| of the logits, per step (0 is not drawn)";
    dx.x = {"step", widgets::AxisScale::Linear, widgets::AxisFormat::Count};
    dx.y = {"|difference|", widgets::AxisScale::Log10, widgets::AxisFormat::Number};
    if (widgets::BeginPlot("##pathdiff", ImVec2(-1, chart_h), dx)) {
        widgets::PlotLine("absorbed vs recompute", xs.data(), ya.data(), static_cast<int>(xs.size()), widgets::categorical_color(2));
        widgets::PlotLine("cached-kv vs recompute", xs.data(), yc.data(), static_cast<int>(xs.size()), widgets::categorical_color(0));
        widgets::PlotVLine(static_cast<double>(step + 1), "selected");
        widgets::EndPlot();
    }
    ImGui::Checkbox("log FLOPs axis", &log_flops);
    ImGui::EndChild();
    end_panes(panes);
}

}  // namespace mla::app
