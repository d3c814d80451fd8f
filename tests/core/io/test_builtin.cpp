// The built-in trained models load, run, their three MLA paths agree, and the validation
// losses in their train.csv are reproduced from the weights by the inference decoder.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "base/assets.h"
#include "io/builtin.h"
#include "io/model_folder.h"
#include "model/cost.h"
#include "model/cpu_backend.h"
#include "model/decoder.h"
#include "train/train_report.h"

using namespace mla;

TEST_CASE("each attention kind has a trained built-in model of the built-in sizes", "[builtin]") {
    for (AttnKind kind : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        const Config cfg = builtin_config(kind);
        const std::string dir = trained_model_dir(cfg);
        INFO(to_string(kind));
        REQUIRE(!dir.empty());
        CHECK(dir.find(std::string(to_string(kind)) + "-fortunes") != std::string::npos);
        std::string what;
        auto w = builtin_weights(cfg, WeightsSource::Auto, 1, &what);
        CHECK(what.rfind("trained model", 0) == 0);
        CHECK(w->cfg.attn_kind() == kind);
    }
    // Sizes no trained model has fall back to seeded random weights, or are refused on request.
    Config odd = builtin_config(AttnKind::MLA);
    odd.kv_lora_rank = 16;
    std::string what;
    builtin_weights(odd, WeightsSource::Auto, 3, &what);
    CHECK(what == "random weights, seed 3");
    CHECK_THROWS_WITH(builtin_weights(odd, WeightsSource::Trained, 3), Catch::Contains("no trained model"));
}

TEST_CASE("the trained MLA model's three paths agree and it writes English-like text", "[builtin][mla]") {
    auto w = builtin_weights(builtin_config(AttnKind::MLA), WeightsSource::Trained, 1);
    const std::string prompt = "Make a travel plan for Spain";
    std::vector<std::vector<float>> logits[3];
    std::string text;
    std::vector<int64_t> tokens(prompt.begin(), prompt.end());
    const MlaPath paths[3] = {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed};
    for (int p = 0; p < 3; ++p) {
        CpuBackend be;
        RunOptions o;
        o.mla_path = paths[p];
        Decoder dec(w, be, o);
        for (size_t s = 0; s < 64; ++s) {
            if (s >= tokens.size()) {  // greedy continuation chosen by the cached-kv run
                const auto& l = logits[0][s - 1];
                tokens.push_back(std::max_element(l.begin(), l.end()) - l.begin());
            }
            logits[p].push_back(dec.step(tokens[s]));
        }
    }
    float diff = 0;
    for (int p = 1; p < 3; ++p)
        for (size_t s = 0; s < 64; ++s)
            for (size_t i = 0; i < 256; ++i) diff = std::max(diff, std::abs(logits[p][s][i] - logits[0][s][i]));
    CHECK(diff <= 1e-4f);
    // The continuation is lowercase letters and spaces, not random bytes.
    int letters = 0;
    for (size_t s = prompt.size(); s < tokens.size(); ++s) letters += (tokens[s] == ' ' || std::islower(static_cast<int>(tokens[s])));
    CHECK(letters >= static_cast<int>(tokens.size() - prompt.size()) * 8 / 10);
}

