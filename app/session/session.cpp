// [SECTION] lanes
// [SECTION] backends
// [SECTION] session
#include "session/session.h"

#include "model/logit_lens.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

#include "base/check.h"
#include "base/numbers.h"
#include "io/builtin.h"
#include "model/cpu_backend.h"
#include "model/weights.h"

#include "session/backends.h"

namespace mla::app {

// ============================================================================ [SECTION] lanes

std::vector<std::vector<float>> Session::logit_lens(int64_t step) const {
    const Trace* t = main().trace(step);
    if (!t || !main().weights) return {};
    return mla::logit_lens(*main().weights, *t);
}

const Trace* Lane::trace(int64_t step) const {
    if (step < 0 || step >= static_cast<int64_t>(traces.size())) return nullptr;
    return &traces[static_cast<size_t>(step)];
}

namespace {


double probs_diff(const Trace& a, const Trace& b, int64_t layers) {
    double m = 0;
    for (int l = 0; l < layers; ++l) {
        const TensorRecord* pa = a.find("att_probs", l);
        const TensorRecord* pb = b.find("att_probs", l);
        if (pa && pb) m = std::max(m, max_abs_diff(pa->data, pb->data));
    }
    return m;
}

}  // namespace

// ============================================================================ [SECTION] backends

BackendFactory default_backend_factory() {
    return [](const std::string& name) -> std::unique_ptr<Backend> {
        return make_backend(name);
    };
}

// ============================================================================ [SECTION] session

struct Session::Built {
    std::unique_ptr<Backend> backend;  // null when the current one is reused
    std::vector<Lane> lanes;           // one decoder each
    size_t main = 0;
    std::vector<size_t> compare, paths;  // indexes into lanes
    std::vector<size_t> paths_fp32;
    size_t main_fp32 = static_cast<size_t>(-1);
};

Session::Session(const ModelSettings& s, SessionOptions o, BackendFactory factory)
    : factory_(std::move(factory)), sopt_(o) {
    validate_settings(s);
    Built b = build(s);
    install(std::move(b), s);
}

Session::~Session() = default;

Session::Built Session::build(const ModelSettings& s) const {
    validate_settings(s);
    Built b;
    Backend* be = backend_.get();
    if (!be || s.backend != backend_name_) {
        b.backend = factory_(s.backend);
        MLA_CHECK(b.backend != nullptr);
        be = b.backend.get();
    }
    struct KindWeights {
        std::shared_ptr<const Weights> weights;
        std::string desc;
        bool trained = false;
    };
    std::map<AttnKind, KindWeights> weights;
    auto weights_of = [&](AttnKind k) -> const KindWeights& {
        KindWeights& w = weights[k];
        if (!w.weights) w.weights = settings_weights(s, k, &w.desc, &w.trained);
        return w;
    };
    // A lane that would run the same weights with the same options as one already made
    // shares its decoder and traces (with the default settings the main lane, Compare's MLA
    // and Absorption's absorbed path are one decoder).
    auto lane = [&](const std::string& name, AttnKind k, RunOptions opt, bool keep_all) -> size_t {
        const KindWeights& kw = weights_of(k);
        for (size_t i = 0; i < b.lanes.size(); ++i) {
            Lane& l = b.lanes[i];
            if (l.weights == kw.weights && l.opt.mla_path == opt.mla_path && l.opt.no_cache == opt.no_cache &&
                l.opt.cache_dtype == opt.cache_dtype &&
                l.opt.rope_on_latent == opt.rope_on_latent) {
                if (keep_all && !l.keep_all_data) {
                    l.keep_all_data = true;
                    l.dec->set_trace_request({});
                }
                return i;
            }
        }
        Lane l;
        l.name = name;
        l.cfg = model_config(s, k);
        l.opt = opt;
        l.weights = kw.weights;
        l.weights_desc = kw.desc;
        l.trained_weights = kw.trained;
        if (kw.trained) {
            try {
                const std::string dir = trained_model_dir(l.cfg, s.trained_set);
                if (!dir.empty()) l.trained_context = read_train_record(dir + "/train.json").options.seq_len;
            } catch (const InputError&) {
                l.trained_context = 0;  // no record: the window length is not known
            }
        }
        l.dec = std::make_unique<Decoder>(l.weights, *be, opt);
        l.keep_all_data = keep_all;
        // The views read every tensor of the main lane, and only att_probs and logits of the others.
        if (!keep_all) l.dec->set_trace_request({"att_probs", "logits"});
        b.lanes.push_back(std::move(l));
        return b.lanes.size() - 1;
    };
    b.main = lane("main", s.kind, run_options(s, s.kind), true);
    if (sopt_.compare)
        for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA})
            b.compare.push_back(lane(to_string(k), k, run_options(s, k), false));
    if (sopt_.paths)
        for (MlaPath p : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed}) {
            RunOptions o = run_options(s, AttnKind::MLA);
            o.mla_path = p;
            o.no_cache = false;
            b.paths.push_back(lane(to_string(p), AttnKind::MLA, o, false));
        }
    if (s.cache_dtype != CacheDtype::F32) {
        if (sopt_.paths)
            for (MlaPath p : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed}) {
                RunOptions po = run_options(s, AttnKind::MLA);
                po.mla_path = p;
                po.no_cache = false;
                po.cache_dtype = CacheDtype::F32;
                b.paths_fp32.push_back(lane(std::string(to_string(p)) + "-fp32", AttnKind::MLA, po, false));
            }
        if (!b.paths_fp32.empty() && s.kind == AttnKind::MLA && !s.no_cache) {
            b.main_fp32 = b.paths_fp32[static_cast<size_t>(s.mla_path)];   // the same run: no second decoder
        } else {
            RunOptions o = run_options(s, s.kind);
            o.cache_dtype = CacheDtype::F32;
            b.main_fp32 = lane("main-fp32", s.kind, o, false);
        }
    }
    return b;
}

