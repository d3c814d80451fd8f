// `mla-lab convert`: an MHA or GQA model folder turned into an MLA one (convert/convert.h).
//
//   mla-lab convert --model DIR --kv-lora-rank N --rope-pairs R [--rope-strategy high|low|uniform|norm]
//                   [--svd joint|split] [--heldout FILE] --out DIR [--json]
//   mla-lab convert --model DIR --sweep [--heldout FILE] [--ranks 4,8,..] [--pairs 1,2,..] --csv FILE
//
// --heldout: text for the norm strategy's measurements and the sweep's scores; default the
// held-out text named by the folder's train.json.
#include "cli/cli.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/numbers.h"
#include "base/text_file.h"
#include "convert/convert.h"
#include "io/model_folder.h"
#include "model/cpu_backend.h"
#include "train/train_report.h"

namespace mla::cli {
namespace {

namespace fs = std::filesystem;

struct ConvertArgs {
    std::string model, out, heldout, csv, strategy = "high", svd = "joint", ranks, pairs;
    int64_t kv_lora_rank = 0, rope_pairs = 0, seq_len = 0, windows = 0;
    bool sweep = false, json = false;
};

std::vector<int64_t> int_list(const std::string& s, const char* option) {
    std::vector<int64_t> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (item.empty() || item.size() > 6 || item.find_first_not_of("0123456789") != std::string::npos)
            throw InputError(std::string(option) + " '" + s + "' must be positive integers separated by commas, e.g. 4,8,16");
        out.push_back(std::stoll(item));
    }
    if (out.empty()) throw InputError(std::string(option) + " is empty; give integers separated by commas");
    return out;
}

// The text to measure or score on, and the trainer's window settings when the folder has them.
struct Heldout {
    std::string text, source;
    int64_t seq_len = 256, windows = 64;
};

Heldout heldout_of(const ConvertArgs& a, const Config& cfg, bool required) {
    Heldout h;
    std::optional<TrainedModel> tm;
    try {
        tm = load_trained_model(a.model);
    } catch (const InputError&) {
        tm.reset();
    }
    if (tm && tm->record) {
        h.seq_len = tm->record->options.seq_len;
        h.windows = tm->record->options.val_windows;
    }
    if (!a.heldout.empty()) {
        h.text = read_file(a.heldout, ", the --heldout text");
        h.source = a.heldout;
    } else if (tm && tm->record) {
        h.text = read_heldout(*tm);
        h.source = (fs::path(a.model) / tm->record->heldout).lexically_normal().string();
    } else if (required) {
        throw InputError("this model has no train.json naming its held-out text; give --heldout FILE");
    }
    if (a.seq_len > 0) h.seq_len = a.seq_len;
    if (a.windows > 0) h.windows = a.windows;
    h.seq_len = std::min(h.seq_len, cfg.max_position_embeddings);
    return h;
}

int run_convert(const ConvertArgs& a) {
    if (a.model.empty()) throw InputError("convert needs --model DIR (an MHA, GQA or MQA model folder)");
    if (a.seq_len < 0 || a.windows < 0) throw InputError("--seq-len and --windows must be 1 or more (0 = the trainer's)");
    const Weights src = load_model(a.model);
    if (src.cfg.is_mla()) throw InputError(a.model + " is already an MLA model; convert reads an MHA, GQA or MQA model");
    if (src.cfg.vocab_size != 256 && (a.sweep || a.strategy == "norm"))
        throw InputError("--sweep and the norm strategy read bytes, and this model's vocabulary is " +
                         std::to_string(src.cfg.vocab_size) + " tokens; use --rope-strategy high, low or uniform");
    ConvertOptions o;
    o.strategy = parse_rope_strategy(a.strategy);
    o.svd = parse_svd_mode(a.svd);

    if (a.sweep) {
        if (a.csv.empty()) throw InputError("--sweep writes a table: give --csv FILE");
        const Heldout h = heldout_of(a, src.cfg, true);
        const std::vector<int64_t> ranks = a.ranks.empty() ? default_sweep_ranks(src.cfg) : int_list(a.ranks, "--ranks");
        const std::vector<int64_t> pairs = a.pairs.empty() ? default_sweep_pairs(src.cfg) : int_list(a.pairs, "--pairs");
        if (o.strategy == RopeStrategy::Norm)
            for (unsigned char ch : h.text.substr(0, static_cast<size_t>(h.seq_len))) o.calibration_tokens.push_back(ch);
        CpuBackend cpu;
        const double base = bits_per_byte(heldout_loss(src, {}, cpu, h.text, h.seq_len, h.windows));
        const int64_t before = 2 * src.cfg.num_key_value_heads * src.cfg.head_dim * src.cfg.num_hidden_layers;
        std::fprintf(stderr, "source %s: %.4f bits per byte, cache %lld elements per token; %s, %zu windows of %lld bytes\n",
                     a.model.c_str(), base, static_cast<long long>(before), h.source.c_str(),
                     heldout_window_starts(static_cast<int64_t>(h.text.size()), h.seq_len, h.windows).size(),
                     static_cast<long long>(h.seq_len));
        std::string csv = "kv_lora_rank,rope_pairs,rope_strategy,svd,cache_elements_per_token,cache_fraction,"
                          "mean_relative_error,val_loss_bits,source_val_loss_bits\n";
        const auto points = convert_sweep(src, o, ranks, pairs, h.text, h.seq_len, h.windows, [&](const SweepPoint& p) {
            std::fprintf(stderr, "  C %4lld  r %2lld  cache %5lld (%5.1f%%)  error %.4f  loss %.4f bits/byte\n",
                         static_cast<long long>(p.kv_lora_rank), static_cast<long long>(p.rope_pairs),
                         static_cast<long long>(p.cache_elements), 100.0 * double(p.cache_elements) / double(before),
                         p.mean_relative_error, p.loss_bits);
        });
        if (points.empty()) throw InputError("no point of the grid is valid for this model; check --ranks and --pairs");
        char buf[256];
        for (const SweepPoint& p : points) {
            std::snprintf(buf, sizeof buf, "%lld,%lld,%s,%s,%lld,%.6f,%.8f,%.6f,%.6f\n", static_cast<long long>(p.kv_lora_rank),
                          static_cast<long long>(p.rope_pairs), to_string(o.strategy), to_string(o.svd),
                          static_cast<long long>(p.cache_elements), double(p.cache_elements) / double(before),
                          p.mean_relative_error, p.loss_bits, base);
            csv += buf;
        }
        write_file_atomic(a.csv, csv);
        std::printf("wrote %s: %zu points\n", a.csv.c_str(), points.size());
        return 0;
    }

    if (a.out.empty()) throw InputError("convert needs --out DIR for the MLA model (or --sweep --csv FILE)");
    if (a.kv_lora_rank <= 0 || a.rope_pairs <= 0)
        throw InputError("convert needs --kv-lora-rank N (the latent d_c) and --rope-pairs R (frequency pairs kept per head)");
    o.kv_lora_rank = a.kv_lora_rank;
    o.rope_pairs = a.rope_pairs;
    if (o.strategy == RopeStrategy::Norm) {
        const Heldout h = heldout_of(a, src.cfg, true);
        for (unsigned char ch : h.text.substr(0, static_cast<size_t>(h.seq_len))) o.calibration_tokens.push_back(ch);
    }
    const ConvertResult r = convert_to_mla(src, o);
    save_model(r.weights, a.out);
    const int64_t before = r.cache_elements_before * 4, after = r.cache_elements_after * 4;  // float32 bytes
    if (a.json) {
        nlohmann::json j;
        j["model"] = a.model;
        j["out"] = a.out;
        j["kv_lora_rank"] = o.kv_lora_rank;
        j["rope_pairs"] = o.rope_pairs;
        j["rope_strategy"] = to_string(o.strategy);
        j["svd"] = to_string(o.svd);
        nlohmann::json layers = nlohmann::json::array();
        for (size_t l = 0; l < r.layers.size(); ++l) {
            const ConvertLayer& cl = r.layers[l];
            nlohmann::json e = {{"layer", l}, {"singular_values", cl.singular_values}, {"relative_error", cl.relative_error},
                                {"energy_kept", cl.energy_kept}, {"rope_pairs", cl.pairs}};
            if (o.svd == SvdMode::Split) e["singular_values_v"] = cl.singular_values_v;
            layers.push_back(e);
        }
        j["layers"] = layers;
        j["cache_bytes_per_token"] = {{"before", before}, {"after", after}, {"dtype", "float32"}};
        std::puts(j.dump(2).c_str());
        return 0;
    }
    std::printf("converted %s (%s) -> %s (mla): d_c = %lld, %lld RoPE pairs per head (%s), %s SVD\n", a.model.c_str(),
                to_string(src.cfg.attn_kind()), a.out.c_str(), static_cast<long long>(o.kv_lora_rank),
                static_cast<long long>(o.rope_pairs), to_string(o.strategy), to_string(o.svd));
    for (size_t l = 0; l < r.layers.size(); ++l)
        std::printf("  layer %zu: relative error %.4f, energy kept %.2f%%\n", l, r.layers[l].relative_error,
                    100 * r.layers[l].energy_kept);
    std::printf("cache per token (float32, all layers): %s bytes -> %s bytes (%.1f%% of before)\n",
                with_commas(static_cast<uint64_t>(before)).c_str(), with_commas(static_cast<uint64_t>(after)).c_str(),
                100.0 * double(after) / double(before));
    return 0;
}

}  // namespace

