// Convert: see convert_view.h.
//
// [SECTION] Loading and applying (no ImGui)
// [SECTION] Drawing
#include "views/convert_view.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "base/assets.h"
#include "base/error.h"
#include "io/model_folder.h"
#include "model/cpu_backend.h"
#include "widgets/colormap.h"
#include "widgets/plot.h"

namespace mla::app {

// ============================================================================================
// [SECTION] Loading and applying (no ImGui)
// ============================================================================================

void ConvertView::load() {
    loaded_ = true;
    try {
        const std::string dir = find_assets_subdir("models");
        if (dir.empty()) throw InputError("no assets/models folder was found next to the program or in the source tree");
        sources.clear();
        scratch.clear();
        for (const char* kind : {"mha", "gqa", "mqa", "mla"}) {
            TrainedModel m = load_trained_model((std::filesystem::path(dir) / (std::string(kind) + "-fortunes")).string());
            scratch.push_back(m);
            if (!m.cfg.is_mla()) sources.push_back(m);
        }
        const std::string conv = (std::filesystem::path(dir) / "conversions").string();
        sweep = read_sweep_csv(conv + "/mha-fortunes-sweep.csv");
        finetune = read_finetune_csv(conv + "/mha-fortunes-finetune.csv");
        error.clear();
    } catch (const InputError& e) {
        error = e.what();
    }
}

void ConvertView::apply() {
    if (sources.empty()) return;
    try {
        const TrainedModel& m = sources[static_cast<size_t>(std::clamp(source, 0, static_cast<int>(sources.size()) - 1))];
        if (!m.record) throw InputError(m.dir + " has no train.json naming its held-out text");
        Result r;
        r.source_name = m.name;
        const Weights src = load_model(m.dir);
        r.source_cfg = src.cfg;
        r.options.kv_lora_rank = kv_lora_rank;
        r.options.rope_pairs = rope_pairs;
        r.options.strategy = static_cast<RopeStrategy>(strategy);
        r.options.svd = static_cast<SvdMode>(svd);
        const std::string heldout = read_heldout(m);
        r.seq_len = m.record->options.seq_len;
        r.windows = live_windows;
        if (r.options.strategy == RopeStrategy::Norm)
            for (unsigned char ch : heldout.substr(0, static_cast<size_t>(r.seq_len))) r.options.calibration_tokens.push_back(ch);
        r.conv = convert_to_mla(src, r.options);
        CpuBackend cpu(0);  // 0: leave Eigen's thread count (the session's backend shares it) as it is
        r.source_loss = bits_per_byte(heldout_loss(src, {}, cpu, heldout, r.seq_len, r.windows));
        r.loss = bits_per_byte(heldout_loss(r.conv.weights, {}, cpu, heldout, r.seq_len, r.windows));
        std::vector<int64_t> toks;
        for (unsigned char ch : prompt) {
            toks.push_back(ch);
            r.labels.push_back(ch == ' ' ? std::string("' '") : ch == '\n' ? std::string("\\n") : std::string(1, static_cast<char>(ch)));
        }
        r.before = attention_maps(src, toks);
        r.after = attention_maps(r.conv.weights, toks);
        result = std::move(r);
        has_result = true;
        maps_dirty_ = true;
        error.clear();
    } catch (const InputError& e) {
        error = e.what();
    }
}

void ConvertView::configure(const std::string& spec) {
    if (!loaded_) load();
    if (!error.empty()) throw InputError(error);
    std::vector<std::string> parts;
    size_t a = 0;
    while (true) {
        const size_t b = spec.find(',', a);
        parts.push_back(spec.substr(a, b == std::string::npos ? std::string::npos : b - a));
        if (b == std::string::npos) break;
        a = b + 1;
    }
    const std::string form = "; use SOURCE,D_C,R[,STRATEGY[,SVD]], e.g. gqa-fortunes,24,4,norm,split";
    if (parts.size() < 3 || parts.size() > 5) throw InputError("--convert '" + spec + "' has " + std::to_string(parts.size()) + " parts" + form);
    int found = -1;
    std::string names;
    for (size_t i = 0; i < sources.size(); ++i) {
        if (sources[i].name == parts[0]) found = static_cast<int>(i);
        names += (i ? ", " : "") + sources[i].name;
    }
    if (found < 0) throw InputError("--convert: source '" + parts[0] + "' is not one of " + names);
    auto number = [&](const std::string& s, const char* what) {
        if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos)
            throw InputError(std::string("--convert: ") + what + " '" + s + "' must be a positive integer" + form);
        return static_cast<int64_t>(std::stoll(s));
    };
    source = found;
    kv_lora_rank = number(parts[1], "D_C");
    rope_pairs = number(parts[2], "R");
    if (parts.size() > 3) strategy = static_cast<int>(parse_rope_strategy(parts[3]));
    if (parts.size() > 4) svd = static_cast<int>(parse_svd_mode(parts[4]));
    apply();
    if (!error.empty()) throw InputError("--convert: " + error);
}

