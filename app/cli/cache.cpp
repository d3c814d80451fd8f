// mla-lab cache | plot | presets: the KV-cache size calculator on the command line.
// All arithmetic is in core/curves/cache_calc.h; this file parses flags and prints.
//
// [SECTION] Flag parsing helpers
// [SECTION] cache
// [SECTION] plot
// [SECTION] presets
// [SECTION] Registration
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/text_file.h"
#include "cli/cli.h"
#include "curves/cache_calc.h"
#include "curves/svg_plot.h"
#include "model/config.h"
#include "window/plot_png.h"
#include "window/window.h"

namespace mla::cli {

namespace {

using nlohmann::json;

// [SECTION] Flag parsing helpers

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size()) {
        const size_t end = s.find(',', start);
        const std::string item = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!item.empty()) out.push_back(item);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return out;
}

// "100000", "100k", "1M", "2G" (k = 10^3, M = 10^6, G = 10^9).
uint64_t parse_token_count(const std::string& flag, const std::string& s) {
    const std::string hint = flag + ": '" + s + "' is not a token count; give whole numbers such as 100000, 100k or 1M";
    if (s.empty()) throw InputError(hint);
    uint64_t scale = 1;
    std::string digits = s;
    switch (s.back()) {
        case 'k': case 'K': scale = 1000; digits.pop_back(); break;
        case 'm': case 'M': scale = 1000000; digits.pop_back(); break;
        case 'g': case 'G': scale = 1000000000; digits.pop_back(); break;
        default: break;
    }
    if (digits.empty() || digits.size() > 19 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
        throw InputError(hint);
    uint64_t v = 0;
    if (__builtin_mul_overflow(std::stoull(digits), scale, &v)) throw InputError(hint + " (this one is too large)");
    return v;
}

uint64_t parse_batch(int64_t b) {
    if (b < 1) throw InputError("--batch " + std::to_string(b) + " is not valid: it must be at least 1");
    return static_cast<uint64_t>(b);
}

// "all" = every kind; "own" = the model's own kind (returned empty, the caller decides).
std::vector<CacheKind> parse_kinds(const std::string& s, bool& own_only) {
    own_only = false;
    if (s.empty() || s == "all") return all_cache_kinds();
    if (s == "own") {
        own_only = true;
        return {};
    }
    std::vector<CacheKind> out;
    for (const std::string& item : split_commas(s)) {
        try {
            out.push_back(parse_cache_kind(item));
        } catch (const InputError& e) {
            throw InputError(std::string("--kinds: ") + e.what() + ", or all, or own");
        }
    }
    if (out.empty()) throw InputError("--kinds is empty; give e.g. mha,mla, or all, or own");
    return out;
}

// One model from --preset NAME or --config FILE (exactly one).
CurveModel resolve_model(const std::string& preset, const std::string& config_path) {
    if (preset.empty() == config_path.empty()) {
        std::string names;
        for (const std::string& n : preset_names()) names += (names.empty() ? "" : ", ") + n;
        throw InputError("give one of --preset NAME or --config FILE; presets: " + names);
    }
    if (!preset.empty()) return {preset, load_preset(preset)};
    return {config_path, load_calc_config(config_path)};
}

std::string pad_left(const std::string& s, size_t w) { return s.size() >= w ? s : std::string(w - s.size(), ' ') + s; }
std::string pad_right(const std::string& s, size_t w) { return s.size() >= w ? s : s + std::string(w - s.size(), ' '); }

// A plain text table; align[i] is 'l' or 'r' for column i (the last column is never padded).
std::string text_table(const std::vector<std::vector<std::string>>& rows, const std::string& align) {
    std::vector<size_t> w;
    for (const auto& r : rows) {
        if (w.size() < r.size()) w.resize(r.size(), 0);
        for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
    }
    std::string out;
    for (const auto& r : rows) {
        std::string line;
        for (size_t i = 0; i < r.size(); ++i) {
            const bool left = i < align.size() && align[i] == 'l';
            if (i) line += "  ";
            if (left) line += i + 1 == r.size() ? r[i] : pad_right(r[i], w[i]);
            else line += pad_left(r[i], w[i]);
        }
        out += line + "\n";
    }
    return out;
}

// "80 GB" as the user wrote it, not rounded to the table's precision.
std::string capacity_text(double gb) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g GB", gb);
    return buf;
}

