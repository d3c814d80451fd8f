// [SECTION] cache slabs
// [SECTION] shapes diagram
// [SECTION] the run's notice (context, busy)
// [SECTION] the sidebar's words
// [SECTION] who reads what
// [SECTION] series
// [SECTION] attention matrix
#include "views/view_logic.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "base/numbers.h"

namespace mla::app {

// ============================================================================ [SECTION] cache slabs

std::vector<Slab> cache_slabs(const Config& c, const RunOptions& o, int64_t T) {
    std::vector<Slab> out;
    if (o.no_cache || T <= 0) return out;
    const int H = static_cast<int>(c.num_attention_heads);
    auto all_heads = [&] {
        std::vector<int> v(static_cast<size_t>(H));
        for (int h = 0; h < H; ++h) v[static_cast<size_t>(h)] = h;
        return v;
    };
    if (c.is_mla()) {
        if (o.mla_path == MlaPath::CachedKV) {
            for (int h = 0; h < H; ++h)
                out.push_back({"K head " + std::to_string(h), SlabPart::Key, T,
                               c.qk_nope_head_dim + c.qk_rope_head_dim, {h}});
            for (int h = 0; h < H; ++h)
                out.push_back({"V head " + std::to_string(h), SlabPart::Value, T, c.v_head_dim, {h}});
        } else {
            out.push_back({"c_KV (latent)", SlabPart::Latent, T, c.kv_lora_rank, all_heads()});
            out.push_back({c.mla_rope_key_heads == 1 ? "k_R (RoPE key)" : "k_R (one RoPE key per group)", SlabPart::RopeKey, T,
                           c.mla_rope_key_heads * c.qk_rope_head_dim, all_heads()});
        }
        return out;
    }
    const auto readers = kv_readers(c);
    const int G = static_cast<int>(c.num_key_value_heads);
    const char* unit = G == H ? "head " : (G == 1 ? "shared" : "group ");
    for (int part = 0; part < 2; ++part)
        for (int g = 0; g < G; ++g) {
            std::string label = std::string(part == 0 ? "K " : "V ") + unit;
            if (G > 1) label += std::to_string(g);
            out.push_back({label, part == 0 ? SlabPart::Key : SlabPart::Value, T, c.head_dim,
                           readers[static_cast<size_t>(g)], G > 1 && G < H ? g : -1});
        }
    return out;
}

// ============================================================================ [SECTION] shapes diagram

Diagram shapes_diagram_nodes(const Config& c, const RunOptions& o, int64_t pos);

int Diagram::find(const std::string& label) const {
    for (size_t i = 0; i < nodes.size(); ++i)
        if (nodes[i].label == label) return static_cast<int>(i);
    return -1;
}

namespace {

std::string n(int64_t v) { return std::to_string(v); }
std::string mul(int64_t a, int64_t b) { return n(a) + " x " + n(b); }

// Colour indices (widgets::categorical_color): 0 orange, 1 sky blue, 2 bluish green,
// 3 vermillion, 4 blue, 5 reddish purple.
enum Color { kInput = 4, kQuery = 1, kLatent = 2, kRope = 3, kAttn = 5, kOut = 0 };

struct Builder {
    Diagram d;
    bool no_cache = false;
    std::string t, Ts;            // the position and the key count, as text
    // What a cached mode appends to a cache ("append k as row t of the K cache"); with no cache,
    // the same tensor for all T tokens, rebuilt this step by re-running the prefix, and dropped.
    int kv(const std::string& cache_label, const std::string& rebuilt_label, const std::string& from,
           const std::string& cache_words, std::vector<int64_t> dims, float col, float row, int color, int input) {
        std::string shape;
        for (size_t i = 0; i < dims.size(); ++i) shape += (i ? " x " : "") + std::to_string(dims[i]);
        if (no_cache)
            return add("", rebuilt_label, std::move(dims), col, row, color,
                       rebuilt_label + " = " + from + " of all " + Ts + " tokens, rebuilt this step by re-running positions 0.." +
                           t + ": " + shape + "; nothing is kept for the next step", {input});
        return add("", cache_label, std::move(dims), col, row, color,
                   "append " + from + " as row " + t + " of the " + cache_words + ": " + shape + " held", {input}, true);
    }
    int add(std::string id, std::string label, std::vector<int64_t> dims, float col, float row, int color,
            std::string eq, std::vector<int> inputs, bool cache = false) {
        DiagramNode nd;
        nd.id = std::move(id);
        nd.label = std::move(label);
        nd.dims = std::move(dims);
        nd.col = col;
        nd.row = row;
        nd.color = color;
        nd.cache = cache;
        nd.equation = std::move(eq);
        nd.inputs = std::move(inputs);
        d.nodes.push_back(std::move(nd));
        return static_cast<int>(d.nodes.size()) - 1;
    }
};

}  // namespace

Diagram shapes_diagram(const Config& c, const RunOptions& o, int64_t pos) {
    Diagram d = shapes_diagram_nodes(c, o, pos);
    for (DiagramNode& nd : d.nodes)
        nd.grows = nd.cache || nd.label == "att_scores" || nd.label == "att_probs" || nd.label == "K_nope" || nd.label == "V" ||
                   nd.label.find("(rebuilt)") != std::string::npos;
    return d;
}

Diagram shapes_diagram_nodes(const Config& c, const RunOptions& o, int64_t pos) {
    Builder b;
    const int64_t D = c.hidden_size, H = c.num_attention_heads, T = pos + 1;
    const std::string t = n(pos), Ts = n(T);
    b.no_cache = o.no_cache;
    b.t = t;
    b.Ts = Ts;
    const std::string mode = o.no_cache ? ", no cache" : "";
    const int x = b.add("x", "x", {1, D}, 0, c.is_mla() ? 1.8f : 1.0f, kInput,
                        "", {});

    if (!c.is_mla()) {
        const int64_t G = c.num_key_value_heads, Dh = c.head_dim, grp = H / G;
        b.d.title = std::string(G == H ? "MHA" : (G == 1 ? "MQA" : "GQA")) + mode + ": one attention layer for token t = " + t;
        const int q = b.add("q", "q", {H, Dh}, 1, 0, kQuery,
                            "q = RoPE(W_Q x, t = " + t + ") : (" + mul(H * Dh, D) + ")(" + n(D) + ") -> " + mul(H, Dh), {x});
        const int k = b.add("k", "k", {G, Dh}, 1, 1, kLatent,
                            "k = RoPE(W_K x, t = " + t + ") : (" + mul(G * Dh, D) + ")(" + n(D) + ") -> " + mul(G, Dh), {x});
        const int v = b.add("v", "v", {G, Dh}, 1, 2, kLatent,
                            "v = W_V x : (" + mul(G * Dh, D) + ")(" + n(D) + ") -> " + mul(G, Dh), {x});
        const int K = b.kv("K cache", "K (rebuilt)", "k", "K cache", {G, T, Dh}, 2, 1, kLatent, k);
        const int V = b.kv("V cache", "V (rebuilt)", "v", "V cache", {G, T, Dh}, 2, 2, kLatent, v);
        const std::string share = G == H ? "each head reads its own K" :
                                  G == 1 ? "all " + n(H) + " heads read the one K" :
                                           "heads h read K group h / " + n(grp);
        const int s = b.add("att_scores", "att_scores", {H, T}, 3, 0.6f, kAttn,
                            "att_scores[h, j] = q[h] . K[" + std::string(G == H ? "h" : G == 1 ? "0" : "h / " + n(grp)) +
                                ", j] : " + share + " -> " + mul(H, T), {q, K});
        const int p = b.add("att_probs", "att_probs", {H, T}, 4, 0.6f, kAttn,
                            "att_probs = softmax(att_scores / sqrt(" + n(Dh) + ")) over the " + Ts + " keys", {s});
        const int a = b.add("att_out", "att_out", {H, Dh}, 5, 0.6f, kOut,
                            "att_out[h] = sum_j att_probs[h, j] V[" + std::string(G == H ? "h" : G == 1 ? "0" : "h / " + n(grp)) +
                                ", j] : (" + mul(H, T) + ") with " + n(G) + " x (" + mul(T, Dh) + ") -> " + mul(H, Dh), {p, V});
        b.add("attn_output", "attn_output", {1, D}, 6, 0.6f, kOut,
              "attn_output = W_O att_out : (" + mul(D, H * Dh) + ")(" + n(H * Dh) + ") -> " + n(D), {a});
        if (o.no_cache)
            b.d.notes.push_back("No cache: nothing is held between steps. With a cache, each token would add 2 x " + n(G) +
                                " x " + n(Dh) + " = " + n(2 * G * Dh) + " numbers per layer instead.");
        else
            b.d.notes.push_back("Cache per token per layer: 2 x " + n(G) + " x " + n(Dh) + " = " + n(2 * G * Dh) +
                                " numbers (K and V of " + n(G) + (G == 1 ? " KV head)." : " KV heads)."));
        return b.d;
    }

    const int64_t C = c.kv_lora_rank, Cq = c.q_lora_rank, Dn = c.qk_nope_head_dim, Dr = c.qk_rope_head_dim,
                  Dv = c.v_head_dim, Dq = Dn + Dr;
    const int qc = Cq > 0 ? 1 : 0;
    b.d.title = std::string("MLA, ") + to_string(o.mla_path) + " path" + mode + ": one attention layer for token t = " + t;
    int q;
    if (Cq > 0) {
        const int cq = b.add("c_q", "c_q", {1, Cq}, 1, 0.5f, kQuery,
                             "c_q = RMSNorm(W_DQ x) : (" + mul(Cq, D) + ")(" + n(D) + ") -> " + n(Cq), {x});
        q = b.add("q", "q", {H, Dq}, 2, 0.5f, kQuery,
                  "q = W_UQ c_q : (" + mul(H * Dq, Cq) + ")(" + n(Cq) + ") -> " + n(H) + " heads x " + n(Dq) +
                      " = [q_nope " + n(Dn) + " | q_rope " + n(Dr) + "]", {cq});
    } else {
        q = b.add("q", "q", {H, Dq}, 1, 0.5f, kQuery,
                  "q = W_Q x : (" + mul(H * Dq, D) + ")(" + n(D) + ") -> " + n(H) + " heads x " + n(Dq) +
                      " = [q_nope " + n(Dn) + " | q_rope " + n(Dr) + "]", {x});
    }
    const std::string nope_note = o.rope_on_latent ? "RoPE(q[h, :" + n(Dn) + "], t = " + t + ")  (RoPE on the compressed keys is ON)"
                                                   : "q[h, :" + n(Dn) + "], no position";
    const int64_t Gr = c.mla_rope_key_heads, WL = C + Gr * Dr;
    const int ckv = b.add("c_kv", "c_kv", {1, C}, 1, 3.4f, kLatent,
                          "[c_kv ; k_rope] = W_DKV_KR x : (" + mul(WL, D) + ")(" + n(D) + ") -> " + n(WL) +
                              (c.mla_kv_norm ? "; c_kv = RMSNorm(first " + n(C) + ")"
                                             : "; c_kv = first " + n(C) + " (no norm: a model converted from MHA/GQA)"),
                          {x});
    const int kr = b.add("k_rope", "k_rope", {Gr, Dr}, 1, 2.2f, kRope,
                         Gr == 1 ? "k_rope = RoPE(last " + n(Dr) + ", t = " + t + "): one rotary key shared by all " + n(H) + " heads"
                                 : "k_rope = RoPE(last " + mul(Gr, Dr) + ", t = " + t + "): one rotary key per group of " +
                                       n(H / Gr) + " heads (converted from MHA/GQA, MHA2MLA)",
                         {x});
    const std::string sc = "/ sqrt(" + n(Dq) + ")";
    if (o.mla_path == MlaPath::CachedKV) {
        const int k = b.add("k", "k", {H, Dq}, 2, 2.2f, kLatent,
                            "k[h] = [W_UK,h c_kv ; k_rope] : (" + mul(Dn, C) + ")(" + n(C) + ") per head, k_rope copied to all " +
                                n(H) + " -> " + mul(H, Dq), {ckv, kr});
        const int v = b.add("v", "v", {H, Dv}, 2, 3.4f, kLatent,
                            "v[h] = W_UV,h c_kv : (" + mul(Dv, C) + ")(" + n(C) + ") per head -> " + mul(H, Dv), {ckv});
        const int K = b.kv("K cache", "K (rebuilt)", "k", "K cache", {H, T, Dq}, 3, 2.2f, kLatent, k);
        const int V = b.kv("V cache", "V (rebuilt)", "v", "V cache", {H, T, Dv}, 3, 3.4f, kLatent, v);
        const int col = std::max(2 + qc, 4);
        const int s = b.add("att_scores", "att_scores", {H, T}, static_cast<float>(col), 1.2f, kAttn,
                            "att_scores[h, j] = q[h] . K[h, j] : (" + mul(H, Dq) + ") with " + n(H) + " x (" + mul(T, Dq) +
                                ") -> " + mul(H, T), {q, K});
        const int p = b.add("att_probs", "att_probs", {H, T}, col + 1.0f, 1.2f, kAttn,
                            "att_probs = softmax(att_scores " + sc + ") over the " + Ts + " keys", {s});
        const int a = b.add("att_out", "att_out", {H, Dv}, col + 2.0f, 1.2f, kOut,
                            "att_out[h] = sum_j att_probs[h, j] V[h, j] -> " + mul(H, Dv), {p, V});
        b.add("attn_output", "attn_output", {1, D}, col + 3.0f, 1.2f, kOut,
              "attn_output = W_O att_out : (" + mul(D, H * Dv) + ")(" + n(H * Dv) + ") -> " + n(D), {a});
        if (o.no_cache)
            b.d.notes.push_back("No cache: nothing is held between steps. The cached-kv way would hold " + n(H) + " x (" +
                                n(Dq) + " + " + n(Dv) + ") = " + n(H * (Dq + Dv)) + " numbers per token per layer.");
        else
            b.d.notes.push_back("Cache per token per layer: " + n(H) + " x (" + n(Dq) + " + " + n(Dv) + ") = " +
                                n(H * (Dq + Dv)) + " numbers: decompressed K and V per head, as MHA would hold.");
        return b.d;
    }

    const int qn = b.add("", "q_nope", {H, Dn}, 2.0f + qc, 0, kQuery, "q_nope[h] = " + nope_note, {q});
    const int qr = b.add("", "q_rope", {H, Dr}, 2.0f + qc, 1, kRope,
                         "q_rope[h] = RoPE(q[h, " + n(Dn) + ":], t = " + t + ")", {q});
    const int CK = b.kv("c_KV", "c_KV (rebuilt)", "c_kv", "latent cache", {T, C}, 2, 3.4f, kLatent, ckv);
    const int KR = b.kv("k_R", "k_R (rebuilt)", "k_rope", "RoPE-key cache", {T, Gr * Dr}, 2, 2.2f, kRope, kr);
    if (o.mla_path == MlaPath::Recompute) {
        const int Kn = b.add("", "K_nope", {H, T, Dn}, 3, 3.4f, kLatent,
                             "K_nope[h] = c_KV W_UK,h^T : (" + mul(T, C) + ")(" + mul(C, Dn) + ") per head -> " + n(H) +
                                 " x " + mul(T, Dn) + ", rebuilt for all " + Ts + " tokens every step" +
                                 (o.rope_on_latent ? ", then RoPE by key position" : ""), {CK});
        const int V = b.add("", "V", {H, T, Dv}, 3, 4.6f, kLatent,
                            "V[h] = c_KV W_UV,h^T : (" + mul(T, C) + ")(" + mul(C, Dv) + ") per head -> " + n(H) + " x " +
                                mul(T, Dv) + ", rebuilt every step", {CK});
        const int col = std::max(3 + qc, 4);
        const int s = b.add("att_scores", "att_scores", {H, T}, static_cast<float>(col), 1.2f, kAttn,
                            "att_scores[h, j] = q_nope[h] . K_nope[h, j] + q_rope[h] . k_R[j] -> " + mul(H, T),
                            {qn, qr, Kn, KR});
        const int p = b.add("att_probs", "att_probs", {H, T}, col + 1.0f, 1.2f, kAttn,
                            "att_probs = softmax(att_scores " + sc + ") over the " + Ts + " keys", {s});
        const int a = b.add("att_out", "att_out", {H, Dv}, col + 2.0f, 1.2f, kOut,
                            "att_out[h] = sum_j att_probs[h, j] V[h, j] : (" + mul(1, T) + ")(" + mul(T, Dv) +
                                ") per head -> " + mul(H, Dv), {p, V});
        b.add("attn_output", "attn_output", {1, D}, col + 3.0f, 1.2f, kOut,
              "attn_output = W_O att_out : (" + mul(D, H * Dv) + ")(" + n(H * Dv) + ") -> " + n(D), {a});
    } else {
        const int col = 3 + qc;
        const int qa = b.add("q_absorbed", "q_absorbed", {H, C + Dr}, static_cast<float>(col), 0.5f, kQuery,
                             "q_absorbed[h] = [W_UK,h^T q_nope[h] ; q_rope[h]] : (" + mul(C, Dn) + ")(" + n(Dn) +
                                 ") per head -> " + n(H) + " x (" + n(C) + " + " + n(Dr) + ")", {qn, qr});
        const int s = b.add("att_scores", "att_scores", {H, T}, col + 1.0f, 1.2f, kAttn,
                            "att_scores[h, j] = q_absorbed[h] . [c_KV[j] ; k_R[j]] : (" + mul(H, C + Dr) + ")(" +
                                mul(C + Dr, T) + ") -> " + mul(H, T) + "; K is never built", {qa, CK, KR});
        const int p = b.add("att_probs", "att_probs", {H, T}, col + 2.0f, 1.2f, kAttn,
                            "att_probs = softmax(att_scores " + sc + ") over the " + Ts + " keys", {s});
        const int ol = b.add("o_latent", "o_latent", {H, C}, col + 3.0f, 1.2f, kLatent,
                             "o_latent[h] = sum_j att_probs[h, j] c_KV[j] : (" + mul(H, T) + ")(" + mul(T, C) + ") -> " +
                                 mul(H, C) + "; V is never built", {p, CK});
        const int a = b.add("att_out", "att_out", {H, Dv}, col + 4.0f, 1.2f, kOut,
                            "att_out[h] = W_UV,h o_latent[h] : (" + mul(Dv, C) + ")(" + n(C) + ") per head -> " + mul(H, Dv),
                            {ol});
        b.add("attn_output", "attn_output", {1, D}, col + 5.0f, 1.2f, kOut,
              "attn_output = W_O att_out : (" + mul(D, H * Dv) + ")(" + n(H * Dv) + ") -> " + n(D), {a});
    }
    if (o.no_cache)
        b.d.notes.push_back("No cache: nothing is held between steps. With a cache, each token would add c_kv " + n(C) +
                            " + k_rope " + (Gr == 1 ? n(Dr) : mul(Gr, Dr)) + " = " + n(WL) + " numbers per layer, shared by all " +
                            n(H) + " heads.");
    else if (Gr == 1)
        b.d.notes.push_back("Cache per token per layer: c_kv " + n(C) + " + k_rope " + n(Dr) + " = " + n(C + Dr) +
                            " numbers, shared by all " + n(H) + " heads (MHA would hold 2 x " + n(H) + " x " + n(Dn) + " = " +
                            n(2 * H * Dn) + ").");
    else
        b.d.notes.push_back("Cache per token per layer: c_kv " + n(C) + " + k_rope " + mul(Gr, Dr) + " = " + n(WL) +
                            " numbers: the latent shared by all " + n(H) + " heads, one rotary key per group (MHA2MLA's layout).");
    if (o.rope_on_latent)
        b.d.notes.push_back("RoPE on the compressed keys is ON: the keys are rotated by their position j after "
                            "decompression, so W_UK cannot be folded into the query once per step.");
    return b.d;
}

int64_t attended_keys(const Trace& t) { return t.position + 1; }

std::string step_caption(const Trace& t) {
    const int64_t keys = attended_keys(t);
    std::string s = "step " + n(t.step + 1) + ": token '" + token_text(t.token, TokenStyle::Label) + "' at position " +
                    n(t.position) + ", " + n(keys) + (keys == 1 ? " key" : " keys");
    if (t.options.no_cache) s += ", all rebuilt this step (no cache)";
    return s;
}

// ============================================================================ [SECTION] the run's notice (context, busy)

RunNotice run_notice(const Session& s) {
    RunNotice r;
    if (!s.error().empty() && s.error_field() == Field::None) {
        r.level = RunNotice::Level::Stop;
        r.text = s.error();
        return r;
    }
    if (s.past_trained_context()) {
        r.level = RunNotice::Level::Warn;
        r.text = "Past the trained context: the model learned on " + n(s.trained_context()) + "-token windows and this is token " +
                 with_commas(s.steps()) + "; its text from here on is unreliable. Stepping stops at " +
                 with_commas(s.max_steps()) + " tokens.";
    }
    return r;
}

std::string context_summary(const Session& s) {
    const std::string limit = "at most " + with_commas(s.max_steps()) + " tokens";
    if (s.trained_context() <= 0) return limit;
    return "trained on " + n(s.trained_context()) + "-token windows; " + limit;
}

std::string busy_text(const Session& s, const Commands& c) {
    int64_t steps = s.steps();        // the run's length as the commands go
    bool rebuild = false, backend = false, slow_steps = false;
    std::string to_backend;
    int64_t generated = 0;
    for (const SessionCommand& sc : c.session) {
        if (const auto* a = std::get_if<cmd::Apply>(&sc)) {
            rebuild = true;
            if (a->settings.backend != s.settings().backend) {
                backend = true;
                to_backend = a->settings.backend;
            }
            generated = steps;        // replayed
        } else if (std::holds_alternative<cmd::Reset>(sc)) {
            steps = 0;
            generated = 0;
        } else if (const auto* st = std::get_if<cmd::Step>(&sc)) {
            steps += st->count;
            generated += st->count;
            if (st->count >= kBusySteps) slow_steps = true;
        }
    }
    const std::string replay = generated > 0 ? " and running " + n(generated) + (generated == 1 ? " step" : " steps") : "";
    if (backend) return "Switching to the " + to_backend + " backend" + replay;
    if (rebuild) return "Rebuilding the model" + replay;
    if (slow_steps) return "Running " + n(generated) + " steps";
    return "";
}

// ============================================================================ [SECTION] the sidebar's words

std::string mla_cache_warning(const ModelSettings& s) {
    try {
        const Config mla = model_config(s, AttnKind::MLA), mha = model_config(s, AttnKind::MHA);
        validate(mla);
        const int64_t latent = cache_elements_per_token(mla, MlaPath::Absorbed);
        const int64_t full = cache_elements_per_token(mha, MlaPath::Absorbed);
        if (latent < full) return "";
        char ratio[32];
        std::snprintf(ratio, sizeof ratio, "%.1fx", static_cast<double>(latent) / static_cast<double>(full));
        return "d_c + d_r = " + with_commas(mla.kv_lora_rank) + " + " + with_commas(mla.qk_rope_head_dim) + " = " +
               with_commas(latent) + " numbers per token per layer, " + ratio + " MHA's " + with_commas(full) +
               ": MLA's cache is no smaller";
    } catch (const InputError&) {
        return "";  // the field's own message says why it does not run
    }
}

std::string field_message(Field f, const ModelSettings& tried, const std::string& core_message) {
    const auto range = [](int64_t lo, int64_t hi) { return with_commas(lo) + " to " + with_commas(hi); };
    const std::string no = " does not run: ";
    const int64_t H = model_config(tried, AttnKind::MHA).num_attention_heads;
    switch (f) {
        case Field::KvHeads: {
            std::string divisors;
            for (int64_t g = 1; g <= H; ++g)
                if (H % g == 0) divisors += (divisors.empty() ? "" : g == H ? " or " : ", ") + std::to_string(g);
            return "KV heads = " + std::to_string(tried.kv_heads) + no + "it must divide the " + std::to_string(H) +
                   " query heads: " + divisors;
        }
        case Field::KvLoraRank:
            if (core_message.find("qk_nope_head_dim") != std::string::npos) break;
            return "d_c latent = " + std::to_string(tried.kv_lora_rank) + no + "use " + range(1, kMaxLoraRank);
        case Field::RopeDim:
            return "d_r RoPE = " + std::to_string(tried.rope_dim) + no + "use an even number from " + range(2, kMaxHeadDim) +
                   " (RoPE turns pairs of numbers)";
        case Field::QLoraRank:
            return "d'_c query (query compression) = " + std::to_string(tried.q_lora_rank) + no + "0 = none, or " +
                   range(1, kMaxLoraRank);
        case Field::TopK:
            return "top-k = " + std::to_string(tried.top_k) + no + "0 = all, or " + range(1, int64_t{1} << 20);
        default: break;
    }
    return core_message;
}

// ============================================================================ [SECTION] who reads what

int64_t kv_sources(const Config& c) { return c.is_mla() ? 1 : c.num_key_value_heads; }

int kv_source_of(const Config& c, int query_head) {
    if (c.is_mla()) return 0;
    return static_cast<int>(query_head / c.kv_groups());
}

std::vector<std::vector<int>> kv_readers(const Config& c) {
    std::vector<std::vector<int>> r(static_cast<size_t>(kv_sources(c)));
    for (int h = 0; h < c.num_attention_heads; ++h) r[static_cast<size_t>(kv_source_of(c, h))].push_back(h);
    return r;
}

// ============================================================================ [SECTION] series

std::vector<int64_t> token_grid(int64_t max_T, int points) {
    std::vector<int64_t> g;
    max_T = std::max<int64_t>(max_T, 1);
    points = std::max(points, 2);
    if (max_T <= points) {
        for (int64_t t = 1; t <= max_T; ++t) g.push_back(t);
        return g;
    }
    for (int i = 0; i < points; ++i) {
        const int64_t t = 1 + static_cast<int64_t>(std::llround(static_cast<double>(max_T - 1) * i / (points - 1)));
        if (g.empty() || t > g.back()) g.push_back(t);
    }
    return g;
}

std::vector<Series> cache_bytes_series(const ModelSettings& s, int64_t max_T, double dtype_bytes) {
    std::vector<Series> out;
    const auto grid = token_grid(max_T);
    for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        const Config c = model_config(s, k);
        Series se;
        se.label = display_name(k);
        if (k == AttnKind::MLA && s.mla_path == MlaPath::CachedKV) se.label = "MLA (cached-kv)";
        const double per_token = static_cast<double>(cache_elements_per_token(c, s.mla_path)) *
                                 static_cast<double>(c.num_hidden_layers) * dtype_bytes;
        for (int64_t t : grid) {
            se.x.push_back(static_cast<double>(t));
            se.y.push_back(per_token * static_cast<double>(t));
        }
        out.push_back(std::move(se));
    }
    return out;
}