void add_convert_command(CLI::App& root, Commands& cmds) {
    auto a = std::make_shared<ConvertArgs>();
    CLI::App* s = root.add_subcommand("convert", "turn an MHA or GQA model into MLA: partial RoPE and a truncated SVD (MHA2MLA)");
    s->add_option("--model", a->model, "source model folder (MHA, GQA or MQA)");
    s->add_option("--out", a->out, "folder for the converted MLA model");
    s->add_option("--kv-lora-rank", a->kv_lora_rank, "latent rank d_c kept by the SVD");
    s->add_option("--rope-pairs", a->rope_pairs, "frequency pairs per head that keep RoPE (1 to head_dim/2)");
    s->add_option("--rope-strategy", a->strategy, "which pairs: high (fastest), low, uniform, norm (largest q.k norms on the text)")
        ->default_val("high");
    s->add_option("--svd", a->svd, "joint: one SVD of [W_K,nope ; W_V]; split: K and V apart, d_c/2 each")->default_val("joint");
    s->add_option("--heldout", a->heldout, "text for the norm strategy and the sweep (default: the folder's held-out text)");
    s->add_flag("--sweep", a->sweep, "held-out loss for a grid of d_c and r, without fine-tuning (needs --csv)");
    s->add_option("--ranks", a->ranks, "with --sweep: the d_c values, e.g. 4,8,16,32,64 (default: doubling up to full rank)");
    s->add_option("--pairs", a->pairs, "with --sweep: the r values, e.g. 1,2,4,8 (default: doubling up to head_dim/2)");
    s->add_option("--csv", a->csv, "with --sweep: the table to write");
    s->add_option("--seq-len", a->seq_len, "bytes per scored window (0 = the trainer's)")->default_val(0);
    s->add_option("--windows", a->windows, "scored windows (0 = the trainer's)")->default_val(0);
    s->add_flag("--json", a->json, "JSON output: per layer singular values and relative error, cache bytes per token");
    cmds.push_back({s, [a] { return run_convert(*a); }});
}

}  // namespace mla::cli
