// Training a byte-level model (vocabulary 256) on the CPU: AdamW with gradient clipping,
// a linear warmup then a cosine learning rate, a held-out split for validation, and
// checkpoints that make an interrupted run continue exactly where it stopped.
//
// A training folder holds:
//   config.json, model.safetensors   the model (io/model_folder.h), rewritten at every checkpoint
//   checkpoint.bin                   weights + AdamW moments + step + sampler state, written
//                                    atomically (temporary file, fsync, rename)
//   train.csv                        step,train_loss,val_loss,tokens_seen,seconds
//   train.json, heldout.txt          the run's options, the corpus hash and the held-out text,
//                                    to re-score val_loss later (train/train_report.h)
//
// The maths is in train_model.h (forward and backward) and train_ops.h (each op).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/weights.h"
#include "train/train_model.h"

namespace mla {

// Bounds of the options, checked before anything is allocated (with the memory a run needs).
constexpr int64_t kMaxTrainBatch = 4096;
constexpr int64_t kMaxValWindows = 100000;
constexpr int64_t kMaxTrainThreads = 1024;
constexpr int64_t kMaxCorpusBytes = int64_t{256} << 20;  // 256 MiB: a corpus is read whole

struct TrainOptions {
    int64_t steps = 2000;          // optimiser steps in all; a resumed run stops at the same step
    int64_t batch = 16;            // sequences per step (B)
    int64_t seq_len = 128;         // tokens per sequence (T)
    double lr = 3e-3;              // peak learning rate
    double min_lr_ratio = 0.1;     // the cosine ends at lr * min_lr_ratio
    int64_t warmup = 100;          // steps of linear warmup
    double weight_decay = 0.1;     // AdamW, decoupled, on matrices only (not on norm gains)
    double beta1 = 0.9, beta2 = 0.95, adam_eps = 1e-8;
    double grad_clip = 1.0;        // largest global L2 norm of the gradient; 0 = no clipping
    double val_fraction = 0.05;    // the end of the corpus, held out for validation
    int64_t val_windows = 64;      // fixed held-out windows scored at each evaluation
    int64_t eval_every = 100;      // steps between validation rows in train.csv
    int64_t checkpoint_every = 100;  // steps between checkpoints
    uint64_t seed = 1;             // initial weights and batch sampling
    int threads = 1;               // Eigen threads
};

// Learning rate of optimiser step `step` (1-based): linear warmup to lr over `warmup` steps,
// then a cosine from lr down to lr * min_lr_ratio at step `steps`.
double learning_rate(const TrainOptions& o, int64_t step);

// Initial weights for training: matrices N(0, 1/fan_in) (o_proj and down_proj further
// scaled by 1/sqrt(2L)), embeddings N(0, 1), norm gains 1. Deterministic from the seed.
Weights init_weights(const Config& cfg, uint64_t seed);

struct TrainProgress {
    int64_t step = 0, steps = 0;
    double loss = 0;               // this step's batch loss
    double val_loss = -1;          // set on evaluation steps, -1 otherwise
    double lr = 0;
    double tokens_per_s = 0;       // over this session
    double eta_s = 0;              // time left at the current speed
    int64_t tokens_seen = 0;
    double seconds = 0;            // training time over all sessions
};

// The optimiser state and one training run over a corpus held in memory. Deterministic:
// the same config, options and corpus give the same bits, whether or not the run was
// interrupted and resumed (for a given number of threads).
class Trainer {
public:
    // A fresh run from init_weights(cfg, opt.seed), or from `init` (a converted model or any
    // checkpoint of config cfg: fine-tuning). The corpus is bytes; its last val_fraction is
    // held out. Throws InputError when it is too short or the config is not byte-level.
    Trainer(const Config& cfg, const TrainOptions& opt, std::string corpus, const Weights* init = nullptr);

    float step();                  // one optimiser step; returns the batch loss
    double validation_loss();      // mean loss over the fixed held-out windows
    double train_estimate_loss();  // the same over fixed windows of the training split

    // Checkpoint: weights, AdamW moments, step, sampler state, the running train loss, and
    // what must match to resume (config, options but steps, corpus size and hash).
    void save_checkpoint(const std::string& path) const;
    // Throws InputError naming what differs when the checkpoint is not of this run.
    void load_checkpoint(const std::string& path);

    Weights weights() const;
    const train::ParamLayout& layout() const { return L_; }
    const std::vector<float>& params() const { return p_; }
    const TrainOptions& options() const { return opt_; }
    int64_t step_count() const { return step_; }
    int64_t tokens_seen() const { return tokens_seen_; }
    double seconds() const { return seconds_; }
    void add_seconds(double s) { seconds_ += s; }
    // Running mean of the batch losses since the last take (train.csv's train_loss).
    double take_train_loss();

private:
    void sample_batch(std::vector<int32_t>& windows, int64_t step) const;
    double mean_loss(const std::vector<int64_t>& starts);

    train::ParamLayout L_;
    TrainOptions opt_;
    std::string corpus_;
    int64_t train_end_ = 0;        // [0, train_end_) trains, [train_end_, size) is held out
    std::vector<int64_t> val_starts_, train_eval_starts_;
    std::vector<float> p_, g_, m_, v_;  // parameters, gradient, AdamW moments (flat, L_.size)
    std::vector<char> decay_;      // per element: weight decay applies
    int64_t step_ = 0;
    int64_t tokens_seen_ = 0;
    double seconds_ = 0;
    double loss_sum_ = 0;
    int64_t loss_count_ = 0;
    train::Tape<float> tape_;
};

// The whole run with its folder (see the top of this file): resumes from out_dir's
// checkpoint.bin when there is one (unless restart), evaluates and checkpoints as the
// options say, and stops early, after a checkpoint, when *stop becomes true.
struct TrainResult {
    bool resumed = false;
    bool interrupted = false;
    int64_t step = 0;
    int64_t tokens_seen = 0;
    double seconds = 0;
    double val_loss = -1;          // at the last evaluation
};
TrainResult run_training(const Config& cfg, const TrainOptions& opt, const std::string& corpus_path,
                         const std::string& out_dir, bool restart, const std::atomic<bool>* stop,
                         const std::function<void(const TrainProgress&)>& on_progress,
                         const Weights* init = nullptr);

// One row of train.csv.
struct TrainCurvePoint {
    int64_t step = 0;
    double train_loss = 0, val_loss = 0;
    int64_t tokens_seen = 0;
    double seconds = 0;
};
std::vector<TrainCurvePoint> read_train_csv(const std::string& path);  // throws InputError

}  // namespace mla