std::vector<Series> flops_series(const Config& c, const RunOptions& o, int64_t max_T) {
    RunOptions with = o, without = o;
    with.no_cache = false;
    without.no_cache = true;
    Series a{"with KV cache", {}, {}}, b{"no cache (re-run the prefix)", {}, {}};
    for (int64_t t : token_grid(max_T, 128)) {
        a.x.push_back(static_cast<double>(t));
        a.y.push_back(step_cost(c, with, t).flops());
        b.x.push_back(static_cast<double>(t));
        b.y.push_back(step_cost(c, without, t).flops());
    }
    return {a, b};
}

namespace {
template <class F>
std::vector<Series> per_path(const ModelSettings& s, int64_t max_T, F value) {
    const Config c = model_config(s, AttnKind::MLA);
    std::vector<Series> out;
    for (MlaPath p : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed}) {
        RunOptions o = run_options(s, AttnKind::MLA);
        o.mla_path = p;
        o.no_cache = false;
        Series se{to_string(p), {}, {}};
        for (int64_t t : token_grid(max_T, 128)) {
            se.x.push_back(static_cast<double>(t));
            se.y.push_back(value(step_cost(c, o, t)));
        }
        out.push_back(std::move(se));
    }
    return out;
}
}  // namespace

std::vector<Series> path_flops_series(const ModelSettings& s, int64_t max_T) {
    return per_path(s, max_T, [](const StepCost& k) { return k.flops(); });
}

