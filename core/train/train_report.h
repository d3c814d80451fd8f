// What a training run leaves beside its model, and checking it afterwards.
//
// A training folder (train.h) also holds
//   train.json    the options of the run, the corpus size and hash, and where its held-out
//                 text is (a file name relative to the folder: "heldout.txt")
//   heldout.txt   the held-out end of the corpus, byte for byte
// so that the validation losses in train.csv can be reproduced later from the saved
// weights alone, by a different program: the inference decoder (model.h), one token at a
// time, instead of the trainer's whole-sequence forward.
//
//     TrainedModel m = load_trained_model("assets/models/mla-fortunes");
//     CpuBackend cpu;
//     double again = heldout_loss(*load_model(m.dir), {}, cpu, read_heldout(m), m.record->options);
//     // again == m.rows.back().val_loss to ~1e-6
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/backend.h"
#include "model/config.h"
#include "model/cost.h"
#include "model/weights.h"
#include "train/train.h"

namespace mla {

// ---- the split and the held-out windows (the trainer uses these same functions) -------------

// Bytes held out at the end of a corpus of n bytes: round(val_fraction * n), at least
// seq_len + 1.
int64_t heldout_size(int64_t corpus_bytes, const TrainOptions& o);

// Starts of the `windows` windows of seq_len + 1 bytes spread evenly over a held-out text
// of `bytes` bytes (first at 0, last at bytes - seq_len - 1); fewer when it is short.
std::vector<int64_t> heldout_window_starts(int64_t bytes, int64_t seq_len, int64_t windows);

// FNV-1a 64 of the bytes, as 16 hex digits (the corpus and held-out hashes of train.json).
std::string fnv1a_hex(const std::string& bytes);

// ---- train.json ----------------------------------------------------------------------------

struct TrainRecord {
    TrainOptions options;          // as trained (threads included)
    int64_t corpus_bytes = 0;
    std::string corpus_fnv1a;      // fnv1a_hex of the whole corpus
    std::string corpus_name;       // the --corpus file's name (no folder), for people
    std::string heldout = "heldout.txt";  // the held-out text, relative to the folder
    int64_t heldout_bytes = 0;
    std::string heldout_fnv1a;
};

void write_train_record(const std::string& dir, const TrainRecord& r);   // dir/train.json, atomically
TrainRecord read_train_record(const std::string& path);                 // throws InputError naming the field

// ---- scoring with the inference decoder ----------------------------------------------------

// Mean next-byte cross-entropy (nats per byte) of the model over the held-out windows: for
// each window the decoder starts empty, reads its first seq_len bytes one at a time and
// is scored on predicting each next byte, exactly the windows the trainer scores.
// Throws InputError when the text is shorter than seq_len + 1 or the model is not byte-level.
// The largest |re-scored - train.csv| accepted as reproduced (train.csv prints 6 decimals;
// the two programs differ by float rounding, ~1e-6).
inline constexpr double kRescoreTolerance = 1e-4;

double heldout_loss(const Weights& w, const RunOptions& run, Backend& backend, const std::string& heldout,
                    int64_t seq_len, int64_t windows);

// What storing the cache in a narrower type costs in quality, per way of running attention:
// the held-out loss with the cache in float32 and in `dtype`, the rest of `run` (RoPE on the
// latent, the fused kernel) as given. An MLA model is scored once per path (cached-kv,
// recompute, absorbed, in that order: they hold different things, so they round different
// numbers); any other kind once. Losses in nats per byte; bits = nats / ln 2.
struct CacheDtypeLoss {
    MlaPath path = MlaPath::Absorbed;  // MLA only
    double fp32 = 0;                   // nats per byte, cache in float32
    double stored = 0;                 // nats per byte, cache in the narrower type
    double bits_change() const;        // (stored - fp32) / ln 2: bits per byte
};
std::vector<CacheDtypeLoss> cache_dtype_losses(const Weights& w, RunOptions run, Backend& backend, const std::string& heldout,
                                               int64_t seq_len, int64_t windows, CacheDtype dtype);
inline double bits_per_byte(double nats) { return nats / 0.69314718055994530942; }

// ---- a folder of trained models (for `mla-lab train --report` and the Quality view) ---------

struct TrainedModel {
    std::string name;              // the folder's name: "mla-fortunes"
    std::string dir;
    Config cfg;
    std::vector<TrainCurvePoint> rows;   // train.csv, at least one row
    std::optional<TrainRecord> record;   // train.json, when the folder has one
    int64_t params = 0;                  // trained parameters
    // Cache per token over all layers, in elements: what the model's decoder holds (MLA:
    // its latent c_kv and the shared RoPE key, the absorbed and recompute paths) and, for
    // MLA, what the cached-kv path holds instead. fp32 bytes are 4x.
    int64_t cache_elements = 0;
    int64_t cache_elements_cached_kv = 0;
    const TrainCurvePoint& last() const { return rows.back(); }
};

// One folder with config.json and train.csv (and train.json when there is one).
TrainedModel load_trained_model(const std::string& dir);

// "DIR1,DIR2,..." in that order, or one folder that holds model folders: those and the model
// folders one level further down (assets/models/seeds/...), ordered MHA, GQA, MQA, MLA, then
// by set and seed. Throws InputError naming what is missing.
std::vector<TrainedModel> load_trained_models(const std::string& spec);

// The set a model folder belongs to: its name after the kind, without a "-seedN" ending
// ("mla-fortunes" and "mla-fortunes-seed2" -> "fortunes").
std::string model_set(const TrainedModel& m);

// The sets in a list of trained models ("fortunes", ...), in first-seen order, and the
// models of one set in the order given.
std::vector<std::string> quality_sets(const std::vector<TrainedModel>& models);
std::vector<TrainedModel> models_in_set(const std::vector<TrainedModel>& models, const std::string& set);

// ---- the trade-off, in numbers and sentences (the Quality view and `train --report`) -------

// One attention kind of a set: its training runs (one per seed) and their final losses.
struct KindQuality {
    AttnKind kind = AttnKind::MHA;
    std::vector<size_t> runs;      // indices into the models given, by seed; runs[0] is the lowest seed
    std::vector<uint64_t> seeds;   // train.json's seed of each run (0 when the folder has none)
    double first = 0;              // runs[0]'s final validation loss (the built-in model: seed 1)
    double mean = 0, min = 0, max = 0;  // over the runs
    double sd = 0;                 // sample standard deviation over the runs (n - 1; NaN with one run)
    int64_t params = 0;
    int64_t cache_bytes = 0;       // per token, all layers, fp32
    double mean_vs_mha = 0;        // mean - MHA's mean (NaN without MHA runs)
    double se_vs_mha = 0;          // standard error of that difference: sqrt(sd^2/n + sd_mha^2/n_mha) (NaN with one run)
    bool beyond_noise = false;     // |mean_vs_mha| > 2 se_vs_mha
    double cache_vs_mha = 0;       // MHA's cache / this one's (NaN without MHA runs)
    int rank = 0;                  // 1 = lowest mean
    // The mean validation loss over the runs at each step that every run logged.
    std::vector<int64_t> curve_steps;
    std::vector<double> curve_mean;
};

struct QualityFindings {
    std::vector<KindQuality> kinds;  // MHA, GQA, MQA, MLA: those present
    double seed_range = 0;           // the largest max - min of one kind (0 with one run each)
    // Plain sentences from the numbers: the best kind, each kind against MHA ("MLA: mean
    // validation loss 0.0016 higher than MHA's ... with 3.2x less cache ..."), and, last,
    // which differences are larger than twice their standard error (the seed-to-seed noise).
    std::vector<std::string> lines;
};
QualityFindings quality_findings(const std::vector<TrainedModel>& models);

// Every logged point of every model, for plotting elsewhere (slides, papers), in long form:
// "set,model,kind,seed,step,tokens_seen,train_loss,val_loss,cache_bytes_per_token" then one
// row per train.csv row, losses as train.csv has them (6 decimals), seed 0 without train.json.
std::string training_curves_csv(const std::vector<TrainedModel>& models);

// The held-out text of a model whose folder has train.json; throws InputError when the file
// is missing or its size or hash is not the record's.
std::string read_heldout(const TrainedModel& m);

}  // namespace mla