void Session::install(Built&& b, const ModelSettings& s) {
    // Old decoders go before the backend they live on.
    lanes_ = std::move(b.lanes);
    main_ = b.main;
    compare_ = std::move(b.compare);
    paths_ = std::move(b.paths);
    paths_fp32_ = std::move(b.paths_fp32);
    main_fp32_ = b.main_fp32;
    if (b.backend) {
        backend_ = std::move(b.backend);
        backend_name_ = s.backend;
    }
    settings_ = s;
    gen_ = Generation(byte_tokens(s.prompt), Sampling{s.temperature, s.top_k, s.top_p}, s.sample_seed);
    labels_.clear();
    cstrs_.clear();
    diffs_.clear();
    selected_ = -1;
    // A held-out result stays while it is for these weights and this dtype.
    // A check still running for other settings finishes on its own thread and is dropped.
    if (heldout_.state != HeldoutEffect::State::None && !heldout_current()) heldout_ = HeldoutEffect{};
    ++revision_;
}

void Session::set_error(Field f, std::string msg) {
    error_field_ = f;
    error_ = std::move(msg);
}

void Session::clear_error() {
    error_.clear();
    error_field_ = Field::None;
}

int Session::decoder_count() const { return static_cast<int>(lanes_.size()); }

std::string Session::backend_device() const { return backend_ ? backend_->device() : std::string(); }

