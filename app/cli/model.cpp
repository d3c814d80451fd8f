// generate, forward, verify, bench: the model subcommands (DESIGN.md "Command line").
//
// [SECTION] model choice shared by the subcommands
// [SECTION] generate
// [SECTION] forward
// [SECTION] verify
// [SECTION] bench
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include <Eigen/Core>
#include <nlohmann/json.hpp>

#include "base/memory.h"
#include "base/numbers.h"
#include "base/rng.h"
#include "cli/cli.h"
#include "cli/model_options.h"
#include "io/builtin.h"
#include "io/model_folder.h"
#include "io/token_vocab.h"
#include "model/cost.h"
#include "model/cpu_backend.h"
#include "model/decoder.h"
#include "session/backends.h"
#include "session/session.h"

namespace mla::cli {

// ============================================================================ [SECTION] model choice

namespace {

using nlohmann::json;

std::vector<int64_t> parse_ids(const std::string& s, int64_t vocab) {
    std::vector<int64_t> ids;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        size_t used = 0;
        long long v = -1;
        try {
            v = std::stoll(item, &used);
        } catch (...) {
            used = 0;
        }
        if (used == 0 || used != item.size())
            throw InputError("--ids: '" + item + "' is not an integer; give comma-separated token ids like 1,2,3");
        if (v < 0 || v >= vocab)
            throw InputError("--ids: token id " + item + " is out of range; this model's ids are 0.." +
                             std::to_string(vocab - 1));
        ids.push_back(v);
    }
    if (ids.empty()) throw InputError("--ids is empty; give comma-separated token ids like 1,2,3");
    return ids;
}

std::vector<int64_t> parse_list(const std::string& s, const char* flag) {
    std::vector<int64_t> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        size_t used = 0;
        long long v = 0;
        try {
            v = std::stoll(item, &used);
        } catch (...) {
            used = 0;
        }
        if (used == 0 || used != item.size() || v <= 0)
            throw InputError(std::string(flag) + ": '" + item + "' is not a positive integer; give a list like 1024,4096");
        if (v > kMaxPositions)
            throw InputError(std::string(flag) + ": " + item + " is more than any model's context; give at most " +
                             with_commas(kMaxPositions));
        out.push_back(v);
    }
    if (out.empty()) throw InputError(std::string(flag) + " is empty");
    return out;
}

// --ids, or the prompt through the model's tokenizer.json (or its bytes).
std::vector<int64_t> prompt_tokens(const std::string& prompt, const std::string& ids, int64_t vocab_size,
                                   const TokenVocab& vocab) {
    if (!ids.empty()) return parse_ids(ids, vocab_size);
    if (prompt.empty()) throw InputError("--prompt is empty; give some text or --ids");
    std::vector<int64_t> out = vocab.encode(prompt);
    if (out.empty()) throw InputError("--prompt gives no tokens; give some text or --ids");
    return out;
}


// ============================================================================ [SECTION] generate

struct GenerateArgs {
    ModelOptions m;
    std::string ids;
    int64_t tokens = 32;
    bool json = false;
};

