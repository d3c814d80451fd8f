// Training loop, optimiser, checkpoints and the training folder (train.h).
//
// [SECTION] schedule and initial weights
// [SECTION] Trainer: data, step, evaluation
// [SECTION] Trainer: checkpoints
// [SECTION] run_training and train.csv
#include "train/train.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <sstream>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "base/check.h"
#include "base/json_read.h"
#include "base/memory.h"
#include "base/numbers.h"
#include "base/rng.h"
#include "base/text_file.h"
#include "io/model_folder.h"
#include "train/train_report.h"

namespace mla {

namespace fs = std::filesystem;
using nlohmann::json;

// ============================================================================================
// [SECTION] schedule and initial weights
// ============================================================================================

double learning_rate(const TrainOptions& o, int64_t step) {
    if (o.warmup > 0 && step <= o.warmup) return o.lr * static_cast<double>(step) / static_cast<double>(o.warmup);
    const double span = static_cast<double>(std::max<int64_t>(1, o.steps - o.warmup));
    const double progress = std::min(1.0, static_cast<double>(step - o.warmup) / span);
    const double lo = o.lr * o.min_lr_ratio;
    return lo + 0.5 * (o.lr - lo) * (1.0 + std::cos(std::numbers::pi * progress));
}

Weights init_weights(const Config& cfg, uint64_t seed) {
    validate(cfg);
    Weights w;
    w.cfg = cfg;
    allocate(w);  // norm gains are 1, matrices 0
    Rng rng(seed);
    const float residual_scale = 1.0f / std::sqrt(2.0f * static_cast<float>(cfg.num_hidden_layers));
    for (NamedTensor& nt : list_tensors(w)) {
        const TensorSpec& t = nt.spec;
        if (t.is_vector) continue;
        float stddev = 1.0f / std::sqrt(static_cast<float>(t.cols));
        if (t.name.find("embed_tokens") != std::string::npos && !cfg.tie_word_embeddings) stddev = 1.0f;
        if (t.name.find("o_proj") != std::string::npos || t.name.find("down_proj") != std::string::npos)
            stddev *= residual_scale;
        for (int64_t i = 0; i < t.size(); ++i) nt.data[i] = stddev * rng.normal();
    }
    if (cfg.tie_word_embeddings) w.lm_head = w.embed;
    return w;
}

// ============================================================================================
// [SECTION] Trainer: data, step, evaluation
// ============================================================================================

namespace {

// n windows of T + 1 tokens spread evenly over [begin, end), as heldout_window_starts
std::vector<int64_t> spread_windows(int64_t begin, int64_t end, int64_t T, int64_t n) {
    std::vector<int64_t> starts = heldout_window_starts(end - begin, T, n);
    for (int64_t& s : starts) s += begin;
    return starts;
}

void check_options(const TrainOptions& o, const Config& cfg) {
    auto bad = [](const std::string& what) { throw InputError("training option " + what); };
    if (o.steps <= 0 || o.steps > (int64_t{1} << 40))
        bad("steps = " + std::to_string(o.steps) + " is not valid: it must be in [1, 2^40]");
    if (o.batch <= 0 || o.batch > kMaxTrainBatch)
        bad("batch = " + std::to_string(o.batch) + " is not valid: it must be in [1, " + std::to_string(kMaxTrainBatch) + "]");
    if (o.seq_len <= 0 || o.seq_len > cfg.max_position_embeddings)
        bad("seq_len = " + std::to_string(o.seq_len) + " is not valid: it must be in [1, max_position_embeddings = " +
            std::to_string(cfg.max_position_embeddings) + "]");
    if (!(o.lr > 0)) bad("lr must be positive");
    if (o.warmup < 0) bad("warmup must be 0 or more steps");
    if (!(o.min_lr_ratio >= 0 && o.min_lr_ratio <= 1)) bad("min_lr_ratio must be in [0, 1]");
    if (!(o.weight_decay >= 0)) bad("weight_decay must be 0 or more");
    if (!(o.grad_clip >= 0)) bad("grad_clip must be 0 (off) or more");
    if (!(o.val_fraction > 0 && o.val_fraction <= 0.5)) bad("val_fraction must be in (0, 0.5]");
    if (o.val_windows <= 0 || o.val_windows > kMaxValWindows)
        bad("val_windows must be in [1, " + std::to_string(kMaxValWindows) + "]");
    if (o.eval_every <= 0) bad("eval_every must be positive");
    if (o.checkpoint_every <= 0) bad("checkpoint_every must be positive");
    if (o.threads <= 0 || o.threads > kMaxTrainThreads) bad("threads must be in [1, " + std::to_string(kMaxTrainThreads) + "]");
    if (!(o.lr <= 10) || !(o.adam_eps > 0) || !(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1))
        bad("lr must be at most 10, adam_eps positive, and beta1, beta2 in [0, 1)");
}

// An upper estimate of what a Trainer holds, in bytes: parameters, gradient and the two
// AdamW moments, a copy of the initial weights, and the tape of one batch (per layer the
// normed inputs, Q, K, V, attention weights, MLP activations; then the logits), doubled for
// the gradients flowing back through it.
double training_bytes(const Config& c, const TrainOptions& o) {
    const double P = parameter_count(c), N = static_cast<double>(o.batch) * static_cast<double>(o.seq_len);
    const double D = static_cast<double>(c.hidden_size), H = static_cast<double>(c.num_attention_heads),
                 F = static_cast<double>(c.intermediate_size), T = static_cast<double>(o.seq_len),
                 V = static_cast<double>(c.vocab_size), dq = static_cast<double>(c.q_head_dim()),
                 dv = static_cast<double>(c.is_mla() ? c.v_head_dim : c.head_dim),
                 C = static_cast<double>(c.kv_lora_rank + c.q_lora_rank);
    const double per_layer = N * (8 * D + 4 * H * dq + 3 * H * dv + 4 * F + 2 * H * T + 2 * C);
    const double tape = static_cast<double>(c.num_hidden_layers) * per_layer + N * (2 * V + 2 * D);
    return 4.0 * (5 * P + 2 * tape);
}

// The sampler is counter-based: the batch of step s is drawn from Rng(sampler_seed(seed, s)),
// so its whole state is (seed, step) and a resumed run draws the same batches.
uint64_t sampler_seed(uint64_t seed, int64_t step) {
    Rng r(seed ^ 0xA0761D6478BD642Full);
    return r.next() ^ (static_cast<uint64_t>(step) * 0xD1B54A32D192ED03ull);
}

uint64_t fnv1a(const std::string& s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return h;
}

}  // namespace

Trainer::Trainer(const Config& cfg, const TrainOptions& opt, std::string corpus, const Weights* init)
    : opt_(opt), corpus_(std::move(corpus)) {
    validate(cfg);
    if (cfg.vocab_size != 256)
        throw InputError("vocab_size = " + std::to_string(cfg.vocab_size) +
                         " is not valid for byte-level training: it must be 256");
    check_options(opt_, cfg);
    check_memory(training_bytes(cfg, opt_), "training this model (" + with_commas(parameter_count(cfg)) +
                 " parameters, batch " + std::to_string(opt_.batch) + " x " + std::to_string(opt_.seq_len) + " tokens)",
                 "use a smaller --hidden, --layers, --batch or --seq");
    L_ = train::make_layout(cfg);
    const int64_t n = static_cast<int64_t>(corpus_.size()), T = opt_.seq_len;
    train_end_ = n - heldout_size(n, opt_);
    if (train_end_ < T + 1)
        throw InputError("the corpus has " + std::to_string(n) + " bytes; with seq_len " + std::to_string(T) +
                         " and val_fraction " + std::to_string(opt_.val_fraction) + " it needs at least " +
                         std::to_string(2 * (T + 1)) + " (use a longer corpus or a smaller --seq)");
    val_starts_ = spread_windows(train_end_, n, T, opt_.val_windows);
    train_eval_starts_ = spread_windows(0, train_end_, T, opt_.val_windows);
    p_ = train::flatten(L_, init ? *init : init_weights(cfg, opt_.seed));
    g_.assign(p_.size(), 0.0f);
    m_.assign(p_.size(), 0.0f);
    v_.assign(p_.size(), 0.0f);
    decay_.assign(p_.size(), 0);
    for (const train::ParamSlot& s : L_.slots)
        if (!s.is_vector) std::fill(decay_.begin() + s.off, decay_.begin() + s.off + s.size(), 1);
}

void Trainer::sample_batch(std::vector<int32_t>& windows, int64_t step) const {
    const int64_t B = opt_.batch, T = opt_.seq_len;
    windows.resize(static_cast<size_t>(B * (T + 1)));
    Rng rng(sampler_seed(opt_.seed, step));
    const uint64_t starts = static_cast<uint64_t>(train_end_ - T);  // start in [0, train_end - T - 1]
    for (int64_t b = 0; b < B; ++b) {
        const int64_t s = static_cast<int64_t>(rng.next() % starts);
        for (int64_t t = 0; t <= T; ++t)
            windows[b * (T + 1) + t] = static_cast<unsigned char>(corpus_[static_cast<size_t>(s + t)]);
    }
}

// AdamW (decoupled weight decay, bias-corrected moments) after clipping the global L2 norm.
float Trainer::step() {
    const int64_t B = opt_.batch, T = opt_.seq_len;
    ++step_;
    std::vector<int32_t> windows;
    sample_batch(windows, step_);
    std::fill(g_.begin(), g_.end(), 0.0f);
    const float loss = train::loss_and_grad<float>(tape_, L_, p_.data(), windows.data(), B, T, g_.data());
    double sq = 0;
    for (float g : g_) sq += static_cast<double>(g) * g;
    const double norm = std::sqrt(sq);
    const float clip = (opt_.grad_clip > 0 && norm > opt_.grad_clip) ? static_cast<float>(opt_.grad_clip / norm) : 1.0f;
    const double lr = learning_rate(opt_, step_);
    const float b1 = static_cast<float>(opt_.beta1), b2 = static_cast<float>(opt_.beta2);
    const float bc1 = static_cast<float>(1.0 - std::pow(opt_.beta1, double(step_)));
    const float bc2 = static_cast<float>(1.0 - std::pow(opt_.beta2, double(step_)));
    const float lr_f = static_cast<float>(lr), decay = static_cast<float>(lr * opt_.weight_decay);
    const float eps = static_cast<float>(opt_.adam_eps);
    for (size_t i = 0; i < p_.size(); ++i) {
        const float g = g_[i] * clip;
        m_[i] = b1 * m_[i] + (1.0f - b1) * g;
        v_[i] = b2 * v_[i] + (1.0f - b2) * g * g;
        if (decay_[i]) p_[i] -= decay * p_[i];
        p_[i] -= lr_f * (m_[i] / bc1) / (std::sqrt(v_[i] / bc2) + eps);
    }
    tokens_seen_ += B * T;
    loss_sum_ += loss;
    ++loss_count_;
    return loss;
}

double Trainer::mean_loss(const std::vector<int64_t>& starts) {
    const int64_t T = opt_.seq_len;
    double total = 0;
    std::vector<int32_t> windows;
    for (size_t first = 0; first < starts.size(); first += static_cast<size_t>(opt_.batch)) {
        const size_t count = std::min(starts.size() - first, static_cast<size_t>(opt_.batch));
        windows.resize(count * static_cast<size_t>(T + 1));
        for (size_t b = 0; b < count; ++b)
            for (int64_t t = 0; t <= T; ++t)
                windows[b * (T + 1) + t] = static_cast<unsigned char>(corpus_[static_cast<size_t>(starts[first + b] + t)]);
        const float l = train::loss_and_grad<float>(tape_, L_, p_.data(), windows.data(), static_cast<int64_t>(count), T,
                                                    nullptr);
        total += static_cast<double>(l) * static_cast<double>(count);
    }
    return total / static_cast<double>(starts.size());
}

double Trainer::validation_loss() { return mean_loss(val_starts_); }
double Trainer::train_estimate_loss() { return mean_loss(train_eval_starts_); }

double Trainer::take_train_loss() {
    const double mean = loss_count_ > 0 ? loss_sum_ / static_cast<double>(loss_count_) : 0.0;
    loss_sum_ = 0;
    loss_count_ = 0;
    return mean;
}

Weights Trainer::weights() const { return train::unflatten(L_, p_.data()); }

// ============================================================================================
// [SECTION] Trainer: checkpoints
// ============================================================================================
//
// checkpoint.bin: "MLACKPT1", uint64 n, n bytes of JSON (config, options, corpus size and
// hash, step, tokens_seen, seconds, running train loss, param_count P), then float32
// params[P], adam_m[P], adam_v[P], little-endian (host order).

namespace {

const char kMagic[8] = {'M', 'L', 'A', 'C', 'K', 'P', 'T', '1'};

// What must be equal to resume a run (steps may grow; threads may differ).
json options_json(const TrainOptions& o) {
    return json{{"batch", o.batch},          {"seq_len", o.seq_len},       {"lr", o.lr},
                {"min_lr_ratio", o.min_lr_ratio}, {"warmup", o.warmup}, {"weight_decay", o.weight_decay},
                {"beta1", o.beta1},          {"beta2", o.beta2},           {"adam_eps", o.adam_eps},
                {"grad_clip", o.grad_clip},  {"val_fraction", o.val_fraction}, {"val_windows", o.val_windows},
                {"eval_every", o.eval_every}, {"seed", o.seed}};
}

}  // namespace

void Trainer::save_checkpoint(const std::string& path) const {
    json h;
    h["version"] = 1;
    h["config"] = config_to_json(L_.cfg);
    h["options"] = options_json(opt_);
    h["steps"] = opt_.steps;
    h["corpus_bytes"] = corpus_.size();
    h["corpus_fnv1a"] = fnv1a(corpus_);
    h["step"] = step_;
    h["tokens_seen"] = tokens_seen_;
    h["seconds"] = seconds_;
    h["loss_sum"] = loss_sum_;
    h["loss_count"] = loss_count_;
    h["param_count"] = L_.size;
    const std::string text = h.dump();
    const uint64_t n = text.size();
    AtomicFile f(path);
    f.write(kMagic, sizeof kMagic);
    f.write(&n, sizeof n);
    f.write(text);
    for (const std::vector<float>* a : {&p_, &m_, &v_}) f.write(a->data(), sizeof(float) * a->size());
    f.commit();
}

void Trainer::load_checkpoint(const std::string& path) {
    const int64_t file_size = check_regular_file(path, INT64_MAX, "; a checkpoint is train's checkpoint.bin");
    std::ifstream f(path, std::ios::binary);
    if (!f) throw InputError("cannot open checkpoint '" + path + "'");
    char magic[8] = {};
    uint64_t n = 0;
    f.read(magic, 8);
    f.read(reinterpret_cast<char*>(&n), sizeof n);
    if (!f || std::string(magic, 8) != std::string(kMagic, 8) || n > (1u << 24) ||
        static_cast<int64_t>(n) > file_size - 16)
        throw InputError(path + ": not an mla-lab training checkpoint");
    std::string text(n, '\0');
    if (!f.read(text.data(), static_cast<std::streamsize>(n))) throw InputError(path + ": the checkpoint is truncated");
    const json h = parse_json(text, path + ": the checkpoint header");
    if (!h.is_object()) throw InputError(path + ": the checkpoint header must be a JSON object, got " + excerpt(h));
    const std::string where = path + ": the checkpoint header";
    auto at = [&](const char* key) -> const json& {
        static const json null;
        auto it = h.find(key);
        return it == h.end() ? null : *it;
    };
    auto differs = [&](const std::string& what, const json& mine, const json& theirs) {
        throw InputError(path + ": this checkpoint was made with a different " + what + " (" + excerpt(theirs) +
                         ", now " + excerpt(mine) + "); run with the same options, or pass --restart to start over");
    };
    if (json_int(h, "version", where).value_or(0) != 1)
        throw InputError(path + ": unknown checkpoint version " + excerpt(at("version")) + "; this build reads version 1");
    if (at("config") != config_to_json(L_.cfg)) differs("model config", config_to_json(L_.cfg), at("config"));
    const json mine = options_json(opt_);
    const json& theirs = at("options");
    for (auto it = mine.begin(); it != mine.end(); ++it) {
        const json& t = theirs.is_object() && theirs.contains(it.key()) ? theirs[it.key()] : json();
        if (t != it.value()) differs("option " + it.key(), it.value(), t);
    }
    if (at("corpus_bytes") != corpus_.size() || at("corpus_fnv1a") != fnv1a(corpus_))
        differs("corpus", json{{"bytes", corpus_.size()}}, json{{"bytes", at("corpus_bytes")}});
    if (at("param_count") != L_.size) throw InputError(path + ": parameter count differs from the config's");
    const int64_t step = json_int(h, "step", where).value_or(-1), tokens = json_int(h, "tokens_seen", where).value_or(-1),
                  loss_count = json_int(h, "loss_count", where).value_or(-1);
    const double seconds = json_number(h, "seconds", where).value_or(-1), loss_sum = json_number(h, "loss_sum", where).value_or(0);
    if (step < 0 || step > opt_.steps || tokens < 0 || loss_count < 0 || seconds < 0)
        throw InputError(path + ": the checkpoint header's step, tokens_seen, loss_count or seconds is missing or out of "
                         "range (step must be in [0, " + std::to_string(opt_.steps) + "])");
    const double need = 3.0 * 4.0 * static_cast<double>(p_.size());
    if (static_cast<double>(file_size - 16 - static_cast<int64_t>(n)) < need)
        throw InputError(path + ": the checkpoint is truncated: it holds " + std::to_string(file_size - 16 - static_cast<int64_t>(n)) +
                         " bytes of weights and moments, " + with_commas(need) + " are needed");
    std::vector<float> p(p_.size()), m(p_.size()), v(p_.size());
    for (std::vector<float>* a : {&p, &m, &v})
        f.read(reinterpret_cast<char*>(a->data()), static_cast<std::streamsize>(sizeof(float) * a->size()));
    if (!f) throw InputError(path + ": the checkpoint is truncated");
    p_ = std::move(p);
    m_ = std::move(m);
    v_ = std::move(v);
    step_ = step;
    tokens_seen_ = tokens;
    seconds_ = seconds;
    loss_sum_ = loss_sum;
    loss_count_ = loss_count;
}

// ============================================================================================
// [SECTION] run_training and train.csv
// ============================================================================================

namespace {

const char* kCsvHeader = "step,train_loss,val_loss,tokens_seen,seconds";

std::string csv_row(const TrainCurvePoint& p) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%lld,%.6f,%.6f,%lld,%.1f", static_cast<long long>(p.step), p.train_loss,
                  p.val_loss, static_cast<long long>(p.tokens_seen), p.seconds);
    return buf;
}

