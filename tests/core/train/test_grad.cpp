// Every backward pass of the training ops and of the whole decoder (each attention kind,
// both RoPE layouts, MLA with and without query compression) against central finite
// differences, in double precision on tiny shapes.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "base/rng.h"
#include "model/rope.h"
#include "model/weights.h"
#include "train/train_model.h"

using namespace mla;
using namespace mla::train;
using Md = MatT<double>;
using Vd = VecT<double>;

namespace {

Md random_mat(int64_t r, int64_t c, Rng& rng, double scale = 1.0) {
    Md m(r, c);
    for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = scale * rng.symmetric();
    return m;
}

// Relative error of an analytic gradient against central differences of f over every
// element of x: max |analytic - numeric| / max(max |numeric|, 1e-3).
double grad_error(double* x, int64_t n, const double* analytic, const std::function<double()>& f, double eps = 1e-6) {
    double worst = 0, scale = 1e-3;
    for (int64_t i = 0; i < n; ++i) {
        const double keep = x[i];
        x[i] = keep + eps;
        const double up = f();
        x[i] = keep - eps;
        const double down = f();
        x[i] = keep;
        const double numeric = (up - down) / (2 * eps);
        worst = std::max(worst, std::abs(analytic[i] - numeric));
        scale = std::max(scale, std::abs(numeric));
    }
    return worst / scale;
}

double dot(const Md& a, const Md& b) { return (a.array() * b.array()).sum(); }

constexpr double kTol = 1e-6;

}  // namespace

TEST_CASE("linear backward matches finite differences", "[train][grad]") {
    Rng rng(1);
    Md x = random_mat(3, 4, rng), W = random_mat(5, 4, rng), R = random_mat(3, 5, rng);
    auto f = [&] { Md y; linear_forward<double>(y, x, W); return dot(y, R); };
    Md dx, dW = Md::Zero(5, 4);
    linear_backward<double>(&dx, dW, R, x, W, false);
    CHECK(grad_error(x.data(), x.size(), dx.data(), f) < kTol);
    CHECK(grad_error(W.data(), W.size(), dW.data(), f) < kTol);
}

TEST_CASE("rmsnorm backward matches finite differences", "[train][grad]") {
    Rng rng(2);
    Md x = random_mat(3, 6, rng), R = random_mat(3, 6, rng);
    Vd w = Vd::Ones(6) + 0.3 * random_mat(6, 1, rng);
    auto f = [&] {
        Md y(3, 6);
        Vd rstd(3);
        rmsnorm_forward<double>(y, rstd, x, w, 1e-6);
        return dot(y, R);
    };
    Md y(3, 6), dx(3, 6);
    Vd rstd(3), dw = Vd::Zero(6);
    rmsnorm_forward<double>(y, rstd, x, w, 1e-6);
    rmsnorm_backward<double>(dx, dw, R, x, rstd, w);
    CHECK(grad_error(x.data(), x.size(), dx.data(), f) < kTol);
    CHECK(grad_error(w.data(), w.size(), dw.data(), f) < kTol);
}

TEST_CASE("rope backward (inverse rotation) matches finite differences, both layouts", "[train][grad]") {
    for (RopeLayout layout : {RopeLayout::Interleaved, RopeLayout::Half}) {
        Rng rng(3);
        const int64_t T = 3;
        Md x = random_mat(2 * T, 10, rng), R = random_mat(2 * T, 10, rng);
        // two heads of width 4 at columns 1..4 and 5..8; columns 0 and 9 untouched
        auto f = [&] {
            Md y = x;
            rope<double>(y, T, 1, 2, 4, 4, rope_ladder(100.0, 4), layout, false);
            return dot(y, R);
        };
        Md dx = R;
        rope<double>(dx, T, 1, 2, 4, 4, rope_ladder(100.0, 4), layout, true);
        CHECK(grad_error(x.data(), x.size(), dx.data(), f) < kTol);
        // and it is a rotation: forward then inverse gives the input back
        Md y = x;
        rope<double>(y, T, 1, 2, 4, 4, rope_ladder(100.0, 4), layout, false);
        CHECK((y - x).cwiseAbs().maxCoeff() > 1e-3);
        rope<double>(y, T, 1, 2, 4, 4, rope_ladder(100.0, 4), layout, true);
        CHECK((y - x).cwiseAbs().maxCoeff() < 1e-12);
    }
}