int run_generate(const GenerateArgs& g) {
    if (g.tokens < 0) throw InputError("--tokens must be 0 or more");
    const ModelSettings s = g.m.settings();
    auto w = g.m.load_weights(s);
    const int64_t V = w->cfg.vocab_size;
    const TokenVocab vocab = TokenVocab::for_model(g.m.model_dir, V);
    const std::vector<int64_t> prompt = prompt_tokens(s.prompt, g.ids, V, vocab);
    const int64_t P = static_cast<int64_t>(prompt.size());
    if (g.tokens > w->cfg.max_position_embeddings - P)  // not P + tokens, which can overflow
        throw InputError("prompt (" + std::to_string(P) + " tokens) + --tokens " + std::to_string(g.tokens) +
                         " is beyond max_position_embeddings = " + std::to_string(w->cfg.max_position_embeddings));
    auto backend = make_backend(s.backend);
    Decoder dec(w, *backend, run_options(s, w->cfg.attn_kind()));
    // Printed text: a tokenizer's pieces through a stream decoder, so a character split over
    // two tokens prints whole once its last byte arrives.
    std::optional<StreamDecoder> stream;
    if (vocab.words()) stream.emplace(*vocab.tokenizer());
    const auto print_token = [&](int64_t t) {
        const bool known = !stream || vocab.tokenizer()->id_to_token(t);
        std::fputs(known && stream ? stream->push(t).c_str() : vocab.text(t).c_str(), stdout);
    };
    if (!g.json) {
        for (int64_t t : prompt) print_token(t);
        std::fflush(stdout);
    }
    const Sampling sampling{s.temperature, s.top_k, s.top_p};
    Generation gen(prompt, sampling, s.sample_seed);
    Trace trace;
    std::vector<float> logits, drawn_from;   // this step's logits; the ones its token was drawn from
    for (int64_t pos = 0; pos < P + g.tokens; ++pos) {
        const int64_t token = gen.next_token();
        const bool generated = pos >= P;
        drawn_from = std::move(logits);
        logits = dec.step(token, generated ? &trace : nullptr);
        gen.observe(logits);
        if (!generated) continue;
        if (g.json) {
            json j = cost_json(trace.cost);
            // The ten most likely next tokens after the temperature, with the probability this
            // step's token was drawn with (core/model/decoder.h sampling_distribution: 0 for
            // those top-k or top-p cut).
            const std::vector<double> kept = sampling_distribution(drawn_from, sampling);
            json top = json::array();
            for (const TokenProb& tp : top_tokens(sampling_distribution(drawn_from, Sampling{s.temperature, 0, 1.0f}), 10))
                top.push_back({{"token_id", tp.id}, {"token_text", vocab.text(tp.id)},
                               {"p", kept[static_cast<size_t>(tp.id)]}});
            j["top"] = std::move(top);
            j["chosen_by"] = s.temperature > 0 ? "sampled" : "greedy";
            j["step"] = pos - P;
            j["position"] = trace.position;
            j["token_id"] = token;
            j["token_text"] = vocab.text(token);
            j["cache_tokens"] = trace.cache_tokens;
            j["cache_bytes"] = trace.cost.cache_bytes(cache_dtype_bytes(s.cache_dtype));
            j["cache_dtype"] = to_string(s.cache_dtype);
            j["ms"] = trace.step_ms;
            j["backend"] = trace.backend;
            std::puts(j.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
        } else {
            print_token(token);
            std::fflush(stdout);
        }
    }
    if (!g.json) {
        std::printf("\n[%lld tokens generated; cache holds %lld tokens = %lld elements = %.0f bytes in %s; %s]\n",
                    static_cast<long long>(g.tokens), static_cast<long long>(dec.position()),
                    static_cast<long long>(g.tokens ? trace.cost.cache_elements() : 0),
                    g.tokens ? trace.cost.cache_bytes(cache_dtype_bytes(s.cache_dtype)) : 0.0,
                    to_string(s.cache_dtype), backend->device().c_str());
    }
    return 0;
}

// ============================================================================ [SECTION] forward

int run_forward(const ModelOptions& m, const std::string& ids, bool as_json) {
    if (ids.empty()) throw InputError("forward needs --ids, e.g. --ids 1,2,3");
    const ModelSettings s = m.settings();
    auto w = m.load_weights(s);
    auto tokens = parse_ids(ids, w->cfg.vocab_size);
    if (static_cast<int64_t>(tokens.size()) > w->cfg.max_position_embeddings)
        throw InputError("--ids has more tokens than max_position_embeddings = " +
                         std::to_string(w->cfg.max_position_embeddings));
    auto backend = make_backend(s.backend);
    Decoder dec(w, *backend, run_options(s, w->cfg.attn_kind()));
    json rows = json::array();
    for (int64_t t : tokens) {
        const auto& logits = dec.step(t);
        if (as_json) {
            rows.push_back(logits);
        } else {
            std::vector<int64_t> idx(logits.size());
            for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
            std::partial_sort(idx.begin(), idx.begin() + std::min<size_t>(5, idx.size()), idx.end(),
                              [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
            std::printf("position %lld, token %lld: top logits", static_cast<long long>(dec.position() - 1),
                        static_cast<long long>(t));
            for (size_t i = 0; i < std::min<size_t>(5, idx.size()); ++i)
                std::printf("  %lld=%.4f", static_cast<long long>(idx[i]), logits[idx[i]]);
            std::printf("\n");
        }
    }
    if (as_json) std::puts(json{{"logits", rows}}.dump().c_str());
    return 0;
}

// ============================================================================ [SECTION] verify

struct VerifyResult {
    float recompute = 0, absorbed = 0;
};

// Runs cached-kv, recompute and absorbed on the same tokens (the prompt, then cached-kv's
// greedy choices) and returns each one's largest logit difference from cached-kv.
VerifyResult compare_paths(std::shared_ptr<const Weights> w, Backend& be, const std::vector<int64_t>& prompt,
                           int64_t tokens, bool rope_on_latent, CacheDtype dt) {
    RunOptions o;
    o.rope_on_latent = rope_on_latent;
    o.cache_dtype = dt;
    o.mla_path = MlaPath::CachedKV;
    Decoder ref(w, be, o);
    o.mla_path = MlaPath::Recompute;
    Decoder rec(w, be, o);
    o.mla_path = MlaPath::Absorbed;
    Decoder abs(w, be, o);
    VerifyResult r;
    int64_t next = prompt[0];
    for (int64_t s = 0; s < tokens; ++s) {
        const int64_t tok = s < static_cast<int64_t>(prompt.size()) ? prompt[s] : next;
        const std::vector<float> a = ref.step(tok);
        r.recompute = std::max(r.recompute, static_cast<float>(max_abs_diff(a, rec.step(tok))));
        r.absorbed = std::max(r.absorbed, static_cast<float>(max_abs_diff(a, abs.step(tok))));
        next = std::max_element(a.begin(), a.end()) - a.begin();
    }
    return r;
}

// Each path with a `dt` cache against the same path with a float32 cache, on the same tokens
// (the prompt, then the float32 cached-kv run's greedy choices): the largest logit difference.
std::array<float, 3> compare_to_fp32(std::shared_ptr<const Weights> w, Backend& be, const std::vector<int64_t>& prompt,
                                     int64_t tokens, CacheDtype dt) {
    std::array<float, 3> out{};
    std::vector<int64_t> fed;
    for (int p = 0; p < 3; ++p) {
        RunOptions o;
        o.mla_path = static_cast<MlaPath>(p);
        Decoder full(w, be, o);
        o.cache_dtype = dt;
        Decoder narrow(w, be, o);
        int64_t next = prompt[0];
        for (int64_t s = 0; s < tokens; ++s) {
            const int64_t tok = s < static_cast<int64_t>(prompt.size()) ? prompt[s] : p == 0 ? next : fed[s];
            const std::vector<float> a = full.step(tok);
            out[p] = std::max(out[p], static_cast<float>(max_abs_diff(a, narrow.step(tok))));
            if (p == 0) {
                fed.push_back(tok);
                next = std::max_element(a.begin(), a.end()) - a.begin();
            }
        }
    }
    return out;
}

int run_verify(const ModelOptions& m, int64_t tokens, bool as_json) {
    const ModelSettings s = m.settings();
    auto w = m.load_weights(s);
    if (!w->cfg.is_mla())
        throw InputError("verify compares the three MLA paths, but this model is " +
                         std::string(to_string(w->cfg.attn_kind())) + "; use --attn mla or an MLA --model");
    if (tokens < 1 || tokens > w->cfg.max_position_embeddings)
        throw InputError("--tokens must be between 1 and max_position_embeddings = " +
                         std::to_string(w->cfg.max_position_embeddings));
    // The prompt through the folder's tokenizer.json; else its bytes, modulo the vocabulary
    // of a model that reads something else.
    const TokenVocab vocab = TokenVocab::for_model(m.model_dir, w->cfg.vocab_size);
    auto ids = prompt_tokens(s.prompt, "", w->cfg.vocab_size, vocab.words() ? vocab : TokenVocab());
    if (!vocab.words()) for (auto& t : ids) t %= w->cfg.vocab_size;
    auto backend = make_backend(s.backend);
    const CacheDtype dt = s.cache_dtype;
    const VerifyResult exact = compare_paths(w, *backend, ids, tokens, false, dt);
    const VerifyResult variant = compare_paths(w, *backend, ids, tokens, true, dt);
    std::array<float, 3> vs{};
    if (dt != CacheDtype::F32) vs = compare_to_fp32(w, *backend, ids, tokens, dt);
    if (as_json) {
        json j;
        j["tokens"] = tokens;
        j["backend"] = backend->name();
        j["cache_dtype"] = to_string(dt);
        j["reference"] = "cached-kv";
        j["max_abs_diff"] = {{"recompute", exact.recompute}, {"absorbed", exact.absorbed}};
        if (dt != CacheDtype::F32)
            j["vs_fp32"] = {{"cached-kv", vs[0]}, {"recompute", vs[1]}, {"absorbed", vs[2]}};
        j["rope_on_latent"] = {{"max_abs_diff", {{"recompute", variant.recompute}, {"absorbed", variant.absorbed}}},
                               {"note", "RoPE applied to the compressed keys: the absorbed path cannot rotate keys "
                                        "per position, so it drifts from the other two"}};
        std::puts(j.dump(2).c_str());
    } else {
        std::printf("MLA paths over %lld tokens, %s cache, largest |logit difference| against cached-kv (%s):\n",
                    static_cast<long long>(tokens), to_string(dt), backend->device().c_str());
        std::printf("  recompute  %.3g\n  absorbed   %.3g\n", exact.recompute, exact.absorbed);
        if (dt != CacheDtype::F32)
            std::printf("Each path with a %s cache against itself with a float32 cache:\n  cached-kv  %.3g\n"
                        "  recompute  %.3g\n  absorbed   %.3g\n",
                        to_string(dt), vs[0], vs[1], vs[2]);
        std::printf("With RoPE on the compressed keys (the variant DeepSeek avoids by decoupling RoPE):\n");
        std::printf("  recompute  %.3g\n  absorbed   %.3g   <- W_UK can no longer be folded into the query\n",
                    variant.recompute, variant.absorbed);
    }
    return 0;
}

}  // namespace
}  // namespace mla::cli

// ============================================================================ [SECTION] bench

namespace mla::cli {
namespace {

struct BenchArgs {
    std::string config;
    std::string context = "1024,4096,16384";
    int threads = 0;
    int64_t kv_heads = 0;
    std::string backend = "cpu";
    double min_seconds = 0.3;
    int64_t session_steps = 0;      // > 0: time the window's session instead
    std::string cache_dtypes = "fp32";
    std::string attention = "fused";
    int rotate = 1;
    bool json = false;
};

// The window's per-token work: a Session with the default settings (the main lane, Compare's
// four kinds and Absorption's three paths, traced as the window traces them), stepped
// `steps` times from the article's prompt. Prints the mean and median time per token.
int run_session_bench(int64_t steps, bool as_json) {
    const ModelSettings s;
    app::Session session(s);
    if (steps > session.max_steps())
        throw InputError("--session " + std::to_string(steps) + " is beyond the model's context of " +
                         std::to_string(session.max_steps()) + " tokens");
    std::vector<double> ms;
    for (int64_t i = 0; i < steps; ++i) {
        if (!session.step()) throw InputError(session.error());
        ms.push_back(session.last_step_ms());
    }
    double sum = 0;
    for (double v : ms) sum += v;
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    const double mean = sum / static_cast<double>(ms.size()), median = sorted[sorted.size() / 2];
    if (as_json) {
        std::puts(json{{"steps", steps}, {"decoders", session.decoder_count()}, {"mean_ms", mean}, {"median_ms", median},
                       {"total_ms", sum}}.dump(2).c_str());
    } else {
        std::printf("window session, default settings: %d decoders per token, %lld steps: mean %.3f ms, median %.3f ms "
                    "per step (total %.0f ms)\n",
                    session.decoder_count(), static_cast<long long>(steps), mean, median, sum);
    }
    return 0;
}

// The attention-block configs that a bench compares: the file's own kind, and the others
// with the same hidden size and query heads (head dim = v_head_dim for an MLA config; an
// MLA row for a non-MLA config uses d_c = 4 d_h, d_r = d_h / 2, d_n = d_v = d_h).
struct BenchCase {
    AttnKind kind;
    MlaPath path;
    Config cfg;
};

std::vector<BenchCase> bench_cases(Config base, int64_t kv_heads) {
    base.num_hidden_layers = 1;
    base.vocab_size = 16;          // the bench runs no embedding or lm_head
    base.intermediate_size = 16;   // nor the MLP
    base.n_routed_experts = 0;
    base.first_k_dense_replace = 0;
    base.rope_scaling_type.clear();
    base.sliding_window = 0;
    base.tie_word_embeddings = false;
    const int64_t H = base.num_attention_heads;
    const int64_t dh = base.is_mla() ? base.v_head_dim : base.head_dim;
    Config plain = base;
    plain.model_type = "llama";
    plain.kv_lora_rank = plain.q_lora_rank = plain.qk_nope_head_dim = plain.qk_rope_head_dim = plain.v_head_dim = 0;
    plain.head_dim = dh;
    Config mla = base;
    if (!base.is_mla()) {
        mla.model_type = "deepseek_v2";
        mla.kv_lora_rank = 4 * dh;
        mla.qk_rope_head_dim = dh / 2;
        mla.qk_nope_head_dim = dh;
        mla.v_head_dim = dh;
        mla.num_key_value_heads = H;
        mla.head_dim = 0;
    }
    int64_t g = kv_heads;
    if (g == 0) {  // default GQA group count: a quarter of the query heads, at least 2 KV heads
        g = std::max<int64_t>(2, H / 4);
        while (g > 1 && H % g != 0) --g;
    }
    if (g < 1 || H % g != 0)
        throw InputError("--kv-heads " + std::to_string(kv_heads) + " must divide the " + std::to_string(H) + " query heads");
    std::vector<BenchCase> out;
    Config c = plain;
    c.num_key_value_heads = H;
    out.push_back({AttnKind::MHA, MlaPath::Absorbed, c});
    c.num_key_value_heads = g;
    out.push_back({AttnKind::GQA, MlaPath::Absorbed, c});
    c.num_key_value_heads = 1;
    out.push_back({AttnKind::MQA, MlaPath::Absorbed, c});
    for (MlaPath p : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed}) out.push_back({AttnKind::MLA, p, mla});
    return out;
}

// The bandwidth a memory-bound decode step can reach: every thread sums its own contiguous
// part of a buffer at least 8 times the last-level cache (and at least 1 GiB), with four
// vector accumulators so the adds never limit the loads. Best of 5, GB/s (1e9 bytes).
double measure_read_bandwidth(int threads, int64_t llc_bytes) {
    using Packet = Eigen::internal::packet_traits<float>::type;
    constexpr int64_t L = Eigen::internal::packet_traits<float>::size;
    const int64_t bytes = std::max<int64_t>(int64_t{1} << 30, 8 * llc_bytes);
    const int64_t n = bytes / 4 / (4 * L * threads) * (4 * L * threads);
    check_memory(4.0 * static_cast<double>(n), "the bench's bandwidth buffer", "free some memory");
    std::vector<float> a(static_cast<size_t>(n), 1.0f);
    std::vector<double> sums(static_cast<size_t>(threads), 0.0);
    auto part = [&](int t) {
        using namespace Eigen::internal;
        const int64_t lo = n * t / threads, hi = n * (t + 1) / threads;
        Packet s0 = pset1<Packet>(0), s1 = s0, s2 = s0, s3 = s0;
        for (int64_t i = lo; i < hi; i += 4 * L) {
            s0 = padd(s0, ploadu<Packet>(a.data() + i));
            s1 = padd(s1, ploadu<Packet>(a.data() + i + L));
            s2 = padd(s2, ploadu<Packet>(a.data() + i + 2 * L));
            s3 = padd(s3, ploadu<Packet>(a.data() + i + 3 * L));
        }
        sums[t] = predux(padd(padd(s0, s1), padd(s2, s3)));
    };
    double best = 0;
    for (int rep = 0; rep < 5; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) pool.emplace_back(part, t);
        for (auto& p : pool) p.join();
        const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double total = 0;
        for (double v : sums) total += v;
        if (total != static_cast<double>(n)) throw std::logic_error("bandwidth buffer summed wrong");  // keeps the loads
        best = std::max(best, static_cast<double>(n) * 4.0 / sec / 1e9);
    }
    return best;
}

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) out.push_back(item);
    return out;
}

