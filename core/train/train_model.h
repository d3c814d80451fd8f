// The decoder in training form: whole sequences forward, then backward through every op
// (train_ops.h). Parameters live in one flat array, in the file order of each_tensor
// (model/weights.h), so gradients and AdamW moments are flat arrays of the same layout.
//
// The maths is the inference Decoder's (model.h), written for T tokens at once:
// embed -> L x [RMSNorm -> attention -> +residual -> RMSNorm -> SwiGLU -> +residual] ->
// RMSNorm -> lm_head. MLA is trained in its cached-kv form (K and V decompressed from the
// latent, one RoPE key shared by the heads); the absorbed path computes the same function.
//
// Shapes: config.h's legend, plus B = sequences, T = tokens per sequence, N = B*T,
// dq = query/key head width (Dh, or Dn+Dr for MLA), dv = value head width (Dh, or Dv).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/weights.h"
#include "train/train_ops.h"

namespace mla::train {

// One tensor of the flat parameter array.
struct ParamSlot {
    std::string name;          // HF name (weights.h)
    int64_t off = 0;           // first element in the flat array
    int64_t rows = 0, cols = 0;
    bool is_vector = false;    // a norm gain (no weight decay)
    int64_t size() const { return rows * cols; }
};

// Index into ParamLayout::slots of one tensor; -1 = the kind has no such tensor.
struct Slot {
    int index = -1;
    operator int() const { return index; }
};
using LayerSlots = LayerTensors<Slot, Slot>;

// Every tensor's slot, in the fields of weights.h (lm_head == embed when tie_word_embeddings).
struct ParamLayout : ModelTensors<Slot, Slot> {
    Config cfg;
    std::vector<ParamSlot> slots;  // file order (each_tensor's)
    int64_t size = 0;              // elements of the flat array
};

ParamLayout make_layout(const Config& cfg);               // validates cfg
std::vector<float> flatten(const ParamLayout& L, const Weights& w);
Weights unflatten(const ParamLayout& L, const float* params);

// Activations the forward pass keeps for the backward pass, per layer.
template <class S> struct LayerTape {
    MatT<S> x_in;                  // (N, D)  residual stream entering the layer
    MatT<S> xn;                    // (N, D)  input_layernorm(x_in)
    VecT<S> rstd_attn;             // (N)
    MatT<S> q_a, q_an;             // (N, Cq) MLA query compression: W_DQ xn, then q_a_layernorm
    VecT<S> rstd_q;                // (N)
    MatT<S> kv_a;                  // (N, C+Dr) MLA: W_DKV_KR xn, before norm and RoPE
    MatT<S> c_kv;                  // (N, C)  kv_a_layernorm(kv_a[:, :C])
    VecT<S> rstd_kv;               // (N)
    MatT<S> q, k, v;               // (N, H*dq), (N, Gk*dq), (N, Gk*dv): attention inputs, RoPE applied
    MatT<S> att_probs;             // (B*H*T, T)
    MatT<S> att_out;               // (N, H*dv)
    MatT<S> x_mid;                 // (N, D)  after the attention residual
    MatT<S> hn;                    // (N, D)  post_attention_layernorm(x_mid)
    VecT<S> rstd_mlp;              // (N)
    MatT<S> gate, up, act;         // (N, F)
};

template <class S> struct Tape {
    int64_t B = 0, T = 0;
    std::vector<int32_t> tokens;   // (N) inputs
    std::vector<LayerTape<S>> layers;
    MatT<S> x_out;                 // (N, D) residual stream after the last layer
    MatT<S> xf;                    // (N, D) model.norm(x_out)
    VecT<S> rstd_final;            // (N)
    MatT<S> logits;                // (N, V)
};

// Forward over B sequences of T tokens, tokens (B, T) row-major; fills tape (logits included).
template <class S>
void forward(Tape<S>& tape, const ParamLayout& L, const S* params, const int32_t* tokens, int64_t B, int64_t T);

// Mean cross-entropy of tape.logits against targets (N); when grad (L.size) is given,
// adds d loss / d params to it. Call after forward() with the same params.
template <class S> S backward(Tape<S>& tape, const ParamLayout& L, const S* params, const int32_t* targets, S* grad);

// A batch of B windows of T + 1 tokens, (B, T+1) row-major: inputs are the first T of each
// window, targets the last T. Returns the mean loss; grad (may be null) += its gradient.
template <class S>
S loss_and_grad(Tape<S>& tape, const ParamLayout& L, const S* params, const int32_t* windows, int64_t B, int64_t T,
                S* grad);

// Logits (T, V) of one sequence in training form (float), for comparing with the Decoder.
Mat forward_logits(const Weights& w, const std::vector<int64_t>& ids);

}  // namespace mla::train
