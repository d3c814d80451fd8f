// MHA/GQA -> MLA conversion: full rank reproduces the source, the per-layer error is the
// SVD tail (Eckart-Young), the converted folder round-trips, and the decoder agrees with the
// trainer's whole-sequence forward on a partially rotated, compressed model.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <memory>

#include <Eigen/SVD>

#include "base/assets.h"
#include "base/error.h"
#include "convert/convert.h"
#include "io/model_folder.h"
#include "model/cpu_backend.h"
#include "model/decoder.h"
#include "train/train_model.h"

using namespace mla;

namespace {

Weights trained(const char* name) { return load_model(find_assets_subdir(std::string("models/") + name)); }

const std::vector<int64_t> kPrompt = {84, 104, 101, 32, 98, 101, 115, 116, 32, 119, 97, 121, 32, 116, 111, 32,
                                      112, 114, 101, 100, 105, 99, 116, 10};  // "The best way to predict\n"

std::vector<std::vector<float>> run(const Weights& w, RunOptions o) {
    CpuBackend cpu(1);
    Decoder d(std::make_shared<const Weights>(w), cpu, o);
    std::vector<std::vector<float>> out;
    for (int64_t t : kPrompt) out.push_back(d.step(t));
    return out;
}

double max_abs_diff(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i)
        for (size_t j = 0; j < a[i].size(); ++j) m = std::max(m, std::abs(double(a[i][j]) - double(b[i][j])));
    return m;
}

int64_t full_rank(const Config& c, int64_t r) {
    const int64_t G = c.num_key_value_heads, Dh = c.head_dim;
    return std::min(G * (Dh - 2 * r + Dh), c.hidden_size);
}

}  // namespace

TEST_CASE("convert: full rank with every pair kept gives the source's logits on every MLA path", "[convert]") {
    for (const char* name : {"mha-fortunes", "gqa-fortunes", "mqa-fortunes"}) {
        const Weights src = trained(name);
        const int64_t half = src.cfg.head_dim / 2;
        for (SvdMode svd : {SvdMode::Joint, SvdMode::Split}) {
            ConvertOptions o;
            o.rope_pairs = half;
            o.kv_lora_rank = svd == SvdMode::Joint ? full_rank(src.cfg, half)
                                                   : std::min(src.cfg.num_key_value_heads * src.cfg.head_dim, src.cfg.hidden_size);
            o.svd = svd;
            const ConvertResult r = convert_to_mla(src, o);
            const auto ref = run(src, {});
            for (MlaPath p : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed}) {
                RunOptions ro;
                ro.mla_path = p;
                INFO(name << " " << to_string(svd) << " " << to_string(p) << " C = " << o.kv_lora_rank);
                CHECK(max_abs_diff(run(r.weights, ro), ref) <= 1e-4);
            }
            for (const ConvertLayer& l : r.layers) CHECK(l.relative_error < 1e-6);
        }
    }
}