void write_file(const std::string& path, const std::string& text) { write_file_atomic(path, text); }

bool ends_with(const std::string& s, const std::string& suffix) {
    if (s.size() < suffix.size()) return false;
    std::string tail = s.substr(s.size() - suffix.size());
    std::transform(tail.begin(), tail.end(), tail.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return tail == suffix;
}

// [SECTION] cache

struct CacheArgs {
    std::string preset, config, tokens = "100000", dtype = "bf16", format = "table", kinds = "all";
    int64_t batch = 1;
    int64_t groups = 0, latent = 0, rope_dim = 0;
    double fits_gb = 80;
};

std::string own_description(const Config& c) {
    const CacheLayout own = own_layout(c);
    std::string s = c.model_type + ", " + own.label() + ", " + std::to_string(c.num_hidden_layers) + " layers, " +
                    std::to_string(c.num_attention_heads) + " query heads";
    if (c.sliding_window > 0) s += ", sliding window " + with_commas(static_cast<uint64_t>(c.sliding_window));
    return s;
}

void print_cache_table(const CacheReport& rep, uint64_t capacity_bytes, const std::string& capacity) {
    const Config& c = rep.config;
    const CacheLayout own = own_layout(c);
    const bool window = c.sliding_window > 0;
    std::printf("%s: %s\n", rep.model.c_str(), own_description(c).c_str());
    std::printf("KV cache in %s (%d B per element), batch %s; * = the model's own attention\n\n", rep.dtype.name.c_str(),
                rep.dtype.bytes, with_commas(rep.batch).c_str());

    std::vector<std::vector<std::string>> t = {{"kind", "elements/token/layer", "bytes/token", "vs own", "formula"}};
    for (const CacheLayout& l : rep.layouts)
        t.push_back({l.label() + (l.own ? " *" : ""), with_commas(static_cast<uint64_t>(l.elements_per_token_per_layer())),
                     with_commas(bytes_per_token(l, rep.dtype)), format_ratio(cache_ratio(l, own)),
                     l.symbolic() + " x L x b = " + formula(l, rep.dtype)});
    std::printf("Per token:\n%s", text_table(t, "lrrrl").c_str());

    const std::string cap = "max tokens in " + capacity;
    for (size_t start = 0; start < rep.rows.size(); start += rep.layouts.size()) {
        const uint64_t T = rep.rows[start].tokens;
        std::printf("\nAt %s tokens, batch %s:\n", with_commas(T).c_str(), with_commas(rep.batch).c_str());
        std::vector<std::string> head = {"kind", window ? "bytes (full context)" : "bytes", "GB", "GiB"};
        if (window) {
            const std::string w = with_commas(static_cast<uint64_t>(c.sliding_window));
            head.insert(head.end(), {"held (window " + w + ")", "GB held", "GiB held"});
        }
        head.push_back(cap);
        std::vector<std::vector<std::string>> b = {head};
        std::string fit, no_fit;
        for (size_t i = start; i < start + rep.layouts.size(); ++i) {
            const CacheRow& r = rep.rows[i];
            std::vector<std::string> row = {std::string(to_string(r.layout.kind)) + (r.layout.own ? " *" : ""),
                                            with_commas(r.bytes), format_gb(r.bytes), format_gib(r.bytes)};
            if (window) row.insert(row.end(), {with_commas(r.bytes_held), format_gb(r.bytes_held), format_gib(r.bytes_held)});
            const uint64_t max_t = max_tokens_in(capacity_bytes, r.bytes_per_token, rep.batch);
            const bool window_fits = window && max_t >= static_cast<uint64_t>(c.sliding_window);
            row.push_back(with_commas(max_t) + (window_fits ? " (any with the window)" : ""));
            b.push_back(row);
            const std::string name = to_string(r.layout.kind);
            std::string& list = r.bytes_held <= capacity_bytes ? fit : no_fit;
            list += (list.empty() ? "" : ", ") + name;
        }
        std::printf("%s", text_table(b, "lrrrrrrr").c_str());
        std::printf("Fits in %s (cache only, no weights; 1 GB = 10^9 B%s): %s; does not fit: %s\n",
                    capacity.c_str(), window ? "; with the window" : "",
                    fit.empty() ? "none" : fit.c_str(), no_fit.empty() ? "none" : no_fit.c_str());
    }

    std::printf("\nNotes:\n");
    for (const std::string& n : rep.notes) std::printf("- %s\n", n.c_str());
    const std::string article = article_units_note(rep.model, c);
    if (!article.empty()) {
        std::string indented;
        for (char ch : article) indented += ch == '\n' ? std::string("\n  ") : std::string(1, ch);
        std::printf("- %s\n", indented.c_str());
    }
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
}

void print_cache_csv(const CacheReport& rep) {
    std::printf("model,dtype,batch,kind,own,tokens,elements_per_token_per_layer,bytes_per_token,bytes,tokens_held,bytes_held,formula\n");
    for (const CacheRow& r : rep.rows)
        std::printf("%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", csv_field(rep.model).c_str(), rep.dtype.name.c_str(),
                    std::to_string(rep.batch).c_str(), to_string(r.layout.kind), r.layout.own ? "true" : "false",
                    std::to_string(r.tokens).c_str(), std::to_string(r.layout.elements_per_token_per_layer()).c_str(),
                    std::to_string(r.bytes_per_token).c_str(), std::to_string(r.bytes).c_str(),
                    std::to_string(r.tokens_held).c_str(), std::to_string(r.bytes_held).c_str(), csv_field(r.formula).c_str());
}

void print_cache_json(const CacheReport& rep) {
    json j;
    j["model"] = rep.model;
    j["dtype"] = rep.dtype.name;
    j["dtype_bytes"] = rep.dtype.bytes;
    j["batch"] = rep.batch;
    j["sliding_window"] = rep.config.sliding_window > 0 ? json(rep.config.sliding_window) : json(nullptr);
    j["rows"] = json::array();
    for (const CacheRow& r : rep.rows) {
        json row = {{"kind", to_string(r.layout.kind)},
                    {"label", r.layout.label()},
                    {"tokens", r.tokens},
                    {"elements_per_token_per_layer", r.layout.elements_per_token_per_layer()},
                    {"bytes_per_token", r.bytes_per_token},
                    {"bytes", r.bytes},
                    {"own", r.layout.own},
                    {"formula", r.formula}};
        if (rep.config.sliding_window > 0) {
            row["tokens_held"] = r.tokens_held;
            row["bytes_held"] = r.bytes_held;
        }
        j["rows"].push_back(row);
    }
    j["notes"] = rep.notes;
    if (std::string article = article_units_note(rep.model, rep.config); !article.empty()) {
        std::replace(article.begin(), article.end(), '\n', ' ');
        j["notes"].push_back(article);
    }
    std::printf("%s\n", j.dump(2).c_str());
}

int run_cache(const CacheArgs& a) {
    const CurveModel m = resolve_model(a.preset, a.config);
    CacheRequest r;
    r.tokens.clear();
    for (const std::string& s : split_commas(a.tokens)) r.tokens.push_back(parse_token_count("--tokens", s));
    if (r.tokens.empty()) throw InputError("--tokens is empty; give e.g. 100000 or 4096,32768,100000");
    r.dtype = parse_dtype(a.dtype);
    r.batch = parse_batch(a.batch);
    bool own_only = false;
    r.kinds = parse_kinds(a.kinds, own_only);
    if (own_only) r.kinds = {cache_kind_of(m.config.attn_kind())};
    r.choices = {a.groups, a.latent, a.rope_dim};
    const uint64_t capacity = gb_to_bytes(a.fits_gb);
    const CacheReport rep = cache_report(m.name, m.config, r);
    if (a.format == "table") print_cache_table(rep, capacity, capacity_text(a.fits_gb));
    else if (a.format == "csv") print_cache_csv(rep);
    else if (a.format == "json") print_cache_json(rep);
    else throw InputError("--format '" + a.format + "' is not known; use table, csv or json");
    return 0;
}

// [SECTION] plot

struct PlotArgs {
    std::string presets, kinds = "own", dtype = "bf16", out, max_tokens = "1M", min_tokens;
    std::string size = "1200x760", theme = "light";  // FILE.png only
    std::vector<std::string> configs;
    int64_t batch = 1;
    int64_t groups = 0, latent = 0, rope_dim = 0;
    bool log = false, linear = false;
};

// FILE.png: the window's Curves chart (views/curves_view.h) drawn off screen by the app's
// renderer (plot_png.h); needs a display, as `mla-lab screenshot` does.
void write_plot_png(const PlotArgs& a, const std::vector<CurveModel>& models, const CurveRequest& r, bool own_only) {
    app::PlotPngOptions o;
    app::parse_size(a.size, o.width, o.height);
    if (a.theme != "light" && a.theme != "dark") throw InputError("--theme '" + a.theme + "' is not known; use light or dark");
    o.dark = a.theme == "dark";
    app::CurvesSettings s;
    s.own = own_only;
    s.kinds = own_only ? std::vector<CacheKind>{} : r.kinds;
    s.dtype = r.dtype.name;
    s.batch = r.batch;
    s.min_tokens = r.min_tokens;
    s.max_tokens = r.max_tokens;
    s.log = r.log_x;
    s.choices = r.choices;
    std::vector<app::CurvesModel> list;
    for (const CurveModel& m : models) list.push_back({m.name, "", true, m.config});
    app::write_curves_png(a.out, app::curves_data(list, s), s, o);
}

int run_plot(const PlotArgs& a) {
    if (a.out.empty()) throw InputError("--out is required: give FILE.svg, FILE.csv or FILE.png");
    const bool svg = ends_with(a.out, ".svg"), csv = ends_with(a.out, ".csv"), png = ends_with(a.out, ".png");
    if (!svg && !csv && !png) throw InputError("--out " + a.out + ": unknown file type; give FILE.svg, FILE.csv or FILE.png");

    std::vector<CurveModel> models;
    for (const std::string& p : split_commas(a.presets)) models.push_back({p, load_preset(p)});
    for (const std::string& c : a.configs) models.push_back({c, load_calc_config(c)});
    if (models.empty()) {
        std::string names;
        for (const std::string& n : preset_names()) names += (names.empty() ? "" : ", ") + n;
        throw InputError("give --preset A,B,... or --config FILE; presets: " + names);
    }

    CurveRequest r;
    bool own_only = false;
    r.kinds = parse_kinds(a.kinds, own_only);
    r.log_x = !a.linear;
    r.max_tokens = parse_token_count("--max-tokens", a.max_tokens);
    r.min_tokens = a.min_tokens.empty() ? (r.log_x ? 1000 : 0) : parse_token_count("--min-tokens", a.min_tokens);
    if (r.log_x && r.min_tokens >= r.max_tokens && a.min_tokens.empty()) r.min_tokens = 1;
    r.dtype = parse_dtype(a.dtype);
    r.batch = parse_batch(a.batch);
    r.choices = {a.groups, a.latent, a.rope_dim};

    const std::vector<CurveSeries> series = curve_series(models, r);
    if (series.empty()) throw InputError("nothing to plot: no model has a row for --kinds " + a.kinds);
    if (svg) {
        PlotOptions o;
        o.log = r.log_x;
        o.subtitle = r.dtype.name + ", batch " + with_commas(r.batch) +
                     "; cache only; 1 GB = 10^9 B; a sliding-window model's curve is capped at its window";
        write_file(a.out, plot_svg(series, curve_callouts(models, series), o));
    } else if (csv) {
        write_file(a.out, plot_csv(series));
    } else {
        write_plot_png(a, models, r, own_only);
    }
    std::printf("wrote %s: %zu series, %zu context lengths from %s to %s tokens\n", a.out.c_str(), series.size(),
                series.front().tokens.size(), with_commas(series.front().tokens.front()).c_str(),
                with_commas(series.front().tokens.back()).c_str());
    return 0;
}

// [SECTION] presets

int run_presets(const std::string& format) {
    const Dtype bf16 = {"bf16", 2};
    std::vector<std::vector<std::string>> t = {
        {"preset", "model_type", "attention", "layers", "elements/token/layer", "bf16 B/token", "at 100,000 tokens"}};
    json j = json::array();
    for (const std::string& name : preset_names()) {
        const Config c = load_preset(name);
        const CacheLayout own = own_layout(c);
        const uint64_t bpt = bytes_per_token(own, bf16);
        const uint64_t at = cache_bytes(own, bf16, 100000);
        std::string attn = own.label();
        if (c.sliding_window > 0) attn += ", window " + std::to_string(c.sliding_window);
        t.push_back({name, c.model_type, attn, std::to_string(c.num_hidden_layers),
                     with_commas(static_cast<uint64_t>(own.elements_per_token_per_layer())), with_commas(bpt), format_gb(at)});
        j.push_back({{"name", name},
                     {"model_type", c.model_type},
                     {"attention", to_string(own.kind)},
                     {"label", own.label()},
                     {"layers", c.num_hidden_layers},
                     {"elements_per_token_per_layer", own.elements_per_token_per_layer()},
                     {"bf16_bytes_per_token", bpt},
                     {"sliding_window", c.sliding_window > 0 ? json(c.sliding_window) : json(nullptr)}});
    }
    if (format == "json") {
        std::printf("%s\n", j.dump(2).c_str());
    } else if (format == "table") {
        std::printf("%s", text_table(t, "lllrrrr").c_str());
        std::printf("(at 100,000 tokens: full context, batch 1; presets folder: %s)\n", presets_dir().c_str());
    } else {
        throw InputError("--format '" + format + "' is not known; use table or json");
    }
    return 0;
}

}  // namespace

