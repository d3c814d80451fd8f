#include "window/session_file.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include <nlohmann/json.hpp>

#include "base/json_read.h"
#include "base/text_file.h"
#include "views/registry.h"

namespace mla::app {

bool SessionCurves::operator==(const SessionCurves& o) const {
    const CurvesSettings &a = settings, &b = o.settings;
    return models == o.models && configs == o.configs && a.own == b.own && a.kinds == b.kinds && a.dtype == b.dtype &&
           a.batch == b.batch && a.max_tokens == b.max_tokens && a.min_tokens == b.min_tokens && a.log == b.log &&
           a.gib == b.gib && a.fits_gb == b.fits_gb && a.table_tokens == b.table_tokens &&
           a.choices.groups == b.choices.groups && a.choices.latent == b.choices.latent &&
           a.choices.rope_dim == b.choices.rope_dim;
}

namespace {

const char* weights_name(WeightsSource w) {
    switch (w) {
        case WeightsSource::Trained: return "trained";
        case WeightsSource::Random: return "random";
        case WeightsSource::Auto: break;
    }
    return "auto";
}

nlohmann::json model_json(const ModelSettings& m) {
    nlohmann::json j;
    j["kind"] = to_string(m.kind);
    j["kv_heads"] = m.kv_heads;
    j["kv_lora_rank"] = m.kv_lora_rank;
    j["rope_dim"] = m.rope_dim;
    j["q_lora_rank"] = m.q_lora_rank;
    j["mla_path"] = to_string(m.mla_path);
    j["rope_on_latent"] = m.rope_on_latent;
    j["no_cache"] = m.no_cache;
    j["cache_dtype"] = to_string(m.cache_dtype);
    j["weights"] = weights_name(m.weights);
    j["trained_set"] = m.trained_set;
    j["seed"] = m.seed;
    j["sample_seed"] = m.sample_seed;
    j["temperature"] = m.temperature;
    j["top_k"] = m.top_k;
    j["top_p"] = m.top_p;
    j["backend"] = m.backend;
    j["prompt"] = m.prompt;
    return j;
}

nlohmann::json curves_json(const SessionCurves& c) {
    const CurvesSettings& s = c.settings;
    nlohmann::json j;
    j["models"] = c.models;
    j["configs"] = c.configs;
    j["own"] = s.own;
    std::vector<std::string> kinds;
    for (CacheKind k : s.kinds) kinds.emplace_back(to_string(k));
    j["kinds"] = kinds;
    j["dtype"] = s.dtype;
    j["batch"] = s.batch;
    j["max_tokens"] = s.max_tokens;
    j["min_tokens"] = s.min_tokens;
    j["log"] = s.log;
    j["gib"] = s.gib;
    j["fits_gb"] = s.fits_gb;
    j["table_tokens"] = s.table_tokens;
    j["choices"] = {{"groups", s.choices.groups}, {"latent", s.choices.latent}, {"rope_dim", s.choices.rope_dim}};
    return j;
}

// Reads the fields of one object, each through its own reader; a reader that throws
// InputError names the field in a problem and leaves the default. Keys no reader knows are
// problems too.
class Fields {
public:
    Fields(const nlohmann::json& obj, std::string where, std::vector<std::string>* problems)
        : obj_(obj), where_(std::move(where)), problems_(problems) {}

