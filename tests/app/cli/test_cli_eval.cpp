// `mla-lab eval`: the held-out loss with the cache in fp32 reproduces the trainer's own
// validation loss (a different program: the whole-sequence trainer against the decoder);
// the narrow-cache losses are the decoder's with that cache, per MLA path; bad input exits 2.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "support/run_cli.h"

#include "io/model_folder.h"
#include "model/cpu_backend.h"
#include "train/train_report.h"

using nlohmann::json;
using namespace mla;

namespace {

using Out = mla::test::CliOut;
Out run(const std::string& args) { return mla::test::run_cli(args); }

const std::string kModels = std::string(MLA_ASSETS_DIR) + "/models";

}  // namespace

TEST_CASE("eval: the fp32 loss is train.csv's last validation loss, the trainer's windows", "[cli][eval]") {
    const Out r = run("eval --model " + kModels + "/mqa-fortunes --cache-dtype bf16 --json");
    INFO(r.text);
    REQUIRE(r.status == 0);
    const json j = json::parse(r.text);
    CHECK(j["attn"] == "mqa");
    CHECK(j["heldout"]["windows"] == 64);
    CHECK(j["heldout"]["seq_len"] == 256);
    CHECK(j["heldout"]["bytes"] == 127779);
    const TrainedModel m = load_trained_model(kModels + "/mqa-fortunes");
    const double csv_bits = m.last().val_loss / std::log(2.0);
    CHECK(j["train_csv_val_loss_bits"].get<double>() == Approx(csv_bits).margin(1e-9));
    const json& row = j["loss"]["mqa"];
    CHECK(std::abs(row["fp32"].get<double>() - csv_bits) <= kRescoreTolerance / std::log(2.0));
    // bf16 keys and values: a small change, not none (this model's is about 1e-4 bits).
    CHECK(std::abs(row["change"].get<double>()) < 0.01);
    CHECK(row["bf16"].get<double>() != row["fp32"].get<double>());
    CHECK(row["change"].get<double>() == Approx(row["bf16"].get<double>() - row["fp32"].get<double>()).margin(1e-12));
}

TEST_CASE("eval --cache-dtype fp8: each MLA path's loss is the decoder's with that cache", "[cli][eval]") {
    const Out r = run("eval --model " + kModels + "/mla-fortunes --cache-dtype fp8 --windows 4 --seq-len 64 --json");
    INFO(r.text);
    REQUIRE(r.status == 0);
    const json j = json::parse(r.text);
    CHECK(j["heldout"]["bytes_scored"] == 4 * 64);
    CHECK(!j.contains("train_csv_val_loss_bits"));   // not the trainer's windows
    const Weights w = load_model(kModels + "/mla-fortunes");
    const std::string held = read_heldout(load_trained_model(kModels + "/mla-fortunes"));
    for (MlaPath p : {MlaPath::CachedKV, MlaPath::Recompute, MlaPath::Absorbed}) {
        INFO(to_string(p));
        const json& row = j["loss"][to_string(p)];
        CpuBackend cpu(1);
        RunOptions run;
        run.mla_path = p;
        run.cache_dtype = CacheDtype::F8E4M3;
        CHECK(row["fp8"].get<double>() == Approx(bits_per_byte(heldout_loss(w, run, cpu, held, 64, 4))).epsilon(1e-6));
        run.cache_dtype = CacheDtype::F32;
        CHECK(row["fp32"].get<double>() == Approx(bits_per_byte(heldout_loss(w, run, cpu, held, 64, 4))).epsilon(1e-6));
        CHECK(row["change"].get<double>() > 0.001);   // fp8's 3 mantissa bits cost something measurable
    }
    // recompute and absorbed hold the same rounded latent: the same loss up to float rounding
    CHECK(j["loss"]["recompute"]["fp8"].get<double>() == Approx(j["loss"]["absorbed"]["fp8"].get<double>()).epsilon(1e-4));
}

TEST_CASE("eval: bad input is one line and exit 2", "[cli][eval]") {
    struct Case { std::string args, says; };
    for (const Case& c : {Case{"eval --weights random", "--heldout FILE"},
                          Case{"eval --heldout /nonexistent/heldout.txt", "/nonexistent/heldout.txt"},
                          Case{"eval --seq-len 5000", "beyond this model's context"},
                          Case{"eval --windows -1", "must be 1 or more"},
                          Case{"eval --cache-dtype int4", "fp32, bf16, fp16"},
                          Case{"eval --model " + std::string(MLA_FIXTURES_DIR) + "/ref_mla --heldout " + kModels +
                                   "/fortunes-heldout.txt",
                               "byte-level"}}) {
        INFO(c.args);
        const Out r = run(c.args);
        CHECK(r.status == 2);
        CHECK(r.text.find(c.says) != std::string::npos);
        CHECK(r.text.find("error") != std::string::npos);
    }
}