// [SECTION] Registration

void add_cache_commands(CLI::App& root, Commands& cmds) {
    auto ca = std::make_shared<CacheArgs>();
    CLI::App* cache = root.add_subcommand("cache", "KV-cache size per attention kind, with the formula behind each number");
    cache->add_option("--preset", ca->preset, "a preset name (see `mla-lab presets`)");
    cache->add_option("--config", ca->config, "a Hugging Face config.json");
    cache->add_option("--tokens", ca->tokens, "context lengths, comma-separated; 100k and 1M work (default 100000)");
    cache->add_option("--dtype", ca->dtype, "fp32, bf16, fp16 or fp8 (default bf16)");
    cache->add_option("--batch", ca->batch, "sequences held at once (default 1)");
    cache->add_option("--format", ca->format, "table, csv or json (default table)");
    cache->add_option("--kinds", ca->kinds, "mha,gqa,mqa,mla,mla-cached-kv, all or own (default all)");
    cache->add_option("--groups", ca->groups, "G of the gqa row (default: the model's own, else a divisor of H up to 8)");
    cache->add_option("--latent", ca->latent, "C (d_c) of the mla rows (default: the model's own, else 4 Dh)");
    cache->add_option("--rope-dim", ca->rope_dim, "Dr (d_r) of the mla rows (default: the model's own, else Dh / 2)");
    cache->add_option("--fits-gb", ca->fits_gb, "capacity for the fits-in line, decimal GB (default 80)");
    cmds.push_back({cache, [ca]() { return run_cache(*ca); }});

    auto pa = std::make_shared<PlotArgs>();
    CLI::App* plot = root.add_subcommand("plot", "cache-size curves written to FILE.svg or FILE.csv (no display needed), "
                                                 "or FILE.png (needs a display; works under xvfb-run -a)");
    plot->add_option("--preset", pa->presets, "preset names, comma-separated");
    plot->add_option("--config", pa->configs, "a Hugging Face config.json (repeatable)");
    plot->add_option("--kinds", pa->kinds, "mha,gqa,mqa,mla,mla-cached-kv, all or own (default own)");
    plot->add_option("--max-tokens", pa->max_tokens, "longest context (default 1M)");
    plot->add_option("--min-tokens", pa->min_tokens, "shortest context (default 1000 on a log axis, 0 on a linear one)");
    plot->add_option("--dtype", pa->dtype, "fp32, bf16, fp16 or fp8 (default bf16)");
    plot->add_option("--batch", pa->batch, "sequences held at once (default 1)");
    plot->add_option("--groups", pa->groups, "G of gqa series");
    plot->add_option("--latent", pa->latent, "C (d_c) of mla series");
    plot->add_option("--rope-dim", pa->rope_dim, "Dr (d_r) of mla series");
    CLI::Option* log = plot->add_flag("--log", pa->log, "log-log axes (the default)");
    plot->add_flag("--linear", pa->linear, "linear axes")->excludes(log);
    plot->add_option("--out", pa->out, "FILE.svg, FILE.csv or FILE.png")->required();
    plot->add_option("--size", pa->size, "FILE.png: WIDTHxHEIGHT in pixels (default 1200x760)");
    plot->add_option("--theme", pa->theme, "FILE.png: light or dark (default light)");
    cmds.push_back({plot, [pa]() { return run_plot(*pa); }});

    auto format = std::make_shared<std::string>("table");
    CLI::App* presets = root.add_subcommand("presets", "list the model presets with their attention and bf16 cache per token");
    presets->add_option("--format", *format, "table or json (default table)");
    cmds.push_back({presets, [format]() { return run_presets(*format); }});
}

}  // namespace mla::cli
