// The built-in trained models load, run, their three MLA paths agree, and the validation
// losses in their train.csv are reproduced from the weights by the inference decoder.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>

#include "builtin.h"
#include "cpu_backend.h"
#include "model.h"
#include "model_io.h"
#include "train_report.h"

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
    int fortunes = 0;
    for (const TrainedModel& m : models) {
        INFO(m.name);
        REQUIRE(m.record);
        CHECK(m.last().step == m.record->options.steps);
        const std::string held = read_heldout(m);  // checks size and hash against train.json
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
        if (m.name.find("-fortunes") != std::string::npos) {
            ++fortunes;
            CHECK(m.record->options.steps == 2000);  // the same budget for every kind
            CHECK(m.last().tokens_seen == 2000 * 8 * 256);
        }
    }
    CHECK(fortunes == 4);
}

TEST_CASE("quality findings of the built-in models: loss and cache against MHA", "[builtin][report]") {
    const std::vector<TrainedModel> all = load_trained_models(find_assets_subdir("models"));
    std::vector<TrainedModel> ms;
    for (const TrainedModel& m : all)
        if (m.name.find("-fortunes") != std::string::npos) ms.push_back(m);
    REQUIRE(ms.size() == 4);
    const QualityFindings q = quality_findings(ms);
    REQUIRE(q.rows.size() == 4);
    // cache per token, fp32, 3 layers: 2 x 4 x 16 = 128 (MHA), 64 (GQA, 2 KV heads), 32 (MQA),
    // 32 + 8 = 40 (MLA latent + RoPE key) elements per layer
    CHECK(q.rows[0].cache_bytes == 128 * 3 * 4);
    CHECK(q.rows[1].cache_bytes == 64 * 3 * 4);
    CHECK(q.rows[2].cache_bytes == 32 * 3 * 4);
    CHECK(q.rows[3].cache_bytes == 40 * 3 * 4);
    CHECK(q.rows[3].cache_vs_mha == Approx(128.0 / 40.0));
    CHECK(q.rows[2].cache_vs_mha == Approx(4.0));
    CHECK(ms[3].cache_elements_cached_kv == 4 * (16 + 8 + 16) * 3);
    for (size_t i = 0; i < 4; ++i) CHECK(q.rows[i].loss_vs_mha == Approx(ms[i].last().val_loss - ms[0].last().val_loss));
    // ranks are a permutation of 1..4, rank 1 holding the smallest loss
    int seen = 0;
    for (const QualityRow& r : q.rows) {
        seen |= 1 << r.rank;
        for (const QualityRow& o : q.rows) CHECK((r.rank < o.rank) == (r.val_loss < o.val_loss));
    }
    CHECK(seen == 0b11110);
    REQUIRE(q.lines.size() == 4);
    CHECK(q.lines[0].rfind("Lowest validation loss: ", 0) == 0);
    CHECK(q.lines[3].find("mla-fortunes: validation loss") == 0);
    CHECK(q.lines[3].find("3.2x less cache (480 vs 1,536 B per token)") != std::string::npos);
}
