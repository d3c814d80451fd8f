// The session with no window: stepping, scrubbing, changing the model, an impossible
// setting (the last good model keeps running), fixing it; lockstep lanes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>

#include "io/builtin.h"
#include "model/cpu_backend.h"
#include "session/session.h"
#include "views/timeline.h"

using namespace mla;
using namespace mla::app;

namespace {
SessionOptions light() {
    SessionOptions o;
    o.compare = false;
    o.paths = false;
    return o;
}
}  // namespace

TEST_CASE("session: starts on the built-in MLA model with the article's prompt", "[session]") {
    Session s;
    CHECK(s.settings().prompt == "Make a travel plan for Spain");
    CHECK(s.config().attn_kind() == AttnKind::MLA);
    CHECK(s.steps() == 0);
    CHECK(s.selected() == -1);
    CHECK(s.trace() == nullptr);
    CHECK(s.error().empty());
    CHECK(s.backend_name() == "cpu");
    CHECK_THAT(s.main().weights_desc, Catch::Contains("trained"));   // assets/models has the built-in sizes
}

TEST_CASE("session: sizes with no trained model fall back to random weights, or fail when trained is asked", "[session]") {
    ModelSettings ms;
    ms.kv_lora_rank = 48;
    Session s(ms, light());
    CHECK_THAT(s.main().weights_desc, Catch::Contains("random"));
    ModelSettings t = s.settings();
    t.weights = WeightsSource::Trained;
    CHECK_FALSE(s.apply_settings(t, Field::Weights));
    CHECK(s.error_field() == Field::Weights);
    CHECK(s.settings().weights == WeightsSource::Auto);
}

TEST_CASE("session: the trained set switches every kind's weights; an unknown set names the field", "[session]") {
    Session s(ModelSettings{}, light());
    ModelSettings t = s.settings();
    t.trained_set = "repeat";
    t.prompt = kRepeatPrompt;
    REQUIRE(s.apply_settings(t, Field::Weights));
    CHECK(s.main().weights_desc == "trained model mla-repeat");
    t.kind = AttnKind::MQA;
    REQUIRE(s.apply_settings(t, Field::Kind));
    CHECK(s.main().weights_desc == "trained model mqa-repeat");
    t.trained_set = "nosuch";
    CHECK_FALSE(s.apply_settings(t, Field::Weights));
    CHECK(s.error_field() == Field::Weights);
    CHECK_THAT(s.error(), Catch::Contains("fortunes, repeat"));
    CHECK(s.settings().trained_set == "repeat");  // the last good model keeps running
    t.weights = WeightsSource::Random;            // random weights need no set
    CHECK(s.apply_settings(t, Field::Weights));
}

TEST_CASE("session: steps feed the prompt bytes, then sampled tokens", "[session]") {
    ModelSettings ms;
    ms.prompt = "Hi";
    Session s(ms, light());
    REQUIRE(s.step(4));
    REQUIRE(s.steps() == 4);
    CHECK(s.tokens()[0] == 'H');
    CHECK(s.tokens()[1] == 'i');
    CHECK(s.tokens()[2] == s.predicted(1));   // generation continues from the model's prediction
    CHECK(s.tokens()[3] == s.predicted(2));
    CHECK(s.selected() == 3);
    const Trace* t = s.trace();
    REQUIRE(t != nullptr);
    CHECK(t->cache_tokens == 4);
    CHECK(t->find("att_probs", 0) != nullptr);
    CHECK(s.token_labels()[0] == "H");
    CHECK(s.generated_text().size() >= 2);
}

TEST_CASE("session: the same settings give the same run (deterministic)", "[session]") {
    ModelSettings ms;
    ms.temperature = 0.8f;
    Session a(ms, light()), b(ms, light());
    a.step(40);
    b.step(40);
    CHECK(a.tokens() == b.tokens());
}

