// Hostile input at the command line (issue 12's list): every case exits 2 with one line that
// starts "mla-lab: error:", uses well under 1 GB of memory and ends promptly. Each case is
// a file or a flag that once aborted, hung, overflowed or ran the machine out of memory.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/temp_dir.h"

namespace fs = std::filesystem;

namespace {

struct Run {
    int status = -1;        // exit status; -1 when killed by a signal
    std::string out;        // stdout and stderr together
    long max_rss_kb = 0;    // the child's peak resident set size
    double seconds = 0;
};

// Runs `cmd` under /bin/sh with stderr joined to stdout and returns what it printed, its
// status and its peak memory (wait4's rusage).
Run run(const std::string& cmd) {
    Run r;
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const auto t0 = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(fds[1], 1);
        ::dup2(fds[1], 2);
        ::close(fds[0]);
        ::close(fds[1]);
        ::execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(fds[1]);
    std::array<char, 4096> buf{};
    ssize_t n = 0;
    while ((n = ::read(fds[0], buf.data(), buf.size())) > 0) r.out.append(buf.data(), static_cast<size_t>(n));
    ::close(fds[0]);
    int st = 0;
    struct rusage ru {};
    ::wait4(pid, &st, 0, &ru);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.max_rss_kb = ru.ru_maxrss;
    return r;
}

const std::string kBin = std::string(MLA_BIN_DIR) + "/mla-lab";

int line_count(const std::string& s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    return n + (!s.empty() && s.back() != '\n');
}

// The rule every case follows. `contains` is a piece of the message that says what was wrong.
void refused(const std::string& args, const std::string& contains) {
    const Run r = run(kBin + " " + args);
    INFO("mla-lab " << args);
    INFO("printed: " << r.out);
    INFO("peak memory " << r.max_rss_kb / 1024 << " MiB, " << r.seconds << " s");
    CHECK(r.status == 2);
    CHECK(line_count(r.out) == 1);
    CHECK(r.out.rfind("mla-lab: error: ", 0) == 0);
    CHECK(r.out.find(contains) != std::string::npos);
    CHECK(r.out.size() < 400);
    CHECK(r.max_rss_kb < 1024 * 1024);  // under 1 GB
    CHECK(r.seconds < 20);              // a hang would be minutes; a refusal takes milliseconds
}

const char* kSmallConfig =
    R"("model_type": "llama", "vocab_size": 256, "hidden_size": 64, "num_hidden_layers": 2,
       "num_attention_heads": 4, "max_position_embeddings": 1024, "intermediate_size": 128)";

std::string config_with(const std::string& extra) { return std::string("{") + kSmallConfig + ", " + extra + "}"; }

// A model folder: the MLA fixture's weights with a config that says something else.
std::string model_folder(const TempDir& t, const std::string& name, const std::string& config_json) {
    const fs::path dir = t.path / name;
    fs::create_directories(dir);
    fs::copy_file(fs::path(MLA_FIXTURES_DIR) / "ref_mla" / "model.safetensors", dir / "model.safetensors");
    std::ofstream(dir / "config.json") << config_json;
    return dir.string();
}

std::string fixture_config_with(const std::string& key, const std::string& value) {
    std::ifstream in(fs::path(MLA_FIXTURES_DIR) / "ref_mla" / "config.json");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t close = text.rfind('}');
    return text.substr(0, close) + ", \"" + key + "\": " + value + "}";
}

}  // namespace

