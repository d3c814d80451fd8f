// The lesson loader: parser, Show-me checks and the {{...}} values (see lesson.h).
//
// [SECTION] Small helpers
// [SECTION] Values on the page's model
// [SECTION] Values on a preset
// [SECTION] Show-me keys
// [SECTION] The parser
// [SECTION] Loading a folder
#include "lesson/lesson.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

#include "base/assets.h"
#include "base/text_file.h"
#include "curves/cache_calc.h"
#include "io/builtin.h"
#include "train/train_report.h"

namespace mla {

namespace fs = std::filesystem;

// [SECTION] Small helpers

std::string LessonError::str() const {
    std::string s = file;
    if (line > 0) {
        s += ':';
        s += std::to_string(line);
    }
    s += ": ";
    s += message;
    return s;
}

int Lesson::page_count() const {
    int n = 0;
    for (const LessonChapter& c : chapters) n += static_cast<int>(c.pages.size());
    return n;
}

namespace {

[[noreturn]] void bad(const std::string& msg) { throw InputError(msg); }

std::string trim(const std::string& s) {
    size_t a = 0, b = s.size();
    while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) --b;
    return s.substr(a, b - a);
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
    std::string out;
    for (const std::string& s : v) {
        if (!out.empty()) out += sep;
        out += s;
    }
    return out;
}

// A non-negative integer written with digits only.
uint64_t parse_count(const std::string& key, const std::string& v) {
    if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        bad(key + "=" + v + " is not valid: write a whole number with digits only, e.g. " + key + "=100000");
    return std::stoull(v);
}

std::string count_text(double v) {
    if (!std::isfinite(v) || v < 0) return std::to_string(v);
    return with_commas(static_cast<uint64_t>(std::llround(v)));
}

// A config.json field as text: integers with thousands separators.
std::string field_text(const Config& c, const std::string& field, double& value) {
    const nlohmann::json j = config_to_json(c);
    auto it = j.find(field);
    if (it == j.end()) {
        std::vector<std::string> names;
        for (auto f = j.begin(); f != j.end(); ++f) names.push_back(f.key());
        bad("no config field '" + field + "'; fields: " + join(names));
    }
    value = 0;
    if (it->is_number_integer()) {
        value = static_cast<double>(it->get<int64_t>());
        return it->get<int64_t>() < 0 ? std::to_string(it->get<int64_t>()) : with_commas(it->get<uint64_t>());
    }
    if (it->is_number()) {
        value = it->get<double>();
        char buf[64];
        std::snprintf(buf, sizeof buf, "%g", value);
        return buf;
    }
    if (it->is_boolean()) {
        value = it->get<bool>() ? 1 : 0;
        return it->get<bool>() ? "true" : "false";
    }
    if (it->is_null()) return "null";
    if (it->is_string()) return it->get<std::string>();
    return it->dump();
}

// The words of one {{...}}: positional words, key=value pairs and the flags no_cache / cache.
struct Args {
    std::string name;
    std::vector<std::string> pos;
    std::map<std::string, std::string> kv;
    std::vector<std::string> flags;