    void read(const std::string& key, const std::function<void(const nlohmann::json& obj, const std::string& where)>& f,
              const std::string& fallback) {
        known_.insert(key);
        if (!obj_.contains(key) || obj_.at(key).is_null()) return;
        try {
            f(obj_, where_);
        } catch (const InputError& e) {
            problem(std::string(e.what()) + "; using " + fallback);
        }
    }
    void problem(const std::string& p) const {
        if (problems_) problems_->push_back(p);
    }
    void unknown() const {
        for (auto it = obj_.begin(); it != obj_.end(); ++it)
            if (!known_.count(it.key()))
                problem(where_ + ": field '" + it.key() + "' is not a session field; ignored");
    }
    const std::string& where() const { return where_; }

private:
    const nlohmann::json& obj_;
    std::string where_;
    std::vector<std::string>* problems_;
    std::set<std::string> known_;
};

std::string quoted(const std::string& s) { return "'" + s + "'"; }

int64_t int_in(const nlohmann::json& o, const std::string& key, const std::string& where, int64_t lo, int64_t hi) {
    const int64_t v = *json_int(o, key, where);
    if (v < lo || v > hi)
        throw InputError(where + ": field '" + key + "' is " + std::to_string(v) + ", must be " + std::to_string(lo) +
                         " to " + std::to_string(hi));
    return v;
}

uint64_t uint_in(const nlohmann::json& o, const std::string& key, const std::string& where, uint64_t lo, uint64_t hi) {
    const nlohmann::json& v = o.at(key);
    if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0))
        throw InputError(where + ": field '" + key + "' must be a whole number from " + std::to_string(lo) + ", got " +
                         excerpt(v));
    const uint64_t u = v.get<uint64_t>();
    if (u < lo || u > hi)
        throw InputError(where + ": field '" + key + "' is " + std::to_string(u) + ", must be " + std::to_string(lo) +
                         " to " + std::to_string(hi));
    return u;
}

double number_in(const nlohmann::json& o, const std::string& key, const std::string& where, double lo, double hi) {
    const double v = *json_number(o, key, where);
    if (!(v >= lo && v <= hi))
        throw InputError(where + ": field '" + key + "' is " + excerpt(o.at(key)) + ", must be " + excerpt(lo) + " to " +
                         excerpt(hi));
    return v;
}

template <class Parse>
auto choice(const nlohmann::json& o, const std::string& key, const std::string& where, Parse parse) {
    const std::string s = *json_string(o, key, where);
    try {
        return parse(s);
    } catch (const InputError& e) {
        throw InputError(where + ": field '" + key + "': " + e.what());
    }
}

// Each field on its own; a field it cannot use is a problem and keeps its default.
ModelSettings read_model_fields(const nlohmann::json& j, std::vector<std::string>* problems) {
    ModelSettings m;
    const ModelSettings d;
    if (!j.is_object()) {
        if (problems) problems->push_back("model: must be an object, got " + excerpt(j) + "; using the default model");
        return m;
    }
    Fields f(j, "model", problems);
    f.read("kind", [&](auto& o, auto& w) { m.kind = choice(o, "kind", w, parse_attn_kind); }, to_string(d.kind));
    f.read("kv_heads", [&](auto& o, auto& w) { m.kv_heads = *json_int(o, "kv_heads", w); }, std::to_string(d.kv_heads));
    f.read("kv_lora_rank", [&](auto& o, auto& w) { m.kv_lora_rank = *json_int(o, "kv_lora_rank", w); },
           std::to_string(d.kv_lora_rank));
    f.read("rope_dim", [&](auto& o, auto& w) { m.rope_dim = *json_int(o, "rope_dim", w); }, std::to_string(d.rope_dim));
    f.read("q_lora_rank", [&](auto& o, auto& w) { m.q_lora_rank = *json_int(o, "q_lora_rank", w); },
           std::to_string(d.q_lora_rank));
    f.read("mla_path", [&](auto& o, auto& w) { m.mla_path = choice(o, "mla_path", w, parse_mla_path); },
           to_string(d.mla_path));
    f.read("rope_on_latent", [&](auto& o, auto& w) { m.rope_on_latent = *json_bool(o, "rope_on_latent", w); }, "false");
    f.read("no_cache", [&](auto& o, auto& w) { m.no_cache = *json_bool(o, "no_cache", w); }, "false");
    f.read("cache_dtype", [&](auto& o, auto& w) { m.cache_dtype = choice(o, "cache_dtype", w, parse_cache_dtype); },
           to_string(d.cache_dtype));
    f.read("weights", [&](auto& o, auto& w) { m.weights = choice(o, "weights", w, parse_weights_source); },
           weights_name(d.weights));
    f.read("trained_set", [&](auto& o, auto& w) { m.trained_set = *json_string(o, "trained_set", w); }, d.trained_set);
    f.read("seed", [&](auto& o, auto& w) { m.seed = uint_in(o, "seed", w, 0, UINT64_MAX); }, std::to_string(d.seed));
    f.read("sample_seed", [&](auto& o, auto& w) { m.sample_seed = uint_in(o, "sample_seed", w, 0, UINT64_MAX); },
           std::to_string(d.sample_seed));
    f.read("temperature", [&](auto& o, auto& w) { m.temperature = static_cast<float>(number_in(o, "temperature", w, 0, 100)); },
           "0 (greedy)");
    f.read("top_k", [&](auto& o, auto& w) { m.top_k = int_in(o, "top_k", w, 0, INT64_MAX); }, "0 (all)");
    f.read("top_p", [&](auto& o, auto& w) { m.top_p = static_cast<float>(number_in(o, "top_p", w, 0, 1)); }, "1 (all)");
    f.read("backend", [&](auto& o, auto& w) {
        const std::string b = *json_string(o, "backend", w);
        if (b != "cpu" && b != "gpu") throw InputError(w + ": field 'backend' is " + quoted(b) + ", must be cpu or gpu");
        m.backend = b;
    }, d.backend);
    f.read("prompt", [&](auto& o, auto& w) { m.prompt = *json_string(o, "prompt", w); }, "the article's prompt");
    f.unknown();
    return m;
}

