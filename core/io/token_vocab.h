// How a model's token ids read as text: its folder's tokenizer.json (a real checkpoint, a
// word-piece model) or bytes (the built-in models). The CLI's --prompt and printed text go
// through it, so a learner can type words to a real checkpoint instead of ids.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "io/tokenizer.h"

namespace mla {

class TokenVocab {
public:
    TokenVocab() = default;   // bytes
    // DIR/tokenizer.json when the folder has one (its ids must fit the model's
    // vocab_size: an InputError otherwise), else bytes when vocab_size is 256, else none
    // (encode refuses text and asks for ids; text() gives "<id>").
    static TokenVocab for_model(const std::string& dir, int64_t vocab_size);

    bool bytes() const { return kind_ == Kind::Bytes; }
    bool words() const { return kind_ == Kind::Words; }
    const Tokenizer* tokenizer() const { return tok_.get(); }
    std::string describe() const;   // "bytes", "tokenizer.json (BPE, ...)", "no tokenizer"

    // The prompt's ids: bytes, or the tokenizer with its special tokens (Llama's <s>, as
    // Hugging Face's tokenizer(prompt) gives them).
    std::vector<int64_t> encode(const std::string& text) const;
    // One token as generated text (its bytes; a piece of a character as \xNN; an id the
    // tokenizer does not have as <id>).
    std::string text(int64_t id) const;
    // One token as a label: a leading space as U+2423, newline and tab as \n and \t.
    std::string label(int64_t id) const;

private:
    enum class Kind { Bytes, Words, None };
    Kind kind_ = Kind::Bytes;
    int64_t vocab_ = 256;
    std::shared_ptr<const Tokenizer> tok_;
};

}  // namespace mla
