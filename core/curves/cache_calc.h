// The KV-cache size calculator: how many bytes a model's attention cache holds per token and
// at a given context length, for its own attention and, for comparison, the same model with
// MHA, GQA, MQA or MLA. Exact integer byte counts; the formula behind every number is kept as
// text with its terms filled in, because published calculators get GQA and MLA wrong
// (KV heads vs query heads; the forgotten RoPE key).
//
// Shape legend (as in config.h), per token per layer, in elements:
//   H  = query heads [num_attention_heads]   G  = KV heads / groups [num_key_value_heads]
//   Dh = head dim                            L  = layers [num_hidden_layers]
//   C  = KV latent rank d_c [kv_lora_rank]   Dr = RoPE key dim d_r [qk_rope_head_dim]
//   Dn = no-RoPE query/key dim d_n           Dv = value head dim d_v
//   b  = bytes per element (dtype)           T  = tokens in the cache, B = batch
//
//   mha            2 H Dh            (K and V for every query head)
//   gqa            2 G Dh            (G groups of query heads share one K and V)
//   mqa            2 Dh              (one K and V for all heads)
//   mla            C + Dr            (the latent c_KV and the one shared RoPE key k_R)
//   mla-cached-kv  H (Dn + Dr + Dv)  (MLA run the "naive" way: per-head K = [k_C ; k_R] and V)
//
//   bytes per token = elements x L x b;  bytes = bytes per token x T x B.
//
// For an MLA model the comparison rows use the DeepSeek-V2 paper's d_h = Dn (Table 1:
// MHA 2 n_h d_h l with d_h = 128). For a model without MLA, the mla rows default to the
// paper's choice relative to the head dim: C = 4 Dh, Dr = Dh / 2 (so C + Dr = 9/2 Dh), and
// mla-cached-kv takes Dn = Dv = Dh.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/numbers.h"  // with_commas
#include "model/config.h"

namespace mla {

// [SECTION] Kinds and dtypes

enum class CacheKind { MHA, GQA, MQA, MLA, MLACachedKV };

const char* to_string(CacheKind k);               // "mha", "gqa", "mqa", "mla", "mla-cached-kv"
CacheKind parse_cache_kind(const std::string& s); // throws InputError naming the valid values
CacheKind cache_kind_of(AttnKind k);
const std::vector<CacheKind>& all_cache_kinds();  // in the order above

struct Dtype {
    std::string name;  // "fp32", "bf16", "fp16", "fp8"
    int bytes = 2;     // b
};
// Accepts fp32/float32, bf16/bfloat16, fp16/float16, fp8/float8; throws InputError otherwise.
Dtype parse_dtype(const std::string& s);

// [SECTION] One attention kind applied to a model

// The sizes behind one row. Fields that the kind does not use are 0.
struct CacheLayout {
    CacheKind kind = CacheKind::MHA;
    bool own = false;        // the model's own attention, with its own sizes
    int64_t layers = 0;      // L
    int64_t heads = 0;       // mha: H, gqa: G, mqa: 1 (K/V heads); mla-cached-kv: H
    int64_t head_dim = 0;    // Dh (mha, gqa, mqa)
    int64_t latent = 0;      // C (mla)
    int64_t rope_dim = 0;    // Dr (mla, mla-cached-kv)
    int64_t rope_keys = 1;   // Gr (mla): rotary keys per token, 1 shared (DeepSeek) or one per group (converted)
    int64_t nope_dim = 0;    // Dn (mla-cached-kv)
    int64_t v_dim = 0;       // Dv (mla-cached-kv)