    explicit Args(const std::string& expr) {
        std::istringstream in(expr);
        std::string w;
        in >> name;
        while (in >> w) {
            const size_t eq = w.find('=');
            if (w == "no_cache" || w == "cache")
                flags.push_back(w);
            else if (eq != std::string::npos) {
                if (kv.count(w.substr(0, eq))) bad("'" + w.substr(0, eq) + "' is given twice");
                kv[w.substr(0, eq)] = w.substr(eq + 1);
            } else
                pos.push_back(w);
        }
    }
    // Refuses words that `name` does not take.
    void allow(size_t max_pos, const std::vector<std::string>& keys, bool flags_ok, const char* usage) const {
        auto fail = [&](const std::string& what) { bad(what + "; use {{" + std::string(usage) + "}}"); };
        if (pos.size() > max_pos) fail("too many words after '" + name + "' ('" + pos[max_pos] + "')");
        for (const auto& [k, v] : kv)
            if (std::find(keys.begin(), keys.end(), k) == keys.end()) fail("'" + name + "' takes no '" + k + "='");
        if (!flags_ok && !flags.empty()) fail("'" + name + "' takes no '" + flags.front() + "'");
    }
    const std::string* get(const std::string& k) const {
        auto it = kv.find(k);
        return it == kv.end() ? nullptr : &it->second;
    }
};

// [SECTION] Values on the page's model

struct PageModel {
    AttnKind kind;
    Config cfg;
    RunOptions opt;
};

PageModel page_model(const Args& a, size_t pos_index, const ShowMe& show, const LessonEnv& env) {
    PageModel m;
    m.kind = a.pos.size() > pos_index ? parse_attn_kind(a.pos[pos_index]) : show.model.kind;
    m.cfg = model_config(show.model, m.kind);
    m.opt = run_options(show.model, m.kind);
    if (const std::string* p = a.get("path")) {
        if (m.kind != AttnKind::MLA) bad("path=" + *p + " applies to mla only");
        m.opt.mla_path = parse_mla_path(*p);
    }
    for (const std::string& f : a.flags) m.opt.no_cache = f == "no_cache";
    return m;
}

int64_t model_tokens(const Args& a, const ShowMe& show) {
    if (const std::string* t = a.get("tokens")) {
        const uint64_t n = parse_count("tokens", *t);
        if (n < 1) bad("tokens=0 is not valid: give at least 1");
        if (n > static_cast<uint64_t>(kMaxPositions))
            bad("tokens=" + *t + " is more than any model's context; give at most " + with_commas(kMaxPositions));
        return static_cast<int64_t>(n);
    }
    if (show.steps < 1) bad("this page's Show me runs no steps: give tokens=N");
    return show.steps;
}

// The FLOPs of steps 1..T. A step's cost is affine in its cache length t (projections are
// fixed, scores and the weighted sum grow by one key each step, and so does recomputing the
// keys), f(t) = a + b t, so the sum is T a + b T (T + 1) / 2: one closed form instead of T
// cost computations. The affinity is checked at t = 1, 2, 3 and T; should a future cost
// model break it, the sum is taken step by step up to 1,000,000 steps and refused above.
double flops_total(const PageModel& m, int64_t T) {
    auto f = [&](int64_t t) { return step_cost(m.cfg, m.opt, t).flops(); };
    const double f1 = f(1), f2 = f(2), b = f2 - f1, a = f1 - b;
    auto near = [](double x, double y) { return std::abs(x - y) <= 1e-9 * std::max(std::abs(x), std::abs(y)); };
    const double td = static_cast<double>(T);
    if (near(f(3), a + 3 * b) && near(f(T), a + b * td)) return td * a + b * td * (td + 1) / 2;
    if (T > 1000000) bad("tokens=" + std::to_string(T) + " is too many for flops_total here: give at most 1,000,000");
    double sum = 0;
    for (int64_t t = 1; t <= T; ++t) sum += f(t);
    return sum;
}

double model_dtype_bytes(const Args& a) { return a.get("dtype") ? parse_dtype(*a.get("dtype")).bytes : 4.0; }

void eval_model(const Args& a, const ShowMe& show, const LessonEnv& env, LessonValue& v) {
    const std::string& n = a.name;
    if (n == "elements") {
        a.allow(1, {"path"}, false, "elements [KIND] [path=P]");
        const PageModel m = page_model(a, 0, show, env);
        v.value = static_cast<double>(cache_elements_per_token(m.cfg, m.opt.mla_path));
        v.text = count_text(v.value);
    } else if (n == "bytes_per_token" || n == "cache_bytes") {
        const bool total = n == "cache_bytes";
        a.allow(1, total ? std::vector<std::string>{"path", "dtype", "tokens"} : std::vector<std::string>{"path", "dtype"},
                false, total ? "cache_bytes [KIND] [tokens=T] [path=P] [dtype=D]" : "bytes_per_token [KIND] [path=P] [dtype=D]");
        const PageModel m = page_model(a, 0, show, env);
        v.value = static_cast<double>(cache_elements_per_token(m.cfg, m.opt.mla_path)) *
                  static_cast<double>(m.cfg.num_hidden_layers) * model_dtype_bytes(a);
        if (total) v.value *= static_cast<double>(model_tokens(a, show));
        v.text = count_text(v.value) + " B";
    } else if (n == "flops" || n == "flops_total") {
        a.allow(1, {"path", "tokens"}, true, "flops [KIND] [tokens=T] [path=P] [no_cache|cache]");
        const PageModel m = page_model(a, 0, show, env);
        const int64_t T = model_tokens(a, show);
        v.value = n == "flops" ? step_cost(m.cfg, m.opt, T).flops() : flops_total(m, T);
        v.text = count_text(v.value) + " FLOPs";
    } else if (n == "ratio") {
        a.allow(2, {"path"}, false, "ratio KIND KIND [path=P]");
        if (a.pos.size() != 2) bad("'ratio' needs two kinds, e.g. {{ratio mha mla}}");
        auto elements = [&](const std::string& k) {
            const AttnKind kind = parse_attn_kind(k);
            RunOptions o = run_options(show.model, kind);
            if (const std::string* p = a.get("path"); p && kind == AttnKind::MLA) o.mla_path = parse_mla_path(*p);
            return static_cast<double>(cache_elements_per_token(model_config(show.model, kind), o.mla_path));
        };
        v.value = elements(a.pos[0]) / elements(a.pos[1]);
        v.text = format_ratio(v.value);
    } else if (n == "config") {
        a.allow(2, {}, false, "config FIELD [KIND]");
        if (a.pos.empty()) bad("'config' needs a field name, e.g. {{config num_hidden_layers}}");
        Args rest = a;
        rest.pos.erase(rest.pos.begin());
        const PageModel m = page_model(rest, 0, show, env);
        v.text = field_text(m.cfg, a.pos[0], v.value);
    } else {
        bad("unknown value '" + n +
            "'; use elements, bytes_per_token, cache_bytes, flops, flops_total, ratio, config, or preset.elements, "
            "preset.terms, preset.symbolic, preset.formula, preset.bytes_per_token, preset.bytes, preset.gb, "
            "preset.gib, preset.ratio, preset.field, or quality.loss, quality.mean, quality.range, quality.seeds, "
            "quality.spread, quality.verdict");
    }
}

// [SECTION] Values on a preset

CacheLayout preset_layout(const std::string& preset, const Config& c, const std::string& kind) {
    if (kind == "own") return own_layout(c);
    const std::vector<CacheLayout> rows = cache_layouts(c, {parse_cache_kind(kind)});
    if (rows.empty()) bad(preset + " has no " + kind + " row (its head count has no divisor for groups)");
    return rows.front();
}

void eval_preset(const Args& a, LessonValue& v) {
    const std::string what = a.name.substr(std::string("preset.").size());
    const bool two_kinds = what == "ratio";
    const std::string usage = "preset." + what + (two_kinds ? " NAME KIND KIND" : what == "field" ? " NAME FIELD" : " NAME KIND") +
                              (what == "bytes" || what == "gb" || what == "gib" ? " [tokens=T] [dtype=D] [batch=B]"
                               : what == "formula" || what == "bytes_per_token" ? " [dtype=D]" : "");
    const size_t need = two_kinds ? 3 : 2;
    if (what == "bytes" || what == "gb" || what == "gib")
        a.allow(need, {"tokens", "dtype", "batch"}, false, usage.c_str());
    else if (what == "formula" || what == "bytes_per_token")
        a.allow(need, {"dtype"}, false, usage.c_str());
    else
        a.allow(need, {}, false, usage.c_str());
    if (a.pos.size() != need) bad("'" + a.name + "' needs " + std::to_string(need) + " words; use {{" + usage + "}}");

    const Config c = load_preset(a.pos[0]);
    if (what == "field") {
        v.text = field_text(c, a.pos[1], v.value);
        return;
    }
    const CacheLayout l = preset_layout(a.pos[0], c, a.pos[1]);
    const Dtype d = a.get("dtype") ? parse_dtype(*a.get("dtype")) : Dtype{"bf16", 2};
    const uint64_t tokens = a.get("tokens") ? parse_count("tokens", *a.get("tokens")) : 100000;
    const uint64_t batch = a.get("batch") ? parse_count("batch", *a.get("batch")) : 1;
    if (batch < 1) bad("batch=0 is not valid: give at least 1");
    v.value = static_cast<double>(l.elements_per_token_per_layer());
    if (what == "elements") {
        v.text = with_commas(static_cast<uint64_t>(l.elements_per_token_per_layer()));
    } else if (what == "terms") {
        v.text = l.elements_formula();
    } else if (what == "symbolic") {
        v.text = l.symbolic();
    } else if (what == "formula") {
        v.value = static_cast<double>(bytes_per_token(l, d));
        v.text = formula(l, d);
    } else if (what == "bytes_per_token") {
        v.value = static_cast<double>(bytes_per_token(l, d));
        v.text = with_commas(bytes_per_token(l, d)) + " B";
    } else if (what == "bytes" || what == "gb" || what == "gib") {
        const uint64_t b = cache_bytes(l, d, tokens, batch);
        v.value = static_cast<double>(b);
        v.text = what == "bytes" ? with_commas(b) + " B" : what == "gb" ? format_gb(b) : format_gib(b);
    } else if (what == "ratio") {
        v.value = cache_ratio(l, preset_layout(a.pos[0], c, a.pos[2]));
        v.text = format_ratio(v.value);
    } else {
        bad("unknown value '" + a.name +
            "'; preset values: preset.elements, preset.terms, preset.symbolic, preset.formula, "
            "preset.bytes_per_token, preset.bytes, preset.gb, preset.gib, preset.ratio, preset.field");
    }
}

// [SECTION] Values measured on the trained models (assets/models)

void eval_quality(const Args& a, LessonValue& v) {
    const std::string what = a.name.substr(std::string("quality.").size());
    if (what != "loss" && what != "mean" && what != "range" && what != "seeds" && what != "spread" && what != "verdict")
        bad("unknown value '" + a.name + "'; quality values: quality.loss, quality.mean, quality.range, quality.seeds, "
            "quality.spread, quality.verdict");
    const bool per_kind = what != "spread" && what != "verdict";
    const std::string usage = "quality." + what + (per_kind ? " KIND" : "") + " [set=S]";
    a.allow(per_kind ? 1 : 0, {"set"}, false, usage.c_str());
    if (a.pos.size() != (per_kind ? 1u : 0u)) bad("'" + a.name + "' needs " + (per_kind ? "a kind" : "no word") + "; use {{" + usage + "}}");
    const std::string set = a.get("set") ? *a.get("set") : std::string(kDefaultTrainedSet);
    const std::string dir = find_assets_subdir("models");
    if (dir.empty()) bad("no assets/models folder was found for {{" + a.name + "}}");
    const QualityFindings q = quality_findings(models_in_set(load_trained_models(dir), set));
    if (q.kinds.empty()) bad("the trained set '" + set + "' has no models in " + dir);
    auto fixed4 = [](double x) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.4f", x);
        return std::string(buf);
    };
    if (what == "spread") {
        v.value = q.seed_range;
        v.text = fixed4(v.value);
        return;
    }
    if (what == "verdict") {  // the findings' last sentence: the spread between seeds against the differences
        v.value = q.seed_range;
        v.text = q.lines.back();
        return;
    }
    const AttnKind kind = parse_attn_kind(a.pos[0]);
    const KindQuality* k = nullptr;
    for (const KindQuality& x : q.kinds)
        if (x.kind == kind) k = &x;
    if (!k) bad("the trained set '" + set + "' has no " + a.pos[0] + " model");
    if (what == "loss") {
        v.value = k->first;
        v.text = fixed4(v.value);
    } else if (what == "mean") {
        v.value = k->mean;
        v.text = fixed4(v.value);
    } else if (what == "range") {
        v.value = k->max - k->min;
        v.text = fixed4(k->min) + " to " + fixed4(k->max);
    } else {  // seeds
        v.value = static_cast<double>(k->runs.size());
        v.text = std::to_string(k->runs.size());
    }
}

}  // namespace

