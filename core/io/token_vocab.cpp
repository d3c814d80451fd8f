// TokenVocab (token_vocab.h).
#include "io/token_vocab.h"

#include <cstdio>
#include <filesystem>

#include "base/error.h"
#include "io/model_settings.h"

namespace mla {

TokenVocab TokenVocab::for_model(const std::string& dir, int64_t vocab_size) {
    TokenVocab v;
    v.vocab_ = vocab_size;
    const std::filesystem::path file = std::filesystem::path(dir) / "tokenizer.json";
    if (!dir.empty() && std::filesystem::exists(file)) {
        v.tok_ = std::make_shared<const Tokenizer>(Tokenizer::from_file(file.string()));
        if (v.tok_->vocab_size() > vocab_size)
            throw InputError(file.string() + " has ids up to " + std::to_string(v.tok_->vocab_size() - 1) +
                             ", more than the model's vocab_size " + std::to_string(vocab_size) +
                             " (is it the tokenizer of another model?)", "tokenizer");
        v.kind_ = Kind::Words;
    } else {
        v.kind_ = vocab_size == 256 ? Kind::Bytes : Kind::None;
    }
    return v;
}

std::string TokenVocab::describe() const {
    if (kind_ == Kind::Bytes) return "bytes";
    if (kind_ == Kind::None) return "no tokenizer.json";
    return "tokenizer.json (" + tok_->describe() + ")";
}

std::vector<int64_t> TokenVocab::encode(const std::string& text) const {
    if (kind_ == Kind::Bytes) return byte_tokens(text);
    if (kind_ == Kind::None)
        throw InputError("this model's vocabulary has " + std::to_string(vocab_) +
                         " tokens and its folder has no tokenizer.json; give the prompt as --ids 1,2,3");
    return tok_->encode(text, true).ids;
}

namespace {

std::string escaped(const std::string& bytes, bool label) {
    // Whole characters stay; a byte of a split character (or any invalid byte) is \xNN.
    std::string out;
    for (size_t i = 0; i < bytes.size();) {
        const unsigned char c = static_cast<unsigned char>(bytes[i]);
        const size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        const std::string ch = bytes.substr(i, len);
        if (i + len <= bytes.size() && utf8_lossy(ch) == ch) {
            if (label && ch == "\n") out += "\\n";
            else if (label && ch == "\t") out += "\\t";
            else if (label && ch == " " && i == 0) out += "\xE2\x90\xA3";   // U+2423: a word piece's leading space
            else out += ch;
            i += len;
        } else {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02X", c);
            out += b;
            i += 1;
        }
    }
    return out;
}

}  // namespace

std::string TokenVocab::text(int64_t id) const {
    if (kind_ != Kind::Words) return token_text(id, TokenStyle::Text, kind_ == Kind::Bytes ? 256 : vocab_);
    if (!tok_->id_to_token(id)) return "<" + std::to_string(id) + ">";   // an id the model has and the tokenizer lacks
    return escaped(tok_->decode_bytes({id}), false);
}

std::string TokenVocab::label(int64_t id) const {
    if (kind_ != Kind::Words) return token_text(id, TokenStyle::Label, kind_ == Kind::Bytes ? 256 : vocab_);
    if (!tok_->id_to_token(id)) return "<" + std::to_string(id) + ">";
    return escaped(tok_->decode_bytes({id}), true);
}

}  // namespace mla