TEST_CASE("the built-in models' validation losses in train.csv are reproduced from their weights", "[builtin][report]") {
    // What `mla-lab train --report assets/models` prints as re-scored: the decoder over the
    // shipped held-out text (assets/models/fortunes-heldout.txt), every MLA path.
    const std::string dir = find_assets_subdir("models");
    REQUIRE(!dir.empty());
    const std::vector<TrainedModel> models = load_trained_models(dir);
    int fortunes = 0, rescored = 0;
    for (const TrainedModel& m : models) {
        INFO(m.name);
        REQUIRE(m.record);
        CHECK(m.last().step == m.record->options.steps);
        const std::string held = read_heldout(m);  // checks size and hash against train.json, also for seeds/
        if (m.name.find("-fortunes") != std::string::npos) {
            ++fortunes;
            CHECK(m.record->options.steps == 2000);  // the same budget for every kind and seed
            CHECK(m.record->options.batch == 8);
            CHECK(m.record->options.seq_len == 256);
            CHECK(m.last().tokens_seen == 2000 * 8 * 256);
            const size_t at = m.name.find("-seed");  // seeds/<kind>-fortunes-seedN: trained with seed N
            CHECK(m.record->options.seed == (at == std::string::npos ? 1u : std::stoull(m.name.substr(at + 5))));
        }
        if (!std::filesystem::exists(std::filesystem::path(m.dir) / "model.safetensors")) continue;  // seeds/: logs only
        ++rescored;
        const Weights w = load_model(m.dir);
        for (MlaPath path : {MlaPath::Absorbed, MlaPath::CachedKV, MlaPath::Recompute}) {
            INFO(static_cast<int>(path));
            CpuBackend cpu(1);
            RunOptions run;
            run.mla_path = path;
            CHECK(std::abs(heldout_loss(w, run, cpu, held, m.record->options.seq_len, m.record->options.val_windows) -
                           m.last().val_loss) <= kRescoreTolerance);
            if (m.cfg.attn_kind() != AttnKind::MLA) break;
        }
    }
    CHECK(rescored == 8);    // {mha,gqa,mqa,mla}-{fortunes,repeat}
    CHECK(fortunes == 4 * 5);  // seed 1 and seeds 2 to 5 of each kind
}

TEST_CASE("quality findings of the built-in models: loss and cache against MHA", "[builtin][report]") {
    const std::vector<TrainedModel> ms = models_in_set(load_trained_models(find_assets_subdir("models")), "fortunes");
    const QualityFindings q = quality_findings(ms);
    REQUIRE(q.kinds.size() == 4);
    // cache per token, fp32, 3 layers: 2 x 4 x 16 = 128 (MHA), 64 (GQA, 2 KV heads), 32 (MQA),
    // 32 + 8 = 40 (MLA latent + RoPE key) elements per layer
    CHECK(q.kinds[0].cache_bytes == 128 * 3 * 4);
    CHECK(q.kinds[1].cache_bytes == 64 * 3 * 4);
    CHECK(q.kinds[2].cache_bytes == 32 * 3 * 4);
    CHECK(q.kinds[3].cache_bytes == 40 * 3 * 4);
    CHECK(q.kinds[3].cache_vs_mha == Approx(128.0 / 40.0));
    CHECK(q.kinds[2].cache_vs_mha == Approx(4.0));
    for (const KindQuality& k : q.kinds) {
        INFO(to_string(k.kind));
        const TrainedModel& first = ms[k.runs[0]];
        CHECK(first.cfg.attn_kind() == k.kind);
        CHECK(first.name == std::string(to_string(k.kind)) + "-fortunes");  // seed 1: the built-in model
        CHECK(k.seeds[0] == 1);
        CHECK(k.first == first.last().val_loss);
        double sum = 0;
        for (size_t i : k.runs) sum += ms[i].last().val_loss;
        CHECK(k.mean == Approx(sum / double(k.runs.size())));
        CHECK(k.min <= k.first);
        CHECK(k.max >= k.first);
    }
    CHECK(q.lines[0].rfind("Lowest", 0) == 0);
}

namespace {

TrainedModel fake_run(AttnKind kind, uint64_t seed, double val_loss) {
    TrainedModel m;
    m.cfg = builtin_config(kind);
    m.name = std::string(to_string(kind)) + "-test" + (seed > 1 ? "-seed" + std::to_string(seed) : "");
    m.rows.push_back({100, 2.0, val_loss, 1000, 1.0});
    m.record = TrainRecord{};
    m.record->options.seed = seed;
    m.cache_elements = cache_elements_per_token(m.cfg, MlaPath::Absorbed) * m.cfg.num_hidden_layers;
    return m;
}

}  // namespace