// The session key of a setting (ModelSettings' own names, as model_json writes them).
const char* settings_key(Field f) {
    switch (f) {
        case Field::Kind: return "kind";
        case Field::KvHeads: return "kv_heads";
        case Field::KvLoraRank: return "kv_lora_rank";
        case Field::RopeDim: return "rope_dim";
        case Field::QLoraRank: return "q_lora_rank";
        case Field::MlaPath: return "mla_path";
        case Field::RopeOnLatent: return "rope_on_latent";
        case Field::NoCache: return "no_cache";
        case Field::CacheDtype: return "cache_dtype";
        case Field::Weights: return "weights";
        case Field::Seed: return "seed";
        case Field::SampleSeed: return "sample_seed";
        case Field::Temperature: return "temperature";
        case Field::TopK: return "top_k";
        case Field::TopP: return "top_p";
        case Field::Backend: return "backend";
        case Field::Prompt: return "prompt";
        case Field::None: break;
    }
    return nullptr;
}

ModelSettings read_model(const nlohmann::json& j, std::vector<std::string>* problems) {
    ModelSettings m = read_model_fields(j, problems);
    // Fields that are each fine may still not run together (kv_heads 3 with 4 query heads):
    // the setting the message names goes back to its default, until the whole runs.
    const nlohmann::json d = model_json(ModelSettings{});
    for (int tries = 0; tries < 20; ++tries) {
        try {
            validate_settings(m);
            return m;
        } catch (const InputError& e) {
            const Field field = field_of(e);
            const char* key = settings_key(field);
            if (!key) {
                if (problems) problems->push_back("model: " + std::string(e.what()) + "; using the default model");
                return ModelSettings{};
            }
            nlohmann::json mj = model_json(m);
            mj[key] = d[key];
            if (field == Field::Weights) mj["trained_set"] = d["trained_set"];  // a set goes with its weights
            m = read_model_fields(mj, nullptr);  // written by model_json: reads back whole
            if (problems) problems->push_back(std::string("model.") + key + ": " + e.what() + "; using " + excerpt(d[key]));
        }
    }
    if (problems) problems->push_back("model: the settings do not run together; using the default model");
    return ModelSettings{};
}

