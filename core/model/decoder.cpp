// The forward step, written once against the Backend interface.
//
// [SECTION] buffers and upload
// [SECTION] decode step
// [SECTION] attention: MHA / GQA / MQA
// [SECTION] attention: MLA (cached-kv, recompute, absorbed)
// [SECTION] trace
// [SECTION] bench helpers, sampling
#include "model/decoder.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "base/check.h"
#include "base/rng.h"

namespace mla {

// ============================================================================ [SECTION] buffers and upload

struct Decoder::LayerBufs : LayerTensors<Buf, Buf> {
    // Cache, capacity cap_ rows:
    //   MHA/GQA/MQA: cache_a = K (cap, G*Dh), cache_b = V (cap, G*Dh)
    //   MLA latent (recompute, absorbed): cache_a = [c_kv | k_rope] (cap, C+Dr)
    //   MLA cached-kv: cache_a = K (cap, H*(Dn+Dr)), cache_b = V (cap, H*Dv)
    // stored in RunOptions::cache_dtype, rows stride_a_ / stride_b_ elements apart.
    Buf cache_a, cache_b;
};

namespace {
// Weights are only read: the CPU backend uses the host copy itself (create_const).
Buf up(Backend& be, const Mat& m) { return m.size() ? be.create_const(m.size(), m.data()) : Buf{}; }
Buf up(Backend& be, const Vec& v) { return v.size() ? be.create_const(v.size(), v.data()) : Buf{}; }
}  // namespace

Decoder::Decoder(std::shared_ptr<const Weights> weights, Backend& backend, RunOptions options)
    : w_(std::move(weights)), be_(backend), opt_(options) {
    MLA_CHECK(w_ != nullptr);
    validate(w_->cfg);
    set_options(options);
    upload();
    ensure_capacity(std::min<int64_t>(64, w_->cfg.max_position_embeddings));
}

Decoder::~Decoder() {
    each_tensor(w_->cfg, [&](const TensorSpec&, Buf& b) { be_.release(b); }, dev_);
    be_.release(dev_.lm_head);  // embed's copy when tied
    for (auto& l : dev_.layers)
        for (Buf* b : {&l.cache_a, &l.cache_b}) be_.release(*b);
    for (Buf* b : {&x_, &xn_, &q_, &qa_, &kv_a_, &kv_, &kv_all_, &q_abs_, &scores_, &att_out_, &o_lat_, &attn_y_, &gate_,
                   &up_, &mlp_y_, &logits_buf_, &stage_, &k_new_, &v_new_, &latent_f32_, &ref_k_, &ref_k2_, &ref_v_})
        be_.release(*b);
}

void Decoder::upload() {
    const Weights& w = *w_;
    const Config& c = w.cfg;
    dev_.layers.resize(w.layers.size());
    each_tensor(c, [&](const TensorSpec&, const auto& host, Buf& dev) { dev = up(be_, host); }, w, dev_);
    if (c.tie_word_embeddings) dev_.lm_head = up(be_, w.embed);
    const int64_t D = c.hidden_size, H = c.num_attention_heads, F = c.intermediate_size;
    const int64_t Dq = c.q_head_dim();
    const int64_t Dv = c.is_mla() ? c.v_head_dim : c.head_dim;
    x_ = be_.create(D);
    xn_ = be_.create(D);
    q_ = be_.create(H * Dq);
    qa_ = be_.create(std::max<int64_t>(c.q_lora_rank, 1));
    kv_a_ = be_.create(c.is_mla() ? c.mla_row() : 1);
    kv_ = be_.create(c.is_mla() ? H * (c.qk_nope_head_dim + c.v_head_dim) : 1);
    q_abs_ = be_.create(c.is_mla() ? H * (c.kv_lora_rank + c.qk_rope_head_dim) : 1);
    o_lat_ = be_.create(c.is_mla() ? H * c.kv_lora_rank : 1);
    att_out_ = be_.create(H * Dv);
    attn_y_ = be_.create(D);
    gate_ = be_.create(F);
    up_ = be_.create(F);
    mlp_y_ = be_.create(D);
    logits_buf_ = be_.create(c.vocab_size);
    kv_all_ = be_.create(1);
    scores_ = be_.create(1);
    const int64_t Wk = c.is_mla() ? H * Dq : c.num_key_value_heads * c.head_dim;
    k_new_ = be_.create(std::max<int64_t>(Wk, c.is_mla() ? c.mla_row() : 1));
    v_new_ = be_.create(c.is_mla() ? H * Dv : c.num_key_value_heads * c.head_dim);
    latent_f32_ = be_.create(1);
    ref_k_ = be_.create(1);
    ref_k2_ = be_.create(1);
    ref_v_ = be_.create(1);
    stage_ = be_.create(1024);
    // RoPE frequencies: MHA's ladder over Dh; MLA's per layer and rotary group (partial RoPE
    // keeps a converted model's own), and the ladder over Dn for the rope-on-latent experiment.
    freq_.clear();
    if (!c.is_mla()) {
        freq_.push_back(c.rope_inv_freq(0, -1, c.head_dim));
    } else {
        for (int64_t l = 0; l < c.num_hidden_layers; ++l)
            for (int64_t g = 0; g < c.mla_rope_key_heads; ++g) freq_.push_back(c.rope_inv_freq(l, g, c.qk_rope_head_dim));
        freq_nope_ = c.rope_inv_freq(0, -1, c.qk_nope_head_dim - c.qk_nope_head_dim % 2);
    }
    logits_.assign(static_cast<size_t>(c.vocab_size), 0.0f);
}

// Row width of each cache buffer for the current options.
static void cache_widths(const Config& c, const RunOptions& o, int64_t& a, int64_t& b) {
    if (!c.is_mla()) {
        a = b = c.num_key_value_heads * c.head_dim;
    } else if (o.mla_path == MlaPath::CachedKV) {
        a = c.num_attention_heads * (c.qk_nope_head_dim + c.qk_rope_head_dim);
        b = c.num_attention_heads * c.v_head_dim;
    } else {
        a = c.mla_row();
        b = 0;
    }
}

// Caches grow geometrically (doubling), so a decode step allocates nothing once there is room.
void Decoder::ensure_capacity(int64_t T) {
    const Config& c = w_->cfg;
    if (T > c.max_position_embeddings)
        throw InputError("context of " + std::to_string(T) + " tokens is beyond max_position_embeddings = " +
                         std::to_string(c.max_position_embeddings) + "; generate fewer tokens or raise it in config.json");
    if (T <= cap_) return;
    int64_t cap = std::max<int64_t>(cap_, 16);
    while (cap < T) cap *= 2;
    int64_t wa, wb;
    cache_widths(c, opt_, wa, wb);
    const CacheDtype dt = opt_.cache_dtype;
    stride_a_ = cache_row_stride(wa, dt);
    stride_b_ = cache_row_stride(wb, dt);
    const int64_t na = cache_buffer_floats(cap * stride_a_, dt), nb = cache_buffer_floats(cap * stride_b_, dt);
    for (auto& l : dev_.layers) {
        if (l.cache_a.id < 0) l.cache_a = be_.create(na);
        else be_.resize(l.cache_a, na);
        if (wb > 0) {
            if (l.cache_b.id < 0) l.cache_b = be_.create(nb);
            else be_.resize(l.cache_b, nb);
        }
    }
    const int64_t H = c.num_attention_heads;
    be_.resize(scores_, H * cap);
    if (c.is_mla() && opt_.mla_path == MlaPath::Recompute) {
        be_.resize(kv_all_, cap * H * (c.qk_nope_head_dim + c.v_head_dim));
        if (dt != CacheDtype::F32) be_.resize(latent_f32_, cap * wa);
    }
    cap_ = cap;
    history_.reserve(static_cast<size_t>(cap));
}

void Decoder::set_options(const RunOptions& o) {
    const Config& c = w_->cfg;
    if (o.rope_on_latent && (!c.is_mla() || c.qk_nope_head_dim % 2 != 0))
        throw InputError(c.is_mla() ? "RoPE on the compressed keys needs an even qk_nope_head_dim"
                                    : "RoPE on the compressed keys is an MLA option; choose --attn mla");
    const bool layout_changes = (c.is_mla() && (o.mla_path != opt_.mla_path || o.rope_on_latent != opt_.rope_on_latent)) ||
                                o.cache_dtype != opt_.cache_dtype;
    opt_ = o;
    if (layout_changes && cap_ > 0) {
        // The cached-kv cache holds other rows than the latent one, and a dtype its own
        // bytes: rebuild the caches.
        for (auto& l : dev_.layers) {
            be_.release(l.cache_a);
            be_.release(l.cache_b);
        }
        const int64_t cap = cap_;
        cap_ = 0;
        history_.clear();
        ensure_capacity(cap);
    }
}

void Decoder::reset() { history_.clear(); }

// ============================================================================ [SECTION] decode step

const std::vector<float>& Decoder::step(int64_t token, Trace* trace) {
    const Config& c = w_->cfg;
    if (token < 0 || token >= c.vocab_size)
        throw InputError("token id " + std::to_string(token) + " is out of range; the vocabulary has ids 0.." +
                         std::to_string(c.vocab_size - 1));
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t pos = position();
    ensure_capacity(pos + 1);
    stage_used_ = 0;
    pending_.clear();
    if (opt_.no_cache) {
        // Article section 1: forget the cache and re-run the whole prefix, then the new token.
        // The earlier tokens stay in history_; each is recomputed at its position.
        for (int64_t p = 0; p < pos; ++p) forward_token(history_[p], p, nullptr, false);
    }
    forward_token(token, pos, trace, true);
    history_.push_back(token);
    be_.read(view(logits_buf_), logits_.data(), c.vocab_size);
    if (trace) {
        collect(trace);
        trace->step_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    }
    return logits_;
}

void Decoder::forward_token(int64_t token, int64_t pos, Trace* trace, bool want_logits) {
    const Config& c = w_->cfg;
    const int64_t D = c.hidden_size, F = c.intermediate_size;
    const float eps = static_cast<float>(c.rms_norm_eps);
    be_.embed(view(x_), view(dev_.embed), token, D);
    for (int l = 0; l < static_cast<int>(dev_.layers.size()); ++l) {
        LayerBufs& b = dev_.layers[l];
        record(trace, "x", l, view(x_), 1, D);
        be_.rmsnorm(view(xn_), view(x_), view(b.attn_norm), D, eps);
        attention(l, pos, trace);
        record(trace, "attn_output", l, view(attn_y_), 1, D);
        be_.add(view(x_), view(attn_y_), D);
        be_.rmsnorm(view(xn_), view(x_), view(b.mlp_norm), D, eps);
        be_.matvec(view(gate_), view(xn_), view(b.w_gate), F, D);
        be_.matvec(view(up_), view(xn_), view(b.w_up), F, D);
        be_.swiglu(view(gate_), view(gate_), view(up_), F);
        be_.matvec(view(mlp_y_), view(gate_), view(b.w_down), D, F);
        be_.add(view(x_), view(mlp_y_), D);
    }
    if (!want_logits) return;
    record(trace, "x_final", -1, view(x_), 1, D);  // the residual after the last layer (the logit lens reads it)
    be_.rmsnorm(view(xn_), view(x_), view(dev_.final_norm), D, eps);
    be_.matvec(view(logits_buf_), view(xn_), view(dev_.lm_head), c.vocab_size, D);
    record(trace, "logits", -1, view(logits_buf_), 1, c.vocab_size);
}

// ============================================================================ [SECTION] attention: MHA / GQA / MQA

void Decoder::attention(int l, int64_t pos, Trace* trace) {
    const Config& c = w_->cfg;
    LayerBufs& b = dev_.layers[l];
    const int64_t D = c.hidden_size, H = c.num_attention_heads, T = pos + 1;
    if (!c.is_mla()) {
        const int64_t G = c.num_key_value_heads, Dh = c.head_dim, W = G * Dh;
        // q (H, Dh) = W_Q x; k, v (G, Dh), stored as row `pos` of the caches
        be_.matvec(view(q_), view(xn_), view(b.w_q), H * Dh, D);
        // (a float32 cache is written in place; a narrow one from the float32 rows, rounded)
        const CacheDtype dt = opt_.cache_dtype;
        const bool in_place = dt == CacheDtype::F32;
        View k_new = in_place ? view(b.cache_a, pos * stride_a_) : view(k_new_);
        View v_new = in_place ? view(b.cache_b, pos * stride_b_) : view(v_new_);
        be_.matvec(k_new, view(xn_), view(b.w_k), W, D);
        be_.matvec(v_new, view(xn_), view(b.w_v), W, D);
        be_.rope(view(q_), 1, H * Dh, H, Dh, Dh, pos, freq_[0], c.rope_layout);
        be_.rope(k_new, 1, W, G, Dh, Dh, pos, freq_[0], c.rope_layout);
        record(trace, "q", l, view(q_), H, Dh);
        record(trace, "k", l, k_new, G, Dh);
        record(trace, "v", l, v_new, G, Dh);
        if (!in_place) {
            be_.store_rows(view(b.cache_a, pos * stride_a_), dt, stride_a_, k_new, W, 1, W);
            be_.store_rows(view(b.cache_b, pos * stride_b_), dt, stride_b_, v_new, W, 1, W);
        }
        // att_scores (H, T) = q_h . K_{h / group}; att_probs = softmax(att_scores / sqrt(Dh)); att_out_h = att_probs_h V
        AttendArgs a;
        a.H = H;
        a.T = T;
        a.q = view(q_);
        a.q_stride = Dh;
        a.k = {view(b.cache_a), stride_a_, Dh, Dh, H / G, dt};
        a.v = {view(b.cache_b), stride_b_, Dh, Dh, H / G, dt};
        a.out = view(att_out_);
        a.out_stride = Dh;
        a.scale = 1.0f / std::sqrt(static_cast<float>(Dh));
        attend(l, a, trace);
        record(trace, "att_out", l, view(att_out_), H, Dh);
        be_.matvec(view(attn_y_), view(att_out_), view(b.w_o), D, H * Dh);
        return;
    }

    // ======================================================================== [SECTION] attention: MLA
    const int64_t C = c.kv_lora_rank, Dn = c.qk_nope_head_dim, Dr = c.qk_rope_head_dim, Dv = c.v_head_dim;
    const int64_t Dq = Dn + Dr;
    // Gr rotary keys per token (DeepSeek: 1, shared); query head h reads key h / hg.
    const int64_t Gr = c.mla_rope_key_heads, hg = H / Gr, WL = c.mla_row();
    const float eps = static_cast<float>(c.rms_norm_eps);
    const float scale = 1.0f / std::sqrt(static_cast<float>(Dq));
    // query: q (H, Dn+Dr) = W_UQ RMSNorm(W_DQ x), or W_Q x without query compression
    if (c.q_lora_rank > 0) {
        be_.matvec(view(qa_), view(xn_), view(b.w_q_a), c.q_lora_rank, D);
        be_.rmsnorm(view(qa_), view(qa_), view(b.q_a_norm), c.q_lora_rank, eps);
        record(trace, "c_q", l, view(qa_), 1, c.q_lora_rank);
        be_.matvec(view(q_), view(qa_), view(b.w_q_b), H * Dq, c.q_lora_rank);
    } else {
        be_.matvec(view(q_), view(xn_), view(b.w_q), H * Dq, D);
    }
    for (int64_t g = 0; g < Gr; ++g)  // q_rope_h = RoPE(q_rope_h, t), at the frequencies of h's rotary group
        be_.rope(view(q_).at(g * hg * Dq + Dn), 1, H * Dq, hg, Dq, Dr, pos, rope_freq(l, g), c.rope_layout);
    if (opt_.rope_on_latent) be_.rope(view(q_), 1, H * Dq, H, Dq, Dn, pos, freq_nope_, c.rope_layout);
    record(trace, "q", l, view(q_), H, Dq);
    // [c_kv ; k_rope] (C + Gr*Dr) = W_DKV_KR x; c_kv = RMSNorm(c_kv) (unless a converted model
    // has no latent norm); k_rope_g = RoPE(k_rope_g, t): one key for all heads when Gr = 1
    be_.matvec(view(kv_a_), view(xn_), view(b.w_kv_a), WL, D);
    if (c.mla_kv_norm) be_.rmsnorm(view(kv_a_), view(kv_a_), view(b.kv_a_norm), C, eps);
    for (int64_t g = 0; g < Gr; ++g)
        be_.rope(view(kv_a_).at(C + g * Dr), 1, WL, 1, Dr, Dr, pos, rope_freq(l, g), c.rope_layout);
    record(trace, "c_kv", l, view(kv_a_), 1, C);
    record(trace, "k_rope", l, view(kv_a_).at(C), Gr, Dr);

    if (opt_.mla_path == MlaPath::CachedKV) {
        // Decompress the new token: [k_nope_h ; v_h] = kv_b c_kv, cache K = [k_nope_h ; k_rope] and V per head.
        const int64_t WK = H * Dq, WV = H * Dv;
        be_.matvec(view(kv_), view(kv_a_), view(b.w_kv_b), H * (Dn + Dv), C);
        const CacheDtype dt = opt_.cache_dtype;
        const bool in_place = dt == CacheDtype::F32;  // as for MHA: a narrow cache stores rounded float32 rows
        View k_row = in_place ? view(b.cache_a, pos * stride_a_) : view(k_new_);
        View v_row = in_place ? view(b.cache_b, pos * stride_b_) : view(v_new_);
        be_.copy_rows(k_row, Dq, view(kv_), Dn + Dv, H, Dn);
        for (int64_t g = 0; g < Gr; ++g)
            be_.copy_rows(k_row.at(g * hg * Dq + Dn), Dq, view(kv_a_).at(C + g * Dr), 0, hg, Dr);
        be_.copy_rows(v_row, Dv, view(kv_).at(Dn), Dn + Dv, H, Dv);
        if (opt_.rope_on_latent) be_.rope(k_row, 1, WK, H, Dq, Dn, pos, freq_nope_, c.rope_layout);
        record(trace, "k", l, k_row, H, Dq);
        record(trace, "v", l, v_row, H, Dv);
        if (!in_place) {
            be_.store_rows(view(b.cache_a, pos * stride_a_), dt, stride_a_, k_row, WK, 1, WK);
            be_.store_rows(view(b.cache_b, pos * stride_b_), dt, stride_b_, v_row, WV, 1, WV);
        }
        AttendArgs a;
        a.H = H;
        a.T = T;
        a.q = view(q_);
        a.q_stride = Dq;
        a.k = {view(b.cache_a), stride_a_, Dq, Dq, 1, dt};
        a.v = {view(b.cache_b), stride_b_, Dv, Dv, 1, dt};
        a.out = view(att_out_);
        a.out_stride = Dv;
        a.scale = scale;
        attend(l, a, trace);
    } else {
        // Latent cache row `pos` = [c_kv ; k_rope] (C + Gr*Dr): 576 floats for DeepSeek-V2/V3.
        const int64_t SL = stride_a_;
        const CacheDtype dt = opt_.cache_dtype;
        be_.store_rows(view(b.cache_a, pos * SL), dt, SL, view(kv_a_), WL, 1, WL);
        if (opt_.mla_path == MlaPath::Recompute) {
            // Rebuild K_nope and V of all T tokens from the latent: kv_all (T, H*(Dn+Dv)) = C_KV kv_b^T
            // (a narrow latent is widened to float32 for this product first).
            const int64_t WKV = H * (Dn + Dv);
            View latent = view(b.cache_a);
            int64_t latent_stride = SL;
            if (dt != CacheDtype::F32) {
                be_.load_rows(view(latent_f32_), WL, view(b.cache_a), dt, SL, T, WL);
                latent = view(latent_f32_);
                latent_stride = WL;
            }
            be_.matmul(view(kv_all_), latent, view(b.w_kv_b), T, WKV, C, latent_stride);
            if (opt_.rope_on_latent) be_.rope(view(kv_all_), T, WKV, H, Dn + Dv, Dn, 0, freq_nope_, c.rope_layout);
            record(trace, "k_nope", l, view(kv_all_), T, WKV);
            // scores = q_nope . k_nope (rebuilt) + q_rope . k_rope (cached, shared by all heads)
            AttendArgs a;
            a.H = H;
            a.T = T;
            a.q = view(q_);
            a.q_stride = Dq;
            a.k = {view(kv_all_), WKV, Dn + Dv, Dn, 1, CacheDtype::F32};
            a.k2 = {view(b.cache_a).at(C), SL, Dr, Dr, hg, dt};
            a.v = {view(kv_all_).at(Dn), WKV, Dn + Dv, Dv, 1, CacheDtype::F32};
            a.out = view(att_out_);
            a.out_stride = Dv;
            a.scale = scale;
            attend(l, a, trace);
        } else {
            // Absorbed: q_absorbed_h = [W_UK,h^T q_nope_h ; q_rope_h] (C+Dr), scored against the latent rows
            // directly; o_latent_h = sum_j p_h(j) c_kv(j) (C); att_out_h = W_UV,h o_latent_h. K and V never exist.
            const int64_t WQ = C + Dr;
            be_.absorb_query(view(q_abs_), view(q_), view(b.w_kv_b), H, Dn, Dv, C, Dq, WQ);
            be_.copy_rows(view(q_abs_).at(C), WQ, view(q_).at(Dn), Dq, H, Dr);
            record(trace, "q_absorbed", l, view(q_abs_), H, WQ);
            // One pass over the latent rows for all H heads: scores against [c_kv ; k_rope], values from c_kv.
            AttendArgs a;
            a.H = H;
            a.T = T;
            a.q = view(q_abs_);
            a.q_stride = WQ;
            if (Gr == 1) {
                a.k = {view(b.cache_a), SL, 0, WQ, H, dt};  // one operand: [c_kv ; k_rope] shared by all heads
            } else {
                a.k = {view(b.cache_a), SL, 0, C, H, dt};
                a.k2 = {view(b.cache_a).at(C), SL, Dr, Dr, hg, dt};
            }
            a.v = {view(b.cache_a), SL, 0, C, H, dt};
            a.out = view(o_lat_);
            a.out_stride = C;
            a.scale = scale;
            attend(l, a, trace);
            record(trace, "o_latent", l, view(o_lat_), H, C);
            be_.latent_output(view(att_out_), view(o_lat_), view(b.w_kv_b), H, Dn, Dv, C);
        }
    }
    record(trace, "att_out", l, view(att_out_), H, Dv);
    be_.matvec(view(attn_y_), view(att_out_), view(b.w_o), D, H * Dv);
}

// ============================================================================ [SECTION] attend: fused or reference

// The fused pass writes att_scores only when the trace keeps them (their softmax is then
// recomputed over the H x T scores for att_probs); the hot path writes neither.
void Decoder::attend(int l, AttendArgs a, Trace* trace) {
    auto kept = [&](const char* name) {
        return trace && (request_.empty() || std::find(request_.begin(), request_.end(), name) != request_.end());
    };
    const bool want_scores = kept("att_scores") || kept("att_probs");
    if (opt_.fused) {
        if (want_scores) a.scores = view(scores_);
        be_.attend(a);
        if (!trace) return;
        record(trace, "att_scores", l, view(scores_), a.H, a.T);
        if (want_scores) be_.softmax(view(scores_), a.H, a.T, a.scale);
        record(trace, "att_probs", l, view(scores_), a.H, a.T);
        return;
    }
    // The three-pass reference on float32 operands.
    const KvOperand k = a.k.dtype == CacheDtype::F32 ? a.k : KvOperand{widened(ref_k_, a.k, a.H, a.T), a.k.row_stride,
                                                                        a.k.head_stride, a.k.dim, a.k.group};
    const KvOperand v = a.v.dtype == CacheDtype::F32 ? a.v : KvOperand{widened(ref_v_, a.v, a.H, a.T), a.v.row_stride,
                                                                        a.v.head_stride, a.v.dim, a.v.group};
    be_.attn_scores(view(scores_), a.q, k.v, a.H, a.T, k.dim, a.q_stride, k.row_stride, k.head_stride, k.group, false);
    if (a.k2.dim > 0) {
        const KvOperand k2 = a.k2.dtype == CacheDtype::F32 ? a.k2 : KvOperand{widened(ref_k2_, a.k2, a.H, a.T),
                                                                               a.k2.row_stride, a.k2.head_stride,
                                                                               a.k2.dim, a.k2.group};
        be_.attn_scores(view(scores_), a.q.at(k.dim), k2.v, a.H, a.T, k2.dim, a.q_stride, k2.row_stride,
                        k2.head_stride, k2.group, true);
    }
    record(trace, "att_scores", l, view(scores_), a.H, a.T);
    be_.softmax(view(scores_), a.H, a.T, a.scale);
    record(trace, "att_probs", l, view(scores_), a.H, a.T);
    be_.attn_values(a.out, view(scores_), v.v, a.H, a.T, v.dim, a.out_stride, v.row_stride, v.head_stride, v.group);
}

// The rows of a narrow operand widened into `scratch`, same strides (element j*row_stride + i
// of the result is element o.v.off + j*row_stride + i of the operand).
View Decoder::widened(Buf& scratch, const KvOperand& o, int64_t H, int64_t T) {
    const int64_t cols = (H / o.group - 1) * o.head_stride + o.dim;
    if (T == 0) return view(scratch);
    const int64_t n = (T - 1) * o.row_stride + cols;
    if (scratch.size < n) be_.resize(scratch, n);
    be_.load_rows(view(scratch), o.row_stride, o.v, o.dtype, o.row_stride, T, cols);
    return view(scratch);
}

// ============================================================================ [SECTION] trace

// Copies a tensor into the staging buffer on the backend; collect() reads the whole stage
// back once per step, so a GPU backend does one readback, not one per operation.
void Decoder::record(Trace* trace, const char* name, int layer, View v, int64_t rows, int64_t cols) {
    if (!trace) return;
    const bool want = request_.empty() || std::find(request_.begin(), request_.end(), name) != request_.end();
    if (!want) {
        pending_.push_back({name, layer, rows, cols, -1});
        return;
    }
    const int64_t n = rows * cols;
    if (stage_used_ + n > stage_.size) be_.resize(stage_, std::max(2 * stage_.size, stage_used_ + n));
    be_.copy(view(stage_, stage_used_), v, n);
    pending_.push_back({name, layer, rows, cols, stage_used_});
    stage_used_ += n;
}

void Decoder::collect(Trace* t) {
    const Config& c = w_->cfg;
    if (static_cast<int64_t>(stage_host_.size()) < stage_used_) stage_host_.resize(static_cast<size_t>(stage_used_));
    if (stage_used_ > 0) be_.read(view(stage_), stage_host_.data(), stage_used_);
    t->tensors.resize(pending_.size());  // records are overwritten in place: their storage is reused
    for (size_t i = 0; i < pending_.size(); ++i) {
        const Pending& p = pending_[i];
        TensorRecord& r = t->tensors[i];
        r.name = p.name;
        r.layer = p.layer;
        r.shape = {p.rows, p.cols};
        if (p.off >= 0) r.data.assign(stage_host_.begin() + p.off, stage_host_.begin() + p.off + p.rows * p.cols);
        else r.data.clear();
    }
    const int64_t T = position();
    t->step = T - 1;
    t->position = T - 1;
    t->token = history_.back();
    t->kind = c.attn_kind();
    t->options = opt_;
    t->cache_tokens = opt_.no_cache ? 0 : T;
    step_cost(t->cost, c, opt_, T);
    t->cache_elements_per_layer.assign(dev_.layers.size(), opt_.no_cache ? 0 : T * cache_elements_per_token(c, opt_.mla_path));
    t->backend = be_.name();
}

// ============================================================================ [SECTION] bench helpers, sampling

void Decoder::fill_cache_random(int64_t T, uint64_t seed) {
    ensure_capacity(T + 1);
    int64_t wa, wb;
    cache_widths(w_->cfg, opt_, wa, wb);
    Rng rng(seed);
    std::vector<float> host(static_cast<size_t>(T * std::max(wa, wb)));
    Buf tmp = be_.create(static_cast<int64_t>(host.size()));
    const CacheDtype dt = opt_.cache_dtype;
    for (auto& l : dev_.layers) {
        for (auto& v : host) v = rng.symmetric();
        be_.write(view(tmp), host.data(), T * wa);
        be_.store_rows(view(l.cache_a), dt, stride_a_, view(tmp), wa, T, wa);
        if (wb > 0) {
            for (auto& v : host) v = rng.symmetric();
            be_.write(view(tmp), host.data(), T * wb);
            be_.store_rows(view(l.cache_b), dt, stride_b_, view(tmp), wb, T, wb);
        }
        break;  // the bench reads layer 0 only
    }
    be_.release(tmp);
    Rng xr(seed + 1);
    std::vector<float> x(static_cast<size_t>(w_->cfg.hidden_size));
    for (auto& v : x) v = xr.symmetric();
    be_.write(view(xn_), x.data(), w_->cfg.hidden_size);
}

// One layer's attention block for a token at position T (its projections, attention over
// T + 1 cached tokens, output projection). The new row is written at T and not kept.
void Decoder::attention_only_step(int64_t T) {
    ensure_capacity(T + 1);
    attention(0, T, nullptr);
    be_.finish();
}

int64_t sample(const std::vector<float>& logits, float temperature, uint64_t& rng_state) {
    MLA_CHECK(!logits.empty());
    if (!(temperature > 0.0f)) {
        return std::max_element(logits.begin(), logits.end()) - logits.begin();
    }
    const float mx = *std::max_element(logits.begin(), logits.end());
    double sum = 0.0;
    std::vector<double> p(logits.size());
    for (size_t i = 0; i < logits.size(); ++i) sum += (p[i] = std::exp((logits[i] - mx) / temperature));
    Rng rng(rng_state);
    rng_state = rng.next();
    const double u = static_cast<double>(rng.uniform()) * sum;
    double acc = 0.0;
    for (size_t i = 0; i < p.size(); ++i) {
        acc += p[i];
        if (u < acc) return static_cast<int64_t>(i);
    }
    return static_cast<int64_t>(p.size() - 1);
}

namespace {
// Token ids by p, most likely first, ties by the lower id.
std::vector<int64_t> by_probability(const std::vector<double>& p) {
    std::vector<int64_t> order(p.size());
    for (size_t i = 0; i < p.size(); ++i) order[i] = static_cast<int64_t>(i);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[static_cast<size_t>(a)] > p[static_cast<size_t>(b)]; });
    return order;
}
}  // namespace