TEST_CASE("session: a scripted run (step, scrub, change kind, invalid setting, fix it)", "[session]") {
    Session s;  // with the Compare and Absorption lanes
    Commands c;
    c.step(20);
    s.apply(c);
    REQUIRE(s.steps() == 20);
    CHECK(c.session.empty());

    // scrub back: every view sees step 5
    c.select(5);
    s.apply(c);
    CHECK(s.selected() == 5);
    REQUIRE(s.trace() != nullptr);
    CHECK(s.trace()->cache_tokens == 6);
    CHECK(s.compare(AttnKind::MHA).trace(5) != nullptr);
    CHECK(s.path(MlaPath::Recompute).trace(5) != nullptr);

    // change kind: the model is rebuilt and the same number of steps replayed
    ModelSettings ms = s.settings();
    ms.kind = AttnKind::GQA;
    c.apply(ms, Field::Kind);
    s.apply(c);
    CHECK(s.error().empty());
    CHECK(s.config().attn_kind() == AttnKind::GQA);
    CHECK(s.steps() == 20);
    CHECK(s.selected() == 5);
    CHECK(s.trace()->kind == AttnKind::GQA);

    // an impossible setting: 3 KV heads for 4 query heads
    ModelSettings bad = s.settings();
    bad.kv_heads = 3;
    c.apply(bad, Field::KvHeads);
    s.apply(c);
    CHECK(s.error_field() == Field::KvHeads);
    CHECK_THAT(s.error(), Catch::Contains("num_key_value_heads = 3"));
    CHECK_THAT(s.error(), Catch::Contains("divide"));
    // the last good model keeps running
    CHECK(s.settings().kv_heads == 2);
    CHECK(s.config().num_key_value_heads == 2);
    c.step();
    s.apply(c);
    CHECK(s.steps() == 21);

    // fix it
    ModelSettings good = s.settings();
    good.kv_heads = 1;
    c.apply(good, Field::KvHeads);
    s.apply(c);
    CHECK(s.error().empty());
    CHECK(s.error_field() == Field::None);
    CHECK(s.config().num_key_value_heads == 1);
    CHECK(s.steps() == 21);
    CHECK(s.selected() == 20);  // the step after the error selected the newest token
}

TEST_CASE("session: impossible MLA sizes name the field", "[session]") {
    Session s(ModelSettings{}, light());
    ModelSettings m = s.settings();
    m.rope_dim = 7;
    CHECK_FALSE(s.apply_settings(m, Field::RopeDim));
    CHECK(s.error_field() == Field::RopeDim);
    CHECK_THAT(s.error(), Catch::Contains("qk_rope_head_dim = 7"));
    m = s.settings();
    m.kv_lora_rank = 0;
    CHECK_FALSE(s.apply_settings(m, Field::KvLoraRank));
    CHECK(s.error_field() == Field::KvLoraRank);
    m = s.settings();
    m.temperature = -1;
    CHECK_FALSE(s.apply_settings(m, Field::Temperature));
    CHECK(s.error_field() == Field::Temperature);
    m = s.settings();
    m.prompt.clear();
    CHECK_FALSE(s.apply_settings(m, Field::Prompt));
    CHECK(s.error_field() == Field::Prompt);
    m = s.settings();
    m.backend = "tpu";
    CHECK_FALSE(s.apply_settings(m, Field::Backend));
    CHECK(s.error_field() == Field::Backend);
    CHECK(s.backend_name() == "cpu");
    CHECK(s.config().kv_lora_rank == 32);
}

TEST_CASE("session: reset empties the run and the timeline", "[session]") {
    Session s(ModelSettings{}, light());
    s.step(5);
    s.reset();
    CHECK(s.steps() == 0);
    CHECK(s.selected() == -1);
    CHECK(s.trace() == nullptr);
    s.step(3);
    CHECK(s.tokens()[0] == 'M');
}