// Where a working set of `bytes` lives: the smallest cache level that holds it (each
// thread's share of a private cache, the whole of a shared one), else DRAM.
std::string residency(double bytes, const std::vector<CpuCache>& caches, int threads) {
    for (const CpuCache& c : caches) {
        const double room = c.shared_by > 1 ? static_cast<double>(c.bytes) : static_cast<double>(c.bytes) * threads;
        if (c.level >= 2 && bytes <= room) return "L" + std::to_string(c.level);
    }
    return caches.empty() ? "?" : "DRAM";
}

int run_bench(const BenchArgs& b) {
    if (b.session_steps < 0) throw InputError("--session must be 1 or more steps");
    if (b.session_steps > 0) return run_session_bench(b.session_steps, b.json);
    Config base = b.config.empty() ? builtin_config(AttnKind::MLA) : load_config_file(b.config);
    validate(base, false);
    const auto contexts = parse_list(b.context, "--context");
    if (b.threads < 0) throw InputError("--threads must be 0 (all cores) or more");
    if (b.rotate < 1 || b.rotate > 64) throw InputError("--rotate must be between 1 and 64 copies");
    std::vector<CacheDtype> dtypes;
    for (const std::string& d : split_list(b.cache_dtypes)) dtypes.push_back(parse_cache_dtype(d));
    if (dtypes.empty()) throw InputError("--cache-dtype is empty; give fp32, bf16, fp16 or fp8 (or a list)");
    std::vector<bool> kernels;  // true = fused
    if (b.attention == "fused") kernels = {true};
    else if (b.attention == "three-pass") kernels = {false};
    else if (b.attention == "both") kernels = {false, true};
    else throw InputError("--attention '" + b.attention + "' is not known; use fused, three-pass or both");
    const int threads = b.threads > 0 ? b.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const std::vector<BenchCase> cases = bench_cases(base, b.kv_heads);
    const int64_t max_t = *std::max_element(contexts.begin(), contexts.end());
    for (const BenchCase& bc : cases) {
        // Before anything runs: the weights, the cache (its capacity may be up to twice what it
        // holds), the random fill and the scores must fit, once per rotated copy.
        const double T = static_cast<double>(max_t) + 1, per_token = static_cast<double>(cache_elements_per_token(bc.cfg, bc.path));
        const double need = 4.0 * (b.rotate * (parameter_count(bc.cfg) + 2 * per_token * T) + per_token * T +
                                   2 * static_cast<double>(bc.cfg.num_attention_heads) * T);
        check_memory(need, std::string("bench ") + to_string(bc.cfg.attn_kind()) + " at context " + with_commas(max_t),
                     "give a shorter --context or fewer --rotate copies");
    }
    auto backend = make_backend(b.backend);
    if (b.backend == "cpu") backend = std::make_unique<CpuBackend>(threads);
    const std::vector<CpuCache> caches = cpu_data_caches();
    const int64_t llc = caches.empty() ? 0 : caches.back().bytes;
    const double bw = b.backend == "cpu" ? measure_read_bandwidth(threads, llc) : 0.0;
    const bool gpu = b.backend == "gpu";
    json rows = json::array();
    if (!b.json) {
        std::printf("%s, %d thread(s)\n", backend->device().c_str(), threads);
        if (!caches.empty()) {
            std::printf("data caches:");
            for (const CpuCache& c : caches)
                std::printf(" L%d %s (shared by %d)", c.level, memory_text(static_cast<double>(c.bytes)).c_str(), c.shared_by);
            std::printf("\n");
        }
        if (bw > 0)
            std::printf("memory read bandwidth: %.1f GB/s (%d threads summing %s, more than 8x the last-level cache)\n",
                        bw, threads, memory_text(std::max<double>(1073741824.0, 8.0 * static_cast<double>(llc))).c_str());
        std::printf("%-5s %-10s %-5s %-10s %8s %10s %12s %12s %8s %8s %6s%s\n", "kind", "path", "cache", "attention",
                    "context", "ms/step", "FLOP/step", "bytes read", "GB/s", "of bw", "in", gpu ? "  dispatches" : "");
    }
    for (const BenchCase& bc : cases) {
        Config cfg = bc.cfg;
        cfg.max_position_embeddings = std::max<int64_t>(cfg.max_position_embeddings, max_t + 1);
        validate(cfg, true);
        auto w = std::make_shared<const Weights>(random_weights(cfg, 5));
        for (CacheDtype dt : dtypes)
            for (bool fused : kernels) {
                RunOptions o;
                o.mla_path = bc.path;
                o.cache_dtype = dt;
                o.fused = fused;
                // --rotate N: N decoders, each with its own copy of the weights and cache, stepped in turn
                std::vector<std::unique_ptr<Decoder>> decs;
                for (int r = 0; r < b.rotate; ++r) decs.push_back(std::make_unique<Decoder>(w, *backend, o));
                for (int64_t T : contexts) {
                    for (auto& d : decs) {
                        d->fill_cache_random(T, 9);
                        d->attention_only_step(T);  // warm-up
                    }
                    std::vector<double> ms;
                    int64_t disp = 0;
                    const auto start = std::chrono::steady_clock::now();
                    while (ms.size() < 3 ||
                           (ms.size() < 50 && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
                                                  b.min_seconds)) {
                        Decoder& d = *decs[ms.size() % decs.size()];
                        const int64_t d0 = backend->dispatch_count();
                        const auto t0 = std::chrono::steady_clock::now();
                        d.attention_only_step(T);
                        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
                        disp = backend->dispatch_count() - d0;
                    }
                    std::sort(ms.begin(), ms.end());
                    const double med = ms[ms.size() / 2];
                    const LayerCost c = attention_cost(cfg, o, T + 1);
                    const double bytes = c.weight_bytes + c.cache_read_bytes;
                    const double gbs = bytes / (med * 1e-3) / 1e9;
                    const std::string in = residency(bytes * b.rotate, caches, threads);
                    json row = {{"kind", to_string(bc.kind)},
                                {"path", bc.kind == AttnKind::MLA ? to_string(bc.path) : "-"},
                                {"cache_dtype", to_string(dt)},
                                {"attention", fused ? "fused" : "three-pass"},
                                {"context", T},
                                {"kv_heads", bc.kind == AttnKind::MLA ? 0 : cfg.num_key_value_heads},
                                {"ms_per_step", med},
                                {"flops_per_step", c.attn_flops},
                                {"bytes_read_per_step", bytes},
                                {"cache_bytes_read_per_step", c.cache_read_bytes},
                                {"weight_bytes_per_step", c.weight_bytes},
                                {"working_set_bytes", bytes * b.rotate},
                                {"working_set_in", in},
                                {"gb_per_s", gbs},
                                {"repeats", ms.size()}};
                    if (bw > 0) row["fraction_of_bandwidth"] = gbs / bw;
                    if (gpu) row["dispatches_per_step"] = disp;
                    rows.push_back(row);
                    if (!b.json) {
                        std::printf("%-5s %-10s %-5s %-10s %8lld %10.3f %12.4g %12.4g %8.2f %7.0f%% %6s", to_string(bc.kind),
                                    bc.kind == AttnKind::MLA ? to_string(bc.path) : "-", to_string(dt),
                                    fused ? "fused" : "three-pass", static_cast<long long>(T), med, c.attn_flops, bytes, gbs,
                                    bw > 0 ? 100 * gbs / bw : 0.0, in.c_str());
                        if (gpu) std::printf("  %10lld", static_cast<long long>(disp));
                        std::printf("\n");
                    }
                    std::fflush(stdout);
                }
            }
    }
    if (b.json) {
        json cj = json::array();
        for (const CpuCache& c : caches) cj.push_back({{"level", c.level}, {"bytes", c.bytes}, {"shared_by", c.shared_by}});
        json j = {{"config", b.config.empty() ? "built-in mla" : b.config},
                  {"backend", backend->name()},
                  {"device", backend->device()},
                  {"threads", threads},
                  {"rotate", b.rotate},
                  {"cpu_data_caches", cj},
                  {"rows", rows}};
        if (bw > 0) j["memory_read_bandwidth_gb_per_s"] = bw;
        std::puts(j.dump(2).c_str());
    } else {
        std::printf("bytes read = weights + cache (cache in its stored dtype), one layer's attention block; 'in' = the "
                    "smallest cache level the working set (x %d rotated copies) fits in%s\n",
                    b.rotate, b.rotate == 1 ? "; --rotate N steps N copies in turn to exceed it" : "");
    }
    return 0;
}

}  // namespace

