// Training: the training forward equals the inference Decoder, a few steps lower the loss,
// an interrupted and resumed run equals an uninterrupted one, checkpoints refuse another run.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>

#include <unistd.h>

#include "io/model_folder.h"
#include "model/cpu_backend.h"
#include "model/decoder.h"
#include "support/temp_dir.h"
#include "train/train.h"
#include "train/train_report.h"

using namespace mla;
namespace fs = std::filesystem;

namespace {

std::vector<int64_t> bytes_of(const std::string& s) {
    std::vector<int64_t> ids;
    for (unsigned char ch : s) ids.push_back(ch);
    return ids;
}

// Largest |train logits - decoder logits| over every position, relative to the logits' scale.
double decoder_difference(const Config& cfg, const RunOptions& opt, uint64_t seed) {
    auto w = std::make_shared<const Weights>(random_weights(cfg, seed));
    const std::vector<int64_t> ids = bytes_of("Make a travel plan for Spain.");
    const Mat train_logits = train::forward_logits(*w, ids);
    CpuBackend backend(1);
    Decoder dec(w, backend, opt);
    double worst = 0, scale = 1;
    for (size_t t = 0; t < ids.size(); ++t) {
        const std::vector<float>& logits = dec.step(ids[t]);
        REQUIRE(static_cast<int64_t>(logits.size()) == cfg.vocab_size);
        for (int64_t j = 0; j < cfg.vocab_size; ++j) {
            worst = std::max(worst, std::abs(double(logits[j]) - double(train_logits(int64_t(t), j))));
            scale = std::max(scale, std::abs(double(logits[j])));
        }
    }
    return worst / scale;
}

std::string tiny_corpus() {
    std::string s;
    const char* lines[] = {"The cat sat on the mat. ", "A dog ran in the park. ", "The sun is warm today. ",
                           "We like to read books. "};
    for (int i = 0; i < 60; ++i) s += lines[(i * 7) % 4];
    return s;
}

Config small_config(AttnKind kind) {
    Config c = builtin_config(kind);
    c.hidden_size = 32;
    c.intermediate_size = 64;
    c.num_hidden_layers = 2;
    if (kind == AttnKind::MLA) {
        c.kv_lora_rank = 16;
        c.qk_nope_head_dim = 8;
        c.qk_rope_head_dim = 4;
        c.v_head_dim = 8;
    } else {
        c.head_dim = 8;
    }
    return c;
}

TrainOptions small_options() {
    TrainOptions o;
    o.steps = 12;
    o.batch = 4;
    o.seq_len = 24;
    o.lr = 1e-2;
    o.warmup = 3;
    o.val_fraction = 0.1;
    o.val_windows = 8;
    o.eval_every = 4;
    o.checkpoint_every = 4;
    return o;
}


}  // namespace

TEST_CASE("training forward gives the inference Decoder's logits", "[train]") {
    for (AttnKind kind : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        INFO("kind " << to_string(kind));
        CHECK(decoder_difference(builtin_config(kind), RunOptions{}, 7) < 1e-4);
    }
    SECTION("every MLA path") {
        for (MlaPath path : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed}) {
            INFO("path " << to_string(path));
            RunOptions o;
            o.mla_path = path;
            CHECK(decoder_difference(builtin_config(AttnKind::MLA), o, 8) < 1e-4);
        }
    }
    SECTION("MLA with query compression, GQA with 2 KV heads in rotate-half") {
        Config mla = builtin_config(AttnKind::MLA);
        mla.q_lora_rank = 24;
        CHECK(decoder_difference(mla, RunOptions{}, 9) < 1e-4);
        CHECK(decoder_difference(builtin_config(AttnKind::GQA, 2), RunOptions{}, 10) < 1e-4);
    }
}

TEST_CASE("learning rate: linear warmup, then cosine to the floor", "[train]") {
    TrainOptions o;
    o.lr = 1e-3;
    o.warmup = 10;
    o.steps = 110;
    o.min_lr_ratio = 0.1;
    CHECK(learning_rate(o, 1) == Approx(1e-4));
    CHECK(learning_rate(o, 10) == Approx(1e-3));
    CHECK(learning_rate(o, 60) == Approx(0.55e-3));
    CHECK(learning_rate(o, 110) == Approx(1e-4));
}

