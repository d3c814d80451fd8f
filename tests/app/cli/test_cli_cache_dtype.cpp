// --cache-dtype from the command line: verify reports each path against its float32 self,
// generate counts the cache in the stored bytes, bench rows halve their cache bytes in bf16,
// an unknown dtype is refused with exit status 2.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/run_cli.h"

using nlohmann::json;

namespace {

using Out = mla::test::CliOut;
Out run(const std::string& args) { return mla::test::run_cli(args); }

}  // namespace

TEST_CASE("verify --cache-dtype: vs_fp32 per path, larger for fp8 than bf16", "[cli][dtype]") {
    const Out f = run("verify --tokens 24 --json");
    REQUIRE(f.status == 0);
    CHECK(!json::parse(f.text).contains("vs_fp32"));
    double prev = 0;
    for (const char* dt : {"bf16", "fp8"}) {
        const Out r = run(std::string("verify --tokens 24 --json --cache-dtype ") + dt);
        INFO(r.text);
        REQUIRE(r.status == 0);
        const json j = json::parse(r.text);
        CHECK(j["cache_dtype"] == dt);
        double worst = 0;
        for (const char* p : {"cached-kv", "recompute", "absorbed"}) {
            const double d = j["vs_fp32"][p].get<double>();
            CHECK(std::isfinite(d));
            CHECK(d > 0);
            worst = std::max(worst, d);
        }
        CHECK(worst > prev);
        prev = worst;
    }
}

TEST_CASE("generate --cache-dtype counts the cache in the stored bytes", "[cli][dtype]") {
    const Out r = run("generate --tokens 2 --json --cache-dtype fp8");
    REQUIRE(r.status == 0);
    std::istringstream in(r.text);
    std::string line;
    int rows = 0;
    while (std::getline(in, line)) {
        const json j = json::parse(line);
        CHECK(j["cache_dtype"] == "fp8");
        CHECK(j["cache_bytes"].get<double>() == j["cache_elements"].get<double>());
        ++rows;
    }
    CHECK(rows == 2);
}

TEST_CASE("bench --cache-dtype fp32,bf16: bf16 rows read half the cache bytes", "[cli][dtype]") {
    const Out r = run("bench --context 64 --min-seconds 0 --threads 1 --cache-dtype fp32,bf16 --attention both --json");
    INFO(r.text.substr(0, 2000));
    REQUIRE(r.status == 0);
    const json j = json::parse(r.text);
    REQUIRE(j["rows"].size() == 6 * 2 * 2);
    for (size_t i = 0; i < j["rows"].size(); i += 4) {
        const json& a = j["rows"][i];
        const json& b = j["rows"][i + 2];
        CHECK(a["cache_dtype"] == "fp32");
        CHECK(b["cache_dtype"] == "bf16");
        CHECK(b["cache_bytes_read_per_step"].get<double>() * 2 == a["cache_bytes_read_per_step"].get<double>());
    }
    CHECK(j["memory_read_bandwidth_gb_per_s"].get<double>() > 0);
}

TEST_CASE("an unknown --cache-dtype is refused with one line and exit 2", "[cli][dtype]") {
    const Out r = run("generate --cache-dtype int4 --tokens 1");
    CHECK(r.status == 2);
    CHECK(r.text.find("fp32, bf16, fp16 or fp8") != std::string::npos);
    CHECK(std::count(r.text.begin(), r.text.end(), '\n') == 1);
}
