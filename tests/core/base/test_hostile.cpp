// The readers' boundary (base/json_read.h, base/text_file.h, base/memory.h) and the bounds
// that keep every later product of sizes in range: issue 12's classes, below the CLI.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

#include "base/json_read.h"
#include "base/memory.h"
#include "curves/cache_calc.h"
#include "io/model_settings.h"
#include "lesson/lesson.h"
#include "model/config.h"
#include "model/cost.h"
#include "model/weights.h"
#include "support/temp_dir.h"

using namespace mla;
using Catch::Contains;

TEST_CASE("hostile JSON becomes one short InputError", "[hostile][json]") {
    CHECK_THROWS_WITH(parse_json("{\"a\": 1e400}", "x.json"), Contains("x.json: not valid JSON (number overflow"));
    CHECK_THROWS_WITH(parse_json("{\"a\": [1, 2", "x.json"), Contains("x.json: not valid JSON"));
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    CHECK_THROWS_WITH(parse_json(deep, "x.json"), Contains("nested deeper than 64 levels"));
    // Brackets inside strings are not nesting.
    CHECK(parse_json("{\"a\": \"" + std::string(1000, '[') + "\"}", "x.json").is_object());
    CHECK_NOTHROW(parse_json(std::string(64, '[') + std::string(64, ']'), "x.json"));
    CHECK_THROWS(parse_json(std::string(65, '[') + std::string(65, ']'), "x.json"));

    const nlohmann::json j = parse_json(R"({"b": "yes", "i": 18446744073709551615, "f": 2.5, "n": null, "s": 3,
                                            "long": ")" + std::string(10000, 'x') + "\"}", "x.json");
    CHECK_THROWS_WITH(json_bool(j, "b", "x.json"), "x.json: field 'b' must be true or false, got \"yes\"");
    CHECK_THROWS_WITH(json_int(j, "i", "x.json"), Contains("must be an integer below 2^63"));
    CHECK_THROWS_WITH(json_int(j, "f", "x.json"), Contains("must be an integer, got 2.5"));
    CHECK_THROWS_WITH(json_string(j, "s", "x.json"), Contains("must be a string, got 3"));
    CHECK(!json_int(j, "n", "x.json"));
    CHECK(!json_int(j, "absent", "x.json"));
    try {
        json_int(j, "long", "x.json");
        FAIL("a string is not an integer");
    } catch (const InputError& e) {
        CHECK(std::string(e.what()).size() < 120);  // an excerpt, not 10,000 characters
        CHECK(e.field == "long");
    }
    CHECK_THROWS_WITH(json_int(nlohmann::json("text"), "k", "x.json"), Contains("expected a JSON object"));
}

TEST_CASE("only regular files are read, and only up to their limit", "[hostile][files]") {
    TempDir t;
    std::filesystem::create_directories(t.path / "d");
    CHECK_THROWS_WITH(read_file(t / "d"), Contains("it is a folder, not a regular file"));
    REQUIRE(::mkfifo((t / "p").c_str(), 0600) == 0);
    CHECK_THROWS_WITH(read_file(t / "p"), Contains("named pipe (FIFO)"));  // refused, not waited on
    CHECK_THROWS_WITH(read_file("/dev/zero"), Contains("character device"));
    CHECK_THROWS_WITH(read_file(t / "none", "; give a file"), Contains("No such file or directory; give a file"));
    t.write("f", std::string(2000, 'a'));
    CHECK(read_file(t / "f").size() == 2000);
    CHECK_THROWS_WITH(read_file(t / "f", "", 1000), Contains("2000 bytes, more than the 1000 bytes"));
}

TEST_CASE("memory needed is compared with memory available", "[hostile][memory]") {
    CHECK(available_memory_bytes() > 0);
    ::setenv("MLA_LAB_MEMORY_BYTES", "1000000", 1);
    CHECK(available_memory_bytes() == 1000000);
    CHECK_NOTHROW(check_memory(999999, "x"));
    CHECK_THROWS_WITH(check_memory(4.4e9, "loading x", "choose a smaller model"),
                      "loading x needs 4.40 GB of memory, but 1.00 MB is available; choose a smaller model");
    CHECK_THROWS(check_memory(1e300, "x"));
    ::unsetenv("MLA_LAB_MEMORY_BYTES");
}

