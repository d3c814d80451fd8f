// The KV-cache size calculator (see cache_calc.h for the formulas and the defaults).
//
// [SECTION] Kinds and dtypes
// [SECTION] Layouts
// [SECTION] Bytes
// [SECTION] Report
// [SECTION] Curves
// [SECTION] Presets
// [SECTION] Number formatting
#include "curves/cache_calc.h"

#include "base/assets.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <system_error>

#include "base/check.h"

namespace mla {

namespace fs = std::filesystem;

// [SECTION] Kinds and dtypes

const char* to_string(CacheKind k) {
    switch (k) {
        case CacheKind::MHA: return "mha";
        case CacheKind::GQA: return "gqa";
        case CacheKind::MQA: return "mqa";
        case CacheKind::MLA: return "mla";
        case CacheKind::MLACachedKV: return "mla-cached-kv";
    }
    return "?";
}

const std::vector<CacheKind>& all_cache_kinds() {
    static const std::vector<CacheKind> kinds = {CacheKind::MHA, CacheKind::GQA, CacheKind::MQA, CacheKind::MLA,
                                                 CacheKind::MLACachedKV};
    return kinds;
}

CacheKind parse_cache_kind(const std::string& s) {
    for (CacheKind k : all_cache_kinds())
        if (s == to_string(k)) return k;
    throw InputError("cache kind '" + s + "' is not known; use mha, gqa, mqa, mla or mla-cached-kv");
}

CacheKind cache_kind_of(AttnKind k) {
    switch (k) {
        case AttnKind::MHA: return CacheKind::MHA;
        case AttnKind::GQA: return CacheKind::GQA;
        case AttnKind::MQA: return CacheKind::MQA;
        case AttnKind::MLA: return CacheKind::MLA;
    }
    return CacheKind::MHA;
}

Dtype parse_dtype(const std::string& s) {
    if (s == "fp32" || s == "float32") return {"fp32", 4};
    if (s == "bf16" || s == "bfloat16") return {"bf16", 2};
    if (s == "fp16" || s == "float16") return {"fp16", 2};
    if (s == "fp8" || s == "float8") return {"fp8", 1};
    throw InputError("dtype '" + s + "' is not known; use fp32 (4 B), bf16 (2 B), fp16 (2 B) or fp8 (1 B)");
}

// [SECTION] Layouts

namespace {

// The head dim the comparison rows use: the paper's d_h = Dn for an MLA model.
// MLA: the paper's d_h = qk_nope_head_dim; a model converted from MHA: the source's head dim.
int64_t comparison_head_dim(const Config& c) {
    if (!c.is_mla()) return c.head_dim;
    return c.mla_rope_pairs_head_dim > 0 ? c.mla_rope_pairs_head_dim : c.qk_nope_head_dim;
}

// Group counts G with 1 < G < H that divide H.
std::vector<int64_t> gqa_group_counts(int64_t heads) {
    std::vector<int64_t> out;
    for (int64_t g = 2; g < heads; ++g)
        if (heads % g == 0) out.push_back(g);
    return out;
}

std::string join_ints(const std::vector<int64_t>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s;
}

bool same_sizes(const CacheLayout& a, const CacheLayout& b) {
    return a.kind == b.kind && a.layers == b.layers && a.heads == b.heads && a.head_dim == b.head_dim &&
           a.latent == b.latent && a.rope_dim == b.rope_dim && a.rope_keys == b.rope_keys && a.nope_dim == b.nope_dim && a.v_dim == b.v_dim;
}

void check_choice(const char* what, int64_t v, int64_t limit) {
    if (v < 0 || v > limit)
        throw InputError(std::string(what) + " = " + std::to_string(v) +
                         " is not valid: it must be a positive integer up to " + std::to_string(limit) +
                         " (or 0 for the default)");
}

}  // namespace

int64_t CacheLayout::elements_per_token_per_layer() const {
    switch (kind) {
        case CacheKind::MHA:
        case CacheKind::GQA:
        case CacheKind::MQA: return 2 * heads * head_dim;
        case CacheKind::MLA: return latent + rope_keys * rope_dim;
        case CacheKind::MLACachedKV: return heads * (nope_dim + rope_dim + v_dim);
    }
    return 0;
}

std::string CacheLayout::symbolic() const {
    switch (kind) {
        case CacheKind::MHA: return "2 H Dh";
        case CacheKind::GQA: return "2 G Dh";
        case CacheKind::MQA: return "2 Dh";
        case CacheKind::MLA: return rope_keys == 1 ? "(C + Dr)" : "(C + Gr Dr)";
        case CacheKind::MLACachedKV: return "H (Dn + Dr + Dv)";
    }
    return "?";
}

std::string CacheLayout::elements_formula() const {
    auto s = [](int64_t v) { return with_commas(static_cast<uint64_t>(v)); };
    switch (kind) {
        case CacheKind::MHA:
        case CacheKind::GQA: return "2 x " + s(heads) + " x " + s(head_dim);
        case CacheKind::MQA: return "2 x " + s(head_dim);
        case CacheKind::MLA:
            return "(" + s(latent) + " + " + (rope_keys == 1 ? "" : s(rope_keys) + " x ") + s(rope_dim) + ")";
        case CacheKind::MLACachedKV:
            return s(heads) + " x (" + s(nope_dim) + " + " + s(rope_dim) + " + " + s(v_dim) + ")";
    }
    return "?";
}

std::string CacheLayout::label() const {
    auto s = [](int64_t v) { return std::to_string(v); };
    switch (kind) {
        case CacheKind::MHA: return "mha (H = " + s(heads) + ", Dh = " + s(head_dim) + ")";
        case CacheKind::GQA: return "gqa (G = " + s(heads) + ", Dh = " + s(head_dim) + ")";
        case CacheKind::MQA: return "mqa (1 KV head, Dh = " + s(head_dim) + ")";
        case CacheKind::MLA:
            return "mla (C = " + s(latent) + ", Dr = " + s(rope_dim) + (rope_keys == 1 ? "" : ", Gr = " + s(rope_keys)) + ")";
        case CacheKind::MLACachedKV:
            return "mla-cached-kv (H = " + s(heads) + ", Dn = " + s(nope_dim) + ", Dr = " + s(rope_dim) +
                   ", Dv = " + s(v_dim) + ")";
    }
    return "?";
}

CacheLayout own_layout(const Config& c) {
    CacheLayout l;
    l.kind = cache_kind_of(c.attn_kind());
    l.own = true;
    l.layers = c.num_hidden_layers;
    if (c.is_mla()) {
        l.latent = c.kv_lora_rank;
        l.rope_dim = c.qk_rope_head_dim;
        l.rope_keys = c.mla_rope_key_heads;
    } else {
        l.heads = c.num_key_value_heads;  // H for MHA, G for GQA, 1 for MQA
        l.head_dim = c.head_dim;
    }
    return l;
}

bool comparison_layout(const Config& c, CacheKind k, const CacheChoices& choices, CacheLayout& out) {
    check_choice("GQA group count G", choices.groups, kMaxHeads);
    check_choice("MLA latent rank C", choices.latent, kMaxLoraRank);
    check_choice("MLA RoPE key dim Dr", choices.rope_dim, kMaxHeadDim);
    const int64_t H = c.num_attention_heads;
    const int64_t dh = comparison_head_dim(c);
    CacheLayout l;
    l.kind = k;
    l.layers = c.num_hidden_layers;
    switch (k) {
        case CacheKind::MHA:
            l.heads = H;
            l.head_dim = dh;
            break;
        case CacheKind::GQA: {
            const std::vector<int64_t> valid = gqa_group_counts(H);
            int64_t g = choices.groups;
            if (g > 0) {
                if (std::find(valid.begin(), valid.end(), g) == valid.end())
                    throw InputError("GQA group count G = " + std::to_string(g) + " is not valid for this model: G must divide the " +
                                     std::to_string(H) + " query heads and lie strictly between 1 (MQA) and " +
                                     std::to_string(H) + " (MHA); valid: " + (valid.empty() ? "none" : join_ints(valid)));
            } else if (c.attn_kind() == AttnKind::GQA) {
                g = c.num_key_value_heads;
            } else {
                for (int64_t v : valid)
                    if (v <= 8) g = v;
                if (g == 0) return false;  // H prime (Falcon-7B: 71) or H <= 3: no grouping between MQA and MHA
            }
            l.heads = g;
            l.head_dim = dh;
            break;
        }
        case CacheKind::MQA:
            l.heads = 1;
            l.head_dim = dh;
            break;
        case CacheKind::MLA:
            l.latent = choices.latent > 0 ? choices.latent : c.is_mla() ? c.kv_lora_rank : 4 * dh;
            l.rope_dim = choices.rope_dim > 0 ? choices.rope_dim : c.is_mla() ? c.qk_rope_head_dim : dh / 2;
            break;
        case CacheKind::MLACachedKV:
            l.heads = H;
            l.nope_dim = c.is_mla() ? c.qk_nope_head_dim : dh;
            l.rope_dim = choices.rope_dim > 0 ? choices.rope_dim : c.is_mla() ? c.qk_rope_head_dim : dh / 2;
            l.v_dim = c.is_mla() ? c.v_head_dim : dh;
            break;
    }
    out = l;
    return true;
}

std::vector<CacheLayout> cache_layouts(const Config& c, const std::vector<CacheKind>& kinds, const CacheChoices& choices) {
    const CacheLayout own = own_layout(c);
    std::vector<CacheLayout> out;
    for (CacheKind k : all_cache_kinds()) {
        if (!kinds.empty() && std::find(kinds.begin(), kinds.end(), k) == kinds.end()) continue;
        if (k == own.kind) out.push_back(own);
        CacheLayout l;
        if (!comparison_layout(c, k, choices, l)) continue;
        if (k == own.kind && same_sizes(l, own)) continue;
        out.push_back(l);
    }
    return out;
}

// [SECTION] Bytes

namespace {

uint64_t mul_checked(uint64_t a, uint64_t b, const char* what) {
    uint64_t r = 0;
    if (__builtin_mul_overflow(a, b, &r))
        throw InputError(std::string(what) + " overflows 2^64 - 1 bytes (18.4 EB); use fewer tokens or a smaller batch");
    return r;
}

}  // namespace

uint64_t bytes_per_token(const CacheLayout& l, const Dtype& d) {
    MLA_CHECK(l.layers > 0 && d.bytes > 0 && l.elements_per_token_per_layer() > 0);
    return mul_checked(mul_checked(static_cast<uint64_t>(l.elements_per_token_per_layer()), static_cast<uint64_t>(l.layers),
                                   "the cache per token"),
                       static_cast<uint64_t>(d.bytes), "the cache per token");
}

uint64_t cache_bytes(const CacheLayout& l, const Dtype& d, uint64_t tokens, uint64_t batch) {
    const std::string what = "the cache at " + with_commas(tokens) + " tokens x batch " + with_commas(batch);
    return mul_checked(mul_checked(bytes_per_token(l, d), tokens, what.c_str()), batch, what.c_str());
}

uint64_t tokens_held(const Config& c, uint64_t tokens) {
    if (c.sliding_window > 0) return std::min(tokens, static_cast<uint64_t>(c.sliding_window));
    return tokens;
}

std::string formula(const CacheLayout& l, const Dtype& d) {
    return l.elements_formula() + " x " + with_commas(static_cast<uint64_t>(l.layers)) + " layers x " +
           std::to_string(d.bytes) + " B = " + with_commas(bytes_per_token(l, d)) + " B/token";
}

double cache_ratio(const CacheLayout& a, const CacheLayout& b) {
    const double ea = static_cast<double>(a.elements_per_token_per_layer()) * static_cast<double>(a.layers);
    const double eb = static_cast<double>(b.elements_per_token_per_layer()) * static_cast<double>(b.layers);
    MLA_CHECK(eb > 0);
    return ea / eb;
}

uint64_t max_tokens_in(uint64_t capacity_bytes, uint64_t bytes_per_token, uint64_t batch) {
    MLA_CHECK(bytes_per_token > 0 && batch > 0);
    uint64_t per_token = 0;
    if (__builtin_mul_overflow(bytes_per_token, batch, &per_token)) return 0;
    return capacity_bytes / per_token;
}

uint64_t gb_to_bytes(double gb) {
    if (!(gb > 0) || gb > 1e9)
        throw InputError("capacity " + std::to_string(gb) + " GB is not valid: give a positive size in decimal GB, e.g. 80");
    return static_cast<uint64_t>(std::llround(gb * 1e9));
}

// [SECTION] Report

CacheReport cache_report(const std::string& model, const Config& c, const CacheRequest& r) {
    if (r.batch == 0) throw InputError("batch = 0 is not valid: it must be at least 1");
    if (r.tokens.empty()) throw InputError("no context length given: give at least one token count, e.g. 100000");
    CacheReport rep;
    rep.model = model;
    rep.config = c;
    rep.dtype = r.dtype;
    rep.batch = r.batch;
    rep.layouts = cache_layouts(c, r.kinds, r.choices);

    const int64_t dh = comparison_head_dim(c);
    const bool wants_gqa = r.kinds.empty() || std::find(r.kinds.begin(), r.kinds.end(), CacheKind::GQA) != r.kinds.end();
    const bool has_gqa = std::any_of(rep.layouts.begin(), rep.layouts.end(),
                                     [](const CacheLayout& l) { return l.kind == CacheKind::GQA; });
    if (c.is_mla()) {
        rep.notes.push_back(std::string(c.mla_rope_pairs_head_dim > 0
                                            ? "mha, gqa and mqa rows use Dh = the head_dim of the model it was converted from = "
                                            : "mha, gqa and mqa rows use Dh = qk_nope_head_dim = ") +
                            std::to_string(dh) +
                            (c.mla_rope_pairs_head_dim > 0 ? "" : " (the DeepSeek-V2 paper's d_h)") +
                            "; num_key_value_heads x Dh would be the uncompressed size, "
                            "not the MLA cache, which holds " +
                            (c.mla_rope_key_heads == 1
                                 ? "C + Dr = " + std::to_string(c.kv_lora_rank) + " + " + std::to_string(c.qk_rope_head_dim) +
                                       " elements (the latent and the shared RoPE key)"
                                 : "C + Gr x Dr = " + std::to_string(c.kv_lora_rank) + " + " +
                                       std::to_string(c.mla_rope_key_heads) + " x " + std::to_string(c.qk_rope_head_dim) +
                                       " elements (the latent and one RoPE key per group, as converted by MHA2MLA)"));
    } else {
        rep.notes.push_back("mla rows of a model without MLA use the DeepSeek-V2 paper's sizes relative to the head dim "
                            "unless chosen: C = 4 Dh, Dr = Dh / 2; mla-cached-kv takes Dn = Dv = Dh = " +
                            std::to_string(dh));
    }
    if (wants_gqa && !has_gqa)
        rep.notes.push_back("no gqa row: " + std::to_string(c.num_attention_heads) +
                            " query heads have no group count strictly between 1 (MQA) and " +
                            std::to_string(c.num_attention_heads) + " (MHA) that divides them");
    if (c.sliding_window > 0)
        rep.notes.push_back("sliding window " + with_commas(static_cast<uint64_t>(c.sliding_window)) +
                            ": each layer keeps only the last " + with_commas(static_cast<uint64_t>(c.sliding_window)) +
                            " tokens; 'full context' keeps every token, 'held' is capped at the window");

    for (uint64_t T : r.tokens) {
        for (const CacheLayout& l : rep.layouts) {
            CacheRow row;
            row.layout = l;
            row.tokens = T;
            row.bytes_per_token = bytes_per_token(l, r.dtype);
            row.bytes = cache_bytes(l, r.dtype, T, r.batch);
            row.tokens_held = tokens_held(c, T);
            row.bytes_held = cache_bytes(l, r.dtype, row.tokens_held, r.batch);
            row.formula = formula(l, r.dtype);
            rep.rows.push_back(row);
        }
    }
    return rep;
}

std::string article_units_note(const std::string& model, const Config& c) {
    if (!c.is_mla()) return "";
    CacheLayout mha;
    comparison_layout(c, CacheKind::MHA, {}, mha);
    const CacheLayout own = own_layout(c);
    const Dtype bf16 = {"bf16", 2};
    const uint64_t a = cache_bytes(mha, bf16, 100000, 1);
    const uint64_t b = cache_bytes(own, bf16, 100000, 1);
    return "The article's \"400 GB -> 6 GB\" (DeepSeek-V3, 100,000 tokens, bf16) mixes GB and GiB: \"400\" is MHA in GB, "
           "\"6\" is MLA in GiB.\n" +
           model + " at 100,000 tokens, bf16, batch 1: MHA " + format_gb(a) + " vs MLA " + format_gb(b) + " = " +
           format_gib(a) + " vs " + format_gib(b) + " (" + format_ratio(cache_ratio(mha, own)) + ").";
}

// [SECTION] Curves

std::vector<uint64_t> curve_tokens(const CurveRequest& r, const std::vector<uint64_t>& windows) {
    if (r.max_tokens <= r.min_tokens)
        throw InputError("max tokens " + with_commas(r.max_tokens) + " must be greater than min tokens " +
                         with_commas(r.min_tokens));
    if (r.log_x && r.min_tokens == 0)
        throw InputError("a log axis cannot start at 0 tokens; give min tokens of at least 1, or use a linear axis");
    std::vector<uint64_t> t = {r.min_tokens, r.max_tokens};
    if (r.log_x) {
        const uint64_t steps[] = {1, 2, 5};
        for (uint64_t decade = 1;; decade *= 10) {
            for (uint64_t s : steps) {
                const unsigned __int128 v = static_cast<unsigned __int128>(decade) * s;
                if (v > r.min_tokens && v < r.max_tokens) t.push_back(static_cast<uint64_t>(v));
            }
            if (decade > r.max_tokens / 10) break;
        }
    } else {
        const int n = 20;
        for (int i = 1; i < n; ++i)
            t.push_back(r.min_tokens +
                        static_cast<uint64_t>(static_cast<unsigned __int128>(r.max_tokens - r.min_tokens) * i / n));
    }
    for (uint64_t w : windows)
        if (w > r.min_tokens && w < r.max_tokens) t.push_back(w);
    std::sort(t.begin(), t.end());
    t.erase(std::unique(t.begin(), t.end()), t.end());
    return t;
}

std::vector<CurveSeries> curve_series(const std::vector<CurveModel>& models, const CurveRequest& r) {
    if (r.batch == 0) throw InputError("batch = 0 is not valid: it must be at least 1");
    std::vector<uint64_t> windows;
    for (const CurveModel& m : models)
        if (m.config.sliding_window > 0) windows.push_back(static_cast<uint64_t>(m.config.sliding_window));
    const std::vector<uint64_t> tokens = curve_tokens(r, windows);

    std::vector<CurveSeries> out;
    for (const CurveModel& m : models) {
        std::vector<CacheKind> kinds = r.kinds;
        if (kinds.empty()) kinds = {cache_kind_of(m.config.attn_kind())};
        for (const CacheLayout& l : cache_layouts(m.config, kinds, r.choices)) {
            CurveSeries s;
            s.model = m.name;
            s.layout = l;
            s.window = m.config.sliding_window > 0 ? static_cast<uint64_t>(m.config.sliding_window) : 0;
            s.label = m.name + " " + to_string(l.kind);
            std::string extra;
            if (l.own) {
                extra = "own";
            } else if (l.kind == CacheKind::GQA) {
                extra = "G " + std::to_string(l.heads);
            } else if (l.kind == CacheKind::MLA || l.kind == CacheKind::MLACachedKV) {
                if (!m.config.is_mla() || r.choices.latent > 0 || r.choices.rope_dim > 0)
                    extra = l.kind == CacheKind::MLA
                                ? "C " + std::to_string(l.latent) + " Dr " + std::to_string(l.rope_dim)
                                : "Dr " + std::to_string(l.rope_dim);
            }
            if (s.window > 0) extra += std::string(extra.empty() ? "" : "; ") + "window " + std::to_string(s.window);
            if (!extra.empty()) s.label += " (" + extra + ")";
            s.tokens = tokens;
            for (uint64_t T : tokens) s.bytes.push_back(cache_bytes(l, r.dtype, tokens_held(m.config, T), r.batch));
            out.push_back(std::move(s));
        }
    }
    return out;
}

std::vector<CurveCallout> curve_callouts(const std::vector<CurveModel>& models, const std::vector<CurveSeries>& series) {
    std::vector<CurveCallout> out;
    for (const CurveModel& m : models) {
        if (!m.config.is_mla()) continue;
        CurveCallout co;
        co.model = m.name;
        for (size_t i = 0; i < series.size(); ++i) {
            if (series[i].model != m.name) continue;
            if (series[i].layout.own) co.mla_series = static_cast<int>(i);
            else if (series[i].layout.kind == CacheKind::MHA) co.mha_series = static_cast<int>(i);
        }
        if (co.mla_series < 0) continue;
        CacheLayout mha;
        comparison_layout(m.config, CacheKind::MHA, {}, mha);
        const CacheLayout own = own_layout(m.config);
        co.ratio = cache_ratio(mha, own);
        co.text = m.name + ": MLA caches " + format_ratio(co.ratio) + " less than MHA (" +
                  with_commas(static_cast<uint64_t>(own.elements_per_token_per_layer())) + " vs " +
                  with_commas(static_cast<uint64_t>(mha.elements_per_token_per_layer())) + " elements per token per layer)";
        out.push_back(co);
    }
    return out;
}

// [SECTION] Presets

std::string presets_dir() {
    const std::string dir = find_assets_subdir("presets");
    if (dir.empty())
        throw InputError(assets_not_found("presets") + "; or give --config FILE");
    return dir;
}

std::vector<std::string> preset_names() {
    std::vector<std::string> names;
    for (const fs::directory_entry& e : fs::directory_iterator(presets_dir()))
        if (e.is_regular_file() && e.path().extension() == ".json") names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

Config load_preset(const std::string& name) {
    const std::vector<std::string> names = preset_names();
    if (std::find(names.begin(), names.end(), name) == names.end()) {
        std::string list;
        for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
        throw InputError("unknown preset '" + name + "'; valid presets: " + list);
    }
    return load_calc_config((fs::path(presets_dir()) / (name + ".json")).string());
}

Config load_calc_config(const std::string& path) {
    Config c = load_config_file(path);
    try {
        validate(c, false);
    } catch (const InputError& e) {
        throw InputError(path + ": " + e.what());
    }
    return c;
}

// [SECTION] Number formatting


namespace {

// v >= 0 with `decimals` decimals and commas in the integer part.
std::string fixed_with_commas(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    std::string s = buf;
    const size_t dot = s.find('.');
    const std::string int_part = s.substr(0, dot);
    const std::string frac = dot == std::string::npos ? "" : s.substr(dot);
    return with_commas(std::stoull(int_part)) + frac;
}

// 1 decimal from 100, 2 from 0.1, else 3 significant digits.
std::string human_number(double v) {
    if (v == 0) return "0";
    if (v >= 100) return fixed_with_commas(v, 1);
    if (v >= 0.1) return fixed_with_commas(v, 2);
    const int decimals = 2 - static_cast<int>(std::floor(std::log10(v)));
    return fixed_with_commas(v, std::min(decimals, 20));
}

std::string short_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

}  // namespace

std::string format_gb(uint64_t bytes) { return human_number(static_cast<double>(bytes) / 1e9) + " GB"; }

std::string format_gib(uint64_t bytes) { return human_number(static_cast<double>(bytes) / 1073741824.0) + " GiB"; }

std::string format_bytes_short(double bytes) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    int u = 0;
    while (u < 6 && bytes >= 1000 * (1 - 1e-9)) {
        bytes /= 1000;
        ++u;
    }
    return short_number(bytes) + " " + units[u];
}

std::string format_tokens_short(double t) {
    if (t >= 1e9 * (1 - 1e-9)) return short_number(t / 1e9) + "G";
    if (t >= 1e6 * (1 - 1e-9)) return short_number(t / 1e6) + "M";
    if (t >= 1e3 * (1 - 1e-9)) return short_number(t / 1e3) + "k";
    return short_number(t);
}

std::string format_ratio(double r) {
    char buf[32];
    if (r >= 1) std::snprintf(buf, sizeof buf, "%.1fx", r);
    else std::snprintf(buf, sizeof buf, "%.3gx", r);
    return buf;
}

}  // namespace mla