// ============================================================================================
// [SECTION] Drawing
// ============================================================================================

namespace {

const char* const kStrategies[] = {"high: the fastest pairs", "low: the slowest pairs", "uniform: evenly spaced",
                                   "norm: largest q, k norms on the text"};
const char* const kSvd[] = {"joint: one SVD of [K_nope ; V]", "split: K_nope and V apart"};


void spectrum_chart(const ConvertView::Result& r, ImVec2 size) {
    widgets::PlotAxes ax;
    ax.title = r.options.svd == SvdMode::Joint ? "Singular values of [W_K,nope ; W_V] per layer; the cut keeps d_c"
                                               : "Singular values of W_K,nope (K) and of W_V (V) per layer";
    ax.x = {"index", widgets::AxisScale::Linear, widgets::AxisFormat::Count};
    ax.y = {"singular value", widgets::AxisScale::Log10, widgets::AxisFormat::Number};
    ax.legend = widgets::LegendPos::TopRight;
    if (!widgets::BeginPlot("##convert_sv", size, ax)) return;
    for (size_t l = 0; l < r.conv.layers.size(); ++l) {
        const ConvertLayer& cl = r.conv.layers[l];
        auto line = [&](const std::vector<double>& s, const char* suffix, int color) {
            std::vector<double> xs(s.size());
            for (size_t i = 0; i < s.size(); ++i) xs[i] = static_cast<double>(i + 1);
            char label[64];
            std::snprintf(label, sizeof label, "layer %zu%s", l, suffix);
            widgets::PlotLine(label, xs.data(), s.data(), static_cast<int>(s.size()), widgets::categorical_color(color));
        };
        line(cl.singular_values, r.options.svd == SvdMode::Joint ? "" : " K", static_cast<int>(l));
        if (r.options.svd == SvdMode::Split) line(cl.singular_values_v, " V", static_cast<int>(l) + 3);
    }
    if (r.options.svd == SvdMode::Joint) {
        char cut[48];
        std::snprintf(cut, sizeof cut, "d_c = %lld", static_cast<long long>(r.options.kv_lora_rank));
        widgets::PlotVLine(static_cast<double>(r.options.kv_lora_rank) + 0.5, cut);
    }
    widgets::EndPlot();
}

void loss_chart(const ConvertView& v, ImVec2 size) {
    const ConvertView::Result& r = v.result;
    widgets::PlotAxes ax;
    ax.title = "Held-out loss against the cache (MHA source; lower left is better)";
    ax.x = {"cache per token, all layers (float32)", widgets::AxisScale::Log10, widgets::AxisFormat::BytesBinary};
    ax.y = {"bits per byte", widgets::AxisScale::Linear, widgets::AxisFormat::Number};
    ax.legend = widgets::LegendPos::TopRight;
    if (!widgets::BeginPlot("##convert_loss", size, ax)) return;
    // the sweep: one line per r, converted without fine-tuning, for the strategy picked
    // (the shipped table has high and norm; another shows high's)
    const std::string picked = to_string(static_cast<RopeStrategy>(v.strategy));
    const bool has = std::any_of(v.sweep.begin(), v.sweep.end(), [&](const ShippedPoint& p) { return p.strategy == picked; });
    const std::string shown = has ? picked : "high";
    std::vector<int64_t> rs;
    for (const ShippedPoint& p : v.sweep)
        if (p.strategy == shown && std::find(rs.begin(), rs.end(), p.rope_pairs) == rs.end()) rs.push_back(p.rope_pairs);
    for (size_t i = 0; i < rs.size(); ++i) {
        std::vector<double> xs, ys;
        for (const ShippedPoint& p : v.sweep)
            if (p.strategy == shown && p.rope_pairs == rs[i]) {
                xs.push_back(4.0 * static_cast<double>(p.cache_elements));
                ys.push_back(p.loss_bits);
            }
        char label[64];
        std::snprintf(label, sizeof label, "%s, r = %lld", shown.c_str(), static_cast<long long>(rs[i]));
        widgets::PlotLine(label, xs.data(), ys.data(), static_cast<int>(xs.size()), widgets::colormap(
                              0.15f + 0.7f * static_cast<float>(i) / static_cast<float>(std::max<size_t>(1, rs.size() - 1))));
    }
    // fine-tuned points: unlabelled dots (the table under the charts names them), the models
    // trained from scratch: their kind
    for (const ShippedPoint& p : v.finetune)
        widgets::PlotMarker(4.0 * static_cast<double>(p.cache_elements), p.loss_bits, "", widgets::categorical_color(5));
    for (const TrainedModel& m : v.scratch)
        widgets::PlotMarker(4.0 * static_cast<double>(m.cache_elements), bits_per_byte(m.last().val_loss),
                            display_name(m.cfg.attn_kind()), kind_color(m.cfg.attn_kind()));
    if (v.has_result && r.source_name == "mha-fortunes")
        widgets::PlotMarker(4.0 * static_cast<double>(r.conv.cache_elements_after), r.loss, "now", 0);
    widgets::EndPlot();
}

}  // namespace