std::vector<Series> path_cache_read_series(const ModelSettings& s, int64_t max_T) {
    return per_path(s, max_T, [](const StepCost& k) { return k.cache_read_bytes(); });
}

// ============================================================================ [SECTION] attention matrix

std::vector<float> attention_matrix(const std::vector<Trace>& traces, int64_t upto, int layer, int head) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    if (upto < 0) return {};
    const int64_t n = upto + 1;
    std::vector<float> m(static_cast<size_t>(n * n), nan);
    for (int64_t i = 0; i < n && i < static_cast<int64_t>(traces.size()); ++i) {
        const std::vector<float> p = traces[static_cast<size_t>(i)].head_probs(layer, head);
        const int64_t cols = std::min<int64_t>(static_cast<int64_t>(p.size()), i + 1);
        for (int64_t j = 0; j < cols; ++j) m[static_cast<size_t>(i * n + j)] = p[static_cast<size_t>(j)];
    }
    return m;
}

float attention_max(const std::vector<Trace>& traces, int64_t upto, int layer) {
    float mx = 0;
    for (int64_t i = 0; i <= upto && i < static_cast<int64_t>(traces.size()); ++i)
        if (const TensorRecord* r = traces[static_cast<size_t>(i)].find("att_probs", layer))
            for (float v : r->data) mx = std::max(mx, v);
    return mx;
}

