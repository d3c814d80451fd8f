// The decoder in training form (train_model.h).
//
// [SECTION] parameter layout
// [SECTION] forward
// [SECTION] backward
// [SECTION] instantiations
#include "train/train_model.h"

#include <cmath>
#include <cstring>
#include <map>

#include "base/check.h"

namespace mla::train {

// ============================================================================================
// [SECTION] parameter layout
// ============================================================================================

ParamLayout make_layout(const Config& cfg) {
    validate(cfg);
    ParamLayout L;
    L.cfg = cfg;
    L.layers.resize(static_cast<size_t>(cfg.num_hidden_layers));
    each_tensor(cfg, [&](const TensorSpec& t, Slot& slot) {
        slot.index = static_cast<int>(L.slots.size());
        L.slots.push_back({t.name, L.size, t.rows, t.cols, t.is_vector});
        L.size += t.size();
    }, L);
    if (cfg.tie_word_embeddings) L.lm_head = L.embed;
    return L;
}

std::vector<float> flatten(const ParamLayout& L, const Weights& w) {
    MLA_CHECK(static_cast<int64_t>(w.layers.size()) == L.cfg.num_hidden_layers);
    std::vector<float> p(static_cast<size_t>(L.size), 0.0f);
    each_tensor(L.cfg, [&](const TensorSpec&, const Slot& slot, const auto& t) {
        const ParamSlot& s = L.slots[slot];
        if (t.size() != s.size())
            throw InputError("weight '" + s.name + "' has " + std::to_string(t.size()) + " elements, expected " +
                             std::to_string(s.size()));
        std::memcpy(p.data() + s.off, t.data(), sizeof(float) * static_cast<size_t>(s.size()));
    }, L, w);
    return p;
}

Weights unflatten(const ParamLayout& L, const float* params) {
    Weights w;
    w.cfg = L.cfg;
    allocate(w);
    each_tensor(L.cfg, [&](const TensorSpec&, const Slot& slot, auto& t) {
        const ParamSlot& s = L.slots[slot];
        std::memcpy(t.data(), params + s.off, sizeof(float) * static_cast<size_t>(s.size()));
    }, L, w);
    if (L.cfg.tie_word_embeddings) w.lm_head = w.embed;
    return w;
}

// ============================================================================================
// [SECTION] forward
// ============================================================================================

namespace {

// Views of one flat array (parameters or gradients) as the layout's matrices and vectors.
template <class S, class P> struct Tensors {
    const ParamLayout& L;
    P* p;
    using M = Eigen::Map<std::conditional_t<std::is_const_v<P>, const MatT<S>, MatT<S>>>;
    using V = Eigen::Map<std::conditional_t<std::is_const_v<P>, const VecT<S>, VecT<S>>>;
    M m(int slot) const {
        MLA_CHECK(slot >= 0);
        const ParamSlot& s = L.slots[slot];
        return M(p + s.off, s.rows, s.cols);
    }
    V v(int slot) const {
        MLA_CHECK(slot >= 0);
        const ParamSlot& s = L.slots[slot];
        return V(p + s.off, s.size());
    }
};

// lt.q, lt.k, lt.v (RoPE applied) from lt.xn, then the causal attention into lt.att_out.
template <class S>
void attention_forward_block(LayerTape<S>& lt, const Tensors<S, const S>& W, const LayerSlots& ls, const Config& c,
                             int64_t layer, int64_t B, int64_t T) {
    const int64_t N = B * T, H = c.num_attention_heads;
    if (!c.is_mla()) {
        const std::vector<float> freq = c.rope_inv_freq(layer, -1, c.head_dim);
        const int64_t G = c.num_key_value_heads, Dh = c.head_dim;
        linear_forward<S>(lt.q, lt.xn, W.m(ls.w_q));  // (N, H*Dh)
        linear_forward<S>(lt.k, lt.xn, W.m(ls.w_k));  // (N, G*Dh)
        linear_forward<S>(lt.v, lt.xn, W.m(ls.w_v));  // (N, G*Dh)
        rope<S>(lt.q, T, 0, H, Dh, Dh, freq, c.rope_layout, false);
        rope<S>(lt.k, T, 0, G, Dh, Dh, freq, c.rope_layout, false);
        attention_forward<S>(lt.att_out, lt.att_probs, lt.q, lt.k, lt.v, B, T, H, G, Dh, Dh, 1.0 / std::sqrt(double(Dh)));
        return;
    }
    const int64_t C = c.kv_lora_rank, Dn = c.qk_nope_head_dim, Dr = c.qk_rope_head_dim, Dv = c.v_head_dim;
    const int64_t dq = Dn + Dr, Gr = c.mla_rope_key_heads, hg = H / Gr;
    // query: q (N, H*(Dn+Dr)), each head [q_nope (Dn) ; q_rope (Dr)]
    if (c.q_lora_rank > 0) {
        linear_forward<S>(lt.q_a, lt.xn, W.m(ls.w_q_a));  // (N, Cq)
        lt.q_an.resize(N, c.q_lora_rank);
        lt.rstd_q.resize(N);
        rmsnorm_forward<S>(lt.q_an, lt.rstd_q, lt.q_a, W.v(ls.q_a_norm), c.rms_norm_eps);
        linear_forward<S>(lt.q, lt.q_an, W.m(ls.w_q_b));
    } else {
        linear_forward<S>(lt.q, lt.xn, W.m(ls.w_q));
    }
    for (int64_t g = 0; g < Gr; ++g)  // query head h rotates at the frequencies of its rotary group h / hg
        rope<S>(lt.q, T, g * hg * dq + Dn, hg, dq, Dr, c.rope_inv_freq(layer, g, Dr), c.rope_layout, false);
    // latent: kv_a (N, C + Gr*Dr) = [c_kv ; k_rope_0 .. k_rope_{Gr-1}]
    linear_forward<S>(lt.kv_a, lt.xn, W.m(ls.w_kv_a));
    lt.c_kv.resize(N, C);
    lt.rstd_kv.resize(N);
    if (c.mla_kv_norm) rmsnorm_forward<S>(lt.c_kv, lt.rstd_kv, lt.kv_a.leftCols(C), W.v(ls.kv_a_norm), c.rms_norm_eps);
    else lt.c_kv = lt.kv_a.leftCols(C);
    MatT<S> k_rope = lt.kv_a.rightCols(Gr * Dr);  // (N, Gr*Dr): one rotary key shared by the heads when Gr = 1
    for (int64_t g = 0; g < Gr; ++g) rope<S>(k_rope, T, g * Dr, 1, Dr, Dr, c.rope_inv_freq(layer, g, Dr), c.rope_layout, false);
    // cached-kv: decompress per head, kv (N, H*(Dn+Dv)) = c_kv W_kv_b^T, head h = [k_nope (Dn) ; v (Dv)]
    MatT<S> kv;
    linear_forward<S>(kv, lt.c_kv, W.m(ls.w_kv_b));
    lt.k.resize(N, H * dq);
    lt.v.resize(N, H * Dv);
    for (int64_t h = 0; h < H; ++h) {
        lt.k.middleCols(h * dq, Dn) = kv.middleCols(h * (Dn + Dv), Dn);
        lt.k.middleCols(h * dq + Dn, Dr) = k_rope.middleCols((h / hg) * Dr, Dr);
        lt.v.middleCols(h * Dv, Dv) = kv.middleCols(h * (Dn + Dv) + Dn, Dv);
    }
    attention_forward<S>(lt.att_out, lt.att_probs, lt.q, lt.k, lt.v, B, T, H, H, dq, Dv, 1.0 / std::sqrt(double(dq)));
}

}  // namespace

template <class S>
void forward(Tape<S>& tape, const ParamLayout& L, const S* params, const int32_t* tokens, int64_t B, int64_t T) {
    const Config& c = L.cfg;
    const int64_t N = B * T, D = c.hidden_size;
    MLA_CHECK(B > 0 && T > 0);
    const Tensors<S, const S> W{L, params};
    tape.B = B;
    tape.T = T;
    tape.tokens.assign(tokens, tokens + N);
    tape.layers.resize(L.layers.size());
    MatT<S> x;  // (N, D) residual stream
    embedding_forward<S>(x, tokens, N, W.m(L.embed));
    MatT<S> y;  // (N, D) block output
    for (size_t l = 0; l < L.layers.size(); ++l) {
        LayerTape<S>& lt = tape.layers[l];
        const LayerSlots& ls = L.layers[l];
        lt.x_in = x;
        lt.xn.resize(N, D);
        lt.rstd_attn.resize(N);
        rmsnorm_forward<S>(lt.xn, lt.rstd_attn, x, W.v(ls.attn_norm), c.rms_norm_eps);
        attention_forward_block<S>(lt, W, ls, c, static_cast<int64_t>(l), B, T);
        linear_forward<S>(y, lt.att_out, W.m(ls.w_o));
        x += y;
        lt.x_mid = x;
        lt.hn.resize(N, D);
        lt.rstd_mlp.resize(N);
        rmsnorm_forward<S>(lt.hn, lt.rstd_mlp, x, W.v(ls.mlp_norm), c.rms_norm_eps);
        linear_forward<S>(lt.gate, lt.hn, W.m(ls.w_gate));
        linear_forward<S>(lt.up, lt.hn, W.m(ls.w_up));
        swiglu_forward<S>(lt.act, lt.gate, lt.up);
        linear_forward<S>(y, lt.act, W.m(ls.w_down));
        x += y;
    }
    tape.x_out = std::move(x);
    tape.xf.resize(N, D);
    tape.rstd_final.resize(N);
    rmsnorm_forward<S>(tape.xf, tape.rstd_final, tape.x_out, W.v(L.final_norm), c.rms_norm_eps);
    linear_forward<S>(tape.logits, tape.xf, W.m(L.lm_head));
}

// ============================================================================================
// [SECTION] backward
// ============================================================================================

namespace {

// From the gradients of the attention inputs (dq, dk, dv: RoPE applied, as in the tape) to
// dxn (N, D), adding the projection weights' gradients.
template <class S>
void attention_backward_block(MatT<S>& dxn, MatT<S>& dq, MatT<S>& dk, MatT<S>& dv, const LayerTape<S>& lt,
                              const Tensors<S, const S>& W, const Tensors<S, S>& G, const LayerSlots& ls,
                              const Config& c, int64_t layer, int64_t T) {
    const int64_t N = lt.xn.rows(), H = c.num_attention_heads;
    if (!c.is_mla()) {
        const int64_t Gk = c.num_key_value_heads, Dh = c.head_dim;
        const std::vector<float> freq = c.rope_inv_freq(layer, -1, Dh);
        rope<S>(dq, T, 0, H, Dh, Dh, freq, c.rope_layout, true);
        rope<S>(dk, T, 0, Gk, Dh, Dh, freq, c.rope_layout, true);
        linear_backward<S>(&dxn, G.m(ls.w_q), dq, lt.xn, W.m(ls.w_q), false);
        linear_backward<S>(&dxn, G.m(ls.w_k), dk, lt.xn, W.m(ls.w_k), true);
        linear_backward<S>(&dxn, G.m(ls.w_v), dv, lt.xn, W.m(ls.w_v), true);
        return;
    }
    const int64_t C = c.kv_lora_rank, Dn = c.qk_nope_head_dim, Dr = c.qk_rope_head_dim, Dv = c.v_head_dim;
    const int64_t dqw = Dn + Dr, Gr = c.mla_rope_key_heads, hg = H / Gr;
    // query
    for (int64_t g = 0; g < Gr; ++g)
        rope<S>(dq, T, g * hg * dqw + Dn, hg, dqw, Dr, c.rope_inv_freq(layer, g, Dr), c.rope_layout, true);
    if (c.q_lora_rank > 0) {
        MatT<S> dq_an;  // (N, Cq)
        linear_backward<S>(&dq_an, G.m(ls.w_q_b), dq, lt.q_an, W.m(ls.w_q_b), false);
        MatT<S> dq_a(N, c.q_lora_rank);
        rmsnorm_backward<S>(dq_a, G.v(ls.q_a_norm), dq_an, lt.q_a, lt.rstd_q, W.v(ls.q_a_norm));
        linear_backward<S>(&dxn, G.m(ls.w_q_a), dq_a, lt.xn, W.m(ls.w_q_a), false);
    } else {
        linear_backward<S>(&dxn, G.m(ls.w_q), dq, lt.xn, W.m(ls.w_q), false);
    }
    // keys and values back to the decompressed kv (N, H*(Dn+Dv)) and the rotary keys (N, Gr*Dr)
    MatT<S> dkv(N, H * (Dn + Dv));
    MatT<S> dk_rope = MatT<S>::Zero(N, Gr * Dr);
    for (int64_t h = 0; h < H; ++h) {
        dkv.middleCols(h * (Dn + Dv), Dn) = dk.middleCols(h * dqw, Dn);
        dkv.middleCols(h * (Dn + Dv) + Dn, Dv) = dv.middleCols(h * Dv, Dv);
        dk_rope.middleCols((h / hg) * Dr, Dr) += dk.middleCols(h * dqw + Dn, Dr);
    }
    for (int64_t g = 0; g < Gr; ++g) rope<S>(dk_rope, T, g * Dr, 1, Dr, Dr, c.rope_inv_freq(layer, g, Dr), c.rope_layout, true);
    MatT<S> dc_kv;  // (N, C)
    linear_backward<S>(&dc_kv, G.m(ls.w_kv_b), dkv, lt.c_kv, W.m(ls.w_kv_b), false);
    MatT<S> dkv_a(N, C + Gr * Dr);
    if (c.mla_kv_norm)
        rmsnorm_backward<S>(dkv_a.leftCols(C), G.v(ls.kv_a_norm), dc_kv, lt.kv_a.leftCols(C), lt.rstd_kv,
                            W.v(ls.kv_a_norm));
    else
        dkv_a.leftCols(C) = dc_kv;
    dkv_a.rightCols(Gr * Dr) = dk_rope;
    linear_backward<S>(&dxn, G.m(ls.w_kv_a), dkv_a, lt.xn, W.m(ls.w_kv_a), true);
}

}  // namespace

template <class S> S backward(Tape<S>& tape, const ParamLayout& L, const S* params, const int32_t* targets, S* grad) {
    const Config& c = L.cfg;
    MatT<S> dlogits;
    const S loss = cross_entropy<S>(grad ? &dlogits : nullptr, tape.logits, targets);
    if (!grad) return loss;
    const int64_t N = tape.B * tape.T, D = c.hidden_size;
    const Tensors<S, const S> W{L, params};
    const Tensors<S, S> G{L, grad};
    MatT<S> dxf;
    linear_backward<S>(&dxf, G.m(L.lm_head), dlogits, tape.xf, W.m(L.lm_head), false);
    MatT<S> dx(N, D);  // (N, D) gradient of the residual stream
    rmsnorm_backward<S>(dx, G.v(L.final_norm), dxf, tape.x_out, tape.rstd_final, W.v(L.final_norm));
    MatT<S> dtmp(N, D), dact, dgate, dup, dhn, datt, dq, dk, dv, dxn;
    for (size_t li = L.layers.size(); li-- > 0;) {
        const LayerTape<S>& lt = tape.layers[li];
        const LayerSlots& ls = L.layers[li];
        // MLP: x_out = x_mid + W_down act
        linear_backward<S>(&dact, G.m(ls.w_down), dx, lt.act, W.m(ls.w_down), false);
        swiglu_backward<S>(dgate, dup, dact, lt.gate, lt.up);
        linear_backward<S>(&dhn, G.m(ls.w_gate), dgate, lt.hn, W.m(ls.w_gate), false);
        linear_backward<S>(&dhn, G.m(ls.w_up), dup, lt.hn, W.m(ls.w_up), true);
        rmsnorm_backward<S>(dtmp, G.v(ls.mlp_norm), dhn, lt.x_mid, lt.rstd_mlp, W.v(ls.mlp_norm));
        dx += dtmp;
        // attention: x_mid = x_in + W_o att_out
        linear_backward<S>(&datt, G.m(ls.w_o), dx, lt.att_out, W.m(ls.w_o), false);
        const int64_t H = c.num_attention_heads;
        const int64_t Gk = c.is_mla() ? H : c.num_key_value_heads;
        const int64_t dqw = c.q_head_dim(), dvw = c.is_mla() ? c.v_head_dim : c.head_dim;
        attention_backward<S>(dq, dk, dv, datt, lt.att_probs, lt.q, lt.k, lt.v, tape.B, tape.T, H, Gk, dqw, dvw,
                              1.0 / std::sqrt(double(dqw)));
        attention_backward_block<S>(dxn, dq, dk, dv, lt, W, G, ls, c, static_cast<int64_t>(li), tape.T);
        rmsnorm_backward<S>(dtmp, G.v(ls.attn_norm), dxn, lt.x_in, lt.rstd_attn, W.v(ls.attn_norm));
        dx += dtmp;
    }
    embedding_backward<S>(G.m(L.embed), dx, tape.tokens.data(), N);
    return loss;
}

template <class S>
S loss_and_grad(Tape<S>& tape, const ParamLayout& L, const S* params, const int32_t* windows, int64_t B, int64_t T,
                S* grad) {
    std::vector<int32_t> inputs(static_cast<size_t>(B * T)), targets(static_cast<size_t>(B * T));
    for (int64_t b = 0; b < B; ++b)
        for (int64_t t = 0; t < T; ++t) {
            inputs[b * T + t] = windows[b * (T + 1) + t];
            targets[b * T + t] = windows[b * (T + 1) + t + 1];
        }
    forward<S>(tape, L, params, inputs.data(), B, T);
    return backward<S>(tape, L, params, targets.data(), grad);
}

Mat forward_logits(const Weights& w, const std::vector<int64_t>& ids) {
    const ParamLayout L = make_layout(w.cfg);
    const std::vector<float> p = flatten(L, w);
    std::vector<int32_t> tokens;
    for (int64_t id : ids) {
        if (id < 0 || id >= w.cfg.vocab_size)
            throw InputError("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                             std::to_string(w.cfg.vocab_size) + ")");
        tokens.push_back(static_cast<int32_t>(id));
    }
    if (tokens.empty()) throw InputError("forward_logits needs at least one token");
    Tape<float> tape;
    forward<float>(tape, L, p.data(), tokens.data(), 1, static_cast<int64_t>(tokens.size()));
    return tape.logits;
}

// ============================================================================================
// [SECTION] instantiations
// ============================================================================================

#define MLA_TRAIN_MODEL(S)                                                                                  \
    template void forward<S>(Tape<S>&, const ParamLayout&, const S*, const int32_t*, int64_t, int64_t);     \
    template S backward<S>(Tape<S>&, const ParamLayout&, const S*, const int32_t*, S*);                     \
    template S loss_and_grad<S>(Tape<S>&, const ParamLayout&, const S*, const int32_t*, int64_t, int64_t, S*);

MLA_TRAIN_MODEL(float)
MLA_TRAIN_MODEL(double)

}  // namespace mla::train