TEST_CASE("quality findings: means over seeds, the spread, and what exceeds it", "[report]") {
    // MHA 1.70 / 1.74, MLA 1.71 / 1.73, MQA 1.80 / 1.81 (seed order shuffled)
    const std::vector<TrainedModel> ms = {fake_run(AttnKind::MLA, 2, 1.73), fake_run(AttnKind::MHA, 1, 1.70),
                                          fake_run(AttnKind::MQA, 1, 1.80), fake_run(AttnKind::MLA, 1, 1.71),
                                          fake_run(AttnKind::MHA, 2, 1.74), fake_run(AttnKind::MQA, 2, 1.81)};
    CHECK(model_set(ms[0]) == "test");
    CHECK(model_set(ms[1]) == "test");
    const QualityFindings q = quality_findings(ms);
    REQUIRE(q.kinds.size() == 3);
    CHECK(q.kinds[0].kind == AttnKind::MHA);
    CHECK(q.kinds[1].kind == AttnKind::MQA);
    CHECK(q.kinds[2].kind == AttnKind::MLA);
    CHECK(q.kinds[2].runs == std::vector<size_t>{3, 0});  // by seed
    CHECK(q.kinds[2].first == 1.71);
    CHECK(q.kinds[0].mean == Approx(1.72));
    CHECK(q.kinds[2].mean_vs_mha == Approx(0.0));
    CHECK(q.kinds[1].mean_vs_mha == Approx(0.085));
    CHECK(q.seed_range == Approx(0.04));  // MHA: 1.70 to 1.74
    CHECK(q.kinds[0].rank == 1);          // 1.72 and MLA's 1.72: ties share the rank
    CHECK(q.kinds[2].rank == 1);
    CHECK(q.kinds[1].rank == 3);
    REQUIRE(q.lines.size() == 4);
    CHECK(q.lines[1] == "MQA: mean validation loss 0.0850 higher than MHA's (1.8050 vs 1.7200) with 4.0x less cache "
                        "(384 vs 1,536 B per token).");
    // MHA sd = MLA sd = sqrt(2 x 0.02^2) = 0.02828, MQA sd = 0.00707; SE of MQA - MHA =
    // sqrt(0.00707^2 / 2 + 0.02828^2 / 2) = 0.02062: 0.085 / 0.02062 = 4.1 standard errors
    CHECK(q.kinds[0].sd == Approx(0.028284).epsilon(1e-4));
    CHECK(q.kinds[1].se_vs_mha == Approx(0.020616).epsilon(1e-4));
    CHECK(q.kinds[1].beyond_noise);
    CHECK_FALSE(q.kinds[2].beyond_noise);
    CHECK(q.lines[3] == "From seed to seed one kind's final loss moves by up to 0.0400 (MHA: 1.7000 to 1.7400; standard "
                        "deviation up to 0.0283, MHA). Differs from MHA's mean by more than two standard errors: MQA +0.0850 "
                        "(4.1 standard errors); within that noise: MLA +0.0000 (0.0 standard errors).");
    // one run per kind: the spread is said to be unmeasured
    const QualityFindings one = quality_findings({fake_run(AttnKind::MHA, 1, 1.7), fake_run(AttnKind::GQA, 1, 1.6)});
    CHECK(one.lines.back().find("not measured") != std::string::npos);
    CHECK(one.lines[0] == "Lowest validation loss: GQA, 1.6000 nats per byte (1 run).");
}

TEST_CASE("the trained sets: fortunes first, then repeat; unknown sets are refused naming the known", "[builtin]") {
    const std::vector<std::string> sets = trained_sets();
    REQUIRE(sets.size() >= 2);
    CHECK(sets[0] == "fortunes");
    CHECK(std::find(sets.begin(), sets.end(), "repeat") != sets.end());
    CHECK_NOTHROW(check_trained_set("repeat"));
    CHECK_THROWS_WITH(check_trained_set("nosuch"), Catch::Contains("'nosuch' is not known") && Catch::Contains("fortunes, repeat"));
    std::string what;
    builtin_weights(builtin_config(AttnKind::GQA), WeightsSource::Trained, 1, &what, "repeat");
    CHECK(what == "trained model gqa-repeat");
}