TEST_CASE("hostile config.json values are refused in one line", "[cli][hostile]") {
    TempDir t;
    t.write("big.json", config_with(R"("hidden_size": 1e400)"));
    refused("cache --config " + t / "big.json", "number overflow");
    t.write("bool.json", config_with(R"("tie_word_embeddings": "yes")"));
    refused("cache --config " + t / "bool.json", "'tie_word_embeddings' must be true or false");
    t.write("rope.json", config_with(R"("rope_scaling": {"type": 3})"));
    refused("cache --config " + t / "rope.json", "'type' must be a string");
    t.write("heads.json", config_with(R"("num_attention_heads": 4611686018427387904, "num_key_value_heads": 1)"));
    refused("cache --config " + t / "heads.json", "num_attention_heads = 4611686018427387904");
    t.write("width.json", config_with(R"("intermediate_size": 9223372036854775807)"));
    refused("cache --config " + t / "width.json", "intermediate_size");
    t.write("unsigned.json", config_with(R"("hidden_size": 18446744073709551615)"));
    refused("cache --config " + t / "unsigned.json", "'hidden_size' must be an integer below 2^63");
    t.write("string.json", "\"a config\"");
    refused("cache --config " + t / "string.json", "must be a JSON object");
    refused("bench --config " + t / "bool.json", "tie_word_embeddings");
    refused("plot --config " + t / "bool.json" + " --out " + t / "p.svg", "tie_word_embeddings");
    CHECK(!fs::exists(t / "p.svg"));
}

TEST_CASE("deeply nested JSON is refused before it is walked", "[cli][hostile]") {
    TempDir t;
    const std::string deep = std::string(55000, '[') + std::string(55000, ']');
    t.write("deep.json", std::string("{\"vocab_size\": ") + deep + "}");
    refused("cache --config " + t / "deep.json", "nested deeper than 64 levels");
    // The same inside a safetensors header.
    const std::string header = "{\"a\": {\"dtype\": \"F32\", \"shape\": " + deep + ", \"data_offsets\": [0, 0]}}";
    std::string st(8, '\0');
    uint64_t n = header.size();
    std::memcpy(st.data(), &n, 8);
    const std::string dir = model_folder(t, "deep", fixture_config_with("tie_word_embeddings", "false"));
    std::ofstream(fs::path(dir) / "model.safetensors", std::ios::binary) << st << header;
    refused("generate --tokens 1 --model " + dir, "nested deeper than 64 levels");
}

TEST_CASE("a small model folder whose config asks for a huge model is refused before allocating", "[cli][hostile]") {
    TempDir t;
    refused("generate --tokens 1 --model " + model_folder(t, "vocab", fixture_config_with("vocab_size", "4194304")),
            "expected [4194304, ");
    refused("generate --tokens 1 --model " + model_folder(t, "vocab31", fixture_config_with("vocab_size", "2147483648")),
            "vocab_size = 2147483648");
    refused("generate --tokens 1 --model " + model_folder(t, "layers", fixture_config_with("num_hidden_layers", "1099511627776")),
            "num_hidden_layers = 1099511627776");
    // A wrong layer count: the first mismatch and a count, on one line.
    refused("generate --tokens 1 --model " + model_folder(t, "two", fixture_config_with("num_hidden_layers", "40")),
            "more differences");
}

TEST_CASE("what is not a regular file is refused", "[cli][hostile]") {
    TempDir t;
    fs::create_directories(t.path / "dir.json");
    refused("cache --config " + t / "dir.json", "it is a folder, not a regular file");
    REQUIRE(::mkfifo((t / "fifo.json").c_str(), 0600) == 0);
    refused("cache --config " + t / "fifo.json", "it is a named pipe (FIFO)");
    const std::string dir = model_folder(t, "m", "{}");
    fs::remove(fs::path(dir) / "config.json");
    fs::create_directories(fs::path(dir) / "config.json");
    refused("generate --tokens 1 --model " + dir, "it is a folder");
    refused("train --corpus /dev/zero --out " + t / "out", "it is a character device");
}

