// The logic behind the views, with no ImGui or GL: what slabs a cache has, which query
// heads read which keys and values, the series of the charts, the causal attention
// matrix of one head. Every number comes from core (cost.h, the traces); tested in
// tests/app/views/test_view_logic.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/cost.h"
#include "session/session.h"

namespace mla::app {

// ---- Cache view

enum class SlabPart { Key, Value, Latent, RopeKey };

// One block of one layer's cache: `rows` tokens x `cols` elements per token.
struct Slab {
    std::string label;      // "K head 0", "V group 1", "c_KV (latent)", "k_R (RoPE key)"
    SlabPart part = SlabPart::Key;
    int64_t rows = 0, cols = 0;
    std::vector<int> readers;   // the query heads that read it
    int group = -1;             // GQA: the KV group it belongs to (-1: a per-head or shared slab)
};

// The slabs of one layer's cache after T tokens, in drawing order. MHA: K and V per head;
// GQA: K and V per group; MQA: one K and one V; MLA (recompute/absorbed): c_KV and k_R;
// MLA cached-kv: K = [k_C ; k_R] and V per head. No-cache mode holds nothing: empty.
std::vector<Slab> cache_slabs(const Config& c, const RunOptions& o, int64_t T);

// ---- Shapes view: the data flow of one attention layer for the current token

struct DiagramNode {
    std::string id;               // the trace name when the node is a traced tensor ("q", "c_kv"), else ""
    std::string label;            // drawn above the box: "c_kv", "c_KV cache"
    std::vector<int64_t> dims;    // maths order; 3 dims = heads x rows x cols
    float col = 0, row = 0;       // grid position (columns run left to right)
    int color = 0;                // categorical colour index (widgets/colormap.h)
    bool cache = false;           // a cache this step appends to
    bool grows = false;           // one of its dims is T (it grows with every token)
    std::string equation;         // how this step makes it, with the current sizes ("" for the input)
    std::vector<int> inputs;      // nodes it is computed from (the arrows into it)
};

struct Diagram {
    std::string title;            // "MLA, absorbed path: layer data flow for token t = 16"
    std::vector<DiagramNode> nodes;
    std::vector<std::string> notes;  // sentences under the diagram
    int find(const std::string& label) const;  // index by label, -1 if absent
};

// The diagram for `c` run with `o` when the step appends token `pos` (T = pos + 1 keys).
// With no cache it draws no cache: K and V (or c_KV and k_R) rebuilt this step for all T tokens.
Diagram shapes_diagram(const Config& c, const RunOptions& o, int64_t pos);

// The keys the step's query attends to: every token so far (pos + 1), cached or rebuilt.
int64_t attended_keys(const Trace& t);
// The Shapes view's line about the step: "step 17: token 'a' at position 16, 17 keys", and with
// no cache "..., 17 keys, all rebuilt this step (no cache)". Steps count from 1, positions from 0.
std::string step_caption(const Trace& t);

// ---- the timeline: bytes of one character

// The character byte `i` of `bytes` belongs to when it is part of a multi-byte UTF-8
// character: "'é' (U+00E9): byte 1 of 2". "" for an ASCII byte, a byte of no valid character,
// or a character not complete in `bytes` yet (the bytes so far say "byte 1 of 2, incomplete").
std::string utf8_byte_role(const std::vector<int64_t>& bytes, int64_t i);

// ---- the window's notice at the top: the context

// What the top of the window says about the run: nothing, a warning once the run is past the
// window the model was trained on, or why stepping stopped (the context is full).
struct RunNotice {
    enum class Level { None, Warn, Stop } level = Level::None;
    std::string text;
};
RunNotice run_notice(const Session& s);
// "trained on 256-token windows; at most 1,024 tokens" (random weights: only the limit).
std::string context_summary(const Session& s);

// What commands will keep the window busy for a while, in words, so the window can say so
// for a frame before running them: "Switching to the gpu backend and running 32 steps",
// "Rebuilding the model and running 32 steps", "Running 64 steps". "" when they are quick
// (a step or a few, a scrub, a reset).
std::string busy_text(const Session& s, const Commands& c);
inline constexpr int64_t kBusySteps = 16;  // generating this many at once counts as busy

// ---- the sidebar's words

// When MLA's latent cache with these sizes (d_c + d_r per token per layer, core's cost model)
// is no smaller than MHA's with the same heads, the sentence that says so beside the fields:
// "d_c + d_r = 999 + 8 = 1,007 numbers per token per layer, 7.9x MHA's 128: MLA's cache is
// no smaller". "" when it is smaller, or when the sizes cannot run.
std::string mla_cache_warning(const ModelSettings& s);

// The message under a sidebar field that did not run, in the sidebar's words and with the
// range it takes ("d'_c query (query compression) = -1 does not run: 0 = none, or 1 to 32,768");
// core's message (which speaks config.json) for the rest. `tried` holds the value typed.
std::string field_message(Field f, const ModelSettings& tried, const std::string& core_message);

// ---- Compare view: which query heads read which keys and values

// KV head (or group) read by query head h: h / (H / G); MLA: 0 (one shared latent).
int kv_source_of(const Config& c, int query_head);
// For each KV head / group / latent, the query heads that read it.
std::vector<std::vector<int>> kv_readers(const Config& c);
int64_t kv_sources(const Config& c);   // G, or 1 for MLA

// ---- charts

struct Series {
    std::string label;
    std::vector<double> x, y;
};

// Token counts 1..max_T, at most `points` of them (always 1 and max_T, integers, rising).
std::vector<int64_t> token_grid(int64_t max_T, int points = 256);

// Cache bytes (all layers, float32) vs tokens for MHA, GQA, MQA and MLA (the MLA path
// of s) of the built-in model with the sidebar's sizes, in that order.
std::vector<Series> cache_bytes_series(const ModelSettings& s, int64_t max_T, double dtype_bytes = 4);

// FLOPs of one decode step vs tokens: with the KV cache and with none (whole prefix).
std::vector<Series> flops_series(const Config& c, const RunOptions& o, int64_t max_T);

// Absorption view: per MLA path (cached-kv, recompute, absorbed), FLOPs per step and
// cache bytes read per step vs tokens.
std::vector<Series> path_flops_series(const ModelSettings& s, int64_t max_T);
std::vector<Series> path_cache_read_series(const ModelSettings& s, int64_t max_T);

// ---- Attention view

// The causal attention matrix of one head up to step `upto` (rows = query steps 0..upto,
// cols = key positions 0..upto), row-major, NaN above the diagonal. Row i comes from
// trace i's att_probs (H x T). Rows of steps without data are NaN.
std::vector<float> attention_matrix(const std::vector<Trace>& traces, int64_t upto, int layer, int head);

// Largest att_probs value of a layer over rows 0..upto (for a shared colour range).
float attention_max(const std::vector<Trace>& traces, int64_t upto, int layer);

// ---- Predictions view

// The n most likely next tokens after the temperature (T = 1 when greedy: the same order),
// each with its probability before top-k and top-p and after them (what a draw uses, 0 when
// cut), from the step's logits (the trace's "logits"). Empty when `logits` is.
struct PredictionRow {
    int64_t id = 0;
    double before = 0, after = 0;
};
std::vector<PredictionRow> prediction_rows(const std::vector<float>& logits, const Sampling& s, int64_t n);
// The trace's logits (empty when it kept none).
std::vector<float> trace_logits(const Trace* t);

}  // namespace mla::app