SessionCurves read_curves(const nlohmann::json& j, std::vector<std::string>* problems) {
    SessionCurves c;
    CurvesSettings& s = c.settings;
    const CurvesSettings d;
    Fields f(j, "curves", problems);
    auto strings = [&](const nlohmann::json& o, const std::string& key, const std::string& w) {
        const nlohmann::json& a = o.at(key);
        if (!a.is_array()) throw InputError(w + ": field '" + key + "' must be a list of strings, got " + excerpt(a));
        std::vector<std::string> out;
        for (const auto& v : a) {
            if (!v.is_string()) throw InputError(w + ": field '" + key + "' must hold strings only, got " + excerpt(v));
            if (std::find(out.begin(), out.end(), v.get<std::string>()) == out.end()) out.push_back(v.get<std::string>());
        }
        return out;
    };
    f.read("models", [&](auto& o, auto& w) { c.models = strings(o, "models", w); }, "the default models");
    f.read("configs", [&](auto& o, auto& w) { c.configs = strings(o, "configs", w); }, "none");
    f.read("own", [&](auto& o, auto& w) { s.own = *json_bool(o, "own", w); }, "true");
    f.read("kinds", [&](auto& o, auto& w) {
        std::vector<CacheKind> kinds;
        for (const std::string& k : strings(o, "kinds", w)) {
            try {
                kinds.push_back(parse_cache_kind(k));
            } catch (const InputError& e) {
                throw InputError(w + ": field 'kinds': " + e.what());
            }
        }
        s.kinds = kinds;
    }, "mha");
    f.read("dtype", [&](auto& o, auto& w) {
        const std::string v = *json_string(o, "dtype", w);
        if (v != "fp32" && v != "bf16" && v != "fp16" && v != "fp8")
            throw InputError(w + ": field 'dtype' is " + quoted(v) + ", must be fp32, bf16, fp16 or fp8");
        s.dtype = v;
    }, d.dtype);
    f.read("batch", [&](auto& o, auto& w) { s.batch = uint_in(o, "batch", w, 1, kMaxBatch); }, "1");
    f.read("max_tokens", [&](auto& o, auto& w) { s.max_tokens = uint_in(o, "max_tokens", w, kMinChartTokens, kMaxChartTokens); },
           "1,000,000");
    f.read("min_tokens", [&](auto& o, auto& w) { s.min_tokens = uint_in(o, "min_tokens", w, 0, kMaxChartTokens); }, "0 (automatic)");
    f.read("log", [&](auto& o, auto& w) { s.log = *json_bool(o, "log", w); }, "true");
    f.read("gib", [&](auto& o, auto& w) { s.gib = *json_bool(o, "gib", w); }, "false");
    f.read("fits_gb", [&](auto& o, auto& w) { s.fits_gb = number_in(o, "fits_gb", w, kMinFitsGb, kMaxFitsGb); }, "80");
    f.read("table_tokens", [&](auto& o, auto& w) { s.table_tokens = uint_in(o, "table_tokens", w, 1, kMaxTableTokens); },
           "100,000");
    f.read("choices", [&](auto& o, auto& w) {
        const nlohmann::json& ch = o.at("choices");
        if (!ch.is_object()) throw InputError(w + ": field 'choices' must be an object, got " + excerpt(ch));
        CacheChoices cc;
        const std::string cw = w + ".choices";
        if (auto v = json_int(ch, "groups", cw)) cc.groups = std::max<int64_t>(0, *v);
        if (auto v = json_int(ch, "latent", cw)) cc.latent = std::max<int64_t>(0, *v);
        if (auto v = json_int(ch, "rope_dim", cw)) cc.rope_dim = std::max<int64_t>(0, *v);
        s.choices = cc;
    }, "the defaults");
    f.unknown();
    if (s.min_tokens >= s.max_tokens && s.min_tokens != 0) {
        f.problem("curves: min_tokens " + std::to_string(s.min_tokens) + " is not below max_tokens " +
                  std::to_string(s.max_tokens) + "; using 0 (automatic)");
        s.min_tokens = 0;
    }
    if (!s.own && s.kinds.empty()) {
        f.problem("curves: no attention kind is ticked (own is false and kinds is empty); using own");
        s.own = true;
    }
    return c;
}

}  // namespace