TEST_CASE("the repeat models copy the word and their layer-1 heads look back exactly one word", "[builtin][repeat]") {
    // Each line of the task is one random 8-letter word written three times. After
    // "... kvcachez kvcachez " every kind writes "kvcachez" once more, and while it does, in
    // layer 1 at least one head puts most of its weight on the key 8 positions back: in the
    // previous copy, the letter that comes next (the one to write).
    const std::string prompt = "mlalabxy mlalabxy mlalabxy\nkvcachez kvcachez ";
    for (AttnKind kind : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        INFO(to_string(kind));
        auto w = builtin_weights(builtin_config(kind), WeightsSource::Trained, 1, nullptr, "repeat");
        CpuBackend be;
        Decoder dec(w, be, RunOptions{});
        std::vector<float> logits;
        std::vector<Trace> traces;
        for (unsigned char ch : prompt) {
            traces.emplace_back();
            logits = dec.step(ch, &traces.back());
        }
        std::string out;
        for (int i = 0; i < 9; ++i) {
            const int64_t tok = std::max_element(logits.begin(), logits.end()) - logits.begin();
            out += static_cast<char>(tok);
            traces.emplace_back();
            logits = dec.step(tok, &traces.back());
        }
        CHECK(out == "kvcachez\n");
        // the third copy's first 7 letters, fed at prompt.size() .. +6, each predicting the next
        for (size_t pos = prompt.size(); pos < prompt.size() + 7; ++pos) {
            float best = 0;
            for (int64_t h = 0; h < 4; ++h) {
                const std::vector<float> p = traces[pos].head_probs(1, h);
                REQUIRE(p.size() == pos + 1);
                best = std::max(best, p[pos - 8]);  // the previous copy is 9 back; the letter after it, 8
            }
            INFO("position " << pos);
            CHECK(best > 0.5f);
        }
    }
}

TEST_CASE("training curves as CSV: one row per logged point, the losses as train.csv has them", "[builtin][report]") {
    const std::vector<TrainedModel> all = load_trained_models(find_assets_subdir("models"));
    const std::string csv = training_curves_csv(all);
    size_t rows = 0;
    for (const TrainedModel& m : all) rows += m.rows.size();
    CHECK(static_cast<size_t>(std::count(csv.begin(), csv.end(), '\n')) == rows + 1);
    CHECK(csv.rfind("set,model,kind,seed,step,tokens_seen,train_loss,val_loss,cache_bytes_per_token\n", 0) == 0);
    // the last row of mla-fortunes, written from its train.csv: step 2000 after 2000 x 8 x 256 bytes
    const std::vector<TrainedModel> fortunes = models_in_set(all, "fortunes");
    const TrainedModel& mla = fortunes[15];
    REQUIRE(mla.name == "mla-fortunes");
    char row[160];
    std::snprintf(row, sizeof row, "fortunes,mla-fortunes,mla,1,2000,4096000,%.6f,%.6f,480\n", mla.last().train_loss,
                  mla.last().val_loss);
    CHECK(csv.find(row) != std::string::npos);
}

TEST_CASE("the prompt follows the trained set only when it is one of the two built-in prompts", "[builtin]") {
    CHECK(prompt_for_set(kArticlePrompt, "repeat") == kRepeatPrompt);
    CHECK(prompt_for_set(kRepeatPrompt, "fortunes") == kArticlePrompt);
    CHECK(prompt_for_set(kArticlePrompt, "fortunes") == kArticlePrompt);
    CHECK(prompt_for_set(kRepeatPrompt, "repeat") == kRepeatPrompt);
    CHECK(prompt_for_set("my own text", "repeat") == "my own text");
}
