// `mla-lab tokenize` and `mla-lab tokenizer-train` from the command line: ids, tokens and
// byte spans as JSON, decoding, the built-in models' bytes, a trained vocabulary written and
// read back, and bad input refused with exit status 2 and one line.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "support/run_cli.h"
#include "support/temp_dir.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using Out = mla::test::CliOut;
Out run(const std::string& args) { return mla::test::run_cli(args); }

const std::string kSmall = std::string(MLA_FIXTURES_DIR) + "/tokenizers/small";
const std::string kModels = std::string(MLA_ASSETS_DIR) + "/models";

}  // namespace

TEST_CASE("tokenize: ids, tokens and byte spans as JSON, and back", "[cli][tokenize]") {
    const Out r = run("tokenize --tokenizer " + kSmall + "/trained_fortunes_heldout.json --text 'Make a travel plan' --json");
    INFO(r.text);
    REQUIRE(r.status == 0);
    const json j = json::parse(r.text);
    const auto ids = j["ids"].get<std::vector<int64_t>>();
    REQUIRE(!ids.empty());
    REQUIRE(j["tokens"].size() == ids.size());
    REQUIRE(j["spans"].size() == ids.size());
    CHECK(j["spans"][0][0] == 0);
    CHECK(j["spans"].back()[1] == 18);   // the spans end where the text does
    std::string list;
    for (size_t k = 0; k < ids.size(); ++k) list += (k ? "," : "") + std::to_string(ids[k]);
    const Out d = run("tokenize --tokenizer " + kSmall + "/trained_fortunes_heldout.json --decode " + list);
    INFO(d.text);
    CHECK(d.status == 0);
    CHECK(d.text == "Make a travel plan\n");
}

TEST_CASE("tokenize: a model folder without tokenizer.json reads bytes", "[cli][tokenize]") {
    const Out r = run("tokenize --model " + kModels + "/mla-fortunes --text 'Hi you' --json");
    INFO(r.text);
    REQUIRE(r.status == 0);
    const json j = json::parse(r.text);
    CHECK(j["ids"] == json::array({72, 105, 32, 121, 111, 117}));
    CHECK(j["spans"][2] == json::array({2, 3}));
    CHECK(j["tokenizer"] == "bytes");
}

TEST_CASE("tokenizer-train: writes a tokenizer.json that tokenize reads", "[cli][tokenize]") {
    TempDir dir;
    const std::string out = dir / "tokenizer.json";
    const Out t = run("tokenizer-train --corpus " + kModels + "/fortunes-heldout.txt --vocab-size 600 --out " + out);
    INFO(t.text);
    REQUIRE(t.status == 0);
    CHECK(t.text.find("learned 343 merges") != std::string::npos);
    CHECK(fs::exists(out));
    const Out r = run("tokenize --tokenizer " + out + " --text 'the cache' --json");
    REQUIRE(r.status == 0);
    CHECK(json::parse(r.text)["ids"].size() < 9);   // fewer tokens than bytes
}

TEST_CASE("tokenize: bad input exits 2 with one line", "[cli][tokenize]") {
    const auto refused = [](const std::string& args, const std::string& words) {
        const Out r = run(args);
        INFO(args << "\n" << r.text);
        CHECK(r.status == 2);
        CHECK(r.text.find(words) != std::string::npos);
        CHECK(std::count(r.text.begin(), r.text.end(), '\n') == 1);
    };
    refused("tokenize --text hi", "give one of --tokenizer FILE or --model DIR");
    refused("tokenize --tokenizer " + kSmall + "/bytelevel_added.json", "give one of --text TEXT, --file F or --decode IDS");
    refused("tokenize --tokenizer " + kSmall + "/bytelevel_added.json --decode 1,x", "--decode takes token ids");
    refused("tokenize --tokenizer " + kSmall + "/bytelevel_added.json --decode 99999", "token id 99999 is not in the vocabulary");
    refused("tokenize --tokenizer /nonexistent.json --text hi", "/nonexistent.json");
    refused("tokenize --tokenizer " + kModels + "/mla-fortunes/config.json --text hi", "model is missing");
    refused("tokenizer-train --corpus " + kModels + "/fortunes-heldout.txt --vocab-size 10 --out /tmp/x.json", "--vocab-size must be from 257");
}

TEST_CASE("generate: --model DIR with a tokenizer.json takes the prompt as text and prints its pieces", "[cli][tokenize]") {
    TempDir dir;
    const std::string ref = std::string(MLA_FIXTURES_DIR) + "/ref_gqa";   // vocab_size 64
    fs::copy_file(ref + "/config.json", dir / "config.json");
    fs::copy_file(ref + "/model.safetensors", dir / "model.safetensors");
    // a..z = 0..25, " " = 26, "th" = 27, "the" = 28: "the cat" is [28, 26, 2, 0, 19]
    std::string vocab;
    for (char c = 'a'; c <= 'z'; ++c) vocab += std::string("\"") + c + "\": " + std::to_string(c - 'a') + ", ";
    dir.write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {)" + vocab +
                                    R"(" ": 26, "th": 27, "the": 28}, "merges": ["t h", "th e"]}, "decoder": {"type": "Fuse"}})");
    const Out r = run("generate --model " + dir.path.string() + " --prompt 'the cat' --tokens 2 --json");
    INFO(r.text);
    REQUIRE(r.status == 0);
    const json first = json::parse(r.text.substr(0, r.text.find('\n')));
    CHECK(first["position"] == 5);   // five prompt tokens, not seven bytes
    const int64_t id = first["token_id"];
    REQUIRE(id >= 0);
    REQUIRE(id < 64);
    // Ids the tokenizer has print as their text; the model's other ids as <id>.
    if (id < 26) CHECK(first["token_text"] == std::string(1, static_cast<char>('a' + id)));
    const Out t = run("generate --model " + dir.path.string() + " --prompt 'the cat' --tokens 2");
    INFO(t.text);
    CHECK(t.status == 0);
    CHECK(t.text.rfind("the cat", 0) == 0);

    // A tokenizer with more ids than the model reads is someone else's.
    dir.write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 100}}})");
    const Out bad = run("generate --model " + dir.path.string() + " --prompt 'ab' --tokens 2");
    CHECK(bad.status == 2);
    CHECK(bad.text.find("more than the model's vocab_size 64") != std::string::npos);
}