LessonValue lesson_value(const std::string& expr, const ShowMe& show, const LessonEnv& env) {
    const Args a(expr);
    if (a.name.empty()) bad("empty {{ }}: write a value name inside, e.g. {{bytes_per_token}}");
    LessonValue v;
    v.expr = trim(expr);
    v.name = a.name;
    v.plain = a.kv.empty() && a.flags.empty();
    const bool preset = starts_with(a.name, "preset.");
    const bool quality = starts_with(a.name, "quality.");
    if (!preset && !quality && !a.pos.empty() && a.name != "config") v.kind = a.pos[0];
    if (!preset && !quality && a.name == "config" && a.pos.size() > 1) v.kind = a.pos[1];
    if (preset)
        eval_preset(a, v);
    else if (quality)
        eval_quality(a, v);
    else
        eval_model(a, show, env, v);
    return v;
}

LessonEnv default_lesson_env() {
    LessonEnv env;
    env.views = {"shapes", "cache", "attention", "absorption", "compare", "curves", "quality", "predictions", "convert"};
    return env;
}

namespace {

// [SECTION] Show-me keys

bool parse_bool(const std::string& k, const std::string& v) {
    if (v == "true" || v == "on" || v == "yes") return true;
    if (v == "false" || v == "off" || v == "no") return false;
    bad(k + "=" + v + " is not valid: use true or false");
}

int64_t parse_int_key(const std::string& k, const std::string& v) {
    return static_cast<int64_t>(parse_count(k, v));
}

const std::vector<std::string>& show_keys() {
    static const std::vector<std::string> keys = {"kind",    "kv_heads", "kv_lora_rank", "rope_dim", "q_lora_rank",
                                                  "mla_path", "rope_on_latent", "no_cache", "cache_dtype", "seed", "prompt",
                                                  "steps",   "view",     "layer",        "head",     "trained"};
    return keys;
}

void set_show_key(ShowMe& s, const std::string& k, const std::string& v, const LessonEnv& env) {
    if (k == "kind") s.model.kind = parse_attn_kind(v);
    else if (k == "kv_heads") s.model.kv_heads = parse_int_key(k, v);
    else if (k == "kv_lora_rank") s.model.kv_lora_rank = parse_int_key(k, v);
    else if (k == "rope_dim") s.model.rope_dim = parse_int_key(k, v);
    else if (k == "q_lora_rank") s.model.q_lora_rank = parse_int_key(k, v);
    else if (k == "mla_path") s.model.mla_path = parse_mla_path(v);
    else if (k == "rope_on_latent") s.model.rope_on_latent = parse_bool(k, v);
    else if (k == "no_cache") s.model.no_cache = parse_bool(k, v);
    else if (k == "cache_dtype") s.model.cache_dtype = parse_cache_dtype(v);
    else if (k == "seed") s.model.seed = parse_count(k, v);
    else if (k == "prompt") {
        if (v.empty()) bad("prompt=\"\" is empty: give at least one character");
        s.model.prompt = v;
    } else if (k == "steps") s.steps = parse_int_key(k, v);
    else if (k == "view") {
        if (std::find(env.views.begin(), env.views.end(), v) == env.views.end())
            bad("view=" + v + " is not a view; use " + join(env.views));
        s.view = v;
    } else if (k == "layer") s.layer = static_cast<int>(parse_int_key(k, std::to_string(std::min<uint64_t>(parse_count(k, v), 1u << 30))));
    else if (k == "trained") {
        check_trained_set(v);
        s.model.trained_set = v;
    } else if (k == "head") s.head = v == "none" ? -1 : static_cast<int>(std::min<uint64_t>(parse_count(k, v), 1u << 30));
    else bad("unknown key '" + k + "' in @show; keys: " + join(show_keys()));
}

// "kind=gqa prompt=\"a b\"" -> pairs; a quoted value may hold spaces and \" and \\.
std::vector<std::pair<std::string, std::string>> split_show(const std::string& s) {
    std::vector<std::pair<std::string, std::string>> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
        if (i >= s.size()) break;
        size_t eq = i;
        while (eq < s.size() && s[eq] != '=' && s[eq] != ' ' && s[eq] != '\t') ++eq;
        const std::string key = s.substr(i, eq - i);
        if (eq >= s.size() || s[eq] != '=')
            bad("'" + key + "' in @show has no value: write key=value, e.g. kind=gqa");
        i = eq + 1;
        std::string val;
        if (i < s.size() && s[i] == '"') {
            ++i;
            bool closed = false;
            while (i < s.size()) {
                if (s[i] == '\\' && i + 1 < s.size()) {
                    val += s[i + 1] == 'n' ? '\n' : s[i + 1];  // \n is a new line; \" and \\ themselves
                    i += 2;
                } else if (s[i] == '"') {
                    closed = true;
                    ++i;
                    break;
                } else
                    val += s[i++];
            }
            if (!closed) bad("the quote after " + key + "= is not closed: end the value with \"");
        } else {
            while (i < s.size() && s[i] != ' ' && s[i] != '\t') val += s[i++];
        }
        out.emplace_back(key, val);
    }
    return out;
}