TEST_CASE("causal attention backward matches finite differences for MHA, GQA and MQA groupings", "[train][grad]") {
    const int64_t B = 2, T = 4, H = 4, dq = 3, dv = 2;
    for (int64_t Gk : {4, 2, 1}) {
        Rng rng(4 + static_cast<uint64_t>(Gk));
        Md q = random_mat(B * T, H * dq, rng), k = random_mat(B * T, Gk * dq, rng), v = random_mat(B * T, Gk * dv, rng);
        Md R = random_mat(B * T, H * dv, rng);
        const double scale = 0.7;
        auto f = [&] {
            Md out, probs;
            attention_forward<double>(out, probs, q, k, v, B, T, H, Gk, dq, dv, scale);
            return dot(out, R);
        };
        Md out, probs, dq_, dk_, dv_;
        attention_forward<double>(out, probs, q, k, v, B, T, H, Gk, dq, dv, scale);
        attention_backward<double>(dq_, dk_, dv_, R, probs, q, k, v, B, T, H, Gk, dq, dv, scale);
        INFO("key/value heads " << Gk);
        CHECK(grad_error(q.data(), q.size(), dq_.data(), f) < kTol);
        CHECK(grad_error(k.data(), k.size(), dk_.data(), f) < kTol);
        CHECK(grad_error(v.data(), v.size(), dv_.data(), f) < kTol);
        // causal: the first token of each sequence attends only to itself
        CHECK(probs(0, 0) == Approx(1.0));
        CHECK(probs(0, 1) == 0.0);
    }
}

TEST_CASE("swiglu backward matches finite differences", "[train][grad]") {
    Rng rng(5);
    Md g = random_mat(3, 5, rng, 3.0), u = random_mat(3, 5, rng), R = random_mat(3, 5, rng);
    auto f = [&] { Md a; swiglu_forward<double>(a, g, u); return dot(a, R); };
    Md dg, du;
    swiglu_backward<double>(dg, du, R, g, u);
    CHECK(grad_error(g.data(), g.size(), dg.data(), f) < kTol);
    CHECK(grad_error(u.data(), u.size(), du.data(), f) < kTol);
}

TEST_CASE("cross-entropy gradient matches finite differences", "[train][grad]") {
    Rng rng(6);
    Md logits = random_mat(4, 7, rng, 3.0);
    const std::vector<int32_t> targets = {0, 6, 3, 3};
    auto f = [&] { return cross_entropy<double>(nullptr, logits, targets.data()); };
    Md dl;
    const double loss = cross_entropy<double>(&dl, logits, targets.data());
    CHECK(loss == Approx(f()));
    CHECK(grad_error(logits.data(), logits.size(), dl.data(), f) < kTol);
    // uniform logits give log V
    Md zero = Md::Zero(2, 7);
    CHECK(cross_entropy<double>(nullptr, zero, targets.data()) == Approx(std::log(7.0)));
}

TEST_CASE("embedding backward scatters by token", "[train][grad]") {
    Rng rng(7);
    Md table = random_mat(5, 3, rng);
    const std::vector<int32_t> tok = {4, 1, 4};
    Md x;
    embedding_forward<double>(x, tok.data(), 3, table);
    CHECK(x.row(0) == table.row(4));
    Md dx = random_mat(3, 3, rng), dt = Md::Zero(5, 3);
    embedding_backward<double>(dt, dx, tok.data(), 3);
    CHECK((dt.row(4) - dx.row(0) - dx.row(2)).norm() < 1e-15);
    CHECK((dt.row(1) - dx.row(1)).norm() < 1e-15);
    CHECK(dt.row(0).norm() == 0.0);
}