TEST_CASE("session: Step while scrubbed back moves one recorded step forward and generates nothing", "[session]") {
    Session s;  // with the Compare and Absorption lanes: none of them may step either
    Commands c;
    c.step(8);
    s.apply(c);
    REQUIRE(s.steps() == 8);
    const std::vector<int64_t> tokens = s.tokens();
    const size_t traces = s.compare(AttnKind::MHA).traces.size();
    c.select(2);
    s.apply(c);
    REQUIRE(s.scrubbed_back());

    c.forward();  // the Step button and the Right key
    s.apply(c);
    CHECK(s.selected() == 3);  // exactly one step on
    CHECK(s.steps() == 8);     // nothing generated
    CHECK(s.tokens() == tokens);
    CHECK(s.compare(AttnKind::MHA).traces.size() == traces);
    CHECK(s.path(MlaPath::Recompute).traces.size() == 8);
    REQUIRE(s.trace() != nullptr);
    CHECK(s.trace()->position == 3);
    CHECK(s.trace()->token == tokens[3]);

    // to the newest step through the history (4 more), then one generated
    CHECK(s.forward(4) == 0);
    CHECK(s.selected() == 7);
    CHECK_FALSE(s.scrubbed_back());
    CHECK(s.forward() == 1);
    CHECK(s.steps() == 9);
    CHECK(s.selected() == 8);
    CHECK(std::equal(tokens.begin(), tokens.end(), s.tokens().begin()));

    // a count that runs past the newest step generates only the rest
    s.select(6);
    CHECK(s.forward(5) == 3);   // to 7 and 8 (recorded), then 9, 10 and 11 generated
    CHECK(s.steps() == 12);
    CHECK(s.selected() == 11);
}

TEST_CASE("session: select clamps to the run", "[session]") {
    Session s(ModelSettings{}, light());
    s.select(3);
    CHECK(s.selected() == -1);
    s.step(4);
    s.select(-7);
    CHECK(s.selected() == 0);
    s.select(99);
    CHECK(s.selected() == 3);
}

TEST_CASE("session: the MLA paths agree, and RoPE on the latent breaks absorption", "[session]") {
    Session s;
    s.step(12);
    REQUIRE(s.path_diffs().size() == 12);
    for (const PathDiff& d : s.path_diffs()) {
        CHECK(d.absorbed_vs_recompute < 1e-4);
        CHECK(d.cached_vs_recompute < 1e-4);
    }
    ModelSettings m = s.settings();
    m.rope_on_latent = true;
    REQUIRE(s.apply_settings(m, Field::RopeOnLatent));
    REQUIRE(s.path_diffs().size() == 12);
    CHECK(s.path_diffs().back().cached_vs_recompute < 1e-4);     // both rotate real keys
    CHECK(s.path_diffs().back().absorbed_vs_recompute > 1e-3);   // the absorbed query cannot
}

TEST_CASE("session: compare lanes run every kind on the same tokens", "[session]") {
    Session s;
    s.step(6);
    for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        const Lane& l = s.compare(k);
        REQUIRE(l.traces.size() == 6);
        CHECK(l.cfg.attn_kind() == k);
        CHECK(l.traces.back().token == s.tokens().back());
        CHECK(l.traces.back().find("att_probs", 0) != nullptr);
        CHECK(!l.traces.back().find("att_probs", 0)->data.empty());
    }
    // memory: compare lanes keep shapes but drop the data of the big tensors
    const TensorRecord* x = s.compare(AttnKind::MHA).traces.back().find("x", 0);
    REQUIRE(x != nullptr);
    CHECK(x->data.empty());
    CHECK(x->shape.size() == 2);
}

TEST_CASE("session: token labels are plain printable text", "[session]") {
    CHECK(token_text('a', TokenStyle::Label) == "a");
    CHECK(token_text(' ', TokenStyle::Label) == "\xE2\x90\xA3");
    CHECK(token_text('\n', TokenStyle::Label) == "\\n");
    CHECK(token_text(0xC3, TokenStyle::Label) == "\\xC3");
    CHECK(token_text(0, TokenStyle::Label) == "\\x00");
}

