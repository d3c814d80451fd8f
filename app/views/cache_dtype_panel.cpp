#include "views/cache_dtype_panel.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mla::app {

namespace {

// The check's button and its state, one line.
void heldout_button(const Frame& f, Commands& cmds, const Palette& pal) {
    const Session& s = f.session;
    const HeldoutEffect& e = s.heldout_effect();
    const char* dt = to_string(s.settings().cache_dtype);
    if (e.state == HeldoutEffect::State::Running) {
        ImGui::TextDisabled("Measuring the held-out loss: %lld windows of %lld bytes, with the cache in fp32 and in %s...",
                            static_cast<long long>(e.windows), static_cast<long long>(e.seq_len), dt);
        return;
    }
    if (!f.exporting) {
        char label[64];
        std::snprintf(label, sizeof label, "Measure held-out loss (%lld windows)", static_cast<long long>(s.heldout_windows()));
        if (ImGui::Button(label)) cmds.measure_heldout();
        // Beside the button when a sentence fits there, else below it.
        if (ImGui::GetContentRegionAvail().x - ImGui::GetItemRectSize().x > ImGui::GetFontSize() * 16) ImGui::SameLine();
    }
    if (e.state == HeldoutEffect::State::Unavailable) text_wrapped_colored(pal.dim, "No held-out check: %s.", e.message.c_str());
    else if (e.state == HeldoutEffect::State::Done)
        text_wrapped_colored(pal.dim, "%s: %lld windows of %lld bytes of text it never trained on, in %.1f s; "
                             "mla-lab eval --cache-dtype %s scores 64.", e.model.c_str(), static_cast<long long>(e.windows),
                             static_cast<long long>(e.seq_len), e.seconds, dt);
    else text_wrapped_colored(pal.dim, "scores text the model never trained on, with the cache in fp32 and in %s", dt);
}

}  // namespace

void cache_dtype_effect(const Frame& f, Commands& cmds, bool per_path) {
    const Session& s = f.session;
    const Palette pal = palette(f.dark);
    const CacheDtype dtype = s.settings().cache_dtype;
    const char* dt = to_string(dtype);
    if (dtype == CacheDtype::F32) {
        text_wrapped_colored(pal.dim, "The cache is stored in fp32 (4 bytes a value). Choose bf16, fp16 or fp8 under \"cache stored "
                                      "as\" in the sidebar to see what rounding the stored rows costs.");
        return;
    }
    ImGui::PushTextWrapPos(0);
    ImGui::Text("Cache stored as %s: %d byte%s a value, rounded when the row is written; the maths stays fp32.", dt,
                cache_dtype_bytes(dtype), cache_dtype_bytes(dtype) == 1 ? "" : "s");
    ImGui::PopTextWrapPos();

    const int64_t step = f.step;
    const auto& diffs = s.path_diffs();
    const PathDiff* d = step >= 0 && step < static_cast<int64_t>(diffs.size()) ? &diffs[static_cast<size_t>(step)] : nullptr;
    const HeldoutEffect& e = s.heldout_effect();
    const bool done = e.state == HeldoutEffect::State::Done;
    const bool rows3 = per_path && s.has_paths();
    char heldout_col[64];
    std::snprintf(heldout_col, sizeof heldout_col, "held-out %s", dt);
    const int n = rows3 ? 3 : 1;
    // Columns keep their width and scroll sideways when the view is narrow (large UI scale).
    const ImGuiStyle& st = ImGui::GetStyle();
    const float row_h = ImGui::GetTextLineHeight() + st.CellPadding.y * 2;
    const float table_h = row_h * static_cast<float>(n + 1) + st.ScrollbarSize + 3;
    if (ImGui::BeginTable("##dtype", 5, ImGuiTableFlags_Borders | ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_ScrollX,
                          ImVec2(0, table_h))) {
        ImGui::TableSetupColumn(rows3 ? "MLA path" : "run");
        ImGui::TableSetupColumn("|logit change|");
        ImGui::TableSetupColumn("held-out fp32");
        ImGui::TableSetupColumn(heldout_col);
        ImGui::TableSetupColumn("change");
        ImGui::TableHeadersRow();
        for (int i = 0; i < n; ++i) {
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            const MlaPath p = rows3 ? static_cast<MlaPath>(i) : s.settings().mla_path;
            if (rows3) ImGui::TextUnformatted(to_string(p));
            else if (s.config().is_mla()) ImGui::Text("MLA %s", to_string(p));
            else ImGui::TextUnformatted(display_name(s.config().attn_kind()));
            ImGui::TableNextColumn();
            const double v = !d ? NAN : rows3 ? d->vs_fp32[static_cast<size_t>(i)] : d->main_vs_fp32;
            if (std::isnan(v)) ImGui::TextDisabled("step once");
            else ImGui::Text("%.3g", v);
            // The held-out row of this path (MLA: every path was scored; others: the one row).
            const CacheDtypeLoss* r = nullptr;
            if (done)
                for (const CacheDtypeLoss& x : e.rows)
                    if (!e.mla || x.path == p) r = &x;
            ImGui::TableNextColumn();
            if (r) ImGui::Text("%.5f", bits_per_byte(r->fp32));
            else ImGui::TextDisabled("-");
            ImGui::TableNextColumn();
            if (r) ImGui::Text("%.5f", bits_per_byte(r->stored));
            else ImGui::TextDisabled("-");
            ImGui::TableNextColumn();
            if (r) ImGui::Text("%+.5f", r->bits_change());
            else ImGui::TextDisabled("-");
        }
        ImGui::EndTable();
    }
    text_wrapped_colored(pal.dim, "|logit change|: the largest, at step %lld, against the same run with an fp32 cache; held-out: "
                                  "bits per byte (lower is better)", static_cast<long long>(std::max<int64_t>(step, 0) + 1));
    heldout_button(f, cmds, pal);
    text_wrapped_colored(pal.dim,
                         "For scale: mlx-lm reported perplexity 4.473 -> 4.606 for a DeepSeek model with absorbed MLA in low "
                         "precision, where the absorbed path drifts most. Here only the stored rows are rounded and the maths "
                         "stays fp32, so the paths move alike; and these are bits per byte of a %lld-layer byte model.",
                         static_cast<long long>(s.config().num_hidden_layers));
}

}  // namespace mla::app