// [SECTION] The parser

enum class Part { None, Paragraph, Note, Bullet, Question, Answer };

struct Segment {
    int line;
    std::string raw;
};

struct RawBlock {
    BlockKind kind;
    Part part;
    std::vector<Segment> segs;
};

struct RawPage {
    LessonPage page;
    std::vector<RawBlock> blocks;
    std::vector<Segment> question, answer;
    int question_line = 0, answer_line = 0;
    std::vector<std::string> show_keys_seen;
};

class Parser {
public:
    Parser(const std::string& file, const LessonEnv& env, std::vector<LessonError>& errors)
        : file_(file), env_(env), errors_(errors) {}

    LessonChapter run(const std::string& text) {
        std::istringstream in(text);
        std::string line;
        int n = 0;
        bool comment = false;
        while (std::getline(in, line)) {
            ++n;
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (n == 1 && starts_with(line, "\xEF\xBB\xBF")) line = line.substr(3);  // UTF-8 byte order mark
            if (comment) {
                if (line.find("-->") != std::string::npos) comment = false;
                continue;
            }
            const std::string t = trim(line);
            if (starts_with(t, "<!--")) {
                comment = t.find("-->", 4) == std::string::npos;
                continue;
            }
            try {
                take(n, line, t);
            } catch (const InputError& e) {
                error(n, e.what());
            }
        }
        if (comment) error(n, "a comment '<!--' is not closed: end it with '-->'");
        finish_page();
        if (!has_title_) error(0, "the file has no chapter title: start it with '# Title'");
        else if (pages_seen_ == 0) error(title_line_, "the chapter has no page: start one with '## Page title'");
        return chapter_;
    }

private:
    void error(int line, const std::string& msg) { errors_.push_back({file_, line, msg}); }

