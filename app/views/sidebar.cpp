#include "views/sidebar.h"

#include <imgui_stdlib.h>

#include <algorithm>

#include "session/backends.h"
#include "views/view_logic.h"

namespace mla::app {

namespace {

void field_error(const Frame& f, Field field, const ModelSettings& tried) {
    if (f.session.error_field() != field || f.session.error().empty()) return;
    text_wrapped_colored(palette(f.dark).warn, "%s", field_message(field, tried, f.session.error()).c_str());
    ImGui::TextDisabled("(the last good model keeps running)");
}

void help(const char* text) {
    ImGui::SameLine();
    ImGui::TextDisabled("(?)");
    if (ImGui::IsItemHovered()) {
        ImGui::BeginTooltip();
        ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28);
        ImGui::TextUnformatted(text);
        ImGui::PopTextWrapPos();
        ImGui::EndTooltip();
    }
}

// A combo over an enum whose values are 0..n-1 in the order of `names`.
template <class E>
bool enum_combo(const char* label, E* v, const char* const* names, int n) {
    int i = static_cast<int>(*v);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    if (!ImGui::Combo(label, &i, names, n)) return false;
    *v = static_cast<E>(i);
    return true;
}

// The width of a field with its -/+ buttons (as ImGui's InputScalar at 7 fonts, buttons included).
float field_width() { return ImGui::GetFontSize() * 7; }

bool input_i64(const char* label, int64_t* v, int64_t step = 1) { return number_field(label, v, step, field_width()); }

}  // namespace

