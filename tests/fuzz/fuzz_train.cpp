// libFuzzer target: what a training folder holds besides the model, each read from the same
// bytes: train.json (read_train_record: the options of the run, corpus and held-out hashes;
// core reads it, app/cli only prints it), train.csv (read_train_csv) and checkpoint.bin
// (Trainer::load_checkpoint on a tiny MLA trainer made once).
//
// The checkpoint seed must come from this same trainer to get past the header checks
// (config, options and corpus must match). To write it again after the format or the
// trainer below changes:
//   MLA_FUZZ_WRITE_CHECKPOINT=tests/fuzz/corpus/fuzz_train/checkpoint.bin build-fuzz/bin/fuzz_train
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz/fuzz_common.h"
#include "model/config.h"
#include "train/train.h"
#include "train/train_report.h"

namespace {

mla::Config tiny_config() {
    mla::Config c = mla::builtin_config(mla::AttnKind::MLA);
    c.hidden_size = 8;
    c.intermediate_size = 8;
    c.num_hidden_layers = 1;
    c.num_attention_heads = 2;
    c.num_key_value_heads = 2;
    c.max_position_embeddings = 16;
    c.kv_lora_rank = 4;
    c.qk_nope_head_dim = 2;
    c.qk_rope_head_dim = 2;
    c.v_head_dim = 2;
    c.tie_word_embeddings = true;
    return c;
}

mla::TrainOptions tiny_options() {
    mla::TrainOptions o;
    o.steps = 4;
    o.batch = 1;
    o.seq_len = 8;
    o.warmup = 1;
    o.val_fraction = 0.25;
    o.val_windows = 2;
    o.eval_every = 2;
    o.checkpoint_every = 2;
    return o;
}

std::string tiny_corpus() {
    std::string s;
    for (int i = 0; i < 8; ++i) s += "The cat sat on the mat. ";
    return s;
}

mla::Trainer& trainer() {
    static mla::Trainer t(tiny_config(), tiny_options(), tiny_corpus());
    return t;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    (void)trainer();
    if (const char* out = std::getenv("MLA_FUZZ_WRITE_CHECKPOINT")) {
        mla::Trainer t(tiny_config(), tiny_options(), tiny_corpus());
        t.step();
        t.step();
        t.save_checkpoint(out);
        std::fprintf(stderr, "fuzz_train: wrote the checkpoint seed %s\n", out);
        std::exit(0);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string json = fuzz::write_temp("train.json", data, size);
    try {
        const mla::TrainRecord r = mla::read_train_record(json);
        (void)r;
    } catch (const mla::InputError& e) {
        fuzz::refused(e);
    }

    const std::string csv = fuzz::write_temp("train.csv", data, size);
    try {
        const std::vector<mla::TrainCurvePoint> rows = mla::read_train_csv(csv);
        (void)rows;
    } catch (const mla::InputError& e) {
        fuzz::refused(e);
    }

    const std::string ckpt = fuzz::write_temp("checkpoint.bin", data, size);
    try {
        trainer().load_checkpoint(ckpt);
    } catch (const mla::InputError& e) {
        fuzz::refused(e);
    }
    return 0;
}