void append_csv(const std::string& path, const TrainCurvePoint& p) {
    std::ofstream f(path, std::ios::app);
    f << csv_row(p) << "\n";
    if (!f.flush()) throw InputError("cannot write '" + path + "'");
}

// Keeps the rows up to `step` (a resumed run rewrites the ones after its checkpoint).
void rewrite_csv(const std::string& path, int64_t step) {
    std::vector<TrainCurvePoint> rows;
    if (fs::exists(path)) rows = read_train_csv(path);
    std::string text = std::string(kCsvHeader) + "\n";
    for (const TrainCurvePoint& r : rows)
        if (r.step <= step) text += csv_row(r) + "\n";
    write_file_atomic(path, text);
}

std::string read_corpus(const std::string& path) {
    return read_file(path, "; give a text file with --corpus (at most 256 MiB)", kMaxCorpusBytes);
}

}  // namespace

std::vector<TrainCurvePoint> read_train_csv(const std::string& path) {
    check_regular_file(path, kMaxTextFileBytes, "; a training folder holds train.csv");
    std::ifstream f(path);
    if (!f) throw InputError("cannot open '" + path + "'; a training folder holds train.csv");
    std::string line;
    if (!std::getline(f, line) || line != kCsvHeader)
        throw InputError(path + ": the first line must be '" + std::string(kCsvHeader) + "'");
    std::vector<TrainCurvePoint> rows;
    int lineno = 1;
    while (std::getline(f, line)) {
        ++lineno;
        if (line.empty()) continue;
        TrainCurvePoint p;
        long long step = 0, tokens = 0;
        if (std::sscanf(line.c_str(), "%lld,%lf,%lf,%lld,%lf", &step, &p.train_loss, &p.val_loss, &tokens, &p.seconds) != 5)
            throw InputError(path + ":" + std::to_string(lineno) + ": expected five numbers, got '" +
                             (line.size() > 60 ? line.substr(0, 60) + "..." : line) + "'");
        p.step = step;
        p.tokens_seen = tokens;
        rows.push_back(p);
    }
    return rows;
}

