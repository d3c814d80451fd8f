// train.json, the held-out text and re-scoring it with the decoder (train_report.h).
#include "train/train_report.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "base/json_read.h"

#include "base/check.h"
#include "base/numbers.h"
#include "base/text_file.h"
#include "model/decoder.h"
#include "train/train_model.h"

namespace mla {

namespace fs = std::filesystem;
using nlohmann::json;

// ============================================================================================
// [SECTION] split, windows, hash
// ============================================================================================

int64_t heldout_size(int64_t corpus_bytes, const TrainOptions& o) {
    return std::max<int64_t>(o.seq_len + 1, static_cast<int64_t>(std::llround(o.val_fraction * double(corpus_bytes))));
}

std::vector<int64_t> heldout_window_starts(int64_t bytes, int64_t seq_len, int64_t windows) {
    const int64_t room = bytes - (seq_len + 1);  // the last possible start
    MLA_CHECK(room >= 0);
    const int64_t n = std::max<int64_t>(1, std::min<int64_t>(windows, room + 1));
    std::vector<int64_t> starts;
    for (int64_t i = 0; i < n; ++i) starts.push_back(n == 1 ? 0 : i * room / (n - 1));
    return starts;
}

std::string fnv1a_hex(const std::string& bytes) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
    return buf;
}

// ============================================================================================
// [SECTION] train.json
// ============================================================================================

void write_train_record(const std::string& dir, const TrainRecord& r) {
    const TrainOptions& o = r.options;
    json j;
    j["options"] = json{{"steps", o.steps},
                        {"batch", o.batch},
                        {"seq_len", o.seq_len},
                        {"lr", o.lr},
                        {"min_lr_ratio", o.min_lr_ratio},
                        {"warmup", o.warmup},
                        {"weight_decay", o.weight_decay},
                        {"beta1", o.beta1},
                        {"beta2", o.beta2},
                        {"adam_eps", o.adam_eps},
                        {"grad_clip", o.grad_clip},
                        {"val_fraction", o.val_fraction},
                        {"val_windows", o.val_windows},
                        {"eval_every", o.eval_every},
                        {"checkpoint_every", o.checkpoint_every},
                        {"seed", o.seed},
                        {"threads", o.threads}};
    j["corpus"] = json{{"name", r.corpus_name}, {"bytes", r.corpus_bytes}, {"fnv1a", r.corpus_fnv1a}};
    j["heldout"] = json{{"file", r.heldout}, {"bytes", r.heldout_bytes}, {"fnv1a", r.heldout_fnv1a}};
    write_file_atomic((fs::path(dir) / "train.json").string(), j.dump(2) + "\n");
}

