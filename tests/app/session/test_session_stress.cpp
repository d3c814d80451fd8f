// Stress and soak tests of the Session with no window (issue 12, item 7), on the CPU
// backend only:
//   [stress] 20,000 commands drawn by a seeded generator (the seed is printed): steps,
//            scrubbing, resets, every setting the sidebar has with valid and invalid values,
//            the lesson's pages and their Show me. After every command the invariants are
//            checked through the public API only: traces per lane = steps since the last
//            reset or rebuild, the cache bytes of the selected and the newest step = the cost
//            model's formula, a refused setting leaves the last good state, the model still
//            steps after a refusal.
//   [soak]   the window's lanes played 20 times to a cap of 256 steps (the context is 1024:
//            see the test for why), with a setting change between runs; the resident set
//            size, and under ASan the live heap, may not grow.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define MLA_STRESS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MLA_STRESS_ASAN 1
#endif
#endif
#ifdef MLA_STRESS_ASAN
// From <sanitizer/allocator_interface.h>, which GCC does not install (its libasan has them).
extern "C" {
size_t __sanitizer_get_current_allocated_bytes();
void __sanitizer_purge_allocator();
}
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "model/cost.h"
#include "model/cpu_backend.h"
#include "session/lesson_state.h"
#include "session/session.h"
#include "views/registry.h"

using namespace mla;
using namespace mla::app;