void ConvertView::upload_maps() {
    maps_dirty_ = false;
    const Result& r = result;
    if (r.before.tokens == 0) return;
    layer = std::clamp(layer, 0, static_cast<int>(r.before.layers) - 1);
    head = std::clamp(head, 0, static_cast<int>(r.before.heads) - 1);
    const int T = static_cast<int>(r.before.tokens);
    map_before_.update(r.before.map(layer, head), T, T, 0.0f, 1.0f, true);
    map_after_.update(r.after.map(layer, head), T, T, 0.0f, 1.0f, true);
}

void ConvertView::draw(const Frame& f, Commands& cmds) {
    if (!loaded_) load();
    if (!has_result && error.empty()) apply();
    const Palette pal = palette(f.dark);
    const float font = ImGui::GetFontSize();

    // ---- settings
    bool go = false;
    const bool narrow = ImGui::GetContentRegionAvail().x < font * 52;  // one row of settings would be cut off
    ImGui::SetNextItemWidth(font * 10);
    if (!sources.empty()) {
        const char* preview = sources[static_cast<size_t>(std::clamp(source, 0, static_cast<int>(sources.size()) - 1))].name.c_str();
        if (ImGui::BeginCombo("source", preview)) {
            for (int i = 0; i < static_cast<int>(sources.size()); ++i)
                if (ImGui::Selectable(sources[static_cast<size_t>(i)].name.c_str(), i == source)) {
                    source = i;
                    go = true;
                }
            ImGui::EndCombo();
        }
        ImGui::SameLine();
    }
    if (number_field("d_c latent", &kv_lora_rank, 4, font * 7)) go = true;
    if (!narrow) ImGui::SameLine();
    if (number_field("RoPE pairs r", &rope_pairs, 1, font * 6)) go = true;
    ImGui::SetNextItemWidth(font * 15);
    if (ImGui::Combo("pairs kept", &strategy, kStrategies, 4)) go = true;
    if (!narrow) ImGui::SameLine();
    ImGui::SetNextItemWidth(font * 16);
    if (ImGui::Combo("SVD", &svd, kSvd, 2)) go = true;
    ImGui::SameLine();
    if (ImGui::Button("Apply")) go = true;
    if (go) apply();
    if (!error.empty()) text_wrapped_colored(pal.warn, "%s (showing the last good conversion)", error.c_str());
    if (!has_result) {
        empty_state("No conversion yet: the trained models were not found.");
        return;
    }
    const Result& r = result;
    const int64_t Dh = r.source_cfg.head_dim, G = r.source_cfg.num_key_value_heads, L = r.source_cfg.num_hidden_layers;
    const int64_t before = 4 * r.conv.cache_elements_before, after = 4 * r.conv.cache_elements_after;
    const int64_t C = r.options.kv_lora_rank, R = r.options.rope_pairs;

    ImGui::BeginChild("##convert_body", ImVec2(0, 0), false);
    ImGui::PushTextWrapPos(ImGui::GetContentRegionAvail().x);
    mono_text(f, "%s (%s, head dim %lld, %lld KV heads) -> MLA: d_c = %lld, %lld of %lld RoPE pairs per head (%s), %s SVD",
              r.source_name.c_str(), display_name(r.source_cfg.attn_kind()), static_cast<long long>(Dh),
              static_cast<long long>(G), static_cast<long long>(C), static_cast<long long>(R),
              static_cast<long long>(Dh / 2), to_string(r.options.strategy), to_string(r.options.svd));
    mono_text(f, "cache per token, %lld layers, float32: 2 x %lld x %lld x 4 B x %lld = %s  ->  (%lld + %lld x %lld) x 4 B x %lld = %s (%.1f%%)",
              static_cast<long long>(L), static_cast<long long>(G), static_cast<long long>(Dh), static_cast<long long>(L),
              fmt_bytes(static_cast<double>(before)).c_str(), static_cast<long long>(C), static_cast<long long>(G),
              static_cast<long long>(2 * R), static_cast<long long>(L), fmt_bytes(static_cast<double>(after)).c_str(),
              100.0 * double(after) / double(before));
    mono_text(f, "held-out loss, %lld windows of %lld bytes: source %.3f bits/byte, converted %.3f (%+.3f), no fine-tuning",
              static_cast<long long>(r.windows), static_cast<long long>(r.seq_len), r.source_loss, r.loss, r.loss - r.source_loss);
    std::string errs = "per layer, relative error of the compressed weights (energy kept):";
    for (size_t l = 0; l < r.conv.layers.size(); ++l) {
        char buf[96];
        std::snprintf(buf, sizeof buf, "  layer %zu %.3f (%.1f%%)", l, r.conv.layers[l].relative_error,
                      100 * r.conv.layers[l].energy_kept);
        errs += buf;
    }
    mono_text(f, "%s", errs.c_str());
    ImGui::PopTextWrapPos();

    // ---- the two charts side by side (stacked when narrow)
    const float avail = ImGui::GetContentRegionAvail().x;
    const bool side_by_side = avail > font * 50;
    const float chart_w = side_by_side ? (avail - font) * 0.5f : avail;
    const float chart_h = font * 17;
    spectrum_chart(r, ImVec2(chart_w, chart_h));
    if (side_by_side) ImGui::SameLine(0, font);
    loss_chart(*this, ImVec2(chart_w, chart_h));
    ImGui::PushTextWrapPos(ImGui::GetContentRegionAvail().x);
    {  // the points of the loss chart in words
        ImGui::TextUnformatted("Purple dots: converted, then fine-tuned (held-out bits per byte, 64 windows):");
        const ImGuiTableFlags tf = ImGuiTableFlags_Borders | ImGuiTableFlags_SizingFixedFit | ImGuiTableFlags_RowBg;
        if (!finetune.empty() && ImGui::BeginTable("##finetuned", 6, tf)) {
            for (const char* h : {"d_c", "r", "pairs", "cache per token", "converted", "fine-tuned"}) ImGui::TableSetupColumn(h);
            ImGui::TableHeadersRow();
            for (const ShippedPoint& p : finetune) {
                ImGui::TableNextRow();
                ImGui::TableNextColumn();
                ImGui::Text("%lld", static_cast<long long>(p.kv_lora_rank));
                ImGui::TableNextColumn();
                ImGui::Text("%lld", static_cast<long long>(p.rope_pairs));
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(p.strategy.c_str());
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(fmt_bytes(4.0 * static_cast<double>(p.cache_elements)).c_str());
                ImGui::TableNextColumn();
                ImGui::Text("%.3f", p.loss_bits_converted);
                ImGui::TableNextColumn();
                ImGui::Text("%.3f", p.loss_bits);
            }
            ImGui::EndTable();
        }
        std::string trained = "Trained from scratch:";
        for (const TrainedModel& m : scratch) {
            char buf[128];
            std::snprintf(buf, sizeof buf, "  %s (%s) %.3f;", display_name(m.cfg.attn_kind()),
                          fmt_bytes(4.0 * static_cast<double>(m.cache_elements)).c_str(), bits_per_byte(m.last().val_loss));
            trained += buf;
        }
        mono_text(f, "%s  (bits per byte)", trained.c_str());
    }
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.dim),
                       "Lines: the trained MHA model converted at each d_c and r with the pairs chosen as named, not "
                       "fine-tuned (tools/make_conversion_points.sh, 64 held-out windows). Purple dots: converted, then "
                       "fine-tuned %lld steps (%s bytes) with mla-lab train --init. MHA, GQA, MQA, MLA: the Quality view's "
                       "models, trained from scratch for 2,000 steps (4.1M bytes).",
                       static_cast<long long>(finetune.empty() ? 0 : finetune.front().steps),
                       fmt_count(finetune.empty() ? 0.0 : static_cast<double>(finetune.front().bytes)).c_str());
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(pal.dim),
                       "The papers, at their scale: MHA2MLA (Ji et al. 2025) cuts Llama-2-7B's KV cache by 92.19%% for about "
                       "0.5%% on LongBench, fine-tuning on 0.3%% to 0.6%% of the pretraining data; TransMLA (Meng et al. 2025) "
                       "compresses 93%% of Llama-2-7B's cache. Ours are 180k-parameter byte models: removing RoPE from a "
                       "dimension costs them far more before fine-tuning, and a few hundred steps recover most of it.");
    ImGui::PopTextWrapPos();

    // ---- attention maps, before and after
    ImGui::Separator();
    ImGui::Text("Attention weights for \"%s\"", prompt.c_str());
    ImGui::SetNextItemWidth(font * 6);
    bool pick = ImGui::SliderInt("layer", &layer, 0, static_cast<int>(r.before.layers) - 1);
    ImGui::SameLine();
    ImGui::SetNextItemWidth(font * 6);
    pick |= ImGui::SliderInt("head", &head, 0, static_cast<int>(r.before.heads) - 1);
    if (pick || maps_dirty_) upload_maps();
    std::vector<const char*> labels;
    for (const std::string& s : r.labels) labels.push_back(s.c_str());
    const float map_w = side_by_side ? chart_w : avail;
    const float side = std::min(map_w, font * 24);
    widgets::HeatmapOptions o;
    o.row_labels = labels.data();
    o.col_labels = labels.data();
    o.row_title = "query";
    o.col_title = "key";
    o.tooltip = !f.exporting;
    ImGui::BeginGroup();
    ImGui::Text("source (%s)", display_name(r.source_cfg.attn_kind()));
    map_before_.draw("##before", ImVec2(side, side), o);
    ImGui::EndGroup();
    if (side_by_side) ImGui::SameLine(0, font);
    ImGui::BeginGroup();
    ImGui::Text("converted (MLA, d_c %lld, r %lld)", static_cast<long long>(C), static_cast<long long>(R));
    map_after_.draw("##after", ImVec2(side, side), o);
    ImGui::EndGroup();
    ImGui::EndChild();
    (void)cmds;
}

}  // namespace mla::app