std::vector<double> sampling_distribution(const std::vector<float>& logits, const Sampling& s) {
    MLA_CHECK(!logits.empty());
    const double T = s.temperature > 0.0f ? static_cast<double>(s.temperature) : 1.0;
    const float mx = *std::max_element(logits.begin(), logits.end());
    std::vector<double> p(logits.size());
    double sum = 0.0;
    for (size_t i = 0; i < logits.size(); ++i) sum += (p[i] = std::exp((static_cast<double>(logits[i]) - mx) / T));
    for (double& v : p) v /= sum;
    if (!s.restricts()) return p;
    const std::vector<int64_t> order = by_probability(p);
    const size_t k = s.top_k > 0 ? std::min(order.size(), static_cast<size_t>(s.top_k)) : order.size();
    size_t keep = 0;
    double mass = 0.0;
    while (keep < k) {
        mass += p[static_cast<size_t>(order[keep])];
        ++keep;
        if (mass >= static_cast<double>(s.top_p)) break;
    }
    std::vector<double> out(p.size(), 0.0);
    for (size_t i = 0; i < keep; ++i) out[static_cast<size_t>(order[i])] = p[static_cast<size_t>(order[i])] / mass;
    return out;
}

int64_t sample(const std::vector<float>& logits, const Sampling& s, uint64_t& rng_state) {
    if (!(s.temperature > 0.0f) || !s.restricts()) return sample(logits, s.temperature, rng_state);
    const std::vector<double> p = sampling_distribution(logits, s);
    Rng rng(rng_state);
    rng_state = rng.next();
    const double u = static_cast<double>(rng.uniform());
    double acc = 0.0;
    int64_t last = 0;
    for (size_t i = 0; i < p.size(); ++i) {
        if (p[i] <= 0) continue;
        acc += p[i];
        last = static_cast<int64_t>(i);
        if (u < acc) return last;
    }
    return last;   // u within rounding of 1
}

std::vector<TokenProb> top_tokens(const std::vector<double>& p, int64_t n) {
    const std::vector<int64_t> order = by_probability(p);
    std::vector<TokenProb> out;
    for (size_t i = 0; i < order.size() && static_cast<int64_t>(i) < n; ++i) out.push_back({order[i], p[static_cast<size_t>(order[i])]});
    return out;
}

Generation::Generation(std::vector<int64_t> prompt, Sampling sampling, uint64_t seed)
    : prompt_(std::move(prompt)), sampling_(sampling), seed_(seed), rng_(seed) {}

int64_t Generation::next_token() const {
    const size_t pos = fed_.size();
    if (pos < prompt_.size()) return prompt_[pos];
    MLA_CHECK(!predicted_.empty());
    return predicted_.back();
}

void Generation::observe(const std::vector<float>& logits) {
    fed_.push_back(next_token());
    if (steps() >= prompt_length()) {
        predicted_.push_back(sample(logits, sampling_, rng_));
    } else {
        uint64_t unused = 0;
        predicted_.push_back(sample(logits, 0.0f, unused));
    }
}

void Generation::reset() {
    fed_.clear();
    predicted_.clear();
    rng_ = seed_;
}

}  // namespace mla
