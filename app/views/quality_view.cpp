// Quality: see quality_view.h.
//
// [SECTION] What to show (no ImGui)
// [SECTION] Charts
// [SECTION] Table and findings
#include "views/quality_view.h"

#include <algorithm>
#include <cmath>

#include "base/assets.h"
#include "base/check.h"
#include "io/builtin.h"
#include "io/model_folder.h"
#include "model/cpu_backend.h"
#include "widgets/colormap.h"
#include "widgets/plot.h"

namespace mla::app {

// ============================================================================================
// [SECTION] What to show (no ImGui)
// ============================================================================================

const char* paper_capability(AttnKind kind) {
    switch (kind) {
        case AttnKind::MHA: return "Strong";
        case AttnKind::GQA: return "Moderate";
        case AttnKind::MQA: return "Weak";
        case AttnKind::MLA: return "Stronger";
    }
    return "?";
}

void QualityView::load() {
    loaded_ = true;
    try {
        const std::string dir = folder.empty() ? find_assets_subdir("models") : folder;
        if (dir.empty()) throw InputError("no assets/models folder was found next to the program or in the source tree");
        std::vector<TrainedModel> m = load_trained_models(dir);
        models = std::move(m);
        sets = quality_sets(models);
        set = std::clamp(set, 0, std::max(0, static_cast<int>(sets.size()) - 1));
        shown_set_ = -1;
        rescored.clear();
        error.clear();
    } catch (const InputError& e) {
        error = e.what();
    }
}

const std::vector<TrainedModel>& QualityView::shown() {
    if (shown_set_ != set) {
        shown_ = sets.empty() ? std::vector<TrainedModel>{} : models_in_set(models, sets[static_cast<size_t>(set)]);
        findings_ = quality_findings(shown_);
        shown_set_ = set;
    }
    return shown_;
}

const QualityFindings& QualityView::findings() {
    shown();
    return findings_;
}

void QualityView::rescore() {
    if (sets.empty()) return;
    try {
        const std::vector<TrainedModel>& ms = shown();
        for (const KindQuality& k : findings().kinds) {
            const TrainedModel& m = ms[k.runs[0]];
            if (!m.record) continue;
            CpuBackend cpu(0);  // 0: leave Eigen's thread count (the session's backend shares it) as it is
            rescored[m.name] = heldout_loss(load_model(m.dir), RunOptions{}, cpu, read_heldout(m),
                                            m.record->options.seq_len, m.record->options.val_windows);
        }
        error.clear();
    } catch (const InputError& e) {
        error = e.what();
    }
}

// ============================================================================================
// [SECTION] Charts
// ============================================================================================

namespace {


std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

ImU32 faded(ImU32 c) { return (c & ~IM_COL32_A_MASK) | (80u << IM_COL32_A_SHIFT); }

void loss_chart(const std::vector<TrainedModel>& ms, const QualityFindings& q, bool from_start, ImVec2 size) {
    widgets::PlotAxes ax;
    ax.title = "Validation loss while training (lower is better)";
    ax.x = {"training step", widgets::AxisScale::Linear, widgets::AxisFormat::Count};
    ax.y = {"nats per byte", widgets::AxisScale::Linear, widgets::AxisFormat::Number};
    ax.legend = widgets::LegendPos::TopRight;
    const int64_t first = from_start ? 0 : 300;  // before ~step 300 the loss falls from 6 to 2.2 and flattens the rest
    if (!widgets::BeginPlot("##quality_loss", size, ax)) return;
    for (const KindQuality& k : q.kinds) {
        const ImU32 col = kind_color(k.kind);
        if (k.runs.size() > 1)  // each seed, faint (no legend entry)
            for (size_t j = 0; j < k.runs.size(); ++j) {
                const TrainedModel& m = ms[k.runs[j]];
                std::vector<double> xs, ys;
                for (const TrainCurvePoint& p : m.rows)
                    if (p.step >= first) {
                        xs.push_back(static_cast<double>(p.step));
                        ys.push_back(p.val_loss);
                    }
                const std::string id = "##" + m.dir;
                widgets::PlotLine(id.c_str(), xs.data(), ys.data(), static_cast<int>(xs.size()), faded(col), 1.0f);
            }
        std::vector<double> xs, ys;  // the mean over the seeds (the one run when there is one)
        for (size_t i = 0; i < k.curve_steps.size(); ++i)
            if (k.curve_steps[i] >= first) {
                xs.push_back(static_cast<double>(k.curve_steps[i]));
                ys.push_back(k.curve_mean[i]);
            }
        const std::string label = std::string(display_name(k.kind)) + "##mean";
        widgets::PlotLine(label.c_str(), xs.data(), ys.data(), static_cast<int>(xs.size()), col);
    }
    widgets::EndPlot();
}

void tradeoff_chart(const QualityFindings& q, ImVec2 size) {
    widgets::PlotAxes ax;
    ax.title = "Final loss against cache per token (lower left is better)";
    ax.x = {"cache per token (all layers, float32)", widgets::AxisScale::Linear, widgets::AxisFormat::Bytes};
    double widest = 0;
    for (const KindQuality& k : q.kinds) widest = std::max(widest, static_cast<double>(k.cache_bytes));
    ax.x.min = 0;
    ax.x.max = widest * 1.45;  // room on the right for the labels
    ax.y = {"nats per byte", widgets::AxisScale::Linear, widgets::AxisFormat::Number};
    ax.legend = widgets::LegendPos::None;
    if (!widgets::BeginPlot("##quality_tradeoff", size, ax)) return;
    for (const KindQuality& k : q.kinds) {
        const double x = static_cast<double>(k.cache_bytes);
        const ImU32 col = kind_color(k.kind);
        if (k.runs.size() > 1) {  // the spread between seeds: a bar from the lowest to the highest
            const double xs[2] = {x, x}, ys[2] = {k.min, k.max};
            const std::string id = "##range" + std::string(to_string(k.kind));
            widgets::PlotLine(id.c_str(), xs, ys, 2, col, ImGui::GetFontSize() * 0.3f);
        }
        const std::string label = std::string(display_name(k.kind)) + " " + fixed(k.mean, 4);
        widgets::PlotMarker(x, k.mean, label.c_str(), col);
    }
    widgets::EndPlot();
}

}  // namespace

// ============================================================================================
// [SECTION] Table and findings
// ============================================================================================

void QualityView::draw(const Frame& f, Commands& cmds) {
    (void)cmds;
    if (!loaded_) {  // first draw: open on the set of the weights that run
        load();
        const auto it = std::find(sets.begin(), sets.end(), f.session.settings().trained_set);
        if (it != sets.end()) set = static_cast<int>(it - sets.begin());
    }
    const Palette pal = palette(f.dark);
    const float font = ImGui::GetFontSize();
    if (sets.empty()) {
        if (!error.empty()) text_wrapped_colored(pal.warn, "%s", error.c_str());
        return empty_state("No trained models to compare: train some with `mla-lab train` (see README.md).");
    }
    const std::vector<TrainedModel>& ms = shown();
    const QualityFindings& q = findings();
    // What the user asks for is done after drawing, so `ms` and `q` stay valid through the frame.
    int next_set = set;
    bool reload = false, do_rescore = false;
    // A narrow panel (the lesson's live view, a tile) stacks the header and keeps the table's main columns.
    const bool wide = ImGui::GetContentRegionAvail().x > font * 62;
    size_t most_runs = 1;
    for (const KindQuality& k : q.kinds) most_runs = std::max(most_runs, k.runs.size());

    // ---- the question, and the set
    ImGui::TextWrapped("Does a smaller KV cache cost quality? One model per attention kind, the same size and the same "
                       "training budget, scored on text they never trained on.");
    if (sets.size() > 1) {
        ImGui::SetNextItemWidth(font * 10);
        if (ImGui::BeginCombo("models", sets[static_cast<size_t>(set)].c_str())) {
            for (int i = 0; i < static_cast<int>(sets.size()); ++i)
                if (ImGui::Selectable(sets[static_cast<size_t>(i)].c_str(), i == set)) next_set = i;
            ImGui::EndCombo();
        }
        ImGui::SameLine();
    }
    ImGui::Checkbox("from step 0", &from_start);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Also plot the first 300 steps, where the loss falls from 6.0 (a uniform guess over 256 bytes) to about 2.2");
    ImGui::SameLine();
    if (ImGui::SmallButton("Reload")) reload = true;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Read the model folders again (after training a new model into assets/models)");
    if (!ms.empty() && ms[0].record) {
        const TrainRecord& r = *ms[0].record;
        if (wide) ImGui::SameLine();
        text_wrapped_colored(pal.dim, "trained on %s (%s bytes, %s held out); %lld steps of %lld x %lld bytes = %s bytes seen",
                             r.corpus_name.c_str(), fmt_count(double(r.corpus_bytes)).c_str(),
                             fmt_count(double(r.heldout_bytes)).c_str(), static_cast<long long>(r.options.steps),
                             static_cast<long long>(r.options.batch), static_cast<long long>(r.options.seq_len),
                             fmt_count(double(ms[0].last().tokens_seen)).c_str());
    }
    if (!error.empty()) text_wrapped_colored(pal.warn, "%s", error.c_str());

    // ---- the two charts
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float chart_h = std::max(font * 12, avail.y * 0.44f);
    const float left_w = avail.x * (wide ? 0.56f : 0.48f);  // narrow: more room for the point labels
    ImGui::BeginGroup();
    loss_chart(ms, q, from_start, ImVec2(left_w, chart_h));
    ImGui::EndGroup();
    ImGui::SameLine();
    ImGui::BeginGroup();
    tradeoff_chart(q, ImVec2(avail.x - left_w - ImGui::GetStyle().ItemSpacing.x, chart_h));
    ImGui::EndGroup();
    if (most_runs > 1)
        text_wrapped_colored(pal.dim, "Validation loss on held-out text, in nats per byte. Bold lines: the mean over the seeds; faint "
                             "lines: each seed (seed 1 is the built-in model the app runs). Right: the mean, and a bar from the "
                             "lowest seed to the highest.");
    else
        text_wrapped_colored(pal.dim, "Validation loss on held-out text, in nats per byte.");

    // ---- the table, one row per kind
    const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit;
    if (ImGui::BeginTable("##quality_table", wide ? 9 : 5, flags)) {
        ImGui::TableSetupColumn(wide ? "kind: built-in model" : "kind", ImGuiTableColumnFlags_WidthStretch);
        if (wide) ImGui::TableSetupColumn("parameters");
        ImGui::TableSetupColumn("cache per token");
        ImGui::TableSetupColumn("vs MHA");
        if (wide) {
            ImGui::TableSetupColumn("val loss, seed 1");
            ImGui::TableSetupColumn("re-scored");
            ImGui::TableSetupColumn("seeds");
        }
        ImGui::TableSetupColumn(most_runs > 1 ? "mean (lowest - highest)" : "validation loss");
        ImGui::TableSetupColumn("paper, Table 1");
        ImGui::TableHeadersRow();
        for (const KindQuality& k : q.kinds) {
            const TrainedModel& m = ms[k.runs[0]];
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            const ImVec2 p = ImGui::GetCursorScreenPos();
            const float y = p.y + ImGui::GetTextLineHeight() * 0.5f;
            ImGui::GetWindowDrawList()->AddLine(ImVec2(p.x, y), ImVec2(p.x + font * 1.2f, y), kind_color(k.kind), font * 0.25f);
            ImGui::Dummy(ImVec2(font * 1.4f, ImGui::GetTextLineHeight()));
            ImGui::SameLine();
            if (wide) ImGui::Text("%s: %s", std::string(display_name(k.kind)).c_str(), m.name.c_str());
            else ImGui::TextUnformatted(std::string(display_name(k.kind)).c_str());
            if (f.mono) ImGui::PushFont(f.mono);
            if (wide) {
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(fmt_count(double(k.params)).c_str());
            }
            ImGui::TableNextColumn();
            ImGui::Text("%s el, %s B", fmt_count(double(m.cache_elements)).c_str(), fmt_count(double(k.cache_bytes)).c_str());
            ImGui::TableNextColumn();
            if (k.kind == AttnKind::MHA) ImGui::TextDisabled("baseline");
            else if (std::isfinite(k.cache_vs_mha)) ImGui::Text("%sx less", fixed(k.cache_vs_mha, 2).c_str());
            if (wide) {
                ImGui::TableNextColumn();
                ImGui::Text("%.4f", k.first);
                ImGui::TableNextColumn();
                const auto it = rescored.find(m.name);
                if (it != rescored.end()) {
                    const bool same = std::abs(it->second - k.first) <= kRescoreTolerance;
                    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(same ? pal.good : pal.warn), "%.4f %s", it->second,
                                       same ? "same" : "DIFFERS");
                } else {
                    ImGui::TextDisabled(m.record ? "-" : "no train.json");
                }
                ImGui::TableNextColumn();
                std::string seeds;
                for (uint64_t sd : k.seeds) {
                    if (!seeds.empty()) seeds += ',';
                    seeds += std::to_string(sd);
                }
                ImGui::TextUnformatted(seeds.c_str());
            }
            ImGui::TableNextColumn();
            if (k.runs.size() > 1) ImGui::Text("%.4f (%.4f - %.4f)", k.mean, k.min, k.max);
            else ImGui::Text("%.4f", k.mean);
            if (f.mono) ImGui::PopFont();
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(paper_capability(k.kind));
        }
        ImGui::EndTable();
    }
    if (ImGui::Button("Re-score from the weights")) do_rescore = true;
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Run each built-in model through the inference decoder, one byte at a time, over the same held-out\n"
                          "windows, and compare with the validation loss written while training (train.csv)");
    ImGui::SameLine();
    text_wrapped_colored(pal.dim, "cache: MLA holds its latent c_KV and the shared RoPE key (absorbed path); parameters include embeddings");

    // ---- what the numbers say, and what the paper says
    ImGui::Spacing();
    for (const std::string& line : q.lines) {
        ImGui::Bullet();
        ImGui::TextWrapped("%s", line.c_str());
    }
    text_wrapped_colored(pal.dim,
                         "The paper (DeepSeek-V2, Table 1) rates the kinds Strong (MHA), Moderate (GQA), Weak (MQA) and "
                         "Stronger (MLA), from its ablations of 7B-scale and larger models trained on hundreds of billions "
                         "of tokens or more (its Appendix D). These models have under 200k parameters and saw %s bytes each.",
                         ms.empty() ? "?" : fmt_count(double(ms[0].last().tokens_seen)).c_str());
    set = next_set;
    if (reload) load();
    if (do_rescore) rescore();
}

}  // namespace mla::app
