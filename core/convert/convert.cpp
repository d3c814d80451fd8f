#include "convert/convert.h"

#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <memory>
#include <numeric>

#include <Eigen/SVD>

#include "base/check.h"
#include "base/error.h"
#include "base/text_file.h"
#include "model/cpu_backend.h"
#include "model/decoder.h"
#include "train/train_report.h"

namespace mla {

const char* to_string(RopeStrategy s) {
    switch (s) {
        case RopeStrategy::High: return "high";
        case RopeStrategy::Low: return "low";
        case RopeStrategy::Uniform: return "uniform";
        case RopeStrategy::Norm: return "norm";
    }
    return "?";
}

const char* to_string(SvdMode m) { return m == SvdMode::Joint ? "joint" : "split"; }

RopeStrategy parse_rope_strategy(const std::string& s) {
    for (RopeStrategy v : {RopeStrategy::High, RopeStrategy::Low, RopeStrategy::Uniform, RopeStrategy::Norm})
        if (s == to_string(v)) return v;
    throw InputError("rope strategy '" + s + "' is not known; use high, low, uniform or norm", "rope-strategy");
}

SvdMode parse_svd_mode(const std::string& s) {
    if (s == "joint") return SvdMode::Joint;
    if (s == "split") return SvdMode::Split;
    throw InputError("svd mode '" + s + "' is not known; use joint (one SVD of [W_K,nope ; W_V]) or split (K and V apart)",
                     "svd");
}

std::vector<int32_t> choose_rope_pairs(RopeStrategy s, int64_t half, int64_t r, const std::vector<double>& scores) {
    std::vector<int32_t> out;
    switch (s) {
        case RopeStrategy::High:  // pair 0 turns fastest
            for (int64_t i = 0; i < r; ++i) out.push_back(static_cast<int32_t>(i));
            break;
        case RopeStrategy::Low:
            for (int64_t i = half - r; i < half; ++i) out.push_back(static_cast<int32_t>(i));
            break;
        case RopeStrategy::Uniform:  // every (half / r)-th pair from the fastest: 0, s, 2s, ...
            for (int64_t i = 0; i < r; ++i) out.push_back(static_cast<int32_t>(i * half / r));
            break;
        case RopeStrategy::Norm: {
            MLA_CHECK(static_cast<int64_t>(scores.size()) == half);
            std::vector<int32_t> idx(static_cast<size_t>(half));
            std::iota(idx.begin(), idx.end(), 0);
            std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) { return scores[a] > scores[b]; });
            out.assign(idx.begin(), idx.begin() + r);
            std::sort(out.begin(), out.end());
            break;
        }
    }
    return out;
}

std::vector<double> rope_pair_norm_scores(const Weights& source, const std::vector<int64_t>& tokens) {
    const Config& c = source.cfg;
    const int64_t L = c.num_hidden_layers, H = c.num_attention_heads, G = c.num_key_value_heads, Dh = c.head_dim,
                  half = Dh / 2, hg = H / G;
    if (tokens.empty()) throw InputError("the norm strategy needs calibration text: give held-out text to measure the pairs on");
    CpuBackend cpu;
    auto w = std::make_shared<const Weights>(source);
    Decoder dec(w, cpu);
    dec.set_trace_request({"q", "k"});
    std::vector<double> qn(static_cast<size_t>(L * G * half), 0.0), kn(qn.size(), 0.0);
    // pair i of a head: dims (i, i + Dh/2) in the Half layout, (2i, 2i+1) interleaved
    auto pair_norm = [&](const float* v, int64_t i) {
        const int64_t a = c.rope_layout == RopeLayout::Half ? i : 2 * i, b = c.rope_layout == RopeLayout::Half ? i + half : 2 * i + 1;
        return std::hypot(static_cast<double>(v[a]), static_cast<double>(v[b]));
    };
    Trace t;
    const int64_t n = std::min<int64_t>(static_cast<int64_t>(tokens.size()), c.max_position_embeddings);
    for (int64_t p = 0; p < n; ++p) {
        dec.step(tokens[static_cast<size_t>(p)], &t);
        for (int64_t l = 0; l < L; ++l) {
            const TensorRecord* q = t.find("q", static_cast<int>(l));
            const TensorRecord* k = t.find("k", static_cast<int>(l));
            MLA_CHECK(q && k && !q->data.empty() && !k->data.empty());
            for (int64_t g = 0; g < G; ++g)
                for (int64_t i = 0; i < half; ++i) {
                    double s = 0;
                    for (int64_t h = g * hg; h < (g + 1) * hg; ++h) s += pair_norm(q->data.data() + h * Dh, i);
                    qn[static_cast<size_t>((l * G + g) * half + i)] += s;
                    kn[static_cast<size_t>((l * G + g) * half + i)] += pair_norm(k->data.data() + g * Dh, i);
                }
        }
    }
    std::vector<double> out(qn.size());
    for (size_t i = 0; i < out.size(); ++i) out[i] = (qn[i] / n) * (kn[i] / n);
    return out;
}

