// `mla-lab tokenize`: text to token ids (and back) with a Hugging Face tokenizer.json, or
// with the built-in models' bytes.
//
//   mla-lab tokenize (--tokenizer FILE | --model DIR) (--text TEXT | --file F) [--special] [--json]
//   mla-lab tokenize (--tokenizer FILE | --model DIR) --decode 1,2,3 [--skip-special] [--json]
//   mla-lab tokenizer-train --corpus F --vocab-size N --out tokenizer.json [--min-frequency N]
//
// --model DIR reads DIR/tokenizer.json; a folder without one (the built-in models) reads
// bytes, one token per byte, when its config.json says vocab_size 256.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/json_read.h"
#include "base/text_file.h"
#include "cli/cli.h"
#include "io/model_settings.h"
#include "io/tokenizer.h"
#include "model/config.h"

namespace mla::cli {
namespace {

namespace fs = std::filesystem;

struct TokenizeArgs {
    std::string tokenizer, model, text, file, decode;
    bool has_text = false, special = false, skip_special = false, json = false;
};

std::vector<int64_t> parse_ids(const std::string& list) {
    std::vector<int64_t> ids;
    size_t at = 0;
    while (at <= list.size()) {
        const size_t comma = std::min(list.find(',', at), list.size());
        const std::string item = list.substr(at, comma - at);
        if (item.empty() || item.size() > 9 || item.find_first_not_of("0123456789") != std::string::npos)
            throw InputError("--decode takes token ids separated by commas (\"1,2,3\"), got '" + item + "'");
        ids.push_back(std::stoll(item));
        at = comma + 1;
    }
    return ids;
}

// Text in a terminal line: control bytes as \n, \t, \xNN.
std::string printable(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (c == '\n') out += "\\n";
        else if (c == '\t') out += "\\t";
        else if (c == '\r') out += "\\r";
        else if (c < 0x20 || c == 0x7F) { char b[8]; std::snprintf(b, sizeof b, "\\x%02X", c); out += b; }
        else out += static_cast<char>(c);
    }
    return out;
}

int run_tokenize(const TokenizeArgs& a) {
    if (a.tokenizer.empty() == a.model.empty()) throw InputError("give one of --tokenizer FILE or --model DIR");
    const bool decoding = !a.decode.empty();
    if (decoding == (a.has_text || !a.file.empty()) || (a.has_text && !a.file.empty()))
        throw InputError("give one of --text TEXT, --file F or --decode IDS");

    std::optional<Tokenizer> tok;
    std::string source = a.tokenizer;
    if (!a.tokenizer.empty()) {
        tok = Tokenizer::from_file(a.tokenizer);
    } else {
        const fs::path dir(a.model);
        if (!fs::is_directory(dir)) throw InputError("--model '" + a.model + "' is not a folder (give a model folder)");
        if (fs::exists(dir / "tokenizer.json")) {
            source = (dir / "tokenizer.json").string();
            tok = Tokenizer::from_file(source);
        } else {
            const Config cfg = config_from_json(read_json_file((dir / "config.json").string(), ", give a model folder"));
            if (cfg.vocab_size != 256)
                throw InputError(a.model + " has no tokenizer.json and its vocab_size is " + std::to_string(cfg.vocab_size) +
                                 ", not 256 bytes (put the model's tokenizer.json in the folder, or give --tokenizer FILE)");
            source = "bytes";
        }
    }

    if (decoding) {
        const std::vector<int64_t> ids = parse_ids(a.decode);
        std::string text;
        if (tok) {
            text = tok->decode(ids, a.skip_special);
        } else {
            std::string bytes;
            for (int64_t id : ids) {
                if (id > 255) throw InputError("token id " + std::to_string(id) + " is not a byte (a byte model's ids are 0..255)");
                bytes += static_cast<char>(id);
            }
            text = utf8_lossy(bytes);
        }
        if (a.json) std::puts(nlohmann::json{{"text", text}, {"tokenizer", source}}.dump(2).c_str());
        else std::printf("%s\n", text.c_str());
        return 0;
    }

    const std::string text = a.has_text ? a.text : read_file(a.file, ", give a UTF-8 text file");
    Encoding enc;
    if (tok) {
        enc = tok->encode(text, a.special);
    } else {
        enc.ids = byte_tokens(text);
        for (size_t i = 0; i < text.size(); ++i) {
            enc.tokens.push_back(token_text(static_cast<unsigned char>(text[i]), TokenStyle::Label));
            enc.spans.push_back({static_cast<int64_t>(i), static_cast<int64_t>(i + 1)});
        }
    }
    if (a.json) {
        nlohmann::json spans = nlohmann::json::array();
        for (const TextSpan& s : enc.spans) spans.push_back({s.begin, s.end});
        // Token strings of a byte-level vocabulary are valid UTF-8; a byte model's labels are
        // ASCII. dump() replaces anything else rather than throwing.
        const nlohmann::json j{{"ids", enc.ids}, {"tokens", enc.tokens}, {"spans", spans}, {"tokenizer", source}};
        std::puts(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return 0;
    }
    std::printf("%s: %zu tokens from %zu bytes\n", tok ? tok->describe().c_str() : "bytes (one token per byte)",
                enc.ids.size(), text.size());
    // Columns padded by characters, not bytes ("Ġtravel" is 7 characters, 8 bytes).
    const auto pad = [](const std::string& s, size_t width) {
        size_t chars = 0;
        for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
        return s + std::string(width > chars ? width - chars : 0, ' ');
    };
    std::printf("%8s  %-24s  %-13s  %s\n", "id", "token", "bytes", "text");
    for (size_t k = 0; k < enc.ids.size(); ++k) {
        const TextSpan s = enc.spans[k];
        const std::string range = "[" + std::to_string(s.begin) + ", " + std::to_string(s.end) + ")";
        std::printf("%8lld  %s  %-13s  %s\n", static_cast<long long>(enc.ids[k]), pad(printable(enc.tokens[k]), 24).c_str(),
                    range.c_str(),
                    printable(text.substr(static_cast<size_t>(s.begin), static_cast<size_t>(s.end - s.begin))).c_str());
    }
    return 0;
}

struct TrainArgs {
    std::string corpus, out;
    BpeTrainOptions options;
};

int run_tokenizer_train(const TrainArgs& a) {
    const std::string text = read_file(a.corpus, ", give a UTF-8 text file");
    const auto t0 = std::chrono::steady_clock::now();
    const BpeTrainResult r = train_byte_level_bpe(text, a.options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const Tokenizer tok = Tokenizer::from_json(r.json, a.out);   // what was learned loads, and encodes the corpus
    const size_t tokens = tok.encode(text).ids.size();
    AtomicFile f(a.out);
    f.write(r.json.data(), r.json.size());
    f.commit();
    std::printf("learned %lld merges from %lld pre-tokens (%lld distinct) of %zu bytes in %.1f s%s\n",
                static_cast<long long>(r.merges), static_cast<long long>(r.pre_tokens),
                static_cast<long long>(r.distinct_pre_tokens), text.size(), seconds,
                r.stopped_early ? " (stopped early: no pair left that reaches --min-frequency)" : "");
    std::printf("vocabulary %lld ids: 256 bytes, %lld merges, %zu special; the corpus is %zu tokens, %.2f bytes per token\n",
                static_cast<long long>(tok.vocab_size()), static_cast<long long>(r.merges), a.options.special_tokens.size(),
                tokens, tokens ? static_cast<double>(text.size()) / static_cast<double>(tokens) : 0.0);
    std::printf("wrote %s\n", a.out.c_str());
    return 0;
}

}  // namespace

void add_tokenize_command(CLI::App& root, Commands& cmds) {
    auto a = std::make_shared<TokenizeArgs>();
    CLI::App* s = root.add_subcommand("tokenize", "text to token ids with a Hugging Face tokenizer.json (or bytes), or back");
    s->add_option("--tokenizer", a->tokenizer, "a tokenizer.json");
    s->add_option("--model", a->model, "a model folder: its tokenizer.json, or bytes for the built-in models");
    s->add_option("--text", a->text, "the text to encode")->each([a](const std::string&) { a->has_text = true; });
    s->add_option("--file", a->file, "a UTF-8 file to encode");
    s->add_option("--decode", a->decode, "token ids to decode, separated by commas");
    s->add_flag("--special", a->special, "add the post-processor's special tokens (Llama-2's <s>)");
    s->add_flag("--skip-special", a->skip_special, "with --decode: leave out special tokens");
    s->add_flag("--json", a->json, "JSON: {\"ids\", \"tokens\", \"spans\": [[begin, end], ...]} (byte offsets)");
    cmds.push_back({s, [a] { return run_tokenize(*a); }});

    auto t = std::make_shared<TrainArgs>();
    CLI::App* tr = root.add_subcommand("tokenizer-train", "learn a byte-level BPE vocabulary (GPT-2 style) and write a tokenizer.json");
    tr->add_option("--corpus", t->corpus, "UTF-8 text to learn from")->required();
    tr->add_option("--vocab-size", t->options.vocab_size, "ids in all: 256 bytes + merges + the special token")->required();
    tr->add_option("--out", t->out, "the tokenizer.json to write")->required();
    tr->add_option("--min-frequency", t->options.min_frequency, "the fewest times a pair must occur to be merged")->default_val(2);
    cmds.push_back({tr, [t] { return run_tokenizer_train(*t); }});
}

}  // namespace mla::cli
