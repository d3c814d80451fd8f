// `mla-lab train`: trains a byte-level model on the CPU, or reports trained models.
//
//   mla-lab train --attn mha|gqa|mqa|mla [--hidden D --layers L --heads H --ffn F
//                 --kv-heads G --head-dim Dh | --kv-lora-rank C --q-lora-rank Cq
//                 --nope-dim Dn --rope-dim Dr --v-dim Dv] --corpus FILE --steps N --out DIR
//   mla-lab train --init DIR --corpus FILE --steps N --out DIR   continue from a folder's weights
//                 (fine-tuning a converted model, convert/convert.h); its config is the folder's
//   mla-lab train --report DIR1,DIR2,...   (or one folder holding model folders); re-scores
//                 each model's last validation loss with the decoder, exit 1 when it differs
//
// A progress line goes to stderr; Ctrl-C writes a checkpoint and stops; the same command
// resumes from it (--restart starts over).
//
// [SECTION] options
// [SECTION] training
// [SECTION] report
#include "cli/cli.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "base/text_file.h"
#include "io/builtin.h"
#include "io/model_folder.h"
#include "model/cost.h"
#include "model/cpu_backend.h"
#include "model/decoder.h"
#include "train/train.h"
#include "train/train_report.h"

namespace mla::cli {

namespace fs = std::filesystem;

// ============================================================================ [SECTION] options

namespace {

struct TrainArgs {
    std::string attn = "mla";
    int64_t kv_heads = 0, hidden = 0, layers = 0, heads = 0, ffn = 0, head_dim = 0;
    int64_t kv_lora_rank = 0, q_lora_rank = -1, nope_dim = 0, rope_dim = 0, v_dim = 0;
    std::string corpus, out, report, report_csv, init;
    TrainOptions opt;
    bool restart = false;
    int64_t log_every = 10;
    std::string sample_prompt = kArticlePrompt;
    int64_t sample_tokens = 200;
};

// builtin_config(kind) with the sizes given on the command line.
Config train_config(const TrainArgs& a) {
    const AttnKind kind = parse_attn_kind(a.attn);
    const bool mla = kind == AttnKind::MLA;
    if (a.kv_heads != 0 && kind != AttnKind::GQA)
        throw InputError("--kv-heads applies to --attn gqa only (MHA has one KV head per query head, MQA one)");
    if (mla && a.head_dim != 0) throw InputError("--head-dim is for mha/gqa/mqa; MLA uses --nope-dim, --rope-dim, --v-dim");
    if (!mla && (a.kv_lora_rank || a.q_lora_rank >= 0 || a.nope_dim || a.rope_dim || a.v_dim))
        throw InputError("--kv-lora-rank, --q-lora-rank, --nope-dim, --rope-dim and --v-dim are for --attn mla");
    Config c = builtin_config(kind, a.kv_heads);
    if (a.hidden) c.hidden_size = a.hidden;
    if (a.layers) c.num_hidden_layers = a.layers;
    if (a.ffn) c.intermediate_size = a.ffn;
    if (a.heads) {
        c.num_attention_heads = a.heads;
        if (kind == AttnKind::MHA || mla) c.num_key_value_heads = a.heads;
    }
    if (a.head_dim) c.head_dim = a.head_dim;
    if (a.kv_lora_rank) c.kv_lora_rank = a.kv_lora_rank;
    if (a.q_lora_rank >= 0) c.q_lora_rank = a.q_lora_rank;
    if (a.nope_dim) c.qk_nope_head_dim = a.nope_dim;
    if (a.rope_dim) c.qk_rope_head_dim = a.rope_dim;
    if (a.v_dim) c.v_head_dim = a.v_dim;
    validate(c);
    return c;
}

std::string duration(double s) {
    char buf[32];
    const long t = std::lround(std::max(0.0, s));
    if (t >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
    else if (t >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
    else std::snprintf(buf, sizeof buf, "%lds", t);
    return buf;
}

std::string count_short(double n) {
    char buf[32];
    if (n >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
    else if (n >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
    else std::snprintf(buf, sizeof buf, "%.0f", n);
    return buf;
}

std::atomic<bool> g_stop{false};

// First Ctrl-C: stop after this step, with a checkpoint. Second: the default action.
extern "C" void on_sigint(int) {
    if (g_stop.load()) {
        std::signal(SIGINT, SIG_DFL);
        std::raise(SIGINT);
        return;
    }
    g_stop.store(true);
}

// Greedy continuation of a byte prompt with the inference Decoder (the app's engine).
std::string greedy_sample(const Weights& w, const std::string& prompt, int64_t n) {
    auto sw = std::make_shared<const Weights>(w);
    CpuBackend backend(1);
    Decoder dec(sw, backend, RunOptions{});
    std::vector<float> logits;
    for (unsigned char ch : prompt) logits = dec.step(ch);
    std::string out;
    for (int64_t i = 0; i < n && dec.position() < w.cfg.max_position_embeddings; ++i) {
        const int64_t tok = std::max_element(logits.begin(), logits.end()) - logits.begin();
        out += static_cast<char>(tok);
        logits = dec.step(tok);
    }
    return out;
}

// ============================================================================ [SECTION] training

int run_train(const TrainArgs& a) {
    if (a.corpus.empty() || a.out.empty())
        throw InputError("train needs --corpus FILE and --out DIR (or --report DIRS to compare trained models)");
    // --init DIR: continue from that folder's weights (a converted model: fine-tuning); its
    // config is the model's, so the size options do not apply.
    std::optional<Weights> init;
    if (!a.init.empty()) {
        if (a.kv_heads || a.hidden || a.layers || a.heads || a.ffn || a.head_dim || a.kv_lora_rank || a.q_lora_rank >= 0 ||
            a.nope_dim || a.rope_dim || a.v_dim)
            throw InputError("--init takes the model's own sizes from its config.json; leave out the size options");
        init = load_model(a.init);
    }
    const Config cfg = init ? init->cfg : train_config(a);
#if defined(__GLIBC__)
    // Every step frees and reallocates the same activations (a few MB). Keep them in the heap
    // rather than returning them to the system: each return costs page faults on the next
    // step (about a quarter of the time of a step here).
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
    const bool tty = ::isatty(STDERR_FILENO);
    g_stop = false;
    auto previous = std::signal(SIGINT, on_sigint);
    // The banner waits for the first step, so that a bad option, corpus or checkpoint is the
    // one line printed.
    bool banner = false;
    bool open_line = false;
    auto progress = [&](const TrainProgress& p) {
        if (!banner) {
            std::fprintf(stderr, "training %s (%s parameters%s%s) on %s -> %s\n", to_string(cfg.attn_kind()),
                         count_short(parameter_count(cfg)).c_str(), a.init.empty() ? "" : ", from ", a.init.c_str(),
                         a.corpus.c_str(), a.out.c_str());
            banner = true;
        }
        const bool eval = p.val_loss >= 0;
        if (!eval && !tty && p.step % std::max<int64_t>(1, a.log_every) != 0) return;
        char buf[256];
        std::snprintf(buf, sizeof buf, "step %lld/%lld  loss %.4f  lr %.2e  %s tok/s  seen %s  elapsed %s  left %s",
                      static_cast<long long>(p.step), static_cast<long long>(p.steps), p.loss, p.lr,
                      count_short(p.tokens_per_s).c_str(), count_short(double(p.tokens_seen)).c_str(),
                      duration(p.seconds).c_str(), duration(p.eta_s).c_str());
        std::string line = buf;
        if (tty) {  // a bar in front on a terminal: [#########-----------]  45%
            const int width = 20;
            const int filled = p.steps > 0 ? static_cast<int>(width * p.step / p.steps) : 0;
            std::string bar = "[" + std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(width - filled), '-') + "] ";
            char pct[16];
            std::snprintf(pct, sizeof pct, "%3d%%  ", p.steps > 0 ? static_cast<int>(100 * p.step / p.steps) : 0);
            line = bar + pct + line;
        }
        if (eval) {
            std::snprintf(buf, sizeof buf, "  val %.4f", p.val_loss);
            line += buf;
        }
        if (tty) {
            std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), eval ? "\n" : "");
            open_line = !eval;
        } else {
            std::fprintf(stderr, "%s\n", line.c_str());
        }
        std::fflush(stderr);
    };
    TrainResult r;
    try {
        r = run_training(cfg, a.opt, a.corpus, a.out, a.restart, &g_stop, progress, init ? &*init : nullptr);
    } catch (...) {
        std::signal(SIGINT, previous);
        if (open_line) std::fprintf(stderr, "\n");
        throw;
    }
    std::signal(SIGINT, previous);
    if (open_line) std::fprintf(stderr, "\n");
    if (r.interrupted) {
        std::fprintf(stderr, "interrupted at step %lld: checkpoint and model written to %s; run the same command to resume\n",
                     static_cast<long long>(r.step), a.out.c_str());
        return 130;
    }
    std::printf("%s: step %lld, %s tokens seen, %s of training%s, validation loss %.4f\n", a.out.c_str(),
                static_cast<long long>(r.step), count_short(double(r.tokens_seen)).c_str(), duration(r.seconds).c_str(),
                r.resumed ? " (resumed)" : "", r.val_loss);
    if (a.sample_tokens > 0 && !a.sample_prompt.empty()) {
        const std::string s = greedy_sample(load_model(a.out), a.sample_prompt, a.sample_tokens);
        std::printf("greedy sample: %s%s\n", a.sample_prompt.c_str(), s.c_str());
    }
    return 0;
}

// ============================================================================ [SECTION] report

int run_report(const std::string& spec, const std::string& csv_path) {
    const std::vector<TrainedModel> models = load_trained_models(spec);
    // written first, so a failed re-score still leaves the curves
    if (!csv_path.empty()) write_file_atomic(csv_path, training_curves_csv(models));
    // Re-score each model's final validation loss with the inference decoder (train_report.h).
    std::vector<double> again(models.size(), -1);
    std::vector<std::string> why, no_weights;
    bool all_good = true;
    for (size_t i = 0; i < models.size(); ++i) {
        const TrainedModel& m = models[i];
        if (!m.record) {
            why.push_back(m.name + ": no train.json, so its held-out text is not known (trained before it was written)");
            continue;
        }
        if (!fs::exists(fs::path(m.dir) / "model.safetensors")) {
            no_weights.push_back(m.name);
            continue;
        }
        const Weights w = load_model(m.dir);
        CpuBackend cpu(1);
        again[i] = heldout_loss(w, RunOptions{}, cpu, read_heldout(m), m.record->options.seq_len,
                                m.record->options.val_windows);
        if (!(std::abs(again[i] - m.last().val_loss) <= kRescoreTolerance)) all_good = false;
    }
    size_t w = 10;
    for (const TrainedModel& m : models) w = std::max(w, m.name.size() + 2);
    std::printf("%-*s %-5s %10s %12s %16s %8s %9s %9s %9s %10s %9s\n", int(w), "model", "kind", "params", "cache el/tok",
                "cache B/tok fp32", "steps", "tokens", "time", "val loss", "re-scored", "diff");
    for (size_t i = 0; i < models.size(); ++i) {
        const TrainedModel& m = models[i];
        const TrainCurvePoint& last = m.last();
        char rescored[32] = "-", diff[32] = "-";
        if (again[i] >= 0) {
            std::snprintf(rescored, sizeof rescored, "%.4f", again[i]);
            std::snprintf(diff, sizeof diff, "%+.1e", again[i] - last.val_loss);
        }
        std::printf("%-*s %-5s %10s %12lld %16lld %8lld %9s %9s %9.4f %10s %9s\n", int(w), m.name.c_str(),
                    to_string(m.cfg.attn_kind()), count_short(double(m.params)).c_str(),
                    static_cast<long long>(m.cache_elements), static_cast<long long>(m.cache_elements * 4),
                    static_cast<long long>(last.step), count_short(double(last.tokens_seen)).c_str(),
                    duration(last.seconds).c_str(), last.val_loss, rescored, diff);
    }
    std::set<int64_t> cached_kv;
    for (const TrainedModel& m : models)
        if (m.cfg.attn_kind() == AttnKind::MLA) cached_kv.insert(m.cache_elements_cached_kv);
    std::printf("cache per token: all layers; MLA holds its latent c_kv and the shared RoPE key");
    for (int64_t el : cached_kv)
        std::printf("%s %lld", el == *cached_kv.begin() ? " (run the cached-kv way it would hold" : ",", static_cast<long long>(el));
    std::printf("%s\n", cached_kv.empty() ? "" : " elements)");
    std::printf("re-scored: the saved weights run by the inference decoder (absorbed path for MLA), one byte at a time,\n"
                "over the same held-out windows as train.csv's last val_loss; reproduced when |diff| <= %.0e\n",
                kRescoreTolerance);
    for (const std::string& line : why) std::printf("  %s\n", line.c_str());
    if (!no_weights.empty()) {
        std::printf("  not re-scored, their weights are not kept (config.json, train.csv and train.json only; train again "
                    "to check):");
        for (size_t i = 0; i < no_weights.size(); ++i) std::printf("%s %s", i ? "," : "", no_weights[i].c_str());
        std::printf("\n");
    }
    std::printf("\n");
    const std::vector<std::string> sets = quality_sets(models);
    for (const std::string& set : sets) {
        if (sets.size() > 1) std::printf("%s:\n", set.c_str());
        for (const std::string& line : quality_findings(models_in_set(models, set)).lines)
            std::printf("%s%s\n", sets.size() > 1 ? "  " : "", line.c_str());
    }
    // by step: per set, the first (lowest-seed) run of each kind
    for (const std::string& set : sets) {
        const std::vector<TrainedModel> in_set = models_in_set(models, set);
        std::vector<const TrainedModel*> cols;
        const QualityFindings q = quality_findings(in_set);
        for (const KindQuality& k : q.kinds) cols.push_back(&in_set[k.runs[0]]);
        std::printf("\nvalidation loss (nats per byte) by step%s%s\n%8s", sets.size() > 1 ? ", " : "",
                    sets.size() > 1 ? set.c_str() : "", "step");
        for (const TrainedModel* m : cols) std::printf(" %*s", int(std::max<size_t>(9, m->name.size())), m->name.c_str());
        std::printf("\n");
        std::set<int64_t> steps;
        for (const TrainedModel* m : cols)
            for (const TrainCurvePoint& p : m->rows) steps.insert(p.step);
        for (int64_t s : steps) {
            std::printf("%8lld", static_cast<long long>(s));
            for (const TrainedModel* m : cols) {
                const int width = int(std::max<size_t>(9, m->name.size()));
                auto it = std::find_if(m->rows.begin(), m->rows.end(), [&](const TrainCurvePoint& p) { return p.step == s; });
                if (it == m->rows.end()) std::printf(" %*s", width, "-");
                else std::printf(" %*.4f", width, it->val_loss);
            }
            std::printf("\n");
        }
    }
    if (!all_good) {
        std::fflush(stdout);
        std::fprintf(stderr, "error: a re-scored validation loss differs from train.csv by more than %.0e (see diff); "
                             "the weights, the held-out text or train.json do not belong together\n", kRescoreTolerance);
        return 1;
    }
    return 0;
}

}  // namespace

void add_train_command(CLI::App& root, Commands& cmds) {
    auto a = std::make_shared<TrainArgs>();
    CLI::App* s = root.add_subcommand("train", "train a byte-level model on the CPU, or --report trained models");
    s->add_option("--report", a->report, "compare trained models: DIR1,DIR2,... or one folder of model folders");
    s->add_option("--csv", a->report_csv, "with --report: also write every logged point of every model to this CSV file");
    s->add_option("--attn", a->attn, "attention kind: mha, gqa, mqa or mla")->default_val("mla");
    s->add_option("--corpus", a->corpus, "training text (bytes); its end is held out for validation");
    s->add_option("--out", a->out, "model folder: config.json, model.safetensors, train.csv, checkpoint.bin");
    s->add_option("--init", a->init, "start from this model folder's weights (fine-tune a converted model) instead of random ones");
    s->add_option("--steps", a->opt.steps, "optimiser steps in all")->default_val(a->opt.steps);
    // sizes (default: the built-in model of the kind)
    s->add_option("--hidden", a->hidden, "hidden size D (default 64)");
    s->add_option("--layers", a->layers, "layers L (default 3)");
    s->add_option("--heads", a->heads, "query heads H (default 4)");
    s->add_option("--ffn", a->ffn, "MLP intermediate size F (default 176)");
    s->add_option("--kv-heads", a->kv_heads, "GQA: key/value heads (default 2)");
    s->add_option("--head-dim", a->head_dim, "MHA/GQA/MQA: head dim (default 16)");
    s->add_option("--kv-lora-rank", a->kv_lora_rank, "MLA: KV latent rank C (default 32)");
    s->add_option("--q-lora-rank", a->q_lora_rank, "MLA: query latent rank (default 0 = no query compression)");
    s->add_option("--nope-dim", a->nope_dim, "MLA: no-RoPE part of a query/key head (default 16)");
    s->add_option("--rope-dim", a->rope_dim, "MLA: RoPE part of a query/key head (default 8)");
    s->add_option("--v-dim", a->v_dim, "MLA: value head dim (default 16)");
    // optimisation
    s->add_option("--batch", a->opt.batch, "sequences per step")->default_val(a->opt.batch);
    s->add_option("--seq", a->opt.seq_len, "tokens per sequence")->default_val(a->opt.seq_len);
    s->add_option("--lr", a->opt.lr, "peak learning rate (AdamW)")->default_val(a->opt.lr);
    s->add_option("--warmup", a->opt.warmup, "linear warmup steps, then cosine")->default_val(a->opt.warmup);
    s->add_option("--min-lr-ratio", a->opt.min_lr_ratio, "final learning rate / peak")->default_val(a->opt.min_lr_ratio);
    s->add_option("--weight-decay", a->opt.weight_decay, "AdamW weight decay (matrices)")->default_val(a->opt.weight_decay);
    s->add_option("--clip", a->opt.grad_clip, "gradient clipping: largest global norm (0 = off)")->default_val(a->opt.grad_clip);
    s->add_option("--val-fraction", a->opt.val_fraction, "held-out end of the corpus")->default_val(a->opt.val_fraction);
    s->add_option("--val-windows", a->opt.val_windows, "held-out windows per evaluation")->default_val(a->opt.val_windows);
    s->add_option("--eval-every", a->opt.eval_every, "steps between validation rows of train.csv")->default_val(a->opt.eval_every);
    s->add_option("--checkpoint-every", a->opt.checkpoint_every, "steps between checkpoints")->default_val(a->opt.checkpoint_every);
    s->add_option("--seed", a->opt.seed, "seed of the initial weights and the batches")->default_val(a->opt.seed);
    s->add_option("--threads", a->opt.threads, "CPU threads")->default_val(a->opt.threads);
    s->add_flag("--restart", a->restart, "ignore the folder's checkpoint and start over");
    s->add_option("--log-every", a->log_every, "steps between progress lines when stderr is not a terminal")->default_val(a->log_every);
    s->add_option("--sample", a->sample_prompt, "prompt of the greedy sample printed at the end")->default_val(a->sample_prompt);
    s->add_option("--sample-tokens", a->sample_tokens, "bytes of the sample (0 = none)")->default_val(a->sample_tokens);
    cmds.push_back({s, [a] {
        if (a->report.empty() && !a->report_csv.empty()) throw InputError("--csv goes with --report DIRS");
        return a->report.empty() ? run_train(*a) : run_report(a->report, a->report_csv);
    }});
}

}  // namespace mla::cli