TrainRecord read_train_record(const std::string& path) {
    const json j = read_json_file(path, "; a training folder holds train.json");
    if (!j.is_object()) throw InputError(path + ": the top level must be a JSON object, got " + excerpt(j));
    auto section = [&](const char* name) -> const json& {
        auto it = j.find(name);
        if (it == j.end() || !it->is_object())
            throw InputError(path + ": field '" + name + "' must be an object, got " +
                             (it == j.end() ? std::string("nothing") : excerpt(*it)));
        return *it;
    };
    auto where = [&](const char* s) { return path + ": " + s; };
    auto need = [&](auto v, const char* s, const char* key) {
        if (!v) throw InputError(path + ": missing field " + std::string(s) + "." + key, key);
        return *v;
    };
    // An integer field in [lo, hi]; a bad one names the range.
    auto integer = [&](const char* s, const char* key, int64_t lo, int64_t hi) {
        const int64_t v = need(json_int(section(s), key, where(s)), s, key);
        if (v < lo || v > hi)
            throw InputError(path + ": field " + std::string(s) + "." + key + " = " + std::to_string(v) +
                             " is not valid: it must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]", key);
        return v;
    };
    auto number = [&](const char* s, const char* key) { return need(json_number(section(s), key, where(s)), s, key); };
    auto text = [&](const char* s, const char* key) { return need(json_string(section(s), key, where(s)), s, key); };
    auto seed = [&](const char* s, const char* key) -> uint64_t {
        const json& sec = section(s);
        auto it = sec.find(key);
        if (it == sec.end() || !it->is_number_unsigned())
            throw InputError(path + ": field " + std::string(s) + "." + key + " must be an integer in [0, 2^64)", key);
        return it->get<uint64_t>();
    };
    constexpr int64_t kBig = int64_t{1} << 40;
    TrainRecord r;
    TrainOptions& o = r.options;
    o.steps = integer("options", "steps", 1, kBig);
    o.batch = integer("options", "batch", 1, kMaxTrainBatch);
    o.seq_len = integer("options", "seq_len", 1, kMaxPositions);
    o.lr = number("options", "lr");
    o.min_lr_ratio = number("options", "min_lr_ratio");
    o.warmup = integer("options", "warmup", 0, kBig);
    o.weight_decay = number("options", "weight_decay");
    o.beta1 = number("options", "beta1");
    o.beta2 = number("options", "beta2");
    o.adam_eps = number("options", "adam_eps");
    o.grad_clip = number("options", "grad_clip");
    o.val_fraction = number("options", "val_fraction");
    o.val_windows = integer("options", "val_windows", 1, kMaxValWindows);
    o.eval_every = integer("options", "eval_every", 1, kBig);
    o.checkpoint_every = integer("options", "checkpoint_every", 1, kBig);
    o.seed = seed("options", "seed");
    o.threads = static_cast<int>(integer("options", "threads", 1, kMaxTrainThreads));
    r.corpus_name = text("corpus", "name");
    r.corpus_bytes = integer("corpus", "bytes", 0, kMaxCorpusBytes);
    r.corpus_fnv1a = text("corpus", "fnv1a");
    r.heldout = text("heldout", "file");
    r.heldout_bytes = integer("heldout", "bytes", 0, kMaxCorpusBytes);
    r.heldout_fnv1a = text("heldout", "fnv1a");
    if (r.heldout_bytes < o.seq_len + 1)
        throw InputError(path + ": heldout.bytes = " + std::to_string(r.heldout_bytes) +
                         " is shorter than one window (seq_len + 1 = " + std::to_string(o.seq_len + 1) + ")");
    return r;
}

// ============================================================================================
// [SECTION] scoring with the decoder
// ============================================================================================

double heldout_loss(const Weights& w, const RunOptions& run, Backend& backend, const std::string& heldout,
                    int64_t seq_len, int64_t windows) {
    if (w.cfg.vocab_size != 256)
        throw InputError("vocab_size = " + std::to_string(w.cfg.vocab_size) + " is not byte-level: it must be 256");
    if (seq_len <= 0 || static_cast<int64_t>(heldout.size()) < seq_len + 1)
        throw InputError("the held-out text has " + std::to_string(heldout.size()) + " bytes; one window needs seq_len + 1 = " +
                         std::to_string(seq_len + 1));
    auto shared = std::make_shared<const Weights>(w);
    Decoder dec(shared, backend, run);
    double total = 0;
    int64_t scored = 0;
    for (int64_t start : heldout_window_starts(static_cast<int64_t>(heldout.size()), seq_len, windows)) {
        dec.reset();
        for (int64_t t = 0; t < seq_len; ++t) {
            const std::vector<float>& z = dec.step(static_cast<unsigned char>(heldout[static_cast<size_t>(start + t)]));
            const int target = static_cast<unsigned char>(heldout[static_cast<size_t>(start + t + 1)]);
            // cross-entropy = log-sum-exp(z) - z[target], in double
            const double m = *std::max_element(z.begin(), z.end());
            double s = 0;
            for (float v : z) s += std::exp(static_cast<double>(v) - m);
            total += m + std::log(s) - static_cast<double>(z[static_cast<size_t>(target)]);
            ++scored;
        }
    }
    return total / static_cast<double>(scored);
}

double CacheDtypeLoss::bits_change() const { return bits_per_byte(stored - fp32); }

std::vector<CacheDtypeLoss> cache_dtype_losses(const Weights& w, RunOptions run, Backend& backend, const std::string& heldout,
                                               int64_t seq_len, int64_t windows, CacheDtype dtype) {
    std::vector<MlaPath> paths = {run.mla_path};
    if (w.cfg.attn_kind() == AttnKind::MLA) paths = {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed};
    std::vector<CacheDtypeLoss> out;
    for (MlaPath p : paths) {
        CacheDtypeLoss r;
        r.path = p;
        run.mla_path = p;
        run.cache_dtype = CacheDtype::F32;
        r.fp32 = heldout_loss(w, run, backend, heldout, seq_len, windows);
        run.cache_dtype = dtype;
        r.stored = dtype == CacheDtype::F32 ? r.fp32 : heldout_loss(w, run, backend, heldout, seq_len, windows);
        out.push_back(r);
    }
    return out;
}