TEST_CASE("a few dozen steps on a tiny corpus lower the loss", "[train]") {
    for (AttnKind kind : {AttnKind::MHA, AttnKind::MLA}) {
        INFO("kind " << to_string(kind));
        TrainOptions o = small_options();
        o.steps = 40;
        Trainer tr(small_config(kind), o, tiny_corpus());
        const double before = tr.validation_loss();
        CHECK(before > 4.5);  // about log(256) for a fresh model
        for (int i = 0; i < 40; ++i) tr.step();
        const double after = tr.validation_loss();
        CHECK(after < before - 2.0);
        CHECK(tr.tokens_seen() == 40 * o.batch * o.seq_len);
    }
}

TEST_CASE("an interrupted and resumed run ends in the same state as an uninterrupted one", "[train]") {
    TempDir tmp;
    const std::string corpus = tmp / "corpus.txt";
    std::ofstream(corpus) << tiny_corpus();
    const Config cfg = small_config(AttnKind::MLA);
    const TrainOptions o = small_options();

    const TrainResult whole = run_training(cfg, o, corpus, tmp / "whole", false, nullptr, {});
    CHECK(!whole.resumed);
    CHECK(!whole.interrupted);
    CHECK(whole.step == 12);

    // Interrupt at step 6 (between checkpoints): the stop request writes a checkpoint.
    std::atomic<bool> stop{false};
    const TrainResult first = run_training(cfg, o, corpus, tmp / "split", false, &stop, [&](const TrainProgress& p) {
        if (p.step == 5) stop = true;
    });
    CHECK(first.interrupted);
    CHECK(first.step == 6);
    CHECK(fs::exists(tmp / "split/checkpoint.bin"));
    CHECK(fs::exists(tmp / "split/model.safetensors"));
    const TrainResult second = run_training(cfg, o, corpus, tmp / "split", false, nullptr, {});
    CHECK(second.resumed);
    CHECK(second.step == 12);
    CHECK(second.tokens_seen == whole.tokens_seen);
    CHECK(second.val_loss == whole.val_loss);

    const Weights a = load_model(tmp / "whole"), b = load_model(tmp / "split");
    CHECK(a.embed == b.embed);
    CHECK(a.lm_head == b.lm_head);
    for (size_t l = 0; l < a.layers.size(); ++l) {
        CHECK(a.layers[l].w_kv_a == b.layers[l].w_kv_a);
        CHECK(a.layers[l].w_kv_b == b.layers[l].w_kv_b);
        CHECK(a.layers[l].w_down == b.layers[l].w_down);
    }
    const auto ca = read_train_csv(tmp / "whole/train.csv"), cb = read_train_csv(tmp / "split/train.csv");
    REQUIRE(ca.size() == 4);  // steps 0, 4, 8, 12
    REQUIRE(cb.size() == ca.size());
    for (size_t i = 0; i < ca.size(); ++i) {
        CHECK(ca[i].step == cb[i].step);
        CHECK(ca[i].train_loss == cb[i].train_loss);
        CHECK(ca[i].val_loss == cb[i].val_loss);
        CHECK(ca[i].tokens_seen == cb[i].tokens_seen);
    }
    CHECK(ca.back().val_loss < ca.front().val_loss);

    // A finished run resumed with the same options has nothing left to do.
    const TrainResult again = run_training(cfg, o, corpus, tmp / "whole", false, nullptr, {});
    CHECK(again.resumed);
    CHECK(again.step == 12);
    CHECK(read_train_csv(tmp / "whole/train.csv").size() == 4);

    SECTION("a checkpoint of another run is refused, naming what differs") {
        TrainOptions other = o;
        other.lr = 5e-3;
        CHECK_THROWS_WITH(run_training(cfg, other, corpus, tmp / "whole", false, nullptr, {}),
                          Catch::Contains("option lr"));
        CHECK_THROWS_WITH(run_training(small_config(AttnKind::MHA), o, corpus, tmp / "whole", false, nullptr, {}),
                          Catch::Contains("model config"));
        // --restart starts over
        const TrainResult fresh = run_training(cfg, other, corpus, tmp / "whole", true, nullptr, {});
        CHECK(!fresh.resumed);
        CHECK(fresh.step == 12);
    }
}

