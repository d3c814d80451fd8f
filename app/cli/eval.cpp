// `mla-lab eval`: the held-out loss of a model with its cache stored in float32 and in a
// narrower type, per MLA path, so the numerical effect of bf16, fp16 or fp8 is measured in
// bits per byte rather than guessed.
//
//   mla-lab eval [--model DIR | --attn K ...] [--heldout FILE] [--cache-dtype bf16|fp16|fp8]
//                [--seq-len N] [--windows N] [--json]
//
// Without --heldout: the held-out text named by the model folder's train.json (checked
// against its size and hash). --seq-len and --windows default to the trainer's (train.json),
// so the fp32 figure reproduces train.csv's last validation loss.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/text_file.h"
#include "cli/cli.h"
#include "cli/model_options.h"
#include "io/builtin.h"
#include "io/model_settings.h"
#include "session/backends.h"
#include "train/train_report.h"

namespace mla::cli {
namespace {

struct EvalArgs {
    ModelOptions m;
    std::string heldout;
    int64_t seq_len = 0;   // 0: train.json's, else 256
    int64_t windows = 0;   // 0: train.json's, else 64
    bool json = false;
};

int run_eval(const EvalArgs& a) {
    if (a.seq_len < 0 || a.windows < 0) throw InputError("--seq-len and --windows must be 1 or more (0 = the trainer's)");
    const ModelSettings s = a.m.settings();
    auto w = a.m.load_weights(s);
    // The folder the weights came from, for its train.json (none for random weights).
    std::string dir = a.m.model_dir;
    if (dir.empty() && s.weights != WeightsSource::Random) dir = trained_model_dir(w->cfg, s.trained_set);
    std::optional<TrainedModel> tm;
    if (!dir.empty()) {
        try {
            tm = load_trained_model(dir);
        } catch (const InputError&) {
            tm.reset();   // a model folder without train.csv: no defaults from the trainer
        }
    }
    std::string text, source;
    if (!a.heldout.empty()) {
        text = read_file(a.heldout, ", the --heldout text");
        source = a.heldout;
    } else {
        if (!tm || !tm->record)
            throw InputError("this model has no train.json naming its held-out text; give --heldout FILE (plain text "
                             "the model was not trained on)");
        text = read_heldout(*tm);
        source = (std::filesystem::path(dir) / tm->record->heldout).lexically_normal().string();
    }
    const bool has_record = tm && tm->record;
    const int64_t seq_len = a.seq_len > 0 ? a.seq_len : has_record ? tm->record->options.seq_len
                                                       : std::min<int64_t>(256, w->cfg.max_position_embeddings);
    const int64_t windows = a.windows > 0 ? a.windows : has_record ? tm->record->options.val_windows : 64;
    if (seq_len > w->cfg.max_position_embeddings)
        throw InputError("--seq-len " + std::to_string(seq_len) + " is beyond this model's context of " +
                         std::to_string(w->cfg.max_position_embeddings) + " tokens");
    const int64_t used = static_cast<int64_t>(heldout_window_starts(static_cast<int64_t>(text.size()), seq_len, windows).size());

    auto backend = make_backend(s.backend);
    RunOptions run;
    run.rope_on_latent = false;
    const std::vector<CacheDtypeLoss> rows = cache_dtype_losses(*w, run, *backend, text, seq_len, windows, s.cache_dtype);
    // train.csv's last validation loss, when these are the trainer's own windows.
    std::optional<double> trainer;
    if (has_record && a.heldout.empty() && seq_len == tm->record->options.seq_len && windows == tm->record->options.val_windows)
        trainer = tm->last().val_loss;

    const bool mla = w->cfg.is_mla();
    const char* dt = to_string(s.cache_dtype);
    if (a.json) {
        nlohmann::json j;
        j["model"] = dir.empty() ? std::string("built-in, random weights") : dir;
        j["attn"] = to_string(w->cfg.attn_kind());
        j["heldout"] = {{"file", source}, {"bytes", text.size()}, {"seq_len", seq_len}, {"windows", used},
                        {"bytes_scored", used * seq_len}};
        j["cache_dtype"] = dt;
        j["backend"] = backend->name();
        j["unit"] = "bits per byte (nats / ln 2)";
        nlohmann::json paths = nlohmann::json::object();
        for (const CacheDtypeLoss& r : rows) {
            const std::string key = mla ? to_string(r.path) : to_string(w->cfg.attn_kind());
            paths[key] = {{"fp32", bits_per_byte(r.fp32)}, {dt, bits_per_byte(r.stored)}, {"change", r.bits_change()}};
        }
        j["loss"] = paths;
        if (trainer) j["train_csv_val_loss_bits"] = bits_per_byte(*trainer);
        std::puts(j.dump(2).c_str());
        return 0;
    }
    std::printf("%s (%s), %s backend\n", dir.empty() ? "built-in model, random weights" : dir.c_str(),
                to_string(w->cfg.attn_kind()), backend->name().c_str());
    std::printf("held-out text %s: %zu bytes, %lld windows of %lld bytes (%lld bytes scored)\n", source.c_str(),
                text.size(), static_cast<long long>(used), static_cast<long long>(seq_len),
                static_cast<long long>(used * seq_len));
    std::printf("loss in bits per byte, cache stored in fp32 and in %s:\n", dt);
    std::printf("  %-10s %10s %10s %10s\n", "path", "fp32", dt, "change");
    for (const CacheDtypeLoss& r : rows)
        std::printf("  %-10s %10.5f %10.5f %+10.5f\n", mla ? to_string(r.path) : to_string(w->cfg.attn_kind()),
                    bits_per_byte(r.fp32), bits_per_byte(r.stored), r.bits_change());
    if (trainer)
        std::printf("train.csv's last validation loss, the same windows: %.5f bits per byte\n", bits_per_byte(*trainer));
    return 0;
}

}  // namespace

void add_eval_command(CLI::App& root, Commands& cmds) {
    auto a = std::make_shared<EvalArgs>();
    CLI::App* s = root.add_subcommand("eval", "held-out loss with the cache in fp32 and in --cache-dtype, per MLA path");
    add_model_options(*s, a->m, kFolderOption | kCacheDtypeOption);
    s->add_option("--heldout", a->heldout, "text to score (default: the held-out text named by the folder's train.json)");
    s->add_option("--seq-len", a->seq_len, "bytes per window (0 = the trainer's, from train.json; else 256 or the model's context if shorter)")->default_val(0);
    s->add_option("--windows", a->windows, "windows spread over the text (0 = the trainer's; else 64)")->default_val(0);
    s->add_flag("--json", a->json, "JSON output");
    cmds.push_back({s, [a] { return run_eval(*a); }});
}

}  // namespace mla::cli