// ============================================================================================
// [SECTION] trained model folders
// ============================================================================================

TrainedModel load_trained_model(const std::string& dir) {
    TrainedModel m;
    const fs::path p = fs::path(dir).lexically_normal();
    m.dir = dir;
    m.name = p.filename().string();
    if (m.name.empty()) m.name = p.parent_path().filename().string();
    m.cfg = load_config_file((p / "config.json").string());
    m.rows = read_train_csv((p / "train.csv").string());
    if (m.rows.empty()) throw InputError(dir + "/train.csv has no rows yet");
    if (fs::exists(p / "train.json")) m.record = read_train_record((p / "train.json").string());
    m.params = train::make_layout(m.cfg).size;
    const int64_t L = m.cfg.num_hidden_layers;
    m.cache_elements = cache_elements_per_token(m.cfg, MlaPath::Absorbed) * L;
    m.cache_elements_cached_kv = cache_elements_per_token(m.cfg, MlaPath::CachedKV) * L;
    return m;
}

std::vector<TrainedModel> load_trained_models(const std::string& spec) {
    std::vector<std::string> dirs;
    std::stringstream ss(spec);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty()) dirs.push_back(item);
    if (dirs.empty()) throw InputError("no model folder given; name one or more, separated by commas");
    const bool parent = dirs.size() == 1 && !fs::exists(fs::path(dirs[0]) / "train.csv");
    if (parent) {
        const std::string folder = dirs[0];
        if (!fs::is_directory(folder)) throw InputError("'" + folder + "' is not a folder");
        dirs.clear();
        std::error_code ec;
        for (const auto& e : fs::directory_iterator(folder, ec)) {
            if (!e.is_directory(ec)) continue;
            if (fs::exists(e.path() / "train.csv", ec)) {
                dirs.push_back(e.path().string());
                continue;
            }
            for (const auto& sub : fs::directory_iterator(e.path(), ec))  // e.g. assets/models/seeds/*
                if (sub.is_directory(ec) && fs::exists(sub.path() / "train.csv", ec)) dirs.push_back(sub.path().string());
        }
        if (ec && dirs.empty()) throw InputError("cannot read the folder '" + folder + "': " + ec.message());
        std::sort(dirs.begin(), dirs.end());
        if (dirs.empty())
            throw InputError("'" + folder + "' holds no training folder (a folder with train.csv and config.json)");
    }
    std::vector<TrainedModel> models;
    for (const std::string& d : dirs) models.push_back(load_trained_model(d));
    if (parent)  // by kind, then set, then seed
        std::stable_sort(models.begin(), models.end(), [](const TrainedModel& x, const TrainedModel& y) {
            auto seed = [](const TrainedModel& m) { return m.record ? m.record->options.seed : uint64_t{0}; };
            return std::make_tuple(x.cfg.attn_kind(), model_set(x), seed(x)) <
                   std::make_tuple(y.cfg.attn_kind(), model_set(y), seed(y));
        });
    return models;
}

std::string model_set(const TrainedModel& m) {
    const size_t dash = m.name.find('-');
    std::string set = dash == std::string::npos ? m.name : m.name.substr(dash + 1);
    const size_t seed = set.rfind("-seed");
    if (seed != std::string::npos && seed + 5 < set.size() &&
        set.find_first_not_of("0123456789", seed + 5) == std::string::npos)
        set.erase(seed);
    return set;
}

std::vector<std::string> quality_sets(const std::vector<TrainedModel>& models) {
    std::vector<std::string> sets;
    for (const TrainedModel& m : models)
        if (std::find(sets.begin(), sets.end(), model_set(m)) == sets.end()) sets.push_back(model_set(m));
    return sets;
}

std::vector<TrainedModel> models_in_set(const std::vector<TrainedModel>& models, const std::string& set) {
    std::vector<TrainedModel> out;
    for (const TrainedModel& m : models)
        if (model_set(m) == set) out.push_back(m);
    return out;
}

