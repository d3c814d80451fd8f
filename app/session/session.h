// The app's state: the model the sidebar describes, a decoder running it token by token,
// the Trace of every step (so the timeline can scrub back), and two lockstep sets of
// decoders fed the same tokens: one per attention kind (the Compare view) and one per
// MLA path (the Absorption view). No GL, GLFW or ImGui here: the tests drive a Session
// with no window.
//
// Views never change the session: they push Commands, and the window applies them
// between frames (Session::apply). A setting that cannot run (validate() throws) leaves
// the last good model running and keeps the message with the field that caused it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "io/model_settings.h"
#include "model/backend.h"
#include "model/config.h"
#include "model/cost.h"
#include "model/decoder.h"
#include "model/trace.h"
#include "train/train_report.h"

namespace mla::app {

// What the sidebar sets is a ModelSettings (io/model_settings.h), the struct the CLI,
// session files and the lesson fill too; a message belongs to one of its Fields.

// ---- commands (pushed by views, applied between frames)

namespace cmd {
struct Step { int64_t count = 1; };           // generate `count` new tokens
struct Forward { int64_t count = 1; };        // Step button, Right, Play: see Session::forward
struct Reset {};
struct Select { int64_t step = 0; };          // scrub the timeline
struct Apply { ModelSettings settings; Field field = Field::None; };
struct MeasureHeldout {};                      // start the held-out loss check of the cache dtype
}  // namespace cmd
using SessionCommand = std::variant<cmd::Step, cmd::Forward, cmd::Reset, cmd::Select, cmd::Apply, cmd::MeasureHeldout>;

// An export the window performs after the frame is drawn.
struct ExportRequest {
    enum class Kind { TraceJson, HeadCsv, CurvesSvg, CurvesCsv } kind = Kind::TraceJson;
    std::string view;             // "shapes", ... (file name part)
    int layer = 0, head = 0;      // HeadCsv
};

struct Commands {
    std::vector<SessionCommand> session;
    std::vector<ExportRequest> exports;
    void push(SessionCommand c) { session.push_back(std::move(c)); }
    void step(int64_t n = 1) { push(cmd::Step{n}); }
    void forward(int64_t n = 1) { push(cmd::Forward{n}); }
    void reset() { push(cmd::Reset{}); }
    void select(int64_t s) { push(cmd::Select{s}); }
    void apply(const ModelSettings& s, Field f) { push(cmd::Apply{s, f}); }
    void measure_heldout() { push(cmd::MeasureHeldout{}); }
};

// ---- lanes: one decoder and the traces of its steps

struct Lane {
    std::string name;                       // "main", "mha", "gqa", "mqa", "mla", "cached-kv", ...
    Config cfg;
    RunOptions opt;
    std::shared_ptr<const Weights> weights;
    std::string weights_desc;               // "trained model mla-fortunes", "random weights, seed 1"
    bool trained_weights = false;           // a trained folder of assets/models (else seeded random)
    int64_t trained_context = 0;            // tokens per window the weights were trained on (0: not trained)
    std::unique_ptr<Decoder> dec;
    std::vector<Trace> traces;              // one per step
    std::vector<float> logits;              // after the last step
    bool keep_all_data = false;             // every tensor's data (the main lane); else att_probs and logits
    const Trace* trace(int64_t step) const;
};

// Largest |difference| between the MLA paths at one step (same tokens, same weights).
struct PathDiff {
    double absorbed_vs_recompute = 0;       // logits
    double cached_vs_recompute = 0;         // logits
    double probs_absorbed_vs_recompute = 0; // att_probs, all layers and heads
    // With a cache stored narrower than fp32: each lane's logits against the same lane with
    // an fp32 cache (by MlaPath; the main lane's separately). NaN when the cache is fp32.
    std::array<double, 3> vs_fp32{kNaN, kNaN, kNaN};
    double main_vs_fp32 = kNaN;
    static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
};

// The held-out loss with the cache in fp32 and in the chosen dtype, per MLA path (the main
// kind's one row otherwise): `mla-lab eval` with fewer windows, run off the frame loop.
struct HeldoutEffect {
    enum class State { None, Running, Done, Unavailable } state = State::None;
    CacheDtype dtype = CacheDtype::F32;
    std::string model;                      // "mla-fortunes"
    int64_t windows = 0, seq_len = 0, bytes = 0;  // windows scored, bytes per window, held-out text size
    std::vector<CacheDtypeLoss> rows;       // train/train_report.h
    bool mla = false;                       // rows are the three MLA paths
    std::string message;                    // Unavailable: why ("random weights have no held-out text")
    double seconds = 0;                     // how long it took
};
inline constexpr int64_t kHeldoutWindows = 16;   // the window's check; `mla-lab eval` scores 64

using BackendFactory = std::function<std::unique_ptr<Backend>(const std::string& name)>;
BackendFactory default_backend_factory();   // "cpu" (and "gpu" where app/session/backends.h provides it)

struct SessionOptions {
    bool compare = true;                    // run MHA, GQA, MQA and MLA in lockstep
    bool paths = true;                      // run the three MLA paths in lockstep
    int64_t heldout_windows = kHeldoutWindows;  // windows the held-out check scores (tests: fewer)
};

class Session {
public:
    // Throws InputError when `s` cannot run.
    explicit Session(const ModelSettings& s = {}, SessionOptions o = {},
                     BackendFactory factory = default_backend_factory());
    ~Session();

