// `mla-lab train --report`: the table of the built-in models, each final validation loss
// re-scored by the decoder, and exit status 1 when a train.csv does not match its weights.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>
#include <sys/wait.h>

#include "support/run_cli.h"
#include "support/temp_dir.h"
#include "train/train.h"

using namespace mla;

namespace fs = std::filesystem;

namespace {

using Run = test::CliOut;
Run run(const std::string& args) { return test::run_cli(args); }

std::string line_of(const std::string& text, const std::string& start) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(start, 0) == 0) return line;
    return "";
}

}  // namespace

TEST_CASE("train --report re-scores the built-in models and matches train.csv", "[cli][report]") {
    const Run r = run(std::string("train --report ") + MLA_ASSETS_DIR + "/models");
    INFO(r.text);
    REQUIRE(r.status == 0);
    for (const char* name : {"mha-fortunes", "gqa-fortunes", "mqa-fortunes", "mla-fortunes"}) {
        const std::string row = line_of(r.text, name);
        INFO(name);
        REQUIRE(!row.empty());
        // ... val loss, re-scored, diff: the two losses print the same to 4 decimals
        std::istringstream cols(row);
        std::vector<std::string> c;
        for (std::string s; cols >> s;) c.push_back(s);
        REQUIRE(c.size() == 11);
        CHECK(c[8] == c[9]);
        CHECK(std::abs(std::stod(c[10])) <= 1e-4);
    }
    CHECK(line_of(r.text, "mla-fortunes").find(" 480 ") != std::string::npos);  // 120 elements x 4 bytes, all 3 layers
}

// Copies some files of a built-in model folder into dst (created).
static void copy_model(const std::string& name, const fs::path& dst, std::initializer_list<const char*> files) {
    fs::create_directories(dst);
    for (const char* f : files) fs::copy_file(fs::path(MLA_ASSETS_DIR) / "models" / name / f, dst / f);
}

TEST_CASE("train --report exits 1 when train.csv does not belong to the weights", "[cli][report]") {
    // tmp/gqa-changed holds the model; its train.json names ../fortunes-heldout.txt
    TempDir tmp;
    const fs::path dir = tmp.path / "gqa-changed";
    copy_model("gqa-fortunes", dir, {"config.json", "model.safetensors", "train.json"});
    fs::copy_file(fs::path(MLA_ASSETS_DIR) / "models" / "fortunes-heldout.txt", tmp.path / "fortunes-heldout.txt");
    {  // train.csv with its last val_loss 0.01 higher
        const std::vector<TrainCurvePoint> rows = read_train_csv((fs::path(MLA_ASSETS_DIR) / "models/gqa-fortunes/train.csv").string());
        std::ofstream out(dir / "train.csv");
        out << std::setprecision(9);
        out << "step,train_loss,val_loss,tokens_seen,seconds\n";
        for (size_t i = 0; i < rows.size(); ++i)
            out << rows[i].step << "," << rows[i].train_loss << "," << rows[i].val_loss + (i + 1 == rows.size() ? 0.01 : 0.0)
                << "," << rows[i].tokens_seen << "," << rows[i].seconds << "\n";
    }
    const Run r = run("train --report " + dir.string());
    INFO(r.text);
    CHECK(r.status == 1);
    CHECK(r.text.find("differs from train.csv") != std::string::npos);
}

TEST_CASE("train --report lists a folder whose weights are not kept, without re-scoring it", "[cli][report]") {
    TempDir tmp;
    const fs::path dir = tmp.path / "mqa-fortunes-seed9";
    copy_model("mqa-fortunes", dir, {"config.json", "train.csv", "train.json"});
    const Run r = run("train --report " + dir.string());
    INFO(r.text);
    CHECK(r.status == 0);
    CHECK(r.text.find("their weights are not kept (config.json, train.csv and train.json only; train again to check): "
                     "mqa-fortunes-seed9") != std::string::npos);
    const std::string row = line_of(r.text, "mqa-fortunes-seed9 ");
    REQUIRE(!row.empty());
    CHECK(row.substr(row.size() - 2) == " -");  // no diff
}