namespace {

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}


}  // namespace

QualityFindings quality_findings(const std::vector<TrainedModel>& models) {
    QualityFindings q;
    const double nan = std::nan("");
    for (AttnKind kind : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) {
        KindQuality k;
        k.kind = kind;
        for (size_t i = 0; i < models.size(); ++i)
            if (models[i].cfg.attn_kind() == kind) k.runs.push_back(i);
        if (k.runs.empty()) continue;
        auto seed_of = [&](size_t i) { return models[i].record ? models[i].record->options.seed : uint64_t{0}; };
        std::stable_sort(k.runs.begin(), k.runs.end(), [&](size_t a, size_t b) { return seed_of(a) < seed_of(b); });
        double sum = 0;
        k.min = k.max = models[k.runs[0]].last().val_loss;
        for (size_t i : k.runs) {
            const double v = models[i].last().val_loss;
            k.seeds.push_back(seed_of(i));
            sum += v;
            k.min = std::min(k.min, v);
            k.max = std::max(k.max, v);
        }
        k.first = models[k.runs[0]].last().val_loss;
        for (const TrainCurvePoint& p : models[k.runs[0]].rows) {
            double total = 0;
            size_t found = 0;
            for (size_t i : k.runs)
                for (const TrainCurvePoint& o : models[i].rows)
                    if (o.step == p.step) {
                        total += o.val_loss;
                        ++found;
                        break;
                    }
            if (found != k.runs.size()) continue;
            k.curve_steps.push_back(p.step);
            k.curve_mean.push_back(total / static_cast<double>(found));
        }
        k.mean = sum / static_cast<double>(k.runs.size());
        double sq = 0;
        for (size_t i : k.runs) sq += (models[i].last().val_loss - k.mean) * (models[i].last().val_loss - k.mean);
        k.sd = k.runs.size() > 1 ? std::sqrt(sq / static_cast<double>(k.runs.size() - 1)) : nan;
        k.params = models[k.runs[0]].params;
        k.cache_bytes = models[k.runs[0]].cache_elements * 4;
        q.seed_range = std::max(q.seed_range, k.max - k.min);
        q.kinds.push_back(k);
    }
    if (q.kinds.empty()) return q;
    const KindQuality* mha = q.kinds[0].kind == AttnKind::MHA ? &q.kinds[0] : nullptr;
    for (KindQuality& k : q.kinds) {
        k.mean_vs_mha = mha ? k.mean - mha->mean : nan;
        k.se_vs_mha = mha ? std::sqrt(k.sd * k.sd / double(k.runs.size()) + mha->sd * mha->sd / double(mha->runs.size())) : nan;
        k.beyond_noise = k.kind != AttnKind::MHA && std::isfinite(k.se_vs_mha) && std::abs(k.mean_vs_mha) > 2 * k.se_vs_mha;
        k.cache_vs_mha = mha ? double(mha->cache_bytes) / double(k.cache_bytes) : nan;
        k.rank = 1;
        for (const KindQuality& o : q.kinds) k.rank += o.mean < k.mean;
    }
    bool one_run = true;
    for (const KindQuality& k : q.kinds) one_run = one_run && k.runs.size() == 1;
    auto runs_text = [&](const KindQuality& k) {
        return k.runs.size() == 1 ? std::string("1 run") : std::to_string(k.runs.size()) + " seeds";
    };
    const KindQuality* best = &q.kinds[0];
    for (const KindQuality& k : q.kinds)
        if (k.mean < best->mean) best = &k;
    q.lines.push_back(std::string(one_run ? "Lowest validation loss: " : "Lowest mean validation loss: ") + std::string(display_name(best->kind)) +
                      ", " + fixed(best->mean, 4) + " nats per byte (" + runs_text(*best) + ").");
    if (mha) {
        for (const KindQuality& k : q.kinds) {
            if (k.kind == AttnKind::MHA) continue;
            const double d = k.mean_vs_mha;
            const std::string how = d >= 5e-5 ? fixed(d, 4) + " higher than" : d <= -5e-5 ? fixed(-d, 4) + " lower than" : "the same as";
            const std::string cache = k.cache_vs_mha > 1   ? fixed(k.cache_vs_mha, 1) + "x less cache"
                                      : k.cache_vs_mha < 1 ? fixed(1 / k.cache_vs_mha, 1) + "x more cache"
                                                           : "the same cache";
            q.lines.push_back(std::string(display_name(k.kind)) + ": " + (one_run ? "validation loss " : "mean validation loss ") + how +
                              " MHA's (" + fixed(k.mean, 4) + " vs " + fixed(mha->mean, 4) + ") with " + cache + " (" +
                              with_commas(k.cache_bytes) + " vs " + with_commas(mha->cache_bytes) + " B per token).");
        }
    } else {
        q.lines.push_back("No MHA model in this set, so nothing is compared against MHA.");
    }
    if (one_run) {
        q.lines.push_back("One training run per kind: how much the loss moves from one seed to another is not measured, "
                          "so small differences may be chance.");
        return q;
    }
    const KindQuality* widest = &q.kinds[0];
    const KindQuality* noisiest = &q.kinds[0];
    for (const KindQuality& k : q.kinds) {
        if (k.max - k.min > widest->max - widest->min) widest = &k;
        if (std::isfinite(k.sd) && (!std::isfinite(noisiest->sd) || k.sd > noisiest->sd)) noisiest = &k;
    }
    std::string line = "From seed to seed one kind's final loss moves by up to " + fixed(q.seed_range, 4) + " (" +
                       display_name(widest->kind) + ": " + fixed(widest->min, 4) + " to " + fixed(widest->max, 4) +
                       "; standard deviation up to " + fixed(noisiest->sd, 4) + ", " + display_name(noisiest->kind) + ").";
    if (mha) {
        std::string beyond, within;
        for (const KindQuality& k : q.kinds) {
            if (k.kind == AttnKind::MHA) continue;
            std::string& list = k.beyond_noise ? beyond : within;
            if (!list.empty()) list += ", ";
            list += std::string(display_name(k.kind));
            list += k.mean_vs_mha >= 0 ? " +" : " ";
            list += fixed(k.mean_vs_mha, 4);
            list += " (";
            list += fixed(std::abs(k.mean_vs_mha) / k.se_vs_mha, 1);
            list += " standard errors)";
        }
        if (beyond.empty()) {
            line += " No mean differs from MHA's by more than two standard errors, so these runs do not tell the kinds apart: ";
            line += within;
        } else {
            line += " Differs from MHA's mean by more than two standard errors: ";
            line += beyond;
            if (!within.empty()) {
                line += "; within that noise: ";
                line += within;
            }
        }
        line += ".";
    }
    q.lines.push_back(line);
    return q;
}