    void take(int n, const std::string& line, const std::string& t) {
        if (t.empty()) {
            part_ = Part::None;
            return;
        }
        if (starts_with(line, "## ") || line == "##") {
            finish_page();
            if (!has_title_) bad("a page before the chapter title: start the file with '# Title'");
            page_ = RawPage{};
            page_.page.title = trim(line.substr(2));
            page_.page.line = n;
            in_page_ = true;
            part_ = Part::None;
            if (page_.page.title.empty()) bad("the page has no title: write '## Page title'");
            return;
        }
        if (starts_with(line, "# ") || line == "#") {
            if (has_title_) bad("a second chapter title: one '# Title' per file; start a page with '## Title'");
            chapter_.title = trim(line.substr(1));
            has_title_ = true;
            title_line_ = n;
            if (chapter_.title.empty()) bad("the chapter title is empty: write '# Title'");
            return;
        }
        if (!has_title_) bad("text before the chapter title: start the file with '# Title'");
        if (!in_page_) bad("text before the first page: start a page with '## Page title'");
        RawPage& p = page_;
        if (starts_with(t, "$$")) {
            const std::string eq = trim(t.substr(2));
            if (eq.empty()) bad("an empty equation line: write the equation after '$$'");
            p.blocks.push_back({BlockKind::Equation, Part::None, {{n, eq}}});
            part_ = Part::None;
        } else if (starts_with(t, ">")) {
            const std::string note = trim(t.substr(1));
            if (note.empty()) {
                part_ = Part::None;
            } else if (part_ == Part::Note) {
                p.blocks.back().segs.push_back({n, note});
            } else {
                p.blocks.push_back({BlockKind::Note, Part::Note, {{n, note}}});
                part_ = Part::Note;
            }
        } else if (starts_with(t, "- ") || t == "-") {
            const std::string item = trim(t.substr(1));
            if (item.empty()) bad("an empty bullet: write text after '- '");
            p.blocks.push_back({BlockKind::Bullet, Part::Bullet, {{n, item}}});
            part_ = Part::Bullet;
        } else if (starts_with(t, "@")) {
            directive(n, t);
        } else if (part_ == Part::Paragraph || part_ == Part::Note || part_ == Part::Bullet) {
            p.blocks.back().segs.push_back({n, t});
        } else if (part_ == Part::Question) {
            p.question.push_back({n, t});
        } else if (part_ == Part::Answer) {
            p.answer.push_back({n, t});
        } else {
            p.blocks.push_back({BlockKind::Paragraph, Part::Paragraph, {{n, t}}});
            part_ = Part::Paragraph;
        }
    }