nlohmann::json to_json(const SessionFile& s) {
    nlohmann::json j;
    j["mla_lab_session"] = kSessionVersion;
    j["model"] = model_json(s.model);
    j["steps"] = s.steps;
    j["shown_step"] = s.shown_step;
    j["view"] = s.view;
    j["layout"] = s.layout;
    j["lesson_page"] = s.lesson_page;
    if (s.has_curves) j["curves"] = curves_json(s.curves);
    return j;
}

SessionFile session_from_json(const nlohmann::json& j, std::vector<std::string>* problems) {
    SessionFile s;
    auto problem = [&](const std::string& p) {
        if (problems) problems->push_back(p);
    };
    if (!j.is_object()) {
        problem("a session must be a JSON object, got " + excerpt(j) + "; using the defaults");
        return s;
    }
    Fields f(j, "session", problems);
    f.read("mla_lab_session", [&](auto& o, auto& w) {
        const int64_t v = *json_int(o, "mla_lab_session", w);
        if (v != kSessionVersion)
            throw InputError(w + ": version " + std::to_string(v) + " is not known (this MLA Lab writes version " +
                             std::to_string(kSessionVersion) + ")");
    }, "what version 1 holds");
    if (!j.contains("mla_lab_session"))
        problem("session: no \"mla_lab_session\": 1 (is this an MLA Lab session file?); reading it as version 1");
    f.read("model", [&](auto& o, auto&) { s.model = read_model(o.at("model"), problems); }, "the default model");
    f.read("steps", [&](auto& o, auto& w) { s.steps = int_in(o, "steps", w, 0, kMaxSessionSteps); }, "0");
    f.read("shown_step", [&](auto& o, auto& w) { s.shown_step = int_in(o, "shown_step", w, 0, kMaxSessionSteps); },
           "0 (the newest)");
    f.read("view", [&](auto& o, auto& w) {
        const std::string v = *json_string(o, "view", w);
        if (!v.empty() && !find_view(v))
            throw InputError(w + ": field 'view' is " + quoted(v) + ", not a view: use " + view_id_list());
        s.view = v;
    }, "the view shown now");
    f.read("layout", [&](auto& o, auto& w) {
        const std::string v = *json_string(o, "layout", w);
        if (!v.empty() && v != "tabs" && v != "tiles")
            throw InputError(w + ": field 'layout' is " + quoted(v) + ", must be tabs or tiles");
        s.layout = v;
    }, "the layout shown now");
    f.read("lesson_page", [&](auto& o, auto& w) { s.lesson_page = *json_string(o, "lesson_page", w); }, "none");
    f.read("curves", [&](auto& o, auto& w) {
        const nlohmann::json& c = o.at("curves");
        if (!c.is_object()) throw InputError(w + ": field 'curves' must be an object, got " + excerpt(c));
        s.curves = read_curves(c, problems);
        s.has_curves = true;
    }, "the Curves view as it is");
    f.unknown();
    if (s.shown_step > s.steps) {
        problem("session: shown_step " + std::to_string(s.shown_step) + " is past steps " + std::to_string(s.steps) +
                "; showing the newest");
        s.shown_step = 0;
    }
    return s;
}

SessionFile load_session_file(const std::string& path, std::vector<std::string>* problems) {
    const nlohmann::json j = read_json_file(path, "", int64_t{4} << 20);
    if (!j.is_object())
        throw InputError(path + ": a session file holds a JSON object ({\"mla_lab_session\": 1, ...}), not " + excerpt(j));
    std::vector<std::string> found;
    SessionFile s = session_from_json(j, &found);
    if (problems)
        for (const std::string& p : found) problems->push_back(path + ": " + p);
    return s;
}

void save_session_file(const SessionFile& s, const std::string& path) {
    std::string text;
    try {
        text = to_json(s).dump(2) + "\n";
    } catch (const nlohmann::json::exception&) {  // a string that is not UTF-8 (a prompt of raw bytes)
        throw InputError("cannot save the session to " + path +
                         ": the prompt is not valid UTF-8 text, and a session file is JSON text; change the prompt first");
    }
    write_file_atomic(path, text);
}

}  // namespace mla::app