TEST_CASE("session: the context limit stops stepping with a message", "[session]") {
    ModelSettings ms;
    ms.kind = AttnKind::MQA;
    Session s(ms, light());
    REQUIRE(s.step(s.max_steps()));
    CHECK_FALSE(s.step());
    CHECK_THAT(s.error(), Catch::Contains("context is full"));
    s.reset();
    CHECK(s.error().empty());
}

TEST_CASE("session: the window generates what `mla-lab generate` would", "[session]") {
    ModelSettings ms;
    ms.kind = AttnKind::GQA;
    ms.temperature = 0.9f;
    ms.sample_seed = 7;
    ms.prompt = "Spain";
    Session s(ms, light());
    s.step(12);
    // generate: feed the prompt, then sample with rng = --seed from the last prompt logits on
    auto w = builtin_weights(model_config(ms, AttnKind::GQA), ms.weights, ms.seed);
    CpuBackend be;
    Decoder dec(w, be, run_options(ms, AttnKind::GQA));
    std::vector<float> logits;
    for (char ch : ms.prompt) logits = dec.step(static_cast<unsigned char>(ch));
    uint64_t rng = ms.sample_seed;
    std::vector<int64_t> want(ms.prompt.begin(), ms.prompt.end());
    while (want.size() < 12) {
        const int64_t next = sample(logits, ms.temperature, rng);
        want.push_back(next);
        logits = dec.step(next);
    }
    CHECK(s.tokens() == want);
}

TEST_CASE("session: a narrower cache runs an fp32 twin per path, and the diff is the one two decoders give", "[session][cache-dtype]") {
    ModelSettings ms;
    ms.cache_dtype = CacheDtype::BF16;
    Session s(ms);
    REQUIRE(s.has_fp32_reference());
    s.step(10);
    REQUIRE(s.path_diffs().size() == 10);
    const PathDiff& d = s.path_diffs().back();
    for (double v : d.vs_fp32) {
        CHECK(std::isfinite(v));
        CHECK(v > 0);          // bf16 rounding changes the logits
        CHECK(v < 0.5);        // and only a little
    }
    // The same comparison made by hand: two absorbed decoders, one bf16, one fp32.
    auto w = builtin_weights(model_config(ms, AttnKind::MLA), ms.weights, ms.seed);
    CpuBackend be;
    RunOptions narrow = run_options(ms, AttnKind::MLA), wide = narrow;
    narrow.mla_path = wide.mla_path = MlaPath::Absorbed;
    wide.cache_dtype = CacheDtype::F32;
    Decoder a(w, be, narrow), b(w, be, wide);
    std::vector<float> la, lb;
    for (int64_t t : s.tokens()) {
        la = a.step(t);
        lb = b.step(t);
    }
    double want = 0;
    for (size_t i = 0; i < la.size(); ++i) want = std::max(want, std::abs(double(la[i]) - double(lb[i])));
    CHECK(d.vs_fp32[static_cast<size_t>(MlaPath::Absorbed)] == Approx(want).margin(1e-6));
    CHECK(d.main_vs_fp32 == Approx(want).margin(1e-6));   // the main lane is absorbed MLA here

    // Back to fp32: no twins, the diffs are NaN.
    ModelSettings m = s.settings();
    m.cache_dtype = CacheDtype::F32;
    REQUIRE(s.apply_settings(m, Field::CacheDtype));
    CHECK_FALSE(s.has_fp32_reference());
    CHECK(std::isnan(s.path_diffs().back().vs_fp32[0]));
}

TEST_CASE("session: without the path lanes the main lane still has its fp32 diff", "[session][cache-dtype]") {
    ModelSettings ms;
    ms.kind = AttnKind::GQA;
    ms.cache_dtype = CacheDtype::F8E4M3;
    Session s(ms, light());
    REQUIRE(s.has_fp32_reference());
    s.step(6);
    REQUIRE(s.path_diffs().size() == 6);
    CHECK(s.path_diffs().back().main_vs_fp32 > 0);
    CHECK(std::isnan(s.path_diffs().back().vs_fp32[0]));
}

