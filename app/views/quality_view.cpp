// Quality: see quality_view.h.
//
// [SECTION] What to show (no ImGui)
// [SECTION] Charts
// [SECTION] Table and findings
#include "quality_view.h"

#include <algorithm>
#include <cmath>

#include "builtin.h"
#include "check.h"
#include "cpu_backend.h"
#include "model_io.h"
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
        rescored.clear();
        error.clear();
    } catch (const InputError& e) {
        error = e.what();
    }
}

void QualityView::rescore() {
    if (sets.empty()) return;
    try {
        for (const TrainedModel& m : models_in_set(models, sets[static_cast<size_t>(set)])) {
            if (!m.record) continue;
            CpuBackend cpu(1);
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

// The same colour per kind as the Cache view's curves.
ImU32 kind_color(AttnKind k) {
    switch (k) {
        case AttnKind::MHA: return widgets::categorical_color(0);
        case AttnKind::GQA: return widgets::categorical_color(1);
        case AttnKind::MQA: return widgets::categorical_color(3);
        case AttnKind::MLA: return widgets::categorical_color(2);
    }
    return widgets::categorical_color(4);
}

std::string upper(const char* s) {
    std::string out = s;
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

void loss_chart(const std::vector<TrainedModel>& ms, bool from_start, ImVec2 size) {
    widgets::PlotAxes ax;
    ax.title = "Validation loss while training (held-out text, nats per byte; lower is better)";
    ax.x = {"training step", widgets::AxisScale::Linear, widgets::AxisFormat::Count};
    ax.y = {"validation loss", widgets::AxisScale::Linear, widgets::AxisFormat::Number};
    ax.legend = widgets::LegendPos::TopRight;
    const int64_t first = from_start ? 0 : 300;  // before ~step 300 the loss falls from 6 to 2.2 and flattens the rest
    if (!widgets::BeginPlot("##quality_loss", size, ax)) return;
    for (const TrainedModel& m : ms) {
        std::vector<double> xs, ys;
        for (const TrainCurvePoint& p : m.rows)
            if (p.step >= first) {
                xs.push_back(static_cast<double>(p.step));
                ys.push_back(p.val_loss);
            }
        const std::string label = upper(to_string(m.cfg.attn_kind())) + "##" + m.name;
        widgets::PlotLine(label.c_str(), xs.data(), ys.data(), static_cast<int>(xs.size()), kind_color(m.cfg.attn_kind()));
    }
    widgets::EndPlot();
}

void tradeoff_chart(const std::vector<TrainedModel>& ms, const QualityFindings& q, ImVec2 size) {
    widgets::PlotAxes ax;
    ax.title = "Final validation loss against KV cache per token (lower left is better)";
    ax.x = {"cache per token (all layers, float32)", widgets::AxisScale::Linear, widgets::AxisFormat::Bytes};
    double widest = 0;
    for (const QualityRow& r : q.rows) widest = std::max(widest, static_cast<double>(r.cache_bytes));
    ax.x.min = 0;
    ax.x.max = widest * 1.35;  // room on the right for the labels
    ax.y = {"validation loss", widgets::AxisScale::Linear, widgets::AxisFormat::Number};
    ax.legend = widgets::LegendPos::None;
    if (!widgets::BeginPlot("##quality_tradeoff", size, ax)) return;
    for (size_t i = 0; i < ms.size(); ++i) {
        const std::string label = upper(to_string(q.rows[i].kind)) + " " + fixed(q.rows[i].val_loss, 4);
        widgets::PlotMarker(static_cast<double>(q.rows[i].cache_bytes), q.rows[i].val_loss, label.c_str(),
                            kind_color(q.rows[i].kind));
    }
    widgets::EndPlot();
}

}  // namespace

// ============================================================================================
// [SECTION] Table and findings
// ============================================================================================

void QualityView::draw(const Frame& f, Commands& cmds) {
    (void)cmds;
    if (!loaded_) load();
    const Palette pal = palette(f.dark);
    const float font = ImGui::GetFontSize();
    if (sets.empty()) {
        if (!error.empty()) text_wrapped_colored(pal.warn, "%s", error.c_str());
        return empty_state("No trained models to compare: train some with `mla-lab train` (see README.md).");
    }
    const std::vector<TrainedModel> ms = models_in_set(models, sets[static_cast<size_t>(set)]);
    const QualityFindings q = quality_findings(ms);

    // ---- the question, and the set
    ImGui::TextWrapped("Does a smaller KV cache cost quality? One model per attention kind, the same size and the same "
                       "training budget, scored on text they never trained on.");
    if (sets.size() > 1) {
        ImGui::SetNextItemWidth(font * 10);
        if (ImGui::BeginCombo("models", sets[static_cast<size_t>(set)].c_str())) {
            for (int i = 0; i < static_cast<int>(sets.size()); ++i)
                if (ImGui::Selectable(sets[static_cast<size_t>(i)].c_str(), i == set)) set = i;
            ImGui::EndCombo();
        }
        ImGui::SameLine();
    }
    if (!ms.empty() && ms[0].record) {
        const TrainRecord& r = *ms[0].record;
        ImGui::TextDisabled("trained on %s (%s bytes, %s held out); %lld steps of %lld x %lld bytes", r.corpus_name.c_str(),
                            fmt_count(double(r.corpus_bytes)).c_str(), fmt_count(double(r.heldout_bytes)).c_str(),
                            static_cast<long long>(r.options.steps), static_cast<long long>(r.options.batch),
                            static_cast<long long>(r.options.seq_len));
        ImGui::SameLine();
    }
    ImGui::Checkbox("from step 0", &from_start);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Also plot the first 300 steps, where the loss falls from 6.0 (a uniform guess over 256 bytes) to about 2.2");
    ImGui::SameLine();
    if (ImGui::SmallButton("Reload")) load();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Read the model folders again (after training a new model into assets/models)");
    if (!error.empty()) text_wrapped_colored(pal.warn, "%s", error.c_str());

    // ---- the two charts
    const ImVec2 avail = ImGui::GetContentRegionAvail();
    const float chart_h = std::max(font * 12, avail.y * 0.46f);
    const float left_w = avail.x * 0.58f;
    ImGui::BeginGroup();
    loss_chart(ms, from_start, ImVec2(left_w, chart_h));
    ImGui::EndGroup();
    ImGui::SameLine();
    ImGui::BeginGroup();
    tradeoff_chart(ms, q, ImVec2(avail.x - left_w - ImGui::GetStyle().ItemSpacing.x, chart_h));
    ImGui::EndGroup();

    // ---- the table
    const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingFixedFit;
    if (ImGui::BeginTable("##quality_table", 9, flags)) {
        ImGui::TableSetupColumn("model", ImGuiTableColumnFlags_WidthStretch);
        ImGui::TableSetupColumn("parameters");
        ImGui::TableSetupColumn("cache per token");
        ImGui::TableSetupColumn("vs MHA");
        ImGui::TableSetupColumn("tokens seen");
        ImGui::TableSetupColumn("training time");
        ImGui::TableSetupColumn("validation loss");
        ImGui::TableSetupColumn("re-scored");
        ImGui::TableSetupColumn("paper, Table 1");
        ImGui::TableHeadersRow();
        for (size_t i = 0; i < ms.size(); ++i) {
            const TrainedModel& m = ms[i];
            const QualityRow& r = q.rows[i];
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            const ImVec2 p = ImGui::GetCursorScreenPos();
            const float y = p.y + ImGui::GetTextLineHeight() * 0.5f;
            ImGui::GetWindowDrawList()->AddLine(ImVec2(p.x, y), ImVec2(p.x + font * 1.2f, y), kind_color(r.kind), font * 0.25f);
            ImGui::Dummy(ImVec2(font * 1.4f, ImGui::GetTextLineHeight()));
            ImGui::SameLine();
            ImGui::Text("%s  (%s)", m.name.c_str(), upper(to_string(r.kind)).c_str());
            if (f.mono) ImGui::PushFont(f.mono);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(fmt_count(double(m.params)).c_str());
            ImGui::TableNextColumn();
            ImGui::Text("%s el, %s", fmt_count(double(m.cache_elements)).c_str(), fmt_count(double(r.cache_bytes)).c_str());
            ImGui::SameLine(0, 0);
            ImGui::TextUnformatted(" B");
            ImGui::TableNextColumn();
            if (r.kind == AttnKind::MHA) ImGui::TextDisabled("baseline");
            else if (std::isfinite(r.cache_vs_mha)) ImGui::Text("%sx less", fixed(r.cache_vs_mha, r.cache_vs_mha < 10 ? 2 : 1).c_str());
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(fmt_count(double(m.last().tokens_seen)).c_str());
            ImGui::TableNextColumn();
            const long secs = std::lround(m.last().seconds);
            ImGui::Text("%ldm%02lds", secs / 60, secs % 60);
            ImGui::TableNextColumn();
            ImGui::Text("%.4f", r.val_loss);
            if (std::isfinite(r.loss_vs_mha) && r.kind != AttnKind::MHA) {
                ImGui::SameLine();
                ImGui::TextDisabled("%+.4f", r.loss_vs_mha);
            }
            ImGui::TableNextColumn();
            const auto it = rescored.find(m.name);
            if (it != rescored.end()) {
                const bool same = std::abs(it->second - r.val_loss) <= kRescoreTolerance;
                ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(same ? pal.good : pal.warn), "%.4f %s", it->second,
                                   same ? "same" : "DIFFERS");
            } else {
                ImGui::TextDisabled(m.record ? "-" : "no train.json");
            }
            if (f.mono) ImGui::PopFont();
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(paper_capability(r.kind));
        }
        ImGui::EndTable();
    }
    if (ImGui::Button("Re-score from the weights")) rescore();
    if (ImGui::IsItemHovered())
        ImGui::SetTooltip("Run each saved model through the inference decoder, one byte at a time, over the same held-out\n"
                          "windows, and compare with the validation loss written while training (train.csv)");
    ImGui::SameLine();
    ImGui::TextDisabled("cache: MLA holds its latent c_KV and the shared RoPE key (absorbed path); parameters include embeddings");

    // ---- what the numbers say, and what the paper says
    ImGui::Spacing();
    for (const std::string& line : q.lines) ImGui::BulletText("%s", line.c_str());
    text_wrapped_colored(pal.dim,
                         "The paper (DeepSeek-V2, Table 1) rates the kinds Strong (MHA), Moderate (GQA), Weak (MQA) and "
                         "Stronger (MLA), from its ablations of 7B-scale and larger models trained on hundreds of billions "
                         "of tokens (its Appendix D). These models have under 200k parameters and saw %s bytes each: read "
                         "small differences with care; one training run per kind is shown.",
                         ms.empty() ? "?" : fmt_count(double(ms[0].last().tokens_seen)).c_str());
}

}  // namespace mla::app