namespace {

// ---- helpers

// The CPU backend only: no GL context is made, and any other name is refused the way the
// session's own factory refuses a backend it cannot start (an InputError about "backend").
BackendFactory cpu_only() {
    return [](const std::string& name) -> std::unique_ptr<Backend> {
        if (name == "cpu") return std::make_unique<CpuBackend>();
        throw InputError("backend '" + name + "' is not available in this test: use cpu", "backend");
    };
}

// splitmix64: the same sequence on every platform and standard library.
struct Rng {
    uint64_t state;
    uint64_t next() {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    int64_t below(int64_t n) { return n <= 0 ? 0 : static_cast<int64_t>(next() % static_cast<uint64_t>(n)); }
    int64_t between(int64_t lo, int64_t hi) { return lo + below(hi - lo + 1); }  // inclusive
    template <class T>
    const T& pick(const std::vector<T>& v) { return v[static_cast<size_t>(below(static_cast<int64_t>(v.size())))]; }
};

const char* field_name(Field f) {
    switch (f) {
        case Field::None: return "none";
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
    }
    return "?";
}

std::string describe(const ModelSettings& s) {
    std::ostringstream o;
    o << to_string(s.kind) << " kv_heads=" << s.kv_heads << " d_c=" << s.kv_lora_rank << " d_r=" << s.rope_dim
      << " d'_c=" << s.q_lora_rank << " path=" << to_string(s.mla_path) << " rope_on_latent=" << s.rope_on_latent
      << " no_cache=" << s.no_cache << " weights=" << static_cast<int>(s.weights) << " set=" << s.trained_set
      << " seed=" << s.seed << " sample_seed=" << s.sample_seed << " T=" << s.temperature << " backend=" << s.backend
      << " cache=" << to_string(s.cache_dtype) << " prompt=" << s.prompt.size() << "B";
    return o.str();
}

// The test's own cache formula (cost.h's legend): elements per token per layer, from the
// settings and the built-in family's fixed sizes (H = 4 query heads, Dh = Dn = Dv = 16).
// MHA 2 H Dh, GQA 2 G Dh, MQA 2 Dh, MLA d_c + d_r, MLA cached-kv H (Dn + d_r + Dv).
int64_t expected_row(const ModelSettings& s, AttnKind k, MlaPath path) {
    const Config b = builtin_config(k);
    switch (k) {
        case AttnKind::MHA: return 2 * b.num_attention_heads * b.head_dim;
        case AttnKind::GQA: return 2 * s.kv_heads * b.head_dim;
        case AttnKind::MQA: return 2 * b.head_dim;
        case AttnKind::MLA:
            return path == MlaPath::CachedKV ? b.num_attention_heads * (b.qk_nope_head_dim + s.rope_dim + b.v_head_dim)
                                             : s.kv_lora_rank + s.rope_dim;
    }
    return -1;
}

// Bytes the cache holds after step `step` (T = step + 1 tokens), all layers, fp32.
double expected_cache_bytes(const ModelSettings& s, AttnKind k, MlaPath path, bool no_cache, int64_t step) {
    if (no_cache) return 0;
    const int64_t layers = builtin_config(k).num_hidden_layers;
    return static_cast<double>((step + 1) * expected_row(s, k, path) * layers) * 4.0;
}

// The settings the session must refuse, and the field its message must name (None: it runs).
// Written from the rules (validate_settings, the built-in family, assets/models), not by
// calling them. One field differs from a good state at a time, so the order does not matter.
Field expected_refusal(const ModelSettings& s) {
    if (s.backend != "cpu") return Field::Backend;
    if (s.kv_heads <= 0 || s.kv_heads > 4 || 4 % s.kv_heads != 0) return Field::KvHeads;  // all four kinds are checked
    // Sizes are bounded (config.h: 16 times what the largest real models use).
    if (s.kv_lora_rank <= 0 || s.kv_lora_rank > kMaxLoraRank) return Field::KvLoraRank;
    if (s.rope_dim <= 0 || s.rope_dim % 2 != 0 || s.rope_dim > kMaxHeadDim) return Field::RopeDim;
    if (s.q_lora_rank < 0 || s.q_lora_rank > kMaxLoraRank) return Field::QLoraRank;
    if (!(s.temperature >= 0.0f && s.temperature <= 100.0f)) return Field::Temperature;
    if (s.top_k < 0) return Field::TopK;
    if (!(s.top_p > 0.0f && s.top_p <= 1.0f)) return Field::TopP;
    if (s.prompt.empty() || s.prompt.size() > 1024) return Field::Prompt;
    if (s.weights != WeightsSource::Random && s.trained_set != "fortunes" && s.trained_set != "repeat")
        return Field::Weights;
    // Trained: the window's lanes load every kind, so every kind needs a trained model: GQA
    // with 1, 2 or 4 KV heads is MQA, GQA or MHA; MLA only with d_c 32, d_r 8 and no d'_c.
    if (s.weights == WeightsSource::Trained && (s.kv_lora_rank != 32 || s.rope_dim != 8 || s.q_lora_rank != 0))
        return Field::Weights;
    return Field::None;
}

// What the test expects of the session after each command.
struct Expect {
    int64_t steps = 0;
    int64_t selected = -1;
    ModelSettings settings;
    bool has_error = false;
    Field error_field = Field::None;
    uint64_t revision = 0;
};

// One lane's trace of `step`: its position, token and cache against the formula, the cost
// model (step_cost of the lane's config and options) and the trace's own figures.
std::string broken_trace(const Session& s, const Lane& lane, int64_t step, AttnKind kind, MlaPath path, bool no_cache) {
    std::ostringstream why;
    const Trace* t = lane.trace(step);
    if (!t) {
        why << "lane " << lane.name << " has no trace of step " << step;
        return why.str();
    }
    if (t->step != step || t->position != step)
        why << "lane " << lane.name << ": trace of step " << step << " says step " << t->step << ", position " << t->position << "; ";
    if (t->token != s.tokens()[static_cast<size_t>(step)])
        why << "lane " << lane.name << ": trace token " << t->token << " != fed token " << s.tokens()[static_cast<size_t>(step)] << "; ";
    if (s.in_prompt(step) && t->token != static_cast<unsigned char>(s.settings().prompt[static_cast<size_t>(step)]))
        why << "lane " << lane.name << ": step " << step << " is in the prompt but fed " << t->token << "; ";
    if (t->options.mla_path != path || t->options.no_cache != no_cache)
        why << "lane " << lane.name << ": trace options path " << to_string(t->options.mla_path) << " no_cache "
            << t->options.no_cache << ", want " << to_string(path) << " " << no_cache << "; ";
    if (t->cache_tokens != (no_cache ? 0 : step + 1))
        why << "lane " << lane.name << ": cache_tokens " << t->cache_tokens << " at step " << step << "; ";
    const double want = expected_cache_bytes(s.settings(), kind, path, no_cache, step);
    const double cost_model = step_cost(lane.cfg, lane.opt, step + 1).cache_bytes();
    const double reported = t->cost.cache_bytes();
    int64_t held = 0;
    for (int64_t e : t->cache_elements_per_layer) held += e;
    const int64_t layers = builtin_config(kind).num_hidden_layers;
    if (want != cost_model || want != reported || want != static_cast<double>(held) * 4.0 ||
        static_cast<int64_t>(t->cache_elements_per_layer.size()) != layers)
        why << "lane " << lane.name << " (" << to_string(kind) << ", " << to_string(path) << (no_cache ? ", no cache" : "")
            << ") step " << step << ": cache bytes formula " << want << ", step_cost " << cost_model << ", trace cost "
            << reported << ", trace per-layer elements x 4 = " << static_cast<double>(held) * 4.0 << " over "
            << t->cache_elements_per_layer.size() << " layers (want " << layers << "); ";
    return why.str();
}

// Every invariant, through the public API; "" when all hold.
std::string broken(const Session& s, const Expect& e) {
    std::ostringstream why;
    const size_t n = static_cast<size_t>(e.steps);
    if (s.steps() != e.steps) why << "steps() " << s.steps() << " != " << e.steps << " steps taken; ";
    if (s.main().traces.size() != n) why << "main lane has " << s.main().traces.size() << " traces for " << n << " steps; ";
    if (s.tokens().size() != n || s.token_labels().size() != n || s.token_cstrs().size() != n)
        why << "tokens/labels/cstrs " << s.tokens().size() << "/" << s.token_labels().size() << "/"
            << s.token_cstrs().size() << " for " << n << " steps; ";
    if (!s.has_compare() || !s.has_paths()) why << "the Compare or Absorption lanes are gone; ";
    if (!why.str().empty()) return why.str();
    for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA})
        if (s.compare(k).traces.size() != n) why << "compare lane " << to_string(k) << " has " << s.compare(k).traces.size() << " traces for " << n << " steps; ";
    for (MlaPath p : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed})
        if (s.path(p).traces.size() != n) why << "path lane " << to_string(p) << " has " << s.path(p).traces.size() << " traces for " << n << " steps; ";
    if (s.path_diffs().size() != n) why << s.path_diffs().size() << " path diffs for " << n << " steps; ";
    if (s.selected() != e.selected) why << "selected() " << s.selected() << " != " << e.selected << "; ";
    if ((s.trace() == nullptr) != (e.steps == 0)) why << "trace() is " << (s.trace() ? "set" : "null") << " with " << n << " steps; ";
    if (s.settings() != e.settings) why << "settings are " << describe(s.settings()) << ", want " << describe(e.settings) << "; ";
    if (s.max_steps() != 1024) why << "max_steps() " << s.max_steps() << "; ";
    if (s.error().empty() == e.has_error || s.error_field() != e.error_field)
        why << "error \"" << s.error() << "\" field " << field_name(s.error_field()) << ", want "
            << (e.has_error ? "an error" : "none") << " field " << field_name(e.error_field) << "; ";
    if (s.revision() < e.revision) why << "revision went back; ";
    if (!why.str().empty()) return why.str();

    // The running model is the settings' one.
    const ModelSettings& ms = e.settings;
    const Config& c = s.config();
    const Config want_cfg = model_config(ms, ms.kind);
    if (c.kv_lora_rank != want_cfg.kv_lora_rank || c.qk_rope_head_dim != want_cfg.qk_rope_head_dim ||
        c.q_lora_rank != want_cfg.q_lora_rank || c.num_key_value_heads != want_cfg.num_key_value_heads)
        why << "config() is not the settings' model; ";
    if (s.options().no_cache != ms.no_cache || s.options().mla_path != ms.mla_path ||
        s.options().rope_on_latent != (ms.kind == AttnKind::MLA && ms.rope_on_latent))
        why << "options() are not the settings'; ";
    if (s.options().cache_dtype != ms.cache_dtype) why << "options() store the cache in another dtype; ";
    if (s.has_fp32_reference() != (ms.cache_dtype != CacheDtype::F32)) why << "the fp32 twins run iff the cache is narrower; ";
    if (!why.str().empty() || e.steps == 0) return why.str();
    // A narrow cache: every step's diff against the fp32 twin is a number (0 allowed: a short
    // run can round to the same logits).
    if (ms.cache_dtype != CacheDtype::F32 && !s.path_diffs().empty()) {
        const PathDiff& d = s.path_diffs().back();
        if (!(d.main_vs_fp32 >= 0)) why << "main_vs_fp32 is not a number with a " << to_string(ms.cache_dtype) << " cache; ";
    }

    // The cache of the selected step and of the newest one, on every lane.
    for (int64_t step : {e.selected, e.steps - 1}) {
        why << broken_trace(s, s.main(), step, ms.kind, ms.mla_path, ms.no_cache);
        for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA})
            why << broken_trace(s, s.compare(k), step, k, ms.mla_path, ms.no_cache);
        for (MlaPath p : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed})
            why << broken_trace(s, s.path(p), step, AttnKind::MLA, p, false);
        if (step == e.steps - 1) break;
    }
    if (s.trace() != s.main().trace(e.selected)) why << "trace() is not the selected step's; ";
    return why.str();
}