TEST_CASE("convert: each layer's error is the singular-value tail of [W_K,nope ; W_V]", "[convert]") {
    const Weights src = trained("mha-fortunes");
    const Config& s = src.cfg;
    for (RopeStrategy st : {RopeStrategy::High, RopeStrategy::Low, RopeStrategy::Uniform}) {
        ConvertOptions o;
        o.rope_pairs = 2;
        o.kv_lora_rank = 12;
        o.strategy = st;
        const ConvertResult r = convert_to_mla(src, o);
        const Config& c = r.weights.cfg;
        const int64_t G = s.num_key_value_heads, Dh = s.head_dim, Dn = c.qk_nope_head_dim, C = c.kv_lora_rank,
                      H = s.num_attention_heads, D = s.hidden_size;
        REQUIRE(Dn == Dh - 4);
        REQUIRE(c.mla_row() == C + G * 4);
        for (int64_t l = 0; l < s.num_hidden_layers; ++l) {
            const LayerWeights& a = src.layers[l];
            const LayerWeights& b = r.weights.layers[l];
            const ConvertLayer& cl = r.layers[l];
            // M from the source, the nope dims being those not kept: an independent walk over the pairs.
            Eigen::MatrixXd m(G * (Dn + Dh), D), mc(G * (Dn + Dh), D);
            for (int64_t g = 0; g < G; ++g) {
                std::vector<int64_t> nope;
                for (int64_t d = 0; d < Dh; ++d) {
                    const int64_t pair = d % (Dh / 2);  // rotate-half: dims i and i + Dh/2 form pair i
                    if (std::find(cl.pairs[g].begin(), cl.pairs[g].end(), pair) == cl.pairs[g].end()) nope.push_back(d);
                }
                REQUIRE(static_cast<int64_t>(nope.size()) == Dn);
                for (int64_t i = 0; i < Dn; ++i) m.row(g * Dn + i) = a.w_k.row(g * Dh + nope[i]).cast<double>();
                m.middleRows(G * Dn + g * Dh, Dh) = a.w_v.middleRows(g * Dh, Dh).cast<double>();
                // the converted model's reconstruction, read from its first query head of group g
                const int64_t h = g * (H / G);
                const Eigen::MatrixXd down = b.w_kv_a.topRows(C).cast<double>();
                mc.middleRows(g * Dn, Dn) = b.w_kv_b.middleRows(h * (Dn + Dh), Dn).cast<double>() * down;
                mc.middleRows(G * Dn + g * Dh, Dh) = b.w_kv_b.middleRows(h * (Dn + Dh) + Dn, Dh).cast<double>() * down;
            }
            const double err = (m - mc).norm() / m.norm();
            Eigen::JacobiSVD<Eigen::MatrixXd> svd(m);
            const Eigen::VectorXd sv = svd.singularValues();
            const double tail = std::sqrt(sv.tail(sv.size() - C).squaredNorm() / sv.squaredNorm());
            INFO("layer " << l << " strategy " << to_string(st));
            CHECK(std::abs(cl.relative_error - tail) <= 1e-5 * tail);
            CHECK(std::abs(err - tail) <= 1e-5 * tail);
            REQUIRE(cl.singular_values.size() == static_cast<size_t>(sv.size()));
            for (Eigen::Index i = 0; i < sv.size(); ++i) CHECK(std::abs(cl.singular_values[i] - sv(i)) <= 1e-9 * sv(0));
            CHECK(cl.energy_kept == Approx(1 - tail * tail).epsilon(1e-9));
        }
    }
}

TEST_CASE("convert: pair strategies choose the pairs the papers name", "[convert]") {
    CHECK(choose_rope_pairs(RopeStrategy::High, 8, 2, {}) == std::vector<int32_t>{0, 1});
    CHECK(choose_rope_pairs(RopeStrategy::Low, 8, 2, {}) == std::vector<int32_t>{6, 7});
    CHECK(choose_rope_pairs(RopeStrategy::Uniform, 8, 2, {}) == std::vector<int32_t>{0, 4});
    CHECK(choose_rope_pairs(RopeStrategy::Uniform, 8, 3, {}) == std::vector<int32_t>{0, 2, 5});
    CHECK(choose_rope_pairs(RopeStrategy::Norm, 4, 2, {0.1, 3.0, 0.2, 2.0}) == std::vector<int32_t>{1, 3});
    // norm: measured on text, a pair set per layer and KV head, written into the config
    const Weights src = trained("gqa-fortunes");
    ConvertOptions o;
    o.rope_pairs = 3;
    o.kv_lora_rank = 16;
    o.strategy = RopeStrategy::Norm;
    CHECK_THROWS_AS(convert_to_mla(src, o), InputError);  // no calibration text
    o.calibration_tokens = kPrompt;
    const ConvertResult r = convert_to_mla(src, o);
    const std::vector<double> sc = rope_pair_norm_scores(src, kPrompt);
    const int64_t G = src.cfg.num_key_value_heads, half = src.cfg.head_dim / 2;
    for (int64_t l = 0; l < src.cfg.num_hidden_layers; ++l)
        for (int64_t g = 0; g < G; ++g) {
            const auto& kept = r.layers[l].pairs[g];
            REQUIRE(kept.size() == 3);
            double worst_kept = 1e300, best_dropped = -1;
            for (int64_t i = 0; i < half; ++i) {
                const double v = sc[(l * G + g) * half + i];
                if (std::find(kept.begin(), kept.end(), i) != kept.end()) worst_kept = std::min(worst_kept, v);
                else best_dropped = std::max(best_dropped, v);
            }
            CHECK(worst_kept >= best_dropped);
            for (int64_t j = 0; j < 3; ++j) CHECK(r.weights.cfg.mla_rope_pairs[(l * G + g) * 3 + j] == kept[j]);
        }
}

