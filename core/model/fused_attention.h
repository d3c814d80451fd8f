// Decode attention in one pass over the cache (flash-decoding), the CPU backend's fast path
// for Backend::attend. For a block of cache rows that stays in L1/L2 it computes the scores
// of every query head that reads them (MHA per head, GQA per group, MQA and MLA's latent for
// all heads at once), updates an online softmax (running max m and sum l per head), and adds
// the weighted rows into per-head accumulators. The cache is split into contiguous ranges,
// one per thread; the partial results are merged with their maxima and sums:
//   M = max_t m_t,  out_h = sum_t e^(m_t - M) acc_t,h / sum_t e^(m_t - M) l_t,h
// The three-pass operations (attn_scores, softmax, attn_values) stay the reference.
#pragma once

#include <cstdint>
#include <vector>

#include "model/cache_dtype.h"

namespace mla {

// Element (j, g, i) at base[first + j*row_stride + g*head_stride + i] in units of dtype;
// query head h reads group h / group.
struct KvRaw {
    const void* base = nullptr;
    int64_t first = 0, row_stride = 0, head_stride = 0, dim = 0, group = 1;
    CacheDtype dtype = CacheDtype::F32;
};

struct FusedArgs {
    int64_t H = 0, T = 0;
    const float* q = nullptr;  // q_h = q[h*q_stride + (0 .. k.dim + k2.dim - 1)]
    int64_t q_stride = 0;
    KvRaw k, k2, v;            // k2.dim = 0: no second key part
    float* out = nullptr;      // out_h = out[h*out_stride + (0 .. v.dim - 1)]
    int64_t out_stride = 0;
    float scale = 1;
    float* scores = nullptr;   // optional: raw scores (H, T)
};

// Per-thread working memory, kept between calls so a decode step allocates nothing.
struct FusedScratch {
    struct Part { std::vector<float> s, tile, m, l, acc; };
    std::vector<Part> parts;
};

void fused_attention(const FusedArgs& a, int threads, FusedScratch& scratch);

// Rows per block. `group_floats`: one row of one KV group (K, K2 and V unless V is K's own
// row), the part widened to float32 and reused by every head of the group; `all_floats`:
// one row of every group. A block of every group stays near 448 KB, in the 2 MB L2 beside
// the next block being prefetched; one group's widened block at most 96 KB.
int64_t fused_block_rows(int64_t group_floats, int64_t all_floats);

}  // namespace mla