    void directive(int n, const std::string& t) {
        size_t sp = t.find_first_of(" \t");
        const std::string word = t.substr(0, sp);
        const std::string rest = sp == std::string::npos ? "" : trim(t.substr(sp));
        RawPage& p = page_;
        part_ = Part::None;
        if (word == "@show") {
            if (rest.empty()) bad("@show with nothing after it: write keys, e.g. @show kind=gqa kv_heads=2 steps=12");
            if (!p.page.has_show) p.page.show_line = n;
            p.page.has_show = true;
            try {
                for (const auto& [k, v] : split_show(rest)) {
                    if (std::find(p.show_keys_seen.begin(), p.show_keys_seen.end(), k) != p.show_keys_seen.end())
                        bad("'" + k + "' is set twice in this page's @show");
                    set_show_key(p.page.show, k, v, env_);
                    p.show_keys_seen.push_back(k);
                }
            } catch (const InputError& e) {
                bad(std::string("@show: ") + e.what());
            }
        } else if (word == "@question") {
            if (p.question_line) bad("a second @question on this page: one question per page");
            if (rest.empty()) bad("@question with no text: write the question after it");
            p.question_line = n;
            p.question.push_back({n, rest});
            part_ = Part::Question;
        } else if (word == "@answer") {
            if (p.answer_line) bad("a second @answer on this page: one answer per page");
            if (rest.empty()) bad("@answer with no text: write the answer after it");
            p.answer_line = n;
            p.answer.push_back({n, rest});
            part_ = Part::Answer;
        } else {
            bad("unknown directive '" + word + "'; use @show, @question or @answer");
        }
    }