bool Session::step_one() {
    const int64_t pos = steps();
    if (pos >= max_steps()) {
        set_error(Field::None, "the context is full: this model reads at most " + with_commas(max_steps()) +
                                   " tokens (max_position_embeddings); press Reset to start again");
        return false;
    }
    const int64_t token = gen_.next_token();
    const auto t0 = std::chrono::steady_clock::now();
    for (Lane& l : lanes_) {
        // k_nope (recompute) is T x H*(Dn+Dv) every step: quadratic over a run; the main lane
        // keeps it for the newest step only.
        if (l.keep_all_data && !l.traces.empty())
            for (TensorRecord& r : l.traces.back().tensors)
                if (r.name == "k_nope") std::vector<float>().swap(r.data);
        l.traces.emplace_back();
        l.logits = l.dec->step(token, &l.traces.back());
    }
    if (!paths_.empty()) {
        const Lane& ck = path(MlaPath::CachedKV);
        const Lane& rc = path(MlaPath::Recompute);
        const Lane& ab = path(MlaPath::Absorbed);
        PathDiff d;
        d.absorbed_vs_recompute = max_abs_diff(ab.logits, rc.logits);
        d.cached_vs_recompute = max_abs_diff(ck.logits, rc.logits);
        d.probs_absorbed_vs_recompute = probs_diff(ab.traces.back(), rc.traces.back(), ab.cfg.num_hidden_layers);
        for (size_t i = 0; i < paths_fp32_.size(); ++i)
            d.vs_fp32[i] = max_abs_diff(lanes_[paths_[i]].logits, lanes_[paths_fp32_[i]].logits);
        if (main_fp32_ != kNone) d.main_vs_fp32 = max_abs_diff(main().logits, lanes_[main_fp32_].logits);
        diffs_.push_back(d);
    } else if (main_fp32_ != kNone) {
        PathDiff d;
        d.main_vs_fp32 = max_abs_diff(main().logits, lanes_[main_fp32_].logits);
        diffs_.push_back(d);
    }
    last_step_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    gen_.observe(main().logits);  // the generate loop of `mla-lab generate`
    labels_.push_back(token_text(token, TokenStyle::Label));
    cstrs_.clear();
    for (const std::string& s : labels_) cstrs_.push_back(s.c_str());
    selected_ = pos;
    ++revision_;
    return true;
}

bool Session::step(int64_t count) {
    for (int64_t i = 0; i < count; ++i) {
        try {
            if (!step_one()) return false;
        } catch (const InputError& e) {
            set_error(Field::None, e.what());
            return false;
        }
    }
    return true;
}

int64_t Session::forward(int64_t count) {
    int64_t generated = 0;
    for (int64_t i = 0; i < count; ++i) {
        if (scrubbed_back()) {  // like select(): the run is unchanged
            ++selected_;
            continue;
        }
        if (!step(1)) break;
        ++generated;
    }
    return generated;
}

void Session::reset() {
    for (Lane& l : lanes_) {
        l.dec->reset();
        l.traces.clear();
    }
    gen_.reset();
    labels_.clear();
    cstrs_.clear();
    diffs_.clear();
    selected_ = -1;
    ++revision_;
    if (error_field_ == Field::None) clear_error();
}

void Session::select(int64_t step) {
    if (steps() == 0) {
        selected_ = -1;
        return;
    }
    selected_ = std::clamp<int64_t>(step, 0, steps() - 1);
}

bool Session::apply_settings(const ModelSettings& s, Field field) {
    const int64_t replay = steps(), keep_selected = selected_;
    try {
        Built b = build(s);
        install(std::move(b), s);
    } catch (const InputError& e) {
        set_error(field_of(e, field), e.what());
        return false;
    }
    clear_error();
    step(std::min(replay, max_steps()));
    select(keep_selected);
    return true;
}

void Session::apply(Commands& c) {
    for (SessionCommand& sc : c.session) {
        std::visit(
            [this](auto& x) {
                using X = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<X, cmd::Step>) step(x.count);
                else if constexpr (std::is_same_v<X, cmd::Forward>) forward(x.count);
                else if constexpr (std::is_same_v<X, cmd::Reset>) reset();
                else if constexpr (std::is_same_v<X, cmd::Select>) select(x.step);
                else if constexpr (std::is_same_v<X, cmd::Apply>) apply_settings(x.settings, x.field);
                else if constexpr (std::is_same_v<X, cmd::MeasureHeldout>) measure_heldout();
            },
            sc);
    }
    c.session.clear();
    poll_heldout();
}