namespace {

Config tiny_config(AttnKind kind, RopeLayout layout, int64_t q_lora_rank = 0, bool tied = false) {
    Config c = builtin_config(kind);
    c.vocab_size = 11;
    c.hidden_size = 8;
    c.intermediate_size = 12;
    c.num_hidden_layers = 2;
    c.num_attention_heads = 4;
    c.rope_layout = layout;
    c.rope_theta = 50.0;
    c.tie_word_embeddings = tied;
    if (kind == AttnKind::MLA) {
        c.num_key_value_heads = 4;
        c.kv_lora_rank = 6;
        c.q_lora_rank = q_lora_rank;
        c.qk_nope_head_dim = 4;
        c.qk_rope_head_dim = 2;
        c.v_head_dim = 3;
    } else {
        c.head_dim = 4;
        c.num_key_value_heads = kind == AttnKind::MHA ? 4 : kind == AttnKind::GQA ? 2 : 1;
    }
    return c;
}

// Whole-model gradient of the mean cross-entropy vs finite differences over every parameter.
void check_model_gradient(const Config& cfg) {
    const ParamLayout L = make_layout(cfg);
    const std::vector<float> pf = flatten(L, random_weights(cfg, 11));
    std::vector<double> p(pf.begin(), pf.end());
    const int64_t B = 2, T = 5;
    Rng rng(12);
    std::vector<int32_t> windows(B * (T + 1));
    for (int32_t& t : windows) t = static_cast<int32_t>(rng.next() % static_cast<uint64_t>(cfg.vocab_size));
    Tape<double> tape;
    std::vector<double> grad(p.size(), 0.0);
    const double loss = loss_and_grad<double>(tape, L, p.data(), windows.data(), B, T, grad.data());
    CHECK(std::isfinite(loss));
    auto f = [&] { return loss_and_grad<double>(tape, L, p.data(), windows.data(), B, T, nullptr); };
    // per tensor, so a failure names it
    for (const ParamSlot& s : L.slots) {
        INFO("tensor " << s.name);
        CHECK(grad_error(p.data() + s.off, s.size(), grad.data() + s.off, f) < 1e-5);
    }
    // float training gradients agree with the double ones
    Tape<float> tf;
    std::vector<float> gf(pf.size(), 0.0f);
    loss_and_grad<float>(tf, L, pf.data(), windows.data(), B, T, gf.data());
    double diff = 0, norm = 0;
    for (size_t i = 0; i < gf.size(); ++i) {
        diff = std::max(diff, std::abs(static_cast<double>(gf[i]) - grad[i]));
        norm = std::max(norm, std::abs(grad[i]));
    }
    CHECK(diff / norm < 1e-4);
}

}  // namespace

TEST_CASE("decoder backward matches finite differences for every attention kind", "[train][grad]") {
    SECTION("MHA, rotate-half") { check_model_gradient(tiny_config(AttnKind::MHA, RopeLayout::Half)); }
    SECTION("MHA, interleaved, tied embeddings") {
        check_model_gradient(tiny_config(AttnKind::MHA, RopeLayout::Interleaved, 0, true));
    }
    SECTION("GQA, rotate-half") { check_model_gradient(tiny_config(AttnKind::GQA, RopeLayout::Half)); }
    SECTION("MQA, rotate-half") { check_model_gradient(tiny_config(AttnKind::MQA, RopeLayout::Half)); }
    SECTION("MLA, interleaved") { check_model_gradient(tiny_config(AttnKind::MLA, RopeLayout::Interleaved)); }
    SECTION("MLA, interleaved, query compression") {
        check_model_gradient(tiny_config(AttnKind::MLA, RopeLayout::Interleaved, 5));
    }
    SECTION("MLA, rotate-half") { check_model_gradient(tiny_config(AttnKind::MLA, RopeLayout::Half)); }
    SECTION("MLA as converted: two rotary keys, no latent norm, partial RoPE at chosen frequencies") {
        for (RopeLayout layout : {RopeLayout::Half, RopeLayout::Interleaved}) {
            Config c = tiny_config(AttnKind::MLA, layout);
            c.qk_rope_head_dim = 4;
            c.mla_rope_key_heads = 2;
            c.mla_kv_norm = false;
            c.mla_rope_pairs_head_dim = 8;
            c.mla_rope_pairs = {0, 3, 1, 2, 2, 3, 0, 1};  // (L = 2, Gr = 2, Dr/2 = 2)
            check_model_gradient(c);
        }
    }
}

TEST_CASE("flatten and unflatten round-trip every tensor", "[train]") {
    for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        const Config cfg = builtin_config(k);
        const Weights w = random_weights(cfg, 3);
        const ParamLayout L = make_layout(cfg);
        const std::vector<float> p = flatten(L, w);
        CHECK(static_cast<int64_t>(p.size()) == L.size);
        const Weights back = unflatten(L, p.data());
        CHECK(back.embed == w.embed);
        CHECK(back.lm_head == w.lm_head);
        CHECK(back.final_norm == w.final_norm);
        for (size_t l = 0; l < w.layers.size(); ++l) {
            CHECK(back.layers[l].w_o == w.layers[l].w_o);
            CHECK(back.layers[l].w_q == w.layers[l].w_q);
            CHECK(back.layers[l].w_kv_b == w.layers[l].w_kv_b);
            CHECK(back.layers[l].w_down == w.layers[l].w_down);
            CHECK(back.layers[l].attn_norm == w.layers[l].attn_norm);
        }
        CHECK(flatten(L, back) == p);
    }
}
