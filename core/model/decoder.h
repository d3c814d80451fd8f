// The decoder: embed -> L x [RMSNorm -> attention -> +residual -> RMSNorm -> SwiGLU MLP
// -> +residual] -> RMSNorm -> lm_head, one token at a time with a KV cache per layer.
// Written once against the Backend interface (backend.h). Shapes: see config.h.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/backend.h"
#include "model/cost.h"
#include "model/trace.h"
#include "model/weights.h"

namespace mla {

class Decoder {
public:
    // Uploads the weights to the backend. The backend must outlive the decoder.
    Decoder(std::shared_ptr<const Weights> weights, Backend& backend, RunOptions options = {});
    ~Decoder();
    Decoder(const Decoder&) = delete;
    Decoder& operator=(const Decoder&) = delete;

    // Feeds `token` at the next position and returns the logits (V) for the next token.
    // When `trace` is given, it is filled with the step's costs and every tensor's name,
    // layer and shape, and with the data of the tensors the trace request asks for. A trace
    // reused from step to step keeps its storage, so a traced step allocates nothing once
    // the cache has room.
    const std::vector<float>& step(int64_t token, Trace* trace = nullptr);
    // The tensors whose data a traced step keeps (llama.cpp's eval-callback "ask"), by
    // name; empty = all of them. The others are not copied off the backend at all.
    void set_trace_request(std::vector<std::string> names) { request_ = std::move(names); }
    const std::vector<std::string>& trace_request() const { return request_; }
    void reset();                        // empty the cache, keep the capacity

    // Options take effect at the next step (the cache layout of cached-kv differs from
    // the latent one, so changing the MLA path or RoPE variant resets the cache).
    void set_options(const RunOptions& o);
    const RunOptions& options() const { return opt_; }
    const Config& config() const { return w_->cfg; }
    std::shared_ptr<const Weights> weights() const { return w_; }
    Backend& backend() { return be_; }
    int64_t position() const { return static_cast<int64_t>(history_.size()); }  // tokens in the cache
    const std::vector<int64_t>& history() const { return history_; }
    int64_t cache_capacity() const { return cap_; }

    // Attention block of one layer only, for `bench`: reads the cache of layer 0 filled to
    // T tokens with `fill_cache_random` and computes one new token (its row at T is overwritten by the next call), no trace.
    void fill_cache_random(int64_t T, uint64_t seed);
    void attention_only_step(int64_t T);

private:
    struct LayerBufs;
    void upload();
    void ensure_capacity(int64_t T);
    void forward_token(int64_t token, int64_t pos, Trace* trace, bool want_logits);
    void attention(int layer, int64_t pos, Trace* trace);  // writes the new token's cache row at pos
    // scores, softmax and weighted sum: fused, or the three-pass reference (options().fused)
    void attend(int layer, AttendArgs a, Trace* trace);
    View widened(Buf& scratch, const KvOperand& o, int64_t H, int64_t T);  // float32 copy of a narrow operand
    void record(Trace* trace, const char* name, int layer, View v, int64_t rows, int64_t cols);
    void collect(Trace* trace);

    std::shared_ptr<const Weights> w_;
    Backend& be_;
    RunOptions opt_;
    ModelTensors<Buf, Buf, LayerBufs> dev_;  // the weights on the backend, and each layer's cache
    // activations (scratch, one token)
    Buf x_, xn_, q_, qa_, kv_a_, kv_, kv_all_, q_abs_, scores_, att_out_, o_lat_, attn_y_, gate_, up_, mlp_y_, logits_buf_;
    Buf k_new_, v_new_;                      // the new token's cache rows in float32, before they are stored
    Buf latent_f32_;                         // recompute with a narrow cache: the latent rows widened for the GEMM
    Buf ref_k_, ref_k2_, ref_v_;             // the three-pass reference: narrow operands widened
    Buf stage_;                              // trace staging area, read back once per step
    // RoPE inverse frequencies: MHA/GQA/MQA [0]; MLA [l * Gr + g] per layer and rotary group
    std::vector<std::vector<float>> freq_;
    std::vector<float> freq_nope_;           // MLA's rope-on-latent experiment: the ladder over Dn
    const std::vector<float>& rope_freq(int64_t l, int64_t g) const {
        return freq_[static_cast<size_t>(l * w_->cfg.mla_rope_key_heads + g)];
    }
    struct Pending { const char* name; int layer; int64_t rows, cols, off; };  // off -1: shape only
    std::vector<Pending> pending_;
    int64_t stage_used_ = 0;
    int64_t cap_ = 0;                        // cache capacity in tokens
    int64_t stride_a_ = 0, stride_b_ = 0;    // cache row strides in stored elements (cache_row_stride)
    std::vector<int64_t> history_;
    std::vector<float> logits_;
    std::vector<std::string> request_;       // traced tensors' data kept (empty = all)
    std::vector<float> stage_host_;          // the staging area read back
};

// Sampling: greedy when temperature <= 0, else softmax(logits / temperature) drawn with Rng.
int64_t sample(const std::vector<float>& logits, float temperature, uint64_t& rng_state);

// Temperature, then top-k, then top-p (nucleus), as Hugging Face's generate applies them.
struct Sampling {
    float temperature = 0;   // 0 = greedy
    int64_t top_k = 0;       // keep the k most likely tokens (0 = all)
    float top_p = 1;         // then the fewest most likely tokens whose mass reaches p (1 = all)
    bool restricts() const { return top_k > 0 || top_p < 1; }
};

// The distribution a sampled token is drawn from: p = softmax(logits / T), T = temperature
// (T = 1 when greedy: the argmax is the same); the top_k most likely kept (ties: the lower id
// first); then, most likely first, tokens kept until their summed p reaches top_p (at least
// one); the kept ones renormalised to sum to 1, the others 0.
std::vector<double> sampling_distribution(const std::vector<float>& logits, const Sampling& s);

// Greedy (temperature <= 0): the argmax of the logits. Otherwise one draw from
// sampling_distribution; with no top-k or top-p the same draw as sample() above.
int64_t sample(const std::vector<float>& logits, const Sampling& s, uint64_t& rng_state);

// The n most likely tokens of a distribution, most likely first (ties: the lower id first).
struct TokenProb {
    int64_t id = 0;
    double p = 0;
};
std::vector<TokenProb> top_tokens(const std::vector<double>& p, int64_t n);

// The generate loop of the CLI and the window, written once: the prompt's tokens are fed
// first, then the model's own choices. After each step observe(logits) records what follows
// it: inside the prompt the most likely token (shown, not fed); from the last prompt token
// on, sample() with the temperature and a generator seeded once with `seed`.
class Generation {
public:
    Generation() = default;
    Generation(std::vector<int64_t> prompt, Sampling sampling, uint64_t seed);

    int64_t steps() const { return static_cast<int64_t>(fed_.size()); }
    int64_t prompt_length() const { return static_cast<int64_t>(prompt_.size()); }
    // The token to feed at position steps(): the prompt's, then the last prediction.
    int64_t next_token() const;
    // After the step that fed next_token() gave `logits`.
    void observe(const std::vector<float>& logits);
    const std::vector<int64_t>& fed() const { return fed_; }
    const std::vector<int64_t>& predicted() const { return predicted_; }  // one per step
    void reset();

private:
    std::vector<int64_t> prompt_, fed_, predicted_;
    Sampling sampling_;
    uint64_t seed_ = 0, rng_ = 0;
};

}  // namespace mla