namespace {

using MatD = Eigen::MatrixXd;

struct Cut {
    MatD down;                    // (rank, D)  S^1/2 V^T
    MatD up;                      // (rows, rank)  U S^1/2
    std::vector<double> s;        // all singular values
    double tail2 = 0, total2 = 0; // sum of squares beyond the rank, and of all
};

Cut truncated_svd(const MatD& m, int64_t rank) {
    Cut c;
    if (m.rows() == 0 || rank == 0) {
        c.down.resize(0, m.cols());
        c.up.resize(m.rows(), 0);
        c.total2 = m.squaredNorm();
        c.tail2 = c.total2;
        return c;
    }
    Eigen::BDCSVD<MatD> svd(m, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const Eigen::VectorXd& s = svd.singularValues();
    for (Eigen::Index i = 0; i < s.size(); ++i) {
        c.s.push_back(s(i));
        c.total2 += s(i) * s(i);
        if (i >= rank) c.tail2 += s(i) * s(i);
    }
    const Eigen::VectorXd root = s.head(rank).cwiseSqrt();
    c.down = root.asDiagonal() * svd.matrixV().leftCols(rank).transpose();
    c.up = svd.matrixU().leftCols(rank) * root.asDiagonal();
    return c;
}

}  // namespace

ConvertResult convert_to_mla(const Weights& src, const ConvertOptions& o) {
    const Config& s = src.cfg;
    if (s.is_mla()) throw InputError("this model is already MLA; convert reads an MHA, GQA or MQA model", "model");
    const int64_t L = s.num_hidden_layers, H = s.num_attention_heads, G = s.num_key_value_heads, Dh = s.head_dim,
                  D = s.hidden_size, half = Dh / 2, hg = H / G, r = o.rope_pairs, C = o.kv_lora_rank;
    if (r < 1 || r > half)
        throw InputError("--rope-pairs " + std::to_string(r) + " is not valid: each head has " + std::to_string(half) +
                             " frequency pairs, so keep 1 to " + std::to_string(half) + " (all of them: no RoPE removed)",
                         "rope-pairs");
    const int64_t Dn = Dh - 2 * r, Dr = 2 * r;
    const int64_t rows = G * (Dn + Dh);
    const int64_t max_rank = o.svd == SvdMode::Joint ? std::min(rows, D)
                                                     : (Dn > 0 ? std::min(G * Dn, D) : 0) + std::min(G * Dh, D);
    if (C < 1 || C > max_rank)
        throw InputError("--kv-lora-rank " + std::to_string(C) + " is not valid: the " +
                             (o.svd == SvdMode::Joint ? std::string("joint [W_K,nope ; W_V] of this model has rank at most ")
                                                      : std::string("split K_nope and V of this model have ranks adding to at most ")) +
                             std::to_string(max_rank) + "; use 1 to " + std::to_string(max_rank),
                         "kv-lora-rank");
    std::vector<double> scores;
    if (o.strategy == RopeStrategy::Norm) scores = rope_pair_norm_scores(src, o.calibration_tokens);

    Config c = s;
    c.model_type = "deepseek_v2";
    c.num_key_value_heads = H;
    c.head_dim = 0;
    c.q_lora_rank = 0;
    c.kv_lora_rank = C;
    c.qk_nope_head_dim = Dn;
    c.qk_rope_head_dim = Dr;
    c.v_head_dim = Dh;
    c.mla_rope_key_heads = G;
    c.mla_kv_norm = false;
    c.mla_rope_pairs_head_dim = Dh;
    c.mla_rope_pairs.clear();

    ConvertResult out;
    out.layers.resize(static_cast<size_t>(L));
    // Which source dims of a head form each new head's parts, per layer and KV head.
    for (int64_t l = 0; l < L; ++l) {
        ConvertLayer& cl = out.layers[static_cast<size_t>(l)];
        for (int64_t g = 0; g < G; ++g) {
            std::vector<double> sc;
            if (!scores.empty()) sc.assign(scores.begin() + (l * G + g) * half, scores.begin() + (l * G + g + 1) * half);
            cl.pairs.push_back(choose_rope_pairs(o.strategy, half, r, sc));
            for (int32_t p : cl.pairs.back()) c.mla_rope_pairs.push_back(p);
        }
    }
    validate(c);
    Weights& w = out.weights;
    w.cfg = c;
    allocate(w);
    w.embed = src.embed;
    w.final_norm = src.final_norm;
    if (!c.tie_word_embeddings) w.lm_head = src.lm_head;
    else w.lm_head = w.embed;

    const bool half_layout = s.rope_layout == RopeLayout::Half;
    for (int64_t l = 0; l < L; ++l) {
        const LayerWeights& a = src.layers[static_cast<size_t>(l)];
        LayerWeights& b = w.layers[static_cast<size_t>(l)];
        ConvertLayer& cl = out.layers[static_cast<size_t>(l)];
        b.attn_norm = a.attn_norm;
        b.mlp_norm = a.mlp_norm;
        b.w_gate = a.w_gate;
        b.w_up = a.w_up;
        b.w_down = a.w_down;
        b.w_o = a.w_o;  // (D, H*Dh): v_head_dim = Dh, heads in the same order
        // Per KV head: the source dims of the rotary part in the new layout, and the rest.
        std::vector<std::vector<int64_t>> rope_dims(static_cast<size_t>(G)), nope_dims(static_cast<size_t>(G));
        for (int64_t g = 0; g < G; ++g) {
            const std::vector<int32_t>& P = cl.pairs[static_cast<size_t>(g)];
            std::vector<int64_t>& R = rope_dims[static_cast<size_t>(g)];
            R.assign(static_cast<size_t>(Dr), 0);
            std::vector<char> used(static_cast<size_t>(Dh), 0);
            for (int64_t j = 0; j < r; ++j) {
                const int64_t p = P[static_cast<size_t>(j)];
                const int64_t sa = half_layout ? p : 2 * p, sb = half_layout ? p + half : 2 * p + 1;
                const int64_t na = half_layout ? j : 2 * j, nb = half_layout ? j + r : 2 * j + 1;
                R[static_cast<size_t>(na)] = sa;
                R[static_cast<size_t>(nb)] = sb;
                used[static_cast<size_t>(sa)] = used[static_cast<size_t>(sb)] = 1;
            }
            for (int64_t d = 0; d < Dh; ++d)
                if (!used[static_cast<size_t>(d)]) nope_dims[static_cast<size_t>(g)].push_back(d);
        }
        // q: head h = [its nope dims ; its rotary dims], rows of the source's q_proj
        for (int64_t h = 0; h < H; ++h) {
            const int64_t g = h / hg;
            int64_t row = h * (Dn + Dr);
            for (int64_t d : nope_dims[static_cast<size_t>(g)]) b.w_q.row(row++) = a.w_q.row(h * Dh + d);
            for (int64_t d : rope_dims[static_cast<size_t>(g)]) b.w_q.row(row++) = a.w_q.row(h * Dh + d);
        }
        // M = [K_nope of every KV head ; V of every KV head] (G (Dn + Dh), D), in double
        MatD kn(G * Dn, D), v(G * Dh, D);
        for (int64_t g = 0; g < G; ++g) {
            for (int64_t i = 0; i < Dn; ++i)
                kn.row(g * Dn + i) = a.w_k.row(g * Dh + nope_dims[static_cast<size_t>(g)][static_cast<size_t>(i)]).cast<double>();
            v.middleRows(g * Dh, Dh) = a.w_v.middleRows(g * Dh, Dh).cast<double>();
        }
        MatD down, up;  // (C, D), (G (Dn + Dh), C): K_nope rows first, then V rows
        if (o.svd == SvdMode::Joint) {
            MatD m(rows, D);
            m << kn, v;
            Cut cut = truncated_svd(m, C);
            down = cut.down;
            up = cut.up;
            cl.singular_values = cut.s;
            cl.relative_error = cut.total2 > 0 ? std::sqrt(cut.tail2 / cut.total2) : 0;
            cl.energy_kept = cut.total2 > 0 ? 1 - cut.tail2 / cut.total2 : 1;
        } else {
            const int64_t ck = Dn > 0 ? std::min({C / 2, G * Dn, D}) : 0;
            const int64_t cv = C - ck;
            if (cv > std::min(G * Dh, D))
                throw InputError("--kv-lora-rank " + std::to_string(C) + " with --svd split gives V a rank of " +
                                     std::to_string(cv) + ", more than its " + std::to_string(std::min(G * Dh, D)) +
                                     "; use a smaller rank or --svd joint", "kv-lora-rank");
            Cut k = truncated_svd(kn, ck), vv = truncated_svd(v, cv);
            down = MatD::Zero(C, D);
            up = MatD::Zero(rows, C);
            down.topRows(ck) = k.down;
            down.bottomRows(cv) = vv.down;
            up.topLeftCorner(G * Dn, ck) = k.up;
            up.bottomRightCorner(G * Dh, cv) = vv.up;
            cl.singular_values = k.s;
            cl.singular_values_v = vv.s;
            const double tail = k.tail2 + vv.tail2, total = k.total2 + vv.total2;
            cl.relative_error = total > 0 ? std::sqrt(tail / total) : 0;
            cl.energy_kept = total > 0 ? 1 - tail / total : 1;
        }
        // kv_a = [W_DKV (C) ; k_rope of each KV head (Dr)], kv_b per query head = [W_UK,h (Dn) ; W_UV,h (Dh)]
        b.w_kv_a.topRows(C) = down.cast<float>();
        for (int64_t g = 0; g < G; ++g)
            for (int64_t j = 0; j < Dr; ++j)
                b.w_kv_a.row(C + g * Dr + j) = a.w_k.row(g * Dh + rope_dims[static_cast<size_t>(g)][static_cast<size_t>(j)]);
        for (int64_t h = 0; h < H; ++h) {
            const int64_t g = h / hg, base = h * (Dn + Dh);
            if (Dn > 0) b.w_kv_b.middleRows(base, Dn) = up.middleRows(g * Dn, Dn).cast<float>();
            b.w_kv_b.middleRows(base + Dn, Dh) = up.middleRows(G * Dn + g * Dh, Dh).cast<float>();
        }
    }
    out.cache_elements_before = 2 * G * Dh * L;
    out.cache_elements_after = (C + G * Dr) * L;
    return out;
}

std::vector<int64_t> default_sweep_ranks(const Config& s) {
    const int64_t top = std::min(s.num_key_value_heads * 2 * s.head_dim, s.hidden_size);
    std::vector<int64_t> out;
    for (int64_t c = std::max<int64_t>(1, s.head_dim / 4); c < top; c *= 2) out.push_back(c);
    out.push_back(top);
    return out;
}

std::vector<int64_t> default_sweep_pairs(const Config& s) {
    std::vector<int64_t> out;
    for (int64_t r = 1; r < s.head_dim / 2; r *= 2) out.push_back(r);
    out.push_back(s.head_dim / 2);
    return out;
}

std::vector<SweepPoint> convert_sweep(const Weights& source, ConvertOptions o, const std::vector<int64_t>& ranks,
                                      const std::vector<int64_t>& pairs, const std::string& heldout, int64_t seq_len,
                                      int64_t windows, const std::function<void(const SweepPoint&)>& on_point) {
    const Config& s = source.cfg;
    if (s.is_mla()) throw InputError("this model is already MLA; convert reads an MHA, GQA or MQA model", "model");
    CpuBackend cpu;
    std::vector<SweepPoint> out;
    for (int64_t r : pairs)
        for (int64_t c : ranks) {
            const int64_t Dn = s.head_dim - 2 * r;
            const int64_t max_rank = std::min(s.num_key_value_heads * (Dn + s.head_dim), s.hidden_size);
            if (r < 1 || r > s.head_dim / 2 || c < 1 || (o.svd == SvdMode::Joint && c > max_rank)) continue;
            o.kv_lora_rank = c;
            o.rope_pairs = r;
            ConvertResult cr;
            try {
                cr = convert_to_mla(source, o);
            } catch (const InputError&) {
                continue;  // a split rank V cannot take
            }
            SweepPoint p;
            p.kv_lora_rank = c;
            p.rope_pairs = r;
            p.cache_elements = cr.cache_elements_after;
            for (const ConvertLayer& l : cr.layers) p.mean_relative_error += l.relative_error / static_cast<double>(cr.layers.size());
            p.loss_bits = bits_per_byte(heldout_loss(cr.weights, {}, cpu, heldout, seq_len, windows));
            out.push_back(p);
            if (on_point) on_point(p);
        }
    return out;
}

AttentionMaps attention_maps(const Weights& w, const std::vector<int64_t>& tokens) {
    const Config& c = w.cfg;
    AttentionMaps m;
    m.layers = c.num_hidden_layers;
    m.heads = c.num_attention_heads;
    m.tokens = std::min<int64_t>(static_cast<int64_t>(tokens.size()), c.max_position_embeddings);
    const int64_t T = m.tokens;
    m.probs.assign(static_cast<size_t>(m.layers * m.heads * T * T), 0.0f);
    CpuBackend cpu(0);  // 0: leave Eigen's thread count as it is
    Decoder dec(std::make_shared<const Weights>(w), cpu);
    dec.set_trace_request({"att_probs"});
    Trace t;
    for (int64_t i = 0; i < T; ++i) {
        dec.step(tokens[static_cast<size_t>(i)], &t);
        for (int64_t l = 0; l < m.layers; ++l) {
            const TensorRecord* p = t.find("att_probs", static_cast<int>(l));
            MLA_CHECK(p && p->shape[0] == m.heads && p->shape[1] == i + 1);
            for (int64_t h = 0; h < m.heads; ++h)
                std::copy(p->data.begin() + h * (i + 1), p->data.begin() + (h + 1) * (i + 1),
                          m.probs.begin() + ((l * m.heads + h) * T + i) * T);
        }
    }
    return m;
}

namespace {

std::vector<std::vector<std::string>> read_csv_rows(const std::string& path, const std::string& header) {
    const std::string text = read_file(path, ", a conversion table");
    std::vector<std::vector<std::string>> rows;
    size_t pos = 0;
    int line = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        const std::string l = text.substr(pos, end - pos);
        pos = end + 1;
        ++line;
        if (line == 1) {
            if (l != header) throw InputError(path + ": line 1 must be the header '" + header + "'");
            continue;
        }
        if (l.empty()) continue;
        std::vector<std::string> cells;
        size_t a = 0;
        while (true) {
            const size_t b = l.find(',', a);
            cells.push_back(l.substr(a, b == std::string::npos ? std::string::npos : b - a));
            if (b == std::string::npos) break;
            a = b + 1;
        }
        const size_t want = static_cast<size_t>(std::count(header.begin(), header.end(), ',') + 1);
        if (cells.size() != want)
            throw InputError(path + ": line " + std::to_string(line) + " has " + std::to_string(cells.size()) +
                             " fields; the header names " + std::to_string(want));
        rows.push_back(std::move(cells));
    }
    return rows;
}

double number_at(const std::string& s, const std::string& path, size_t row) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(v))
        throw InputError(path + ": row " + std::to_string(row + 1) + ": '" + s + "' is not a number");
    return v;
}

}  // namespace