TrainResult run_training(const Config& cfg, const TrainOptions& opt, const std::string& corpus_path,
                         const std::string& out_dir, bool restart, const std::atomic<bool>* stop,
                         const std::function<void(const TrainProgress&)>& on_progress, const Weights* init) {
    using clock = std::chrono::steady_clock;
    const std::string corpus = read_corpus(corpus_path);
    Trainer tr(cfg, opt, corpus, init);
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) throw InputError("cannot create the output folder '" + out_dir + "': " + ec.message());
    {  // train.json and heldout.txt: what it takes to re-score train.csv's val_loss later
        TrainRecord rec;
        rec.options = opt;
        rec.corpus_bytes = static_cast<int64_t>(corpus.size());
        rec.corpus_fnv1a = fnv1a_hex(corpus);
        rec.corpus_name = fs::path(corpus_path).filename().string();
        const std::string heldout = corpus.substr(corpus.size() - static_cast<size_t>(heldout_size(rec.corpus_bytes, opt)));
        rec.heldout_bytes = static_cast<int64_t>(heldout.size());
        rec.heldout_fnv1a = fnv1a_hex(heldout);
        write_file_atomic((fs::path(out_dir) / rec.heldout).string(), heldout);
        write_train_record(out_dir, rec);
    }
    const std::string ckpt = (fs::path(out_dir) / "checkpoint.bin").string();
    const std::string csv = (fs::path(out_dir) / "train.csv").string();
    struct ThreadsGuard {  // Eigen's thread count is global: give the caller's back
        int previous = Eigen::nbThreads();
        ~ThreadsGuard() { Eigen::setNbThreads(previous); }
    } threads_guard;
    Eigen::setNbThreads(opt.threads);
    TrainResult res;
    if (restart) {
        fs::remove(ckpt, ec);
        fs::remove(csv, ec);
    }
    if (fs::exists(ckpt)) {
        tr.load_checkpoint(ckpt);
        rewrite_csv(csv, tr.step_count());
        res.resumed = true;
        const std::vector<TrainCurvePoint> rows = read_train_csv(csv);
        if (!rows.empty()) res.val_loss = rows.back().val_loss;
    } else {
        rewrite_csv(csv, -1);  // header only
        const auto t0 = clock::now();
        TrainCurvePoint p{0, tr.train_estimate_loss(), tr.validation_loss(), 0, 0.0};
        tr.add_seconds(std::chrono::duration<double>(clock::now() - t0).count());
        p.seconds = tr.seconds();
        append_csv(csv, p);
        res.val_loss = p.val_loss;
    }
    const auto session_start = clock::now();
    const int64_t first_step = tr.step_count();
    while (tr.step_count() < opt.steps) {
        const auto t0 = clock::now();
        const float loss = tr.step();
        const int64_t s = tr.step_count();
        if (!std::isfinite(loss))
            throw InputError("the training loss became " + std::to_string(loss) + " at step " + std::to_string(s) +
                             "; lower the learning rate (--lr) or raise the warmup (--warmup)");
        TrainProgress pr;
        if (s % opt.eval_every == 0 || s == opt.steps) {
            const double train_loss = tr.take_train_loss();
            pr.val_loss = res.val_loss = tr.validation_loss();
            tr.add_seconds(std::chrono::duration<double>(clock::now() - t0).count());
            append_csv(csv, {s, train_loss, pr.val_loss, tr.tokens_seen(), tr.seconds()});
        } else {
            tr.add_seconds(std::chrono::duration<double>(clock::now() - t0).count());
        }
        const bool stopping = stop && stop->load();
        if (s % opt.checkpoint_every == 0 || s == opt.steps || stopping) {
            const auto t1 = clock::now();
            tr.save_checkpoint(ckpt);
            save_model(tr.weights(), out_dir);
            tr.add_seconds(std::chrono::duration<double>(clock::now() - t1).count());
        }
        const double session = std::chrono::duration<double>(clock::now() - session_start).count();
        const int64_t done = s - first_step;
        pr.step = s;
        pr.steps = opt.steps;
        pr.loss = loss;
        pr.lr = learning_rate(opt, s);
        pr.tokens_per_s = session > 0 ? static_cast<double>(done * opt.batch * opt.seq_len) / session : 0;
        pr.eta_s = done > 0 ? session / static_cast<double>(done) * static_cast<double>(opt.steps - s) : 0;
        pr.tokens_seen = tr.tokens_seen();
        pr.seconds = tr.seconds();
        if (on_progress) on_progress(pr);
        if (stopping) {
            res.interrupted = true;
            break;
        }
    }
    if (!res.interrupted && !fs::exists(fs::path(out_dir) / "model.safetensors")) save_model(tr.weights(), out_dir);
    res.step = tr.step_count();
    res.tokens_seen = tr.tokens_seen();
    res.seconds = tr.seconds();
    return res;
}

}  // namespace mla