TEST_CASE("training refuses bad input with a message", "[train]") {
    CHECK_THROWS_AS(Trainer(small_config(AttnKind::MHA), small_options(), "too short"), InputError);
    TrainOptions o = small_options();
    o.batch = 0;
    CHECK_THROWS_WITH(Trainer(small_config(AttnKind::MHA), o, tiny_corpus()), Catch::Contains("batch"));
    Config c = small_config(AttnKind::MHA);
    c.vocab_size = 300;
    CHECK_THROWS_WITH(Trainer(c, small_options(), tiny_corpus()), Catch::Contains("vocab_size"));
    CHECK_THROWS_AS(run_training(small_config(AttnKind::MHA), small_options(), "/nonexistent/corpus.txt",
                                 "/tmp/unused", false, nullptr, {}),
                    InputError);
}

TEST_CASE("the decoder re-scores train.csv's validation loss from the saved folder", "[train][report]") {
    // run_training leaves train.json and heldout.txt; the inference decoder, one byte at a
    // time, gives back the trainer's whole-sequence validation loss, for every kind.
    for (AttnKind kind : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        INFO(to_string(kind));
        TempDir tmp;
        const std::string corpus = tmp / "corpus.txt";
        std::ofstream(corpus, std::ios::binary) << tiny_corpus();
        const TrainOptions o = small_options();
        run_training(small_config(kind), o, corpus, tmp / "run", false, nullptr, {});
        const TrainedModel m = load_trained_model(tmp / "run");
        REQUIRE(m.record);
        CHECK(m.record->options.seq_len == o.seq_len);
        CHECK(m.record->options.val_windows == o.val_windows);
        CHECK(m.record->corpus_bytes == static_cast<int64_t>(tiny_corpus().size()));
        const std::string held = read_heldout(m);
        CHECK(held == tiny_corpus().substr(tiny_corpus().size() - held.size()));
        CHECK(static_cast<int64_t>(held.size()) == std::llround(o.val_fraction * double(tiny_corpus().size())));
        const Weights w = load_model(tmp / "run");
        for (MlaPath path : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed}) {
            CpuBackend cpu(1);
            RunOptions run;
            run.mla_path = path;
            const double again = heldout_loss(w, run, cpu, held, o.seq_len, o.val_windows);
            CHECK(std::abs(again - m.last().val_loss) <= kRescoreTolerance);
            if (kind != AttnKind::MLA) break;
        }
        // A changed held-out byte is caught by the record's hash, naming both.
        std::string changed = held;
        changed[3] ^= 1;
        std::ofstream(tmp / "run/heldout.txt", std::ios::binary | std::ios::trunc) << changed;
        CHECK_THROWS_WITH(read_heldout(m), Catch::Contains("is not the held-out text") && Catch::Contains("hash"));
    }
}

TEST_CASE("held-out windows: evenly spread, first at 0, last at the end", "[train][report]") {
    CHECK(heldout_window_starts(1000, 99, 5) == std::vector<int64_t>{0, 225, 450, 675, 900});
    CHECK(heldout_window_starts(100, 99, 5) == std::vector<int64_t>{0});     // room for one window only
    CHECK(heldout_window_starts(103, 99, 64) == std::vector<int64_t>{0, 1, 2, 3});
    TrainOptions o;
    o.seq_len = 256;
    CHECK(heldout_size(2555574, o) == 127779);  // the fortunes corpus: 5%, rounded
    CHECK(heldout_size(1000, o) == 257);        // never shorter than one window
    CHECK(fnv1a_hex("") == "cbf29ce484222325");
    CHECK(fnv1a_hex("a") == "af63dc4c8601ec8c");
}

TEST_CASE("train.json with a missing or wrong field is refused naming it", "[train][report]") {
    TempDir tmp;
    TrainRecord r;
    r.corpus_bytes = 1000;
    r.heldout_bytes = 200;
    r.options.seq_len = 24;
    write_train_record(tmp.path.string(), r);
    CHECK(read_train_record(tmp / "train.json").heldout_bytes == 200);
    std::ofstream(tmp / "bad.json") << R"({"options": {"steps": 1}, "corpus": {}, "heldout": {}})";
    CHECK_THROWS_WITH(read_train_record(tmp / "bad.json"), Catch::Contains("missing field options.batch"));
    r.heldout_bytes = 10;
    write_train_record(tmp.path.string(), r);
    CHECK_THROWS_WITH(read_train_record(tmp / "train.json"), Catch::Contains("heldout.bytes = 10"));
}