namespace {
// What a held-out result depends on: the model (its sizes and weights) and the cache dtype,
// not the prompt, sampling, backend or shown MLA path (every path is scored).
ModelSettings heldout_key(ModelSettings s) {
    s.mla_path = MlaPath::Absorbed;
    s.no_cache = false;
    s.sample_seed = 1;
    s.temperature = 0;
    s.top_k = 0;
    s.top_p = 1;
    s.backend.clear();
    s.prompt.clear();
    return s;
}
}  // namespace

bool Session::heldout_current() const { return heldout_key_ == heldout_key(settings_); }

void Session::measure_heldout() {
    if (heldout_.state == HeldoutEffect::State::Running) return;
    if (heldout_job_.valid()) heldout_job_.wait();   // one for earlier settings: wait, then drop it
    heldout_job_ = {};
    HeldoutEffect e;
    e.dtype = settings_.cache_dtype;
    e.mla = config().is_mla();
    heldout_key_ = heldout_key(settings_);
    const std::string dir = main().trained_weights ? trained_model_dir(config(), settings_.trained_set) : std::string();
    if (dir.empty()) {
        e.state = HeldoutEffect::State::Unavailable;
        e.message = "random weights were not trained on any text, so there is no held-out text to score";
        heldout_ = std::move(e);
        return;
    }
    std::string text;
    int64_t seq_len = 256;
    try {
        const TrainedModel m = load_trained_model(dir);
        text = read_heldout(m);
        seq_len = m.record->options.seq_len;
        e.model = m.name;
    } catch (const InputError& err) {
        e.state = HeldoutEffect::State::Unavailable;
        e.message = err.what();
        heldout_ = std::move(e);
        return;
    }
    e.seq_len = seq_len;
    e.bytes = static_cast<int64_t>(text.size());
    e.windows = static_cast<int64_t>(heldout_window_starts(e.bytes, seq_len, sopt_.heldout_windows).size());
    e.state = HeldoutEffect::State::Running;
    heldout_ = e;
    RunOptions run = options();
    run.no_cache = false;
    // Its own CPU backend: the session's (perhaps GL) backend belongs to this thread. Threads as
    // the app runs with (CpuBackend(n) would set Eigen's count for the whole process).
    heldout_job_ = std::async(std::launch::async, [e, text = std::move(text), w = main().weights, run,
                                                   windows = sopt_.heldout_windows]() mutable {
        const auto t0 = std::chrono::steady_clock::now();
        CpuBackend cpu;
        try {
            e.rows = cache_dtype_losses(*w, run, cpu, text, e.seq_len, windows, e.dtype);
            e.state = HeldoutEffect::State::Done;
        } catch (const InputError& err) {
            e.state = HeldoutEffect::State::Unavailable;
            e.message = err.what();
        }
        e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return e;
    });
}

bool Session::poll_heldout() {
    if (!heldout_job_.valid() || heldout_job_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
    HeldoutEffect e = heldout_job_.get();
    if (!heldout_current()) return false;  // for settings since changed
    heldout_ = std::move(e);
    ++revision_;
    return true;
}

void Session::wait_heldout() {
    if (heldout_job_.valid()) heldout_job_.wait();
    poll_heldout();
}

int64_t Session::predicted(int64_t step) const {
    if (step < 0 || step >= static_cast<int64_t>(gen_.predicted().size())) return -1;
    return gen_.predicted()[static_cast<size_t>(step)];
}

std::string Session::generated_text() const {
    std::string s;
    for (int64_t i = prompt_length(); i < steps(); ++i) {
        const int64_t t = tokens()[static_cast<size_t>(i)];
        s += t == ' ' ? std::string(" ") : token_text(t, TokenStyle::Label);
    }
    return s;
}

}  // namespace mla::app