TEST_CASE("training files with out-of-range values are refused", "[cli][hostile]") {
    TempDir t;
    const fs::path src = fs::path(MLA_ASSETS_DIR) / "models" / "mla-fortunes";
    auto folder_with = [&](const std::string& name, const std::string& from, const std::string& to) {
        const fs::path dir = t.path / name;
        fs::create_directories(dir);
        for (const char* f : {"config.json", "model.safetensors", "train.csv"}) fs::copy_file(src / f, dir / f);
        std::ifstream in(src / "train.json");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const size_t at = text.find(from);
        REQUIRE(at != std::string::npos);
        text.replace(at, from.size(), to);
        std::ofstream(dir / "train.json") << text;
        return dir.string();
    };
    refused("train --report " + folder_with("threads", "\"threads\": 1", "\"threads\": 1e30"), "threads");
    refused("train --report " + folder_with("seq", "\"seq_len\": 256", "\"seq_len\": 9223372036854775807"), "seq_len");
    refused("train --report " + folder_with("str", "\"batch\": 8", "\"batch\": \"8\""), "batch");

    // A checkpoint whose header is a JSON string, not an object.
    const std::string out = t / "run";
    fs::create_directories(out);
    const std::string header = "\"not an object\"";
    std::string ck = "MLACKPT1" + std::string(8, '\0') + header;
    const uint64_t n = header.size();
    std::memcpy(ck.data() + 8, &n, 8);
    std::ofstream(fs::path(out) / "checkpoint.bin", std::ios::binary) << ck;
    const std::string corpus = (fs::path(MLA_ASSETS_DIR) / "models" / "fortunes-heldout.txt").string();
    refused("train --corpus " + corpus + " --out " + out + " --steps 2 --seq 16 --batch 2 --val-windows 2",
            "must be a JSON object");
}

TEST_CASE("sizes beyond the machine are refused before they are allocated", "[cli][hostile]") {
    refused("bench --context 100000000", "of memory, but");
    refused("bench --config " + std::string(MLA_ASSETS_DIR) + "/presets/deepseek-v3.json --context 100000",
            "of memory, but");
    refused("bench --context 1000000000", "more than any model's context");
    TempDir t;
    const std::string corpus = (fs::path(MLA_ASSETS_DIR) / "models" / "fortunes-heldout.txt").string();
    refused("train --hidden 1000000 --corpus " + corpus + " --out " + t / "h", "hidden_size = 1000000");
    // Within the bounds, but not within memory: about 90 billion parameters.
    refused("train --attn mha --hidden 65536 --ffn 65536 --heads 16 --head-dim 4096 --corpus " + corpus + " --out " + t / "m",
            "of memory, but");
}

TEST_CASE("integer flags are exact: no overflow, saturation or wrap-around", "[cli][hostile]") {
    refused("generate --tokens 9223372036854775807", "beyond max_position_embeddings");
    refused("generate --tokens 9223372036854775808", "out of range");
    refused("generate --seed 18446744073709551616", "out of range");
    refused("generate --seed -1", "negative");
    refused("generate --tokens 0x10", "not a whole number in decimal digits");
    refused("generate --tokens 010", "not a whole number in decimal digits");
    refused("verify --tokens 99999999999999999999", "out of range");
}

TEST_CASE("a write that fails says so, exits 2 and leaves nothing behind", "[cli][hostile]") {
    TempDir t;
    // ulimit -f: writes past 1 KiB fail with EFBIG, as on a full disk (SIGXFSZ ignored).
    const std::string limit = "sh -c \"trap '' XFSZ; ulimit -f 1; exec ";
    const Run plot = run(limit + kBin + " plot --preset deepseek-v3 --out " + t / "p.svg\"");
    INFO(plot.out);
    CHECK(plot.status == 2);
    CHECK(plot.out.find("nothing was written") != std::string::npos);
    CHECK(plot.out.find("wrote") == std::string::npos);
    const Run csv = run(limit + kBin + " train --report " + MLA_ASSETS_DIR + "/models --csv " + t / "r.csv\"");
    INFO(csv.out);
    CHECK(csv.status == 2);
    CHECK(csv.out.find("cannot write") != std::string::npos);
    int left = 0;
    for (const auto& e : fs::directory_iterator(t.path)) {
        INFO("left behind: " << e.path());
        ++left;
    }
    CHECK(left == 0);
}