    // Fills in the {{...}} of one line.
    std::string expand(const Segment& s, LessonPage& page) {
        std::string out;
        size_t i = 0;
        while (true) {
            const size_t open = s.raw.find("{{", i);
            const size_t close_stray = s.raw.find("}}", i);
            if (open == std::string::npos) {
                if (close_stray != std::string::npos) bad("'}}' with no '{{' before it");
                out += s.raw.substr(i);
                return out;
            }
            if (close_stray != std::string::npos && close_stray < open) bad("'}}' with no '{{' before it");
            const size_t close = s.raw.find("}}", open + 2);
            if (close == std::string::npos) bad("'{{' is not closed on this line: end the value with '}}'");
            out += s.raw.substr(i, open - i);
            const std::string expr = s.raw.substr(open + 2, close - open - 2);
            if (expr.find("{{") != std::string::npos) bad("'{{' inside a value: close the first one with '}}'");
            LessonValue v;
            try {
                v = lesson_value(expr, page.show, env_);
            } catch (const InputError& e) {
                bad("{{" + trim(expr) + "}}: " + e.what());
            }
            v.line = s.line;
            out += v.text;
            page.values.push_back(v);
            i = close + 2;
        }
    }

    std::string expand_all(const std::vector<Segment>& segs, LessonPage& page, bool& ok) {
        std::string out;
        for (const Segment& s : segs) {
            try {
                const std::string text = expand(s, page);
                if (!out.empty()) out += ' ';
                out += text;
            } catch (const InputError& e) {
                error(s.line, e.what());
                ok = false;
            }
        }
        return out;
    }