TEST_CASE("every size field has a bound, so the calculator answers at once for any config", "[hostile][config]") {
    Config c = builtin_config(AttnKind::GQA);
    for (int64_t* field : {&c.vocab_size, &c.hidden_size, &c.intermediate_size, &c.num_hidden_layers,
                           &c.num_attention_heads, &c.head_dim, &c.max_position_embeddings}) {
        Config bad = c;
        *(field - &c.vocab_size + &bad.vocab_size) = int64_t{1} << 62;
        CHECK_THROWS_WITH(validate(bad, false), Contains("it must be at most"));
    }
    // The largest real configs fit under the bounds.
    for (const std::string& name : preset_names()) {
        INFO(name);
        CHECK_NOTHROW(load_preset(name));
    }
    // At the bounds, the calculator's products are checked, not wrapped.
    Config big = c;
    big.num_attention_heads = kMaxHeads;
    big.num_key_value_heads = kMaxHeads;
    big.head_dim = kMaxHeadDim;
    big.num_hidden_layers = kMaxLayers;
    big.max_position_embeddings = kMaxPositions;
    validate(big, false);
    const auto t0 = std::chrono::steady_clock::now();
    CacheRequest r;
    r.tokens = {1, 1000000};
    r.dtype = parse_dtype("fp32");
    const CacheReport rep = cache_report("big", big, r);
    CHECK(!rep.rows.empty());
    // 2^37 bytes per token (MHA row) x 2^28 tokens is 2^65: refused, not wrapped.
    r.tokens = {static_cast<uint64_t>(kMaxPositions)};
    CHECK_THROWS_WITH(cache_report("big", big, r), Contains("overflows 2^64 - 1 bytes"));
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 5);
    CacheChoices huge;
    huge.latent = int64_t{1} << 40;
    CacheLayout l;
    CHECK_THROWS_WITH(comparison_layout(c, CacheKind::MLA, huge, l), Contains("up to 32768"));
}

TEST_CASE("parameter_count is the sum of the tensor list, for every kind and preset", "[hostile][weights]") {
    std::vector<Config> configs;
    for (AttnKind k : {AttnKind::MHA, AttnKind::GQA, AttnKind::MQA, AttnKind::MLA}) configs.push_back(builtin_config(k));
    Config q = builtin_config(AttnKind::MLA);
    q.q_lora_rank = 24;
    q.tie_word_embeddings = true;
    configs.push_back(q);
    for (const Config& c : configs) {
        double sum = 0;
        for (const TensorSpec& s : tensor_specs(c)) sum += static_cast<double>(s.size());
        CHECK(parameter_count(c) == sum);
    }
    // DeepSeek-V2-Lite read as a dense model: 15.7 B parameters would be its MoE total; the
    // dense reading (first layer's MLP width everywhere) is what a load would allocate.
    const Config lite = load_preset("deepseek-v2-lite");
    double sum = 0;
    for (const TensorSpec& s : tensor_specs(lite)) sum += static_cast<double>(s.size());
    CHECK(parameter_count(lite) == sum);
}

TEST_CASE("lesson flops_total is a closed form equal to the step-by-step sum", "[hostile][lesson]") {
    const LessonEnv env = default_lesson_env();
    for (const char* kind : {"mha", "gqa", "mqa", "mla"}) {
        for (const char* extra : {"", " no_cache"}) {
            ShowMe show;
            show.steps = 1;
            const std::string expr = std::string("flops_total ") + kind + " tokens=300" + extra;
            const LessonValue v = lesson_value(expr, show, env);
            show.model.kind = parse_attn_kind(kind);
            const Config cfg = model_config(show.model, show.model.kind);
            RunOptions o = run_options(show.model, show.model.kind);
            o.no_cache = std::string(extra) == " no_cache";
            double sum = 0;
            for (int64_t t = 1; t <= 300; ++t) sum += step_cost(cfg, o, t).flops();
            INFO(expr);
            CHECK(v.value == Approx(sum).epsilon(1e-12));
        }
    }
    for (const char* path : {"cached-kv", "recompute", "absorbed"}) {
        ShowMe show;
        const LessonValue v = lesson_value(std::string("flops_total mla tokens=200 path=") + path, show, env);
        const Config cfg = model_config(show.model, AttnKind::MLA);
        RunOptions o = run_options(show.model, AttnKind::MLA);
        o.mla_path = parse_mla_path(path);
        double sum = 0;
        for (int64_t t = 1; t <= 200; ++t) sum += step_cost(cfg, o, t).flops();
        INFO(path);
        CHECK(v.value == Approx(sum).epsilon(1e-12));
    }
    // The page that hung the app at start-up: refused at once, not computed per token.
    ShowMe show;
    const auto t0 = std::chrono::steady_clock::now();
    CHECK_THROWS_WITH(lesson_value("flops_total tokens=999999999999999999", show, env), Contains("more than any model's context"));
    CHECK_NOTHROW(lesson_value("flops_total tokens=268435456", show, env));
    CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 5);
}

TEST_CASE("a config read from GPT-2 or Falcon names is written back in names it is read by", "[hostile][config]") {
    for (const char* name : {"gpt2", "falcon-7b"}) {
        INFO(name);
        const Config c = load_preset(name);
        const nlohmann::json j = config_to_json(c);
        CHECK(j["model_type"] == "llama");
        CHECK(config_to_json(config_from_json(j)) == j);
    }
}