TEST_CASE("convert: the folder round-trips and the decoder matches the trainer's forward", "[convert]") {
    const Weights src = trained("gqa-fortunes");
    ConvertOptions o;
    o.rope_pairs = 2;
    o.kv_lora_rank = 20;
    o.strategy = RopeStrategy::Uniform;
    const ConvertResult r = convert_to_mla(src, o);
    CHECK(r.cache_elements_before == 2 * 2 * 16 * 3);
    CHECK(r.cache_elements_after == (20 + 2 * 4) * 3);
    const std::string dir = (std::filesystem::temp_directory_path() / "mla-convert-test").string();
    std::filesystem::remove_all(dir);
    save_model(r.weights, dir);
    const Weights back = load_model(dir);
    CHECK(back.cfg.mla_rope_pairs == r.weights.cfg.mla_rope_pairs);
    CHECK(back.cfg.mla_rope_key_heads == 2);
    CHECK_FALSE(back.cfg.mla_kv_norm);
    {  // every tensor back bit for bit
        Weights x = r.weights, y = back;
        const auto tx = list_tensors(x), ty = list_tensors(y);
        REQUIRE(tx.size() == ty.size());
        for (size_t i = 0; i < tx.size(); ++i) {
            INFO(tx[i].spec.name);
            CHECK(ty[i].spec.name == tx[i].spec.name);
            CHECK(std::equal(tx[i].data, tx[i].data + tx[i].spec.size(), ty[i].data));
        }
    }
    const auto a = run(r.weights, {});
    // (the same weights at another address may be summed in another order by Eigen's kernels)
    CHECK(max_abs_diff(run(back, {}), a) <= 1e-5);
    std::filesystem::remove_all(dir);
    // the three paths agree, and the trainer's whole-sequence forward (another program) agrees
    for (MlaPath p : {MlaPath::CachedKV, MlaPath::Recompute}) {
        RunOptions ro;
        ro.mla_path = p;
        CHECK(max_abs_diff(run(r.weights, ro), a) <= 1e-4);
    }
    const train::ParamLayout L = train::make_layout(r.weights.cfg);
    const std::vector<float> p = train::flatten(L, r.weights);
    std::vector<double> pd(p.begin(), p.end());
    std::vector<int32_t> toks(kPrompt.begin(), kPrompt.end());
    train::Tape<double> tape;
    train::forward<double>(tape, L, pd.data(), toks.data(), 1, static_cast<int64_t>(toks.size()));
    double m = 0;
    for (size_t t = 0; t < toks.size(); ++t)
        for (int64_t v = 0; v < r.weights.cfg.vocab_size; ++v)
            m = std::max(m, std::abs(tape.logits(static_cast<int64_t>(t), v) - double(a[t][v])));
    CHECK(m <= 1e-4);
}

TEST_CASE("convert: bad options are refused with the valid range", "[convert]") {
    const Weights src = trained("mha-fortunes");
    ConvertOptions o;
    o.rope_pairs = 9;
    o.kv_lora_rank = 8;
    CHECK_THROWS_WITH(convert_to_mla(src, o), Catch::Contains("keep 1 to 8"));
    o.rope_pairs = 2;
    o.kv_lora_rank = 500;
    CHECK_THROWS_WITH(convert_to_mla(src, o), Catch::Contains("use 1 to 64"));
    CHECK_THROWS_WITH(parse_rope_strategy("fast"), Catch::Contains("high, low, uniform or norm"));
    o.kv_lora_rank = 8;
    ConvertResult r = convert_to_mla(src, o);
    CHECK_THROWS_WITH(convert_to_mla(r.weights, o), Catch::Contains("already MLA"));
}