void Sidebar::draw(const Frame& f, Commands& cmds) {
    const Session& s = f.session;
    if (!synced || !(s.settings() == seen)) {
        // The session changed (a good apply, or a rebuild): show what runs.
        if (s.error().empty() || !synced) edit = s.settings();
        seen = s.settings();
        prompt_edit = edit.prompt;
        synced = true;
    }
    // Applied when it changes what runs, or to retry (or clear) the message of that field.
    auto apply = [&](Field field) {
        if (!(edit == s.settings()) || s.error_field() == field) cmds.apply(edit, field);
    };
    const Config& c = s.config();

    ImGui::TextUnformatted("Attention");
    for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        if (k != AttnKind::MHA) ImGui::SameLine();
        if (ImGui::RadioButton(display_name(k), edit.kind == k)) {
            edit.kind = k;
            apply(Field::Kind);
        }
    }
    field_error(f, Field::Kind, edit);
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("built-in model: d = %lld, %lld layers, %lld query heads",
                        static_cast<long long>(c.hidden_size), static_cast<long long>(c.num_hidden_layers),
                        static_cast<long long>(c.num_attention_heads));
    ImGui::TextDisabled("context: %s", context_summary(s).c_str());
    ImGui::PopTextWrapPos();

    ImGui::Spacing();
    ImGui::Separator();
    ImGui::TextUnformatted("GQA");
    if (input_i64("KV heads", &edit.kv_heads)) apply(Field::KvHeads);
    help("num_key_value_heads: query heads are split into this many groups; each group shares one K and one V. "
         "It must divide the number of query heads. Used by GQA here and in the Compare view.");
    field_error(f, Field::KvHeads, edit);

    ImGui::Separator();
    ImGui::TextUnformatted("MLA");
    if (input_i64("d_c latent", &edit.kv_lora_rank, 8)) apply(Field::KvLoraRank);
    help("kv_lora_rank: the size of the compressed latent c_KV cached per token (DeepSeek-V2/V3: 512).");
    field_error(f, Field::KvLoraRank, edit);
    if (input_i64("d_r RoPE", &edit.rope_dim, 2)) apply(Field::RopeDim);
    help("qk_rope_head_dim: the decoupled RoPE part of each query head and the one shared rotary key k_R "
         "(DeepSeek-V2/V3: 64). Even, since RoPE rotates pairs.");
    field_error(f, Field::RopeDim, edit);
    if (input_i64("d'_c query", &edit.q_lora_rank, 8)) apply(Field::QLoraRank);
    help("q_lora_rank: query compression (DeepSeek-V2: 1536). 0 = none (q = W_Q x).");
    field_error(f, Field::QLoraRank, edit);
    if (const std::string w = mla_cache_warning(edit); !w.empty()) text_wrapped_colored(palette(f.dark).warn, "%s", w.c_str());
    static const char* paths[] = {"cached-kv", "recompute", "absorbed"};
    if (enum_combo("path", &edit.mla_path, paths, 3)) apply(Field::MlaPath);
    help("cached-kv: decompress each token's K and V and cache them per head (what HF transformers does).\n"
         "recompute: cache only c_KV and k_R, rebuild K and V for all tokens every step.\n"
         "absorbed: fold W_UK into the query and W_UV into the output; K and V never exist.");
    field_error(f, Field::MlaPath, edit);
    if (ImGui::Checkbox("RoPE on compressed keys", &edit.rope_on_latent)) apply(Field::RopeOnLatent);
    help("Applies RoPE to the no-RoPE part too (keys rotated after decompression). The absorbed path "
         "cannot do this, so its output drifts away from the other two: see the Absorption view.");
    field_error(f, Field::RopeOnLatent, edit);

    ImGui::Separator();
    if (ImGui::Checkbox("no cache (re-run the prefix)", &edit.no_cache)) apply(Field::NoCache);
    help("Article section 1: every step re-runs all earlier tokens instead of reading a KV cache.");
    static const char* dtypes[] = {"fp32", "bf16", "fp16", "fp8"};
    if (enum_combo("cache stored as", &edit.cache_dtype, dtypes, 4)) apply(Field::CacheDtype);
    help("How each cached row is stored: fp32 4 bytes per value, bf16 and fp16 2, fp8 (e4m3) 1. The maths stays "
         "fp32; rows are rounded when written. The Cache and Absorption views show the bytes held and how far the "
         "logits move from an fp32 cache (as mla-lab generate --cache-dtype).");
    if (edit.cache_dtype != CacheDtype::F32 && !edit.no_cache) {
        ImGui::PushTextWrapPos(0);
        ImGui::TextDisabled("%d bytes per cached value; each step also runs with an fp32 cache to compare",
                            cache_dtype_bytes(edit.cache_dtype));
        ImGui::PopTextWrapPos();
    }
    field_error(f, Field::CacheDtype, edit);
    static const char* sources[] = {"auto", "trained", "random"};
    if (enum_combo("weights", &edit.weights, sources, 3)) apply(Field::Weights);
    help("trained: the byte-level models in assets/models, trained on a corpus of fortunes (one per attention kind, "
         "the built-in sizes only). random: weights drawn from the seed. auto: trained when one has these sizes.");
    if (edit.weights != WeightsSource::Random) {
        if (!sets_read) {
            sets = trained_sets();
            sets_read = true;
        }
        ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
        if (ImGui::BeginCombo("trained on", edit.trained_set.c_str())) {
            for (const std::string& set : sets)
                if (ImGui::Selectable(set.c_str(), set == edit.trained_set) && set != edit.trained_set) {
                    // The copy task's models have nothing to copy in the article's prompt: give them
                    // one of their lines, and the article's prompt back when leaving.
                    edit.prompt = prompt_for_set(edit.prompt, set);
                    edit.trained_set = set;
                    apply(Field::Weights);
                }
            ImGui::EndCombo();
        }
        help("fortunes: English text (Debian's fortunes), the lesson's models.\n"
             "repeat: a synthetic task, each line one random 8-letter word written three times; heads learn to look "
             "back exactly one word (9 bytes), so their attention is crisp. Its prompt is a line of that task.");
    }
    field_error(f, Field::Weights, edit);
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("%s", s.main().weights_desc.c_str());
    ImGui::PopTextWrapPos();
    if (number_field("weights seed", &edit.seed, uint64_t{1}, field_width())) apply(Field::Seed);
    help("Random weights come from this seed (the same on every platform and backend).");
    if (number_field("sampling seed", &edit.sample_seed, uint64_t{1}, field_width())) apply(Field::SampleSeed);
    help("Seeds the sampler when the temperature is above 0 (as mla-lab generate --seed).");
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    ImGui::SliderFloat("temperature", &edit.temperature, 0.0f, 2.0f, "%.2f");
    if (ImGui::IsItemDeactivatedAfterEdit()) apply(Field::Temperature);
    help("0 = greedy (always the most likely byte). Higher values sample more freely.");
    field_error(f, Field::Temperature, edit);
    if (input_i64("top-k", &edit.top_k)) apply(Field::TopK);
    help("Sample only from the k most likely bytes (0 = all 256). Applied after the temperature; "
         "greedy ignores it (it takes the most likely byte anyway).");
    field_error(f, Field::TopK, edit);
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    ImGui::SliderFloat("top-p", &edit.top_p, 0.05f, 1.0f, "%.2f");
    if (ImGui::IsItemDeactivatedAfterEdit()) apply(Field::TopP);
    help("Then sample only from the fewest most likely bytes whose probabilities add up to p (1 = all). "
         "0.9 drops the unlikely tail that turns text into gibberish.");
    field_error(f, Field::TopP, edit);

    if (!gpu_checked) {
        gpu_ok = gpu_available(&gpu_reason);
        gpu_checked = true;
    }
    ImGui::TextUnformatted("backend");
    ImGui::SameLine();
    if (ImGui::RadioButton("cpu", edit.backend == "cpu")) {
        edit.backend = "cpu";
        apply(Field::Backend);
    }
    ImGui::SameLine();
    if (!gpu_ok) ImGui::BeginDisabled();
    if (ImGui::RadioButton("gpu", edit.backend == "gpu")) {
        edit.backend = "gpu";
        apply(Field::Backend);
    }
    if (!gpu_ok) {
        ImGui::EndDisabled();
        if (ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled)) ImGui::SetTooltip("%s", gpu_reason.c_str());
    }
    field_error(f, Field::Backend, edit);
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled("%s", s.backend_device().c_str());
    ImGui::PopTextWrapPos();

    ImGui::Separator();
    ImGui::TextUnformatted("Prompt");
    ImGui::InputTextMultiline("##prompt", &prompt_edit, ImVec2(-1, ImGui::GetTextLineHeight() * 3.2f));
    if (ImGui::IsItemDeactivatedAfterEdit() && prompt_edit != edit.prompt) {
        edit.prompt = prompt_edit;
        apply(Field::Prompt);
    }
    field_error(f, Field::Prompt, edit);

    ImGui::Separator();
    ImGui::TextUnformatted("Generated");
    ImGui::PushTextWrapPos(0);
    const std::string gen = s.generated_text();
    if (gen.empty()) ImGui::TextDisabled("(nothing yet: the prompt is fed first, one byte per step)");
    else ImGui::TextUnformatted(gen.c_str());
    if (!s.main().trained_weights)
        ImGui::TextDisabled("Random weights: the text is gibberish; the shapes, sizes and costs are exact.");
    ImGui::PopTextWrapPos();

    // A message that belongs to no field (the context is full) is shown at the top of the window.
}

}  // namespace mla::app