    // ---- commands (also reachable through apply)
    bool step(int64_t count = 1);           // generates; false (and error()) at the context limit
    // `count` steps forward from the selected one: while scrubbed back it moves through the
    // recorded steps (generating nothing); from the newest step on it generates. Returns how
    // many new tokens it generated; stops (with error()) at the context limit.
    int64_t forward(int64_t count = 1);
    bool scrubbed_back() const { return selected_ + 1 < steps(); }
    void reset();
    void select(int64_t step);              // clamped to [0, steps() - 1]
    // Rebuilds the model and replays the same number of steps. On InputError: returns
    // false, keeps the last good model and records the message for `field`.
    bool apply_settings(const ModelSettings& s, Field field);
    void apply(Commands& c);                // runs and clears c.session

    // ---- state
    const ModelSettings& settings() const { return settings_; }
    const Config& config() const { return main().cfg; }
    const RunOptions& options() const { return main().opt; }
    int64_t steps() const { return gen_.steps(); }
    int64_t selected() const { return selected_; }         // -1 when no step yet
    int64_t max_steps() const { return config().max_position_embeddings; }
    // The window length the main model was trained on (train.json's seq_len; 0 for random
    // weights). Past it the text is no longer what the model learned to write.
    int64_t trained_context() const { return main().trained_context; }
    bool past_trained_context() const { return trained_context() > 0 && steps() > trained_context(); }
    const std::vector<int64_t>& tokens() const { return gen_.fed(); }       // fed, one per step
    const std::vector<std::string>& token_labels() const { return labels_; }
    const std::vector<const char*>& token_cstrs() const { return cstrs_; }  // for heatmap axes
    int64_t prompt_length() const { return static_cast<int64_t>(settings_.prompt.size()); }
    bool in_prompt(int64_t step) const { return step < prompt_length(); }
    // The token that follows that step: sampled (as `mla-lab generate` does, from the last
    // prompt byte on) or, inside the prompt, the model's most likely byte. -1 if none.
    int64_t predicted(int64_t step) const;
    std::string generated_text() const;    // the tokens after the prompt, as text
    // The logit lens of the main model at `step` (model/logit_lens.h): the logits the
    // embedding and the residual after each layer would give; the last row is the model's own.
    // Empty before the first step.
    std::vector<std::vector<float>> logit_lens(int64_t step) const;

    const Lane& main() const { return lanes_.at(main_); }
    const Trace* trace() const { return main().trace(selected_); }   // the selected step
    bool has_compare() const { return !compare_.empty(); }
    const Lane& compare(AttnKind k) const { return lanes_.at(compare_.at(static_cast<size_t>(k))); }
    bool has_paths() const { return !paths_.empty(); }
    const Lane& path(MlaPath p) const { return lanes_.at(paths_.at(static_cast<size_t>(p))); }
    const std::vector<PathDiff>& path_diffs() const { return diffs_; }
    // The fp32-cache twins run beside the lanes when the cache is narrower (settings().cache_dtype).
    bool has_fp32_reference() const { return !paths_fp32_.empty() || main_fp32_ != kNone; }

    // The held-out check (cmd::MeasureHeldout): Running until a later poll_heldout() finds it
    // done; kept while the weights and dtype stay, dropped when they change.
    const HeldoutEffect& heldout_effect() const { return heldout_; }
    int64_t heldout_windows() const { return sopt_.heldout_windows; }
    void measure_heldout();
    bool poll_heldout();                    // true when a result arrived
    void wait_heldout();                    // blocks until a running check is done (tests, CLI)

    const std::string& error() const { return error_; }
    Field error_field() const { return error_field_; }
    void clear_error();
    const std::string& backend_name() const { return backend_name_; }
    std::string backend_device() const;
    double last_step_ms() const { return last_step_ms_; }  // all lanes, one token
    int decoder_count() const;             // decoders run per token (lanes that share one count once)
    // Changes whenever the run changes (a step, a reset, a rebuild): views cache by it.
    uint64_t revision() const { return revision_; }

private:
    struct Built;
    Built build(const ModelSettings& s) const;  // throws InputError
    void install(Built&& b, const ModelSettings& s);
    bool step_one();
    void set_error(Field f, std::string msg);
    bool heldout_current() const;           // heldout_ is for the running weights and dtype

    BackendFactory factory_;
    SessionOptions sopt_;
    ModelSettings settings_;
    std::string backend_name_;
    std::unique_ptr<Backend> backend_;      // declared before the lanes: destroyed after them
    std::vector<Lane> lanes_;               // one decoder each; roles below index them
    size_t main_ = 0;
    std::vector<size_t> compare_;           // by AttnKind: the lane running that kind
    std::vector<size_t> paths_;             // by MlaPath: the lane running that MLA path
    static constexpr size_t kNone = static_cast<size_t>(-1);
    std::vector<size_t> paths_fp32_;        // by MlaPath: the same path with an fp32 cache (narrow cache only)
    size_t main_fp32_ = kNone;              // the main lane with an fp32 cache (narrow cache only)
    std::vector<PathDiff> diffs_;
    HeldoutEffect heldout_;
    std::future<HeldoutEffect> heldout_job_;
    ModelSettings heldout_key_;             // the settings the result is for, less what does not change it
    Generation gen_;                        // tokens fed and predicted (model/decoder.h)
    std::vector<std::string> labels_;
    std::vector<const char*> cstrs_;
    int64_t selected_ = -1;
    std::string error_;
    Field error_field_ = Field::None;
    double last_step_ms_ = 0;
    uint64_t revision_ = 0;
};

}  // namespace mla::app
