// `mla-lab convert`: the JSON names each layer's singular values and error, which is the
// tail of those singular values; the folder it writes runs; --sweep writes its table, whose
// full-rank, every-pair row scores the source's own loss; `train --init` fine-tunes from a
// converted folder; bad input exits 2 with the valid range.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "support/run_cli.h"

using nlohmann::json;

namespace {

using Out = mla::test::CliOut;
Out run(const std::string& args) { return mla::test::run_cli(args); }

const std::string kModels = std::string(MLA_ASSETS_DIR) + "/models";

std::string tmp(const char* name) {
    const std::string d = (std::filesystem::temp_directory_path() / name).string();
    std::filesystem::remove_all(d);
    return d;
}

}  // namespace

TEST_CASE("convert: --json gives per layer singular values and their tail as the error", "[cli][convert]") {
    const std::string out = tmp("mla-cli-convert");
    const Out r = run("convert --model " + kModels + "/mha-fortunes --kv-lora-rank 16 --rope-pairs 2 --out " + out + " --json");
    INFO(r.text);
    REQUIRE(r.status == 0);
    const json j = json::parse(r.text);
    REQUIRE(j["layers"].size() == 3);
    for (const json& l : j["layers"]) {
        const std::vector<double> s = l["singular_values"];
        REQUIRE(s.size() == 64);  // [K_nope (4 x 12) ; V (4 x 16)] is 112 x 64
        double all = 0, tail = 0;
        for (size_t i = 0; i < s.size(); ++i) {
            all += s[i] * s[i];
            if (i >= 16) tail += s[i] * s[i];
        }
        CHECK(l["relative_error"].get<double>() == Approx(std::sqrt(tail / all)).epsilon(1e-9));
    }
    CHECK(j["cache_bytes_per_token"]["before"] == 2 * 4 * 16 * 3 * 4);
    CHECK(j["cache_bytes_per_token"]["after"] == (16 + 4 * 4) * 3 * 4);
    const Out g = run("generate --model " + out + " --prompt \"The \" --tokens 8 --json");
    INFO(g.text);
    CHECK(g.status == 0);
    const Out c = run("cache --config " + out + "/config.json --tokens 100");
    INFO(c.text);
    CHECK(c.status == 0);
    CHECK(c.text.find("(C + Gr Dr)") != std::string::npos);
    std::filesystem::remove_all(out);
}

TEST_CASE("convert --sweep: the full-rank row with every pair kept scores the source", "[cli][convert]") {
    const std::string csv = tmp("mla-cli-sweep.csv");
    const Out r = run("convert --model " + kModels + "/gqa-fortunes --sweep --ranks 8,32 --pairs 2,8 --windows 4 --csv " + csv);
    INFO(r.text);
    REQUIRE(r.status == 0);
    std::ifstream in(csv);
    std::string header, line;
    std::getline(in, header);
    CHECK(header.rfind("kv_lora_rank,rope_pairs,", 0) == 0);
    int rows = 0;
    bool full = false;
    while (std::getline(in, line)) {
        ++rows;
        std::vector<std::string> f;
        std::stringstream ss(line);
        std::string cell;
        while (std::getline(ss, cell, ',')) f.push_back(cell);
        REQUIRE(f.size() == 9);
        if (f[0] == "32" && f[1] == "8") {  // GQA: [V] of 2 KV heads x 16 is rank 32, all 8 pairs kept
            full = true;
            CHECK(std::stod(f[7]) == Approx(std::stod(f[8])).margin(1e-4));
        }
    }
    CHECK(rows == 4);
    CHECK(full);
    std::filesystem::remove_all(csv);
}

TEST_CASE("train --init fine-tunes a converted folder", "[cli][convert]") {
    const std::string conv = tmp("mla-cli-conv-init"), ft = tmp("mla-cli-conv-ft");
    REQUIRE(run("convert --model " + kModels + "/mqa-fortunes --kv-lora-rank 8 --rope-pairs 2 --out " + conv).status == 0);
    const std::string corpus = kModels + "/fortunes-heldout.txt";
    const Out r = run("train --init " + conv + " --corpus " + corpus + " --steps 4 --batch 2 --seq 32 --eval-every 2 --sample-tokens 0 --out " + ft);
    INFO(r.text);
    REQUIRE(r.status == 0);
    CHECK(std::filesystem::exists(ft + "/train.csv"));
    std::ifstream cfg(ft + "/config.json");
    const json j = json::parse(cfg);
    CHECK(j["mla_kv_norm"] == false);
    CHECK(j["kv_lora_rank"] == 8);
    const Out bad = run("train --init " + conv + " --hidden 32 --corpus " + corpus + " --out " + ft);
    CHECK(bad.status == 2);
    CHECK(bad.text.find("own sizes") != std::string::npos);
    std::filesystem::remove_all(conv);
    std::filesystem::remove_all(ft);
}

TEST_CASE("convert: bad input exits 2 saying what would be right", "[cli][convert]") {
    const std::string out = tmp("mla-cli-convert-bad");
    Out r = run("convert --model " + kModels + "/mha-fortunes --kv-lora-rank 16 --rope-pairs 9 --out " + out);
    CHECK(r.status == 2);
    CHECK(r.text.find("keep 1 to 8") != std::string::npos);
    r = run("convert --model " + kModels + "/mha-fortunes --kv-lora-rank 999 --rope-pairs 2 --out " + out);
    CHECK(r.status == 2);
    CHECK(r.text.find("use 1 to 64") != std::string::npos);
    r = run("convert --model " + kModels + "/mla-fortunes --kv-lora-rank 16 --rope-pairs 2 --out " + out);
    CHECK(r.status == 2);
    CHECK(r.text.find("already an MLA model") != std::string::npos);
    r = run("convert --model " + kModels + "/mha-fortunes --kv-lora-rank 16 --rope-pairs 2 --rope-strategy fast --out " + out);
    CHECK(r.status == 2);
    r = run("convert --model " + kModels + "/mha-fortunes --sweep");
    CHECK(r.status == 2);
    CHECK(r.text.find("--csv") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(out));
}