std::vector<PredictionRow> prediction_rows(const std::vector<float>& logits, const Sampling& s, int64_t n) {
    std::vector<PredictionRow> out;
    if (logits.empty()) return out;
    const std::vector<double> before = sampling_distribution(logits, Sampling{s.temperature, 0, 1.0f});
    const std::vector<double> after = sampling_distribution(logits, s);
    for (const TokenProb& t : top_tokens(before, n)) out.push_back({t.id, t.p, after[static_cast<size_t>(t.id)]});
    return out;
}

std::vector<float> trace_logits(const Trace* t) {
    if (!t) return {};
    const TensorRecord* r = t->find("logits", -1);
    return r ? r->data : std::vector<float>{};
}

std::string utf8_byte_role(const std::vector<int64_t>& bytes, int64_t i) {
    const int64_t n = static_cast<int64_t>(bytes.size());
    if (i < 0 || i >= n) return "";
    auto at = [&](int64_t k) { return static_cast<unsigned>(bytes[static_cast<size_t>(k)]); };
    auto cont = [&](int64_t k) { return k < n && (at(k) & 0xC0u) == 0x80u && at(k) < 256; };
    if (at(i) >= 256 || at(i) < 0x80) return "";  // not a byte, or ASCII
    // The lead byte: i itself, or up to three bytes back over continuation bytes.
    int64_t lead = i;
    while (lead > 0 && i - lead < 3 && (at(lead) & 0xC0u) == 0x80u) --lead;
    const unsigned b0 = at(lead);
    const int len = b0 >= 0xC2 && b0 <= 0xDF ? 2 : b0 >= 0xE0 && b0 <= 0xEF ? 3 : b0 >= 0xF0 && b0 <= 0xF4 ? 4 : 0;
    if (len == 0 || i - lead >= len) return "";  // a stray continuation byte, or an invalid lead
    const int64_t have = std::min<int64_t>(len, n - lead);
    for (int64_t k = lead + 1; k < lead + have; ++k)
        if (!cont(k)) return "";
    const std::string of = "byte " + std::to_string(i - lead + 1) + " of " + std::to_string(len);
    if (have < len) return of + ", incomplete";
    unsigned cp = b0 & (len == 2 ? 0x1Fu : len == 3 ? 0x0Fu : 0x07u);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (at(lead + k) & 0x3Fu);
    // Overlong forms and surrogates are not characters.
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) return "";
    std::string ch;
    for (int k = 0; k < len; ++k) ch += static_cast<char>(at(lead + k));
    char code[16];
    std::snprintf(code, sizeof code, "U+%04X", cp);
    return "'" + ch + "' (" + code + "): " + of;
}

}  // namespace mla::app