std::vector<ShippedPoint> read_sweep_csv(const std::string& path) {
    const auto rows = read_csv_rows(path, "kv_lora_rank,rope_pairs,rope_strategy,svd,cache_elements_per_token,cache_fraction,"
                                          "mean_relative_error,val_loss_bits,source_val_loss_bits");
    std::vector<ShippedPoint> out;
    for (size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        ShippedPoint p;
        p.kv_lora_rank = static_cast<int64_t>(number_at(r[0], path, i));
        p.rope_pairs = static_cast<int64_t>(number_at(r[1], path, i));
        p.strategy = r[2];
        p.svd = r[3];
        p.cache_elements = static_cast<int64_t>(number_at(r[4], path, i));
        p.loss_bits = number_at(r[7], path, i);
        p.source_loss_bits = number_at(r[8], path, i);
        out.push_back(p);
    }
    return out;
}

std::vector<ShippedPoint> read_finetune_csv(const std::string& path) {
    const auto rows = read_csv_rows(path, "kv_lora_rank,rope_pairs,rope_strategy,svd,cache_elements_per_token,"
                                          "val_loss_bits_converted,val_loss_bits_finetuned,finetune_steps,finetune_bytes");
    std::vector<ShippedPoint> out;
    for (size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        ShippedPoint p;
        p.kv_lora_rank = static_cast<int64_t>(number_at(r[0], path, i));
        p.rope_pairs = static_cast<int64_t>(number_at(r[1], path, i));
        p.strategy = r[2];
        p.svd = r[3];
        p.cache_elements = static_cast<int64_t>(number_at(r[4], path, i));
        p.loss_bits_converted = number_at(r[5], path, i);
        p.loss_bits = number_at(r[6], path, i);
        p.steps = static_cast<int64_t>(number_at(r[7], path, i));
        p.bytes = static_cast<int64_t>(number_at(r[8], path, i));
        out.push_back(p);
    }
    return out;
}

}  // namespace mla