TEST_CASE("session: the held-out check equals cache_dtype_losses on 16 windows, off the frame loop", "[session][cache-dtype]") {
    ModelSettings ms;
    ms.cache_dtype = CacheDtype::F8E4M3;
    SessionOptions so = light();
    so.heldout_windows = 4;   // the window scores 16; 4 keep the test short under the sanitizers
    Session s(ms, so);
    Commands c;
    c.measure_heldout();
    s.apply(c);
    CHECK(s.heldout_effect().state != HeldoutEffect::State::None);
    s.wait_heldout();
    const HeldoutEffect& e = s.heldout_effect();
    REQUIRE(e.state == HeldoutEffect::State::Done);
    CHECK(e.model == "mla-fortunes");
    CHECK(e.windows == 4);
    CHECK(e.mla);
    REQUIRE(e.rows.size() == 3);

    const TrainedModel m = load_trained_model(trained_model_dir(s.config(), ms.trained_set));
    CpuBackend cpu;
    const auto want = cache_dtype_losses(*s.main().weights, run_options(ms, AttnKind::MLA), cpu, read_heldout(m),
                                         m.record->options.seq_len, 4, CacheDtype::F8E4M3);
    REQUIRE(want.size() == 3);
    // Not to the last bit: Eigen's sums start at the first aligned element, and buffers
    // allocated on the check's own thread sit at other alignments (seen: 1e-8 relative in
    // fp32, 1.3e-6 in fp8 where a cache value rounds the other way). fp8 costs ~0.02 nats.
    for (size_t i = 0; i < 3; ++i) {
        CHECK(e.rows[i].path == want[i].path);
        CHECK(e.rows[i].fp32 == Approx(want[i].fp32).epsilon(1e-5));
        CHECK(e.rows[i].stored == Approx(want[i].stored).epsilon(1e-5));
        CHECK(e.rows[i].bits_change() > 0);   // fp8 costs bits on held-out text
    }
    // Another dtype drops the result; the same dtype keeps it.
    ModelSettings other = s.settings();
    other.temperature = 0.5f;
    REQUIRE(s.apply_settings(other, Field::Temperature));
    CHECK(s.heldout_effect().state == HeldoutEffect::State::Done);
    other.cache_dtype = CacheDtype::BF16;
    REQUIRE(s.apply_settings(other, Field::CacheDtype));
    CHECK(s.heldout_effect().state == HeldoutEffect::State::None);
}

TEST_CASE("session: the held-out check says why random weights have none", "[session][cache-dtype]") {
    ModelSettings ms;
    ms.weights = WeightsSource::Random;
    ms.cache_dtype = CacheDtype::BF16;
    Session s(ms, light());
    s.measure_heldout();
    s.wait_heldout();
    CHECK(s.heldout_effect().state == HeldoutEffect::State::Unavailable);
    CHECK_THAT(s.heldout_effect().message, Catch::Contains("random weights"));
}
#include <catch2/catch.hpp>
#include <cstdio>
#include "io/builtin.h"
#include "model/cpu_backend.h"
#include "session/session.h"
#include "views/timeline.h"
using namespace mla; using namespace mla::app;

TEST_CASE("session: Play while scrubbed back plays the recorded steps before generating", "[session]") {
    Session s(ModelSettings{}, light());
    s.step(8);
    s.select(2);
    Transport play;
    play.playing = true;
    Commands c;
    play.tick(0.5, s, c, 4.0f);  // 4 tokens/s for half a second: two steps due
    s.apply(c);
    CHECK(s.selected() == 4);
    CHECK(s.steps() == 8);       // nothing generated yet
    play.tick(1.0, s, c, 4.0f);  // four more: 5, 6, 7 recorded, then one new
    s.apply(c);
    CHECK(s.selected() == 8);
    CHECK(s.steps() == 9);
    CHECK(play.playing);
}