// ---- memory

// Resident set size in bytes (/proc/self/statm: size resident shared ...; in pages).
int64_t resident_bytes() {
    std::ifstream f("/proc/self/statm");
    int64_t size = 0, resident = -1;
    f >> size >> resident;
    return resident < 0 ? -1 : resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

// Hands freed memory back first: AddressSanitizer keeps freed blocks in a quarantine (256 MiB
// by default) and glibc keeps freed pages; neither is a leak, both would blur a reading.
int64_t settled_resident_bytes() {
#ifdef MLA_STRESS_ASAN
    __sanitizer_purge_allocator();
#endif
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
    return resident_bytes();
}

double mib(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

}  // namespace

// ============================================================================ stress

TEST_CASE("session: 20,000 random commands keep the invariants", "[stress]") {
    constexpr uint64_t kSeed = 0x4D4C414C6162ull;  // "MLALab"
    constexpr int kCommands = 20000;
    // Steps are capped well below the context (1024), with a reset at the cap: a rebuild
    // replays every step on the window's eight lanes (six decoders with the defaults), and
    // no-cache mode re-runs the prefix each step, so a longer run only makes each rebuild
    // slower. Commands that rebuild are rare (about 4%) for the same reason; the cheap ones
    // (scrubbing, refused settings, page moves) are common. The context-full stop is tested
    // in test_session.cpp.
    constexpr int64_t kStepCap = 24;
    std::printf("[stress] seed 0x%llx, %d commands, at most %lld steps per run\n",
                static_cast<unsigned long long>(kSeed), kCommands, static_cast<long long>(kStepCap));
    const auto t0 = std::chrono::steady_clock::now();

    const Lesson lesson = load_app_lesson(lesson_env());
    for (const LessonError& le : lesson.errors) FAIL(le.str());
    REQUIRE(lesson.page_count() > 0);
    LessonProgress progress;

    Session s(ModelSettings{}, SessionOptions{}, cpu_only());  // the window's lanes: Compare and Absorption
    Rng rng{kSeed};
    Expect e;
    e.settings = s.settings();
    e.revision = s.revision();
    std::deque<std::string> recent;  // the last commands, for the failure message
    int index = 0;

    struct Counts {
        int steps = 0, selects = 0, resets = 0, cap_resets = 0, applied = 0, refused = 0, show_me = 0, pages = 0,
            batched = 0, clears = 0, idle_steps = 0;
    } n;

    auto check = [&](const std::string& what) {
        recent.push_back(std::to_string(index) + ": " + what);
        if (recent.size() > 12) recent.pop_front();
        const std::string why = broken(s, e);
        if (why.empty()) return;
        std::string log;
        for (const std::string& r : recent) log += "\n  " + r;
        FAIL("seed 0x" << std::hex << kSeed << std::dec << ", command " << index << ": " << why
                       << "\nlast commands:" << log);
    };
    // Runs a command either directly or as the window does: pushed to Commands, applied.
    auto via_commands = [&]() {
        if (rng.below(2) == 0) return false;
        ++n.batched;
        return true;
    };
    auto run = [&](Commands& c) {
        s.apply(c);
        if (!c.session.empty()) FAIL("Session::apply left " << c.session.size() << " commands");
    };

    auto step = [&](int64_t count) {
        const uint64_t rev = s.revision();
        bool ok = true;
        if (via_commands()) {
            Commands c;
            c.step(count);
            run(c);
        } else {
            ok = s.step(count);
        }
        if (!ok) FAIL("step(" << count << ") at " << e.steps << " steps failed: " << s.error());
        if (count > 0) {
            e.steps += count;
            e.selected = e.steps - 1;
            e.revision = rev + 1;
            if (s.revision() <= rev) FAIL("revision did not change after a step");
        } else {
            ++n.idle_steps;
        }
        ++n.steps;
        check("step " + std::to_string(count));
    };
    auto reset = [&](const char* why) {
        const uint64_t rev = s.revision();
        if (via_commands()) {
            Commands c;
            c.reset();
            run(c);
        } else {
            s.reset();
        }
        if (s.revision() <= rev) FAIL("revision did not change after a reset");
        e.steps = 0;
        e.selected = -1;
        if (e.error_field == Field::None) e.has_error = false;
        check(why);
    };
    auto select = [&](int64_t to) {
        if (via_commands()) {
            Commands c;
            c.select(to);
            run(c);
        } else {
            s.select(to);
        }
        e.selected = e.steps == 0 ? -1 : std::clamp<int64_t>(to, 0, e.steps - 1);
        ++n.selects;
        check("select " + std::to_string(to));
    };
    // A setting change, from the sidebar's field `f`; the test's rules say whether it runs.
    auto apply = [&](const ModelSettings& next, Field f, const std::string& what) {
        const Field refusal = expected_refusal(next);
        const uint64_t rev = s.revision();
        bool ok = true;
        if (via_commands()) {
            Commands c;
            c.apply(next, f);
            run(c);
            ok = s.settings() == next && s.error().empty();
        } else {
            ok = s.apply_settings(next, f);
        }
        const std::string label = what + " [" + describe(next) + "]";
        if (refusal == Field::None) {
            if (!ok) FAIL("command " << index << ": " << label << " was refused: " << s.error());
            e.settings = next;
            e.has_error = false;
            e.error_field = Field::None;
            e.steps = std::min<int64_t>(e.steps, 1024);
            e.revision = rev + 1;
            ++n.applied;
            check(label);
        } else {
            if (ok) FAIL("command " << index << ": " << label << " should be refused (" << field_name(refusal) << ")");
            if (s.revision() != rev) FAIL("a refused setting changed the revision: " << label);
            e.has_error = true;
            e.error_field = refusal;
            ++n.refused;
            check(label + " refused");
            // The last good model still runs.
            if (e.steps >= kStepCap) reset("reset at the cap");
            step(1);
        }
    };

    const std::vector<int64_t> good_kv_heads = {1, 2, 4}, good_rank = {8, 16, 32, 32, 48, 64},
                               good_rope = {2, 4, 8, 8, 16}, good_q = {0, 0, 16, 32};
    const int64_t big = int64_t{1} << 40;
    const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
    // Zero, negative, odd RoPE dims, just past the bounds, huge (1 << 40) and the extremes.
    const std::vector<int64_t> bad_kv_heads = {0, -1, -2, 3, 5, 8, 16, big, -big, lo, hi},
                               bad_rank = {0, -1, -32, kMaxLoraRank + 1, big, -big, lo, hi},
                               bad_rope = {0, -2, 1, 3, 7, 9, kMaxHeadDim + 2, big, big + 1, -big, lo, hi},
                               bad_q = {-1, -16, kMaxLoraRank + 1, big, -big, lo, hi};
    const std::vector<float> good_temp = {0.0f, 0.0f, 0.5f, 1.0f, 2.0f, 100.0f},
                             bad_temp = {-1.0f, -0.001f, 100.5f, 1e30f, std::numeric_limits<float>::quiet_NaN(),
                                         std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
    const std::vector<std::string> good_prompts = {kArticlePrompt, kRepeatPrompt, "Hi", "a", "\n\t\xff\x01 bytes",
                                                   std::string(1024, 'z')},
                                   bad_prompts = {"", std::string(1025, 'z'), std::string(5000, 'q')},
                                   bad_backends = {"gpu", "tpu", "", "CPU"};

    // Where the time goes, by kind of command (printed at the end).
    struct Bucket { int64_t below; const char* name; double secs = 0; };
    std::vector<Bucket> buckets = {{215, "step"}, {540, "select/reset"}, {566, "settings that run"},
                                   {716, "settings refused"}, {724, "other settings"}, {834, "lesson pages"},
                                   {835, "show me"}, {1000, "clear/batch/select"}};
    for (index = 0; index < kCommands; ++index) {
        const int64_t r = rng.below(1000);
        ModelSettings next = e.settings;
        const auto c0 = std::chrono::steady_clock::now();
        if (r < 200) {  // step forward
            if (e.steps >= kStepCap) {
                ++n.cap_resets;
                reset("reset at the cap");
            } else {
                step(rng.below(6) == 0 ? rng.between(1, std::min<int64_t>(6, kStepCap - e.steps)) : 1);
            }
        } else if (r < 215) {  // a step of nothing
            step(rng.pick(std::vector<int64_t>{0, -1, -7, lo}));
        } else if (r < 445) {  // scrub back
            select(e.steps == 0 ? 0 : rng.below(e.steps));
        } else if (r < 525) {  // back to live, or out of range
            select(rng.pick(std::vector<int64_t>{e.steps - 1, e.steps, e.steps + 100, -1, -100, lo, hi}));
        } else if (r < 540) {
            ++n.resets;
            reset("reset");
        } else if (r < 548) {
            next.kind = static_cast<AttnKind>(rng.below(4));
            apply(next, Field::Kind, "kind " + std::string(to_string(next.kind)));
        } else if (r < 554) {
            next.mla_path = static_cast<MlaPath>(rng.below(3));
            apply(next, Field::MlaPath, "path " + std::string(to_string(next.mla_path)));
        } else if (r < 557) {
            next.rope_on_latent = !next.rope_on_latent;
            apply(next, Field::RopeOnLatent, "rope on latent " + std::to_string(next.rope_on_latent));
        } else if (r < 559) {
            // No cache re-runs the prefix every step: on, it is turned off again soon (below).
            next.no_cache = !next.no_cache;
            apply(next, Field::NoCache, "no cache " + std::to_string(next.no_cache));
        } else if (r < 566) {  // a size that runs
            switch (rng.below(4)) {
                case 0: next.kv_heads = rng.pick(good_kv_heads); apply(next, Field::KvHeads, "kv_heads"); break;
                case 1: next.kv_lora_rank = rng.pick(good_rank); apply(next, Field::KvLoraRank, "d_c"); break;
                case 2: next.rope_dim = rng.pick(good_rope); apply(next, Field::RopeDim, "d_r"); break;
                default: next.q_lora_rank = rng.pick(good_q); apply(next, Field::QLoraRank, "d'_c"); break;
            }
        } else if (r < 716) {  // a size or a value that cannot run
            switch (rng.below(8)) {
                case 0: next.kv_heads = rng.pick(bad_kv_heads); apply(next, Field::KvHeads, "bad kv_heads"); break;
                case 1: next.kv_lora_rank = rng.pick(bad_rank); apply(next, Field::KvLoraRank, "bad d_c"); break;
                case 2: next.rope_dim = rng.pick(bad_rope); apply(next, Field::RopeDim, "bad d_r"); break;
                case 3: next.q_lora_rank = rng.pick(bad_q); apply(next, Field::QLoraRank, "bad d'_c"); break;
                case 4: next.temperature = rng.pick(bad_temp); apply(next, Field::Temperature, "bad temperature"); break;
                case 5: next.prompt = rng.pick(bad_prompts); apply(next, Field::Prompt, "bad prompt"); break;
                case 6: next.backend = rng.pick(bad_backends); apply(next, Field::Backend, "bad backend"); break;
                default:
                    if (rng.below(2) == 0) {
                        next.weights = WeightsSource::Auto;
                        next.trained_set = rng.pick(std::vector<std::string>{"nosuch", "", "Fortunes"});
                    } else {  // trained weights with sizes no trained model has
                        next.weights = WeightsSource::Trained;
                        next.kv_lora_rank = rng.pick(std::vector<int64_t>{8, 16, 48});
                    }
                    apply(next, Field::Weights, "bad weights");
                    break;
            }
        } else if (r < 724) {  // the other settings, with values that run
            switch (rng.below(8)) {
                case 6: {
                    static const std::vector<int64_t> ks = {0, 1, 5, 40};
                    static const std::vector<float> ps = {1.0f, 0.9f, 0.5f};
                    next.top_k = rng.pick(ks);
                    next.top_p = rng.pick(ps);
                    apply(next, rng.below(2) ? Field::TopK : Field::TopP, "top-k / top-p");
                    break;
                }
                case 5:  // narrow caches one time in three: their fp32 twins double the lanes' work
                    next.cache_dtype = rng.below(3) == 0 ? static_cast<CacheDtype>(1 + rng.below(3)) : CacheDtype::F32;
                    apply(next, Field::CacheDtype, std::string("cache ") + to_string(next.cache_dtype));
                    break;
                case 0: next.temperature = rng.pick(good_temp); apply(next, Field::Temperature, "temperature"); break;
                case 1: next.sample_seed = rng.next(); apply(next, Field::SampleSeed, "sampling seed"); break;
                case 2: next.seed = rng.below(4) == 0 ? rng.next() : static_cast<uint64_t>(rng.below(5)); apply(next, Field::Seed, "weights seed"); break;
                case 3: next.prompt = rng.pick(good_prompts); apply(next, Field::Prompt, "prompt"); break;
                case 4:
                    next.weights = static_cast<WeightsSource>(rng.below(3));
                    next.trained_set = rng.below(2) == 0 ? "fortunes" : "repeat";
                    if (next.weights == WeightsSource::Trained && expected_refusal(next) != Field::None) {
                        next.kv_lora_rank = 32;  // trained weights need the trained MLA sizes
                        next.rope_dim = 8;
                        next.q_lora_rank = 0;
                    }
                    apply(next, Field::Weights, "weights");
                    break;
                default: next.backend = "cpu"; apply(next, Field::Backend, "backend cpu (same)"); break;
            }
        } else if (r < 834) {  // lesson: move between pages
            const int before = progress.page;
            switch (rng.below(5)) {
                case 0: progress.next(lesson); break;
                case 1: progress.prev(lesson); break;
                case 2: progress.next_chapter(lesson); break;
                case 3: progress.prev_chapter(lesson); break;
                default: progress.go(lesson, static_cast<int>(rng.between(-3, lesson.page_count() + 3))); break;
            }
            ++n.pages;
            if (progress.page < 0 || progress.page >= lesson.page_count() || !progress.is_seen(lesson, progress.page))
                FAIL("lesson page " << progress.page << " after moving from " << before);
            check("lesson page " + page_key(lesson, progress.page));
        } else if (r < 835) {  // lesson: Show me of the page shown
            const LessonPage* p = page_at(lesson, progress.page);
            REQUIRE(p != nullptr);
            Commands c;
            push_show_me(p->show, s, c);
            run(c);
            e.settings = show_me_settings(p->show, e.settings);
            e.steps = p->show.steps;
            e.selected = e.steps - 1;
            e.has_error = false;
            e.error_field = Field::None;
            ++n.show_me;
            if (!in_show_me_state(p->show, s)) FAIL("Show me of " << page_key(lesson, progress.page) << " did not reach its state");
            check("show me " + page_key(lesson, progress.page));
        } else if (r < 880) {
            s.clear_error();
            e.has_error = false;
            e.error_field = Field::None;
            ++n.clears;
            check("clear error");
        } else if (r < 900) {  // several commands in one frame, as the window batches them
            Commands c;
            const int64_t k = rng.between(1, 3);
            c.step(std::min<int64_t>(k, std::max<int64_t>(0, kStepCap - e.steps)));
            c.select(0);
            c.step(0);
            run(c);
            const int64_t took = std::min<int64_t>(k, std::max<int64_t>(0, kStepCap - e.steps));
            if (took > 0) e.steps += took;
            e.selected = e.steps == 0 ? -1 : 0;
            ++n.batched;
            check("batch step " + std::to_string(took) + ", select 0, step 0");
        } else {  // scrub (more of it: cheap, and what a reader does most)
            select(e.steps == 0 ? 0 : rng.below(e.steps));
        }
        // No cache is slow (the prefix each step): it does not stay on for long.
        if (e.settings.no_cache && rng.below(8) == 0) {
            next = e.settings;
            next.no_cache = false;
            apply(next, Field::NoCache, "no cache off");
        }
        for (Bucket& b : buckets)
            if (r < b.below) {
                b.secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
                break;
            }
    }

    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("[stress] %d commands in %.1f s: %d steps (%d of nothing), %d selects, %d resets (+%d at the cap), "
                "%d settings applied, %d refused, %d Show me, %d page moves, %d through Commands, %d clears\n",
                kCommands, secs, n.steps, n.idle_steps, n.selects, n.resets, n.cap_resets, n.applied, n.refused,
                n.show_me, n.pages, n.batched, n.clears);
    for (const Bucket& b : buckets) std::printf("[stress]   %-18s %6.1f s\n", b.name, b.secs);
    // The generator reached every kind of command.
    CHECK(n.refused > 2000);
    CHECK(n.applied > 400);
    CHECK(n.show_me >= 10);
    CHECK(n.cap_resets > 50);
    CHECK(n.pages > 1000);
}

// ============================================================================ soak

TEST_CASE("session: playing to the limit 20 times keeps memory flat", "[soak]") {
    // A cap of 256 steps, not the context (1024 tokens): with the window's lanes (six
    // decoders) a run's cost grows with the square of its length (every step's att_probs
    // is kept, the recompute lane rebuilds K and V of every token), and 20 runs to 1024
    // took about 9 minutes under ASan on a 2-core machine. 256 steps are 1/16 of that
    // quadratic part, and a run still ends holding ~25 MiB of live heap, so a leak of a
    // run's traces shows. The context-full stop itself is tested in test_session.cpp.
    // Settings change between runs; no-cache mode is left out (it re-runs the whole
    // prefix every step).
    constexpr int kRuns = 20;
    constexpr int64_t kCap = 256;
    constexpr double kBoundMiB = 64;      // RSS: allocator caches and fragmentation allowed
    constexpr double kHeapBoundMiB = 16;  // ASan's live heap is exact: far less slack
    Session s(ModelSettings{}, SessionOptions{}, cpu_only());
    REQUIRE(s.max_steps() == 1024);
    const int64_t limit = std::min<int64_t>(s.max_steps(), kCap);

    std::vector<ModelSettings> plan;
    {
        ModelSettings m;  // the default: trained MLA, absorbed
        plan.push_back(m);
        m.kind = AttnKind::MHA; plan.push_back(m);
        m.kind = AttnKind::GQA; m.kv_heads = 2; plan.push_back(m);
        m.kind = AttnKind::MQA; m.temperature = 0.8f; plan.push_back(m);
        m = ModelSettings{}; m.mla_path = MlaPath::CachedKV; plan.push_back(m);
        m.mla_path = MlaPath::Recompute; m.rope_on_latent = true; plan.push_back(m);
        m = ModelSettings{}; m.kv_lora_rank = 16; m.rope_dim = 4; m.q_lora_rank = 16; plan.push_back(m);
        m = ModelSettings{}; m.trained_set = "repeat"; m.prompt = kRepeatPrompt; plan.push_back(m);
    }
    // The last run repeats the first one's settings, so both readings hold the same traces.
    auto settings_of = [&](int run) { return run == kRuns - 1 ? plan[0] : plan[static_cast<size_t>(run) % plan.size()]; };

    const auto t0 = std::chrono::steady_clock::now();
    int64_t start = -1, end = -1, peak = 0;
#ifdef MLA_STRESS_ASAN
    size_t heap_start = 0, heap_end = 0;
#endif
    for (int run = 0; run < kRuns; ++run) {
        INFO("run " << run << ": " << describe(settings_of(run)));
        if (run > 0) {
            s.reset();
            REQUIRE(s.steps() == 0);
            REQUIRE(s.main().traces.empty());
            REQUIRE(s.apply_settings(settings_of(run), Field::None));
        }
        REQUIRE(s.settings() == settings_of(run));
        REQUIRE(s.step(limit));
        REQUIRE(s.steps() == limit);
        REQUIRE(s.error().empty());
        REQUIRE(s.main().traces.size() == static_cast<size_t>(limit));
        for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA})
            REQUIRE(s.compare(k).traces.size() == static_cast<size_t>(limit));
        for (MlaPath p : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed})
            REQUIRE(s.path(p).traces.size() == static_cast<size_t>(limit));
        const Trace* last = s.main().trace(limit - 1);
        REQUIRE(last != nullptr);
        const ModelSettings& ms = s.settings();
        CHECK(last->cost.cache_bytes() == expected_cache_bytes(ms, ms.kind, ms.mla_path, ms.no_cache, limit - 1));

        const int64_t rss = settled_resident_bytes();
        peak = std::max(peak, rss);
        std::printf("[soak] run %2d (%s): RSS %.1f MiB\n", run, describe(settings_of(run)).c_str(), mib(rss));
        if (run == 0) {  // after the first run: one-time allocations (weights files, caches) are in
            start = rss;
#ifdef MLA_STRESS_ASAN
            heap_start = __sanitizer_get_current_allocated_bytes();
#endif
        }
    }
    end = settled_resident_bytes();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("[soak] %d runs of %lld steps in %.1f s: RSS after the first run %.1f MiB, at the end %.1f MiB "
                "(%+.1f MiB), peak %.1f MiB; bound +%.0f MiB\n",
                kRuns, static_cast<long long>(limit), secs, mib(start), mib(end), mib(end - start), mib(peak), kBoundMiB);
    REQUIRE(start > 0);
    REQUIRE(end > 0);
    CHECK(mib(end - start) <= kBoundMiB);
#ifdef MLA_STRESS_ASAN
    // Under AddressSanitizer the allocator also knows the live heap exactly.
    heap_end = __sanitizer_get_current_allocated_bytes();
    std::printf("[soak] live heap (ASan): after the first run %.1f MiB, at the end %.1f MiB\n",
                mib(static_cast<int64_t>(heap_start)), mib(static_cast<int64_t>(heap_end)));
    CHECK(mib(static_cast<int64_t>(heap_end) - static_cast<int64_t>(heap_start)) <= kHeapBoundMiB);
#endif
}
