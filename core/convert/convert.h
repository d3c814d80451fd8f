// Turning a trained MHA or GQA model into MLA (MHA2MLA, Ji et al. 2025; TransMLA, Meng et
// al. 2025), without training: partial RoPE, then a truncated SVD of the keys and values.
//
// Per layer and KV head g of the source (head dim Dh, pairs i < Dh/2):
//   1. keep RoPE on r frequency pairs of each head (`strategy`); those dimensions of q and k
//      become the MLA rotary part (Dr = 2r), one rotary key per KV head (Gr = G), rotated at
//      the source's own frequencies (Config::mla_rope_pairs);
//   2. the other Dh - 2r dimensions of k lose RoPE (the only change a conversion makes before
//      compression: it is what fine-tuning must repair) and become k_nope (Dn = Dh - 2r);
//   3. M = [W_K,nope ; W_V] (G (Dn + Dh), D) is cut to rank C by its SVD U S V^T:
//      W_DKV = S^1/2 V^T (C, D), [W_UK ; W_UV] = U S^1/2; `split` cuts K_nope and V apart
//      (C/2 each). By Eckart-Young the relative error ||M - M_C||_F / ||M||_F is
//      sqrt(sum_{i>C} s_i^2 / sum s_i^2).
// The latent is linear in x (no kv_a_layernorm), so at full rank with every pair kept the
// converted model computes the source's logits.
//
//     Weights src = load_model("assets/models/mha-fortunes");
//     ConvertOptions o;  o.kv_lora_rank = 32;  o.rope_pairs = 2;
//     ConvertResult r = convert_to_mla(src, o);
//     save_model(r.weights, "/tmp/mha-as-mla");   // runs everywhere a model does
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/weights.h"

namespace mla {

enum class RopeStrategy { High, Low, Uniform, Norm };  // MHA2MLA's S_high, S_low, S_uniform, S_2-norm
enum class SvdMode { Joint, Split };

const char* to_string(RopeStrategy s);  // "high", "low", "uniform", "norm"
const char* to_string(SvdMode m);       // "joint", "split"
RopeStrategy parse_rope_strategy(const std::string& s);  // throws InputError naming the valid values
SvdMode parse_svd_mode(const std::string& s);

struct ConvertOptions {
    int64_t kv_lora_rank = 0;                // C, 1 to the rank of M
    int64_t rope_pairs = 0;                  // r, 1 to Dh/2 (Dh/2: every pair keeps RoPE)
    RopeStrategy strategy = RopeStrategy::High;
    SvdMode svd = SvdMode::Joint;
    // `norm` only: the tokens the source reads to measure each pair's query and key norms.
    std::vector<int64_t> calibration_tokens;
};

struct ConvertLayer {
    std::vector<double> singular_values;     // of M (joint), or of K_nope then V (split), largest first
    std::vector<double> singular_values_v;   // split only: V's (singular_values then holds K_nope's)
    double relative_error = 0;               // ||M - M_C||_F / ||M||_F (split: K_nope and V together)
    double energy_kept = 0;                  // sum_{i<=C} s_i^2 / sum s_i^2 (split: both parts)
    std::vector<std::vector<int32_t>> pairs; // per KV head: the kept frequency pairs, ascending
};

struct ConvertResult {
    Weights weights;                         // the MLA model
    std::vector<ConvertLayer> layers;
    int64_t cache_elements_before = 0;       // per token, all layers: 2 G Dh L
    int64_t cache_elements_after = 0;        // (C + G 2r) L
};

// Throws InputError when the source is not MHA/GQA/MQA or an option is out of range,
// naming the option and its valid range.
ConvertResult convert_to_mla(const Weights& source, const ConvertOptions& o);

// The kept pairs of one KV head by strategy; `scores` (Dh/2) is used by Norm only.
std::vector<int32_t> choose_rope_pairs(RopeStrategy s, int64_t half, int64_t r, const std::vector<double>& scores);

// Norm strategy's measure: for layer l, KV head g and pair i, mean over tokens of
// ||q_h,i|| (summed over g's query heads) times mean ||k_g,i||, from the source decoder
// reading `tokens` (CPU). Indexed [(l * G + g) * Dh/2 + i].
std::vector<double> rope_pair_norm_scores(const Weights& source, const std::vector<int64_t>& tokens);

// ---- the sweep: held-out loss against the cache, without fine-tuning -------------------------

struct SweepPoint {
    int64_t kv_lora_rank = 0, rope_pairs = 0;
    int64_t cache_elements = 0;              // per token, all layers
    double mean_relative_error = 0;          // over layers
    double loss_bits = 0;                    // held-out bits per byte
};

// Default grid for a source: ranks C = Dh/4 .. the joint rank, doubling, and r = 1, 2, 4 ..
// Dh/2 (what a sweep without explicit lists covers).
std::vector<int64_t> default_sweep_ranks(const Config& source);
std::vector<int64_t> default_sweep_pairs(const Config& source);

// Every (C, r) of the grid converted with `o`'s strategy and SVD mode, scored on `heldout`
// (bytes, byte-level models) with the decoder on the CPU over `windows` windows of seq_len.
// Ranks beyond what a pair count allows are skipped. Calls on_point after each.
std::vector<SweepPoint> convert_sweep(const Weights& source, ConvertOptions o, const std::vector<int64_t>& ranks,
                                      const std::vector<int64_t>& pairs, const std::string& heldout, int64_t seq_len,
                                      int64_t windows, const std::function<void(const SweepPoint&)>& on_point = {});

// ---- what the Convert view shows ------------------------------------------------------------

// att_probs of every layer and head while the model reads `tokens` (CPU, from an empty
// cache): probs[((l * H + h) * T + i) * T + j] is query i's weight on key j (0 for j > i).
struct AttentionMaps {
    int64_t layers = 0, heads = 0, tokens = 0;
    std::vector<float> probs;
    const float* map(int64_t l, int64_t h) const { return probs.data() + (l * heads + h) * tokens * tokens; }
};
AttentionMaps attention_maps(const Weights& w, const std::vector<int64_t>& tokens);

// The precomputed points shipped beside the models (assets/models/conversions/):
//   *-sweep.csv     as `convert --sweep --csv` writes it
//   *-finetune.csv  kv_lora_rank,rope_pairs,rope_strategy,svd,cache_elements_per_token,
//                   val_loss_bits_converted,val_loss_bits_finetuned,finetune_steps,finetune_bytes
struct ShippedPoint {
    int64_t kv_lora_rank = 0, rope_pairs = 0, cache_elements = 0;
    std::string strategy, svd;
    double loss_bits = 0;            // sweep: converted; finetune: after fine-tuning
    double loss_bits_converted = 0;  // finetune: before it
    double source_loss_bits = 0;     // sweep only
    int64_t steps = 0, bytes = 0;    // finetune only
};
std::vector<ShippedPoint> read_sweep_csv(const std::string& path);     // throws InputError naming the line
std::vector<ShippedPoint> read_finetune_csv(const std::string& path);

}  // namespace mla