void add_model_commands(CLI::App& root, Commands& cmds) {
    {
        auto g = std::make_shared<GenerateArgs>();
        CLI::App* s = root.add_subcommand("generate", "run a model token by token and print the text (or JSON Lines)");
        add_model_options(*s, g->m, kFolderOption | kPathOptions | kPromptOption | kSamplingOptions | kCacheDtypeOption);
        s->add_option("--ids", g->ids, "prompt as comma-separated token ids");
        s->add_option("--tokens", g->tokens, "tokens to generate")->default_val(32);
        s->add_flag("--json", g->json, "JSON Lines, one object per generated token");
        cmds.push_back({s, [g] { return run_generate(*g); }});
    }
    {
        auto m = std::make_shared<ModelOptions>();
        auto ids = std::make_shared<std::string>();
        auto js = std::make_shared<bool>(false);
        CLI::App* s = root.add_subcommand("forward", "logits of every position for given token ids");
        add_model_options(*s, *m, kFolderOption | kPathOptions | kCacheDtypeOption);
        s->add_option("--ids", *ids, "comma-separated token ids")->required();
        s->add_flag("--json", *js, "print {\"logits\": [[...], ...]}");
        cmds.push_back({s, [m, ids, js] { return run_forward(*m, *ids, *js); }});
    }
    {
        auto m = std::make_shared<ModelOptions>();
        auto tokens = std::make_shared<int64_t>(64);
        auto js = std::make_shared<bool>(false);
        CLI::App* s = root.add_subcommand("verify", "run the three MLA paths side by side, print the largest difference");
        add_model_options(*s, *m, kFolderOption | kPromptOption | kCacheDtypeOption);
        s->add_option("--tokens", *tokens, "decode steps")->default_val(64);
        s->add_flag("--json", *js, "JSON output");
        cmds.push_back({s, [m, tokens, js] { return run_verify(*m, *tokens, *js); }});
    }
    {
        auto b = std::make_shared<BenchArgs>();
        CLI::App* s = root.add_subcommand("bench", "time one decode step of one layer's attention block per kind and path");
        s->add_option("--config", b->config, "HF config.json (default: the built-in MLA model)");
        s->add_option("--context", b->context, "context lengths, comma-separated")->default_val(b->context);
        s->add_option("--threads", b->threads, "CPU threads (0 = all cores)")->default_val(0);
        s->add_option("--kv-heads", b->kv_heads, "KV heads of the GQA row (default: a quarter of the query heads)");
        s->add_option("--backend", b->backend, "cpu or gpu")->default_val("cpu");
        s->add_option("--min-seconds", b->min_seconds, "time each case for at least this long")->default_val(0.3);
        s->add_option("--cache-dtype", b->cache_dtypes, "cache dtypes, comma-separated: fp32, bf16, fp16, fp8")
            ->default_val(b->cache_dtypes);
        s->add_option("--attention", b->attention,
                      "fused (one pass over the cache), three-pass (the reference: scores, softmax, values) or both")
            ->default_val(b->attention);
        s->add_option("--rotate", b->rotate,
                      "step N copies of the weights and cache in turn, so the working set can exceed the last-level cache")
            ->default_val(1);
        s->add_option("--session", b->session_steps,
                      "instead: time N steps of the window's session (all its lanes, traced) with the default settings");
        s->add_flag("--json", b->json, "JSON output");
        cmds.push_back({s, [b] { return run_bench(*b); }});
    }
}

}  // namespace mla::cli