    int64_t elements_per_token_per_layer() const;
    std::string symbolic() const;          // "2 G Dh"
    std::string elements_formula() const;  // "2 x 8 x 128" (the terms of elements_per_token_per_layer)
    std::string label() const;             // "gqa (G = 8, Dh = 128)"
};

// Sizes for the comparison rows; 0 = the default described at the top of this file.
struct CacheChoices {
    int64_t groups = 0;    // G of the gqa row; default: the model's own G if it is GQA, else the
                           // divisor of H closest to 8 from below (none if H is prime: no gqa row)
    int64_t latent = 0;    // C of the mla rows
    int64_t rope_dim = 0;  // Dr of the mla and mla-cached-kv rows
};

// The model's own attention with its own sizes (own = true).
CacheLayout own_layout(const Config& c);

// The model with attention kind k, sized by `choices` (own = false). Throws InputError when a
// choice is impossible (G must divide H and lie strictly between 1 and H; sizes positive).
// Returns false, leaving `out` alone, for a gqa row that has no default G (H prime).
bool comparison_layout(const Config& c, CacheKind k, const CacheChoices& choices, CacheLayout& out);

// The rows to show, in the order mha, gqa, mqa, mla, mla-cached-kv, filtered by `kinds`
// (empty = all). The model's own kind always shows its own sizes (own = true); a comparison
// row of that same kind is added only when the choices make it differ.
std::vector<CacheLayout> cache_layouts(const Config& c, const std::vector<CacheKind>& kinds = {},
                                       const CacheChoices& choices = {});

// [SECTION] Bytes

// E x L x b. Exact.
uint64_t bytes_per_token(const CacheLayout& l, const Dtype& d);
// bytes per token x T x B, every token kept. Exact; throws InputError past 2^64 - 1 bytes.
uint64_t cache_bytes(const CacheLayout& l, const Dtype& d, uint64_t tokens, uint64_t batch = 1);
// Tokens a sliding-window model holds at context T: min(T, window); T when there is none.
uint64_t tokens_held(const Config& c, uint64_t tokens);
// "2 x 8 x 128 x 80 layers x 2 B = 327,680 B/token"
std::string formula(const CacheLayout& l, const Dtype& d);
// How many times more bytes `a` holds per token than `b` (3,997,696 / 70,272 = 56.9).
double cache_ratio(const CacheLayout& a, const CacheLayout& b);

// "Fits in N GB": the longest context whose cache (every token kept) fits in capacity_bytes
// at this batch; 0 when not even one token fits.
uint64_t max_tokens_in(uint64_t capacity_bytes, uint64_t bytes_per_token, uint64_t batch = 1);
// Decimal gigabytes to bytes (80 GB = 80,000,000,000 B); throws InputError unless 0 < gb <= 1e9.
uint64_t gb_to_bytes(double gb);

// [SECTION] Rows for a table, CSV or JSON

struct CacheRequest {
    std::vector<uint64_t> tokens = {100000};  // T, one block of rows per value
    Dtype dtype = {"bf16", 2};
    uint64_t batch = 1;                       // B
    std::vector<CacheKind> kinds;             // empty = all
    CacheChoices choices;
};

struct CacheRow {
    CacheLayout layout;
    uint64_t tokens = 0;             // T (the context length asked for)
    uint64_t bytes_per_token = 0;    // E x L x b
    uint64_t bytes = 0;              // full context: bytes per token x T x B
    uint64_t tokens_held = 0;        // min(T, sliding window); T when the model has none
    uint64_t bytes_held = 0;         // capped at the sliding window: bytes per token x tokens_held x B
    std::string formula;
};

struct CacheReport {
    std::string model;               // preset name or config path
    Config config;
    Dtype dtype;
    uint64_t batch = 1;
    std::vector<CacheLayout> layouts;
    std::vector<CacheRow> rows;      // for each T in the request, one row per layout
    std::vector<std::string> notes;  // e.g. why there is no gqa row, which d_h the comparison uses
};

CacheReport cache_report(const std::string& model, const Config& c, const CacheRequest& r);

// The article's "400 GB -> 6 GB" mixes GB and GiB. For an MLA model: the sentence that says so
// with this model's MHA and MLA sizes at 100,000 tokens, bf16, batch 1 (DeepSeek-V3:
// 399.8 GB vs 7.03 GB = 372.3 GiB vs 6.54 GiB). Empty for other models.
std::string article_units_note(const std::string& model, const Config& c);

// [SECTION] Curves (for the plot command and the window's plot view)

struct CurveModel {
    std::string name;  // preset name or config path
    Config config;
};

struct CurveSeries {
    std::string model;
    CacheLayout layout;
    std::string label;               // "mistral-7b gqa (own, window 4096)"
    uint64_t window = 0;             // sliding window that caps the curve; 0 = none
    std::vector<uint64_t> tokens;    // x: context lengths (shared by all series of one call)
    std::vector<uint64_t> bytes;     // y: bytes held at each context length (capped at the window)
};

struct CurveRequest {
    std::vector<CacheKind> kinds;    // empty = each model's own kind only
    uint64_t min_tokens = 1000;
    uint64_t max_tokens = 1000000;
    bool log_x = true;               // log: 1-2-5 steps per decade; linear: 20 equal steps
    Dtype dtype = {"bf16", 2};
    uint64_t batch = 1;
    CacheChoices choices;
};

// The context lengths for a curve: 1-2-5 steps per decade (log) or equal steps (linear) from
// min to max, both included, plus every sliding window in range (the knee of a capped curve).
std::vector<uint64_t> curve_tokens(const CurveRequest& r, const std::vector<uint64_t>& windows = {});

// One series per model and kind, all on the same context lengths. A kind that a model has no
// row for (gqa of a model with a prime head count) is left out.
std::vector<CurveSeries> curve_series(const std::vector<CurveModel>& models, const CurveRequest& r);

// A ratio worth pointing at: for an MLA model, how many times more MHA caches per token.
struct CurveCallout {
    std::string model;
    std::string text;                // "deepseek-v3: MLA caches 56.9x less than MHA (576 vs 32,768 elements)"
    double ratio = 0;
    int mla_series = -1;             // index into the series (-1 = not shown)
    int mha_series = -1;
};
std::vector<CurveCallout> curve_callouts(const std::vector<CurveModel>& models,
                                         const std::vector<CurveSeries>& series);

// [SECTION] Presets (assets/presets/NAME.json)

// The presets folder, assets/presets, found as every assets folder is
// (base/assets.h). Throws InputError naming where it looked if none.
std::string presets_dir();
std::vector<std::string> preset_names();     // file stems, sorted
// Loads and validates (for the calculator) a preset; an unknown name lists the valid ones.
Config load_preset(const std::string& name);
// Loads and validates (for the calculator) any config.json; errors name the file and the field.
Config load_calc_config(const std::string& path);

// [SECTION] Number formatting

std::string format_gb(uint64_t bytes);         // "399.8 GB" (1e9 B); 1 decimal from 100, else 2 (3 significant below 0.1)
std::string format_gib(uint64_t bytes);        // "372.3 GiB" (2^30 B), same rule
std::string format_bytes_short(double bytes);  // "10 GB", "1.5 TB", "500 MB": decimal units, for axis ticks
std::string format_tokens_short(double t);     // "1k", "100k", "1M", "2.5M"
std::string format_ratio(double r);            // "56.9x" (1 decimal; 3 significant below 1)

}  // namespace mla