    void check_show(LessonPage& page) {
        const ShowMe& s = page.show;
        try {
            validate_settings(s.model);
            const Config c = model_config(s.model, s.model.kind);
            if (s.layer >= c.num_hidden_layers)
                bad("layer=" + std::to_string(s.layer) + " is not valid: the model has layers 0 to " +
                    std::to_string(c.num_hidden_layers - 1));
            if (s.head >= c.num_attention_heads)
                bad("head=" + std::to_string(s.head) + " is not valid: the model has query heads 0 to " +
                    std::to_string(c.num_attention_heads - 1));
            if (s.steps > c.max_position_embeddings)
                bad("steps=" + std::to_string(s.steps) + " is more than the model's context of " +
                    std::to_string(c.max_position_embeddings) + " tokens");
        } catch (const InputError& e) {
            error(page.show_line, std::string("@show: ") + e.what());
        }
    }

    void finish_page() {
        if (!in_page_) return;
        in_page_ = false;
        ++pages_seen_;
        RawPage& p = page_;
        LessonPage& page = p.page;
        const size_t errors_before = errors_.size();
        if (page.has_show) check_show(page);
        bool ok = errors_.size() == errors_before;
        if (p.blocks.empty()) error(page.line, "the page '" + page.title + "' has no text");
        if (p.question_line && !p.answer_line) error(p.question_line, "@question with no @answer on this page");
        if (p.answer_line && !p.question_line) error(p.answer_line, "@answer with no @question on this page");
        if (!ok) return;  // values on a model that cannot run would only repeat the @show error
        Segment title{page.line, page.title};
        try {
            page.title = expand(title, page);
        } catch (const InputError& e) {
            error(page.line, e.what());
        }
        for (const RawBlock& b : p.blocks) page.blocks.push_back({b.kind, expand_all(b.segs, page, ok), b.segs.front().line});
        page.question = expand_all(p.question, page, ok);
        page.answer = expand_all(p.answer, page, ok);
        chapter_.pages.push_back(std::move(page));
    }

    std::string file_;
    const LessonEnv& env_;
    std::vector<LessonError>& errors_;
    LessonChapter chapter_;
    bool has_title_ = false;
    int title_line_ = 0;
    bool in_page_ = false;
    int pages_seen_ = 0;
    RawPage page_;
    Part part_ = Part::None;
};

}  // namespace

LessonChapter parse_lesson_chapter(const std::string& text, const std::string& file, const LessonEnv& env,
                                   std::vector<LessonError>& errors) {
    Parser p(file, env, errors);
    LessonChapter c = p.run(text);
    c.file = file;
    c.id = fs::path(file).stem().string();
    return c;
}

// [SECTION] Loading a folder

Lesson load_lesson(const std::string& dir, const LessonEnv& env) {
    Lesson lesson;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        lesson.errors.push_back({dir, 0, "no lesson folder here: keep the chapter files (*.md) in assets/lesson"});
        return lesson;
    }
    std::vector<fs::path> files;
    for (const fs::directory_entry& e : fs::directory_iterator(dir, ec))
        if (e.is_regular_file() && e.path().extension() == ".md") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) lesson.errors.push_back({dir, 0, "no chapter files (*.md) in the lesson folder"});
    int number = 0;
    for (const fs::path& f : files) {
        ++number;
        std::string text;
        try {
            text = read_file(f.string(), "", kMaxChapterBytes);
        } catch (const InputError& e) {
            lesson.errors.push_back({f.string(), 0, e.what()});
            continue;
        }
        const size_t before = lesson.errors.size();
        LessonChapter c = parse_lesson_chapter(text, f.string(), env, lesson.errors);
        c.number = number;
        if (lesson.errors.size() == before) lesson.chapters.push_back(std::move(c));
    }
    return lesson;
}

std::string lesson_dir() {
    const std::string d = find_assets_subdir("lesson");
    if (d.empty()) throw InputError(assets_not_found("lesson"));
    return d;
}

}  // namespace mla