std::string training_curves_csv(const std::vector<TrainedModel>& models) {
    std::string out = "set,model,kind,seed,step,tokens_seen,train_loss,val_loss,cache_bytes_per_token\n";
    char buf[256];
    for (const TrainedModel& m : models)
        for (const TrainCurvePoint& p : m.rows) {
            std::snprintf(buf, sizeof buf, ",%llu,%lld,%lld,%.6f,%.6f,%lld\n",
                          static_cast<unsigned long long>(m.record ? m.record->options.seed : 0), static_cast<long long>(p.step),
                          static_cast<long long>(p.tokens_seen), p.train_loss, p.val_loss,
                          static_cast<long long>(m.cache_elements * 4));
            out += model_set(m);
            out += ',';
            out += m.name;
            out += ',';
            out += to_string(m.cfg.attn_kind());
            out += buf;
        }
    return out;
}

std::string read_heldout(const TrainedModel& m) {
    if (!m.record) throw InputError(m.dir + " has no train.json, so its held-out text is not known");
    const std::string path = (fs::path(m.dir) / m.record->heldout).lexically_normal().string();
    const std::string text = read_file(path, ", the held-out text named by " + m.dir + "/train.json");
    if (static_cast<int64_t>(text.size()) != m.record->heldout_bytes || fnv1a_hex(text) != m.record->heldout_fnv1a)
        throw InputError(path + " is not the held-out text of " + m.dir + ": train.json says " +
                         std::to_string(m.record->heldout_bytes) + " bytes, hash " + m.record->heldout_fnv1a + "; it has " +
                         std::to_string(text.size()) + " bytes, hash " + fnv1a_hex(text));
    return text;
}

}  // namespace mla
