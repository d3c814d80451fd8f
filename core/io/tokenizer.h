// Hugging Face tokenizer.json: text to token ids and back, exactly as Hugging Face's
// `tokenizers` library does it (checked against it in tests/core/io/test_tokenizer.cpp on
// real Llama-3, Qwen3 and Llama-2 files and on small files that use every component).
//
// The pipeline, in the library's order:
//   1. added tokens (special or not) are cut out of the text first: leftmost-longest
//      match, with their single_word / lstrip / rstrip options; those marked "normalized"
//      are matched after step 2, on the normalized text;
//   2. the normalizer, on each remaining piece: NFC, NFD, NFKC, NFKD (utf8proc), Prepend,
//      Replace (a string or a regex), Strip, in a Sequence where declared;
//   3. the pre-tokenizer: Split (a string or a regex, PCRE2 with UTF and Unicode
//      properties; behaviours Removed, Isolated, MergedWithPrevious, MergedWithNext,
//      Contiguous; invert), ByteLevel (GPT-2's byte-to-character map, its regex where
//      use_regex), Metaspace (prepend_scheme always | first | never, split),
//      Whitespace, WhitespaceSplit, Digits, in a Sequence where declared;
//   4. the model: BPE (merges as "a b" strings or ["a", "b"] pairs, ignore_merges,
//      byte_fallback, unk_token with fuse_unk, continuing_subword_prefix,
//      end_of_word_suffix), applied per pre-token, lowest merge rank first;
//   5. with add_special_tokens: the post-processor (TemplateProcessing, ByteLevel,
//      Sequence).
// Decoding runs the decoder chain: ByteLevel, ByteFallback, Metaspace, Fuse, Strip,
// Replace, Sequence. A component the file names that is not in these lists is refused with
// its name; nothing is skipped silently.
//
// Every token keeps the byte span of the input text it came from (through every
// normalizer and pre-tokenizer), for the views' labels and the CLI's "spans".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mla {

// Bytes [begin, end) of the text given to encode. A token the text does not contain (a
// special token added by the post-processor, a Prepend normalizer's marker alone) has an
// empty span where it stands.
struct TextSpan {
    int64_t begin = 0, end = 0;
    bool operator==(const TextSpan&) const = default;
};

struct Encoding {
    std::vector<int64_t> ids;
    std::vector<std::string> tokens;   // the vocabulary's strings ("Ġtravel", "▁plan", "<0xE6>")
    std::vector<TextSpan> spans;       // one per token
};

class Tokenizer {
public:
    // Reads a tokenizer.json (at most 64 MiB). Throws InputError naming the file and the
    // field: not JSON, an unknown model type or component, a merge naming a token that is
    // not in the vocabulary, a regex PCRE2 does not accept.
    static Tokenizer from_file(const std::string& path);
    // The same from the file's text; `source` starts every message.
    static Tokenizer from_json(std::string_view json_text, const std::string& source);

    // The ids of `text` (valid UTF-8; anything else is an InputError naming the byte).
    // add_special_tokens runs the post-processor (Llama-2's leading <s>); Hugging Face's
    // `encode(text, add_special_tokens)`.
    Encoding encode(std::string_view text, bool add_special_tokens = false) const;

    // Hugging Face's `decode(ids, skip_special_tokens)`: bytes that do not form UTF-8 become
    // U+FFFD as the library does. An id outside the vocabulary is an InputError.
    std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = false) const;
    // The decoder chain's bytes before any U+FFFD replacement (ByteLevel and ByteFallback
    // give raw bytes): what StreamDecoder cuts into whole characters.
    std::string decode_bytes(const std::vector<int64_t>& ids, bool skip_special_tokens = false) const;

    // Largest id + 1 over the model's vocabulary and the added tokens.
    int64_t vocab_size() const;
    std::optional<std::string> id_to_token(int64_t id) const;
    std::optional<int64_t> token_to_id(const std::string& token) const;
    bool is_special(int64_t id) const;   // an added token with "special": true
    // One line: "BPE, 128256 tokens (256 added), byte-level, pre-tokenizer Sequence[Split, ByteLevel]".
    std::string describe() const;

    struct Impl;
private:
    explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
    std::shared_ptr<const Impl> impl_;
};

// Text shown as tokens arrive (the timeline, generated text): push() returns what the new
// token completes. Bytes that end inside a UTF-8 character are held back (pending()) until
// a later token completes the character; a sequence that can never complete is given out
// as U+FFFD, as decode() would.
class StreamDecoder {
public:
    explicit StreamDecoder(const Tokenizer& tok) : tok_(&tok) {}
    std::string push(int64_t id);
    const std::string& pending() const { return pending_; }   // raw bytes, at most 3
    const std::string& text() const { return text_; }         // everything completed so far
private:
    const Tokenizer* tok_;
    std::vector<int64_t> ids_;
    std::string pending_, text_;
};

// Learning a vocabulary: GPT-2's byte-level BPE. The corpus is cut by GPT-2's regex into
// pre-tokens ("Make", " a", " travel", ...), spelled in GPT-2's byte characters; starting
// from the 256 bytes (ids 0..255 are the bytes themselves, so a byte model's ids stay
// valid), the most frequent adjacent pair is merged into a new token until the vocabulary
// has vocab_size entries (ties: the pair whose strings sort first). The special tokens come
// last. The result is a standard tokenizer.json (ByteLevel pre-tokenizer and decoder) that
// Hugging Face's library loads and encodes exactly as Tokenizer does.
struct BpeTrainOptions {
    int64_t vocab_size = 4096;       // bytes + merges + special tokens
    int64_t min_frequency = 2;       // a pair seen fewer times is not merged (training stops early)
    std::vector<std::string> special_tokens{"<|endoftext|>"};
};
struct BpeTrainResult {
    std::string json;                // the tokenizer.json text
    int64_t merges = 0;              // merges learned (fewer than asked when pairs ran out)
    int64_t pre_tokens = 0, distinct_pre_tokens = 0;
    bool stopped_early = false;      // no pair reached min_frequency before vocab_size
};
// Throws InputError for a vocab_size below 256 + the special tokens or above 1,000,000, a
// corpus that is empty or not UTF-8.
BpeTrainResult train_byte_level_bpe(std::string_view corpus, const BpeTrainOptions& options);

// Bytes as Rust's String::from_utf8_lossy gives them: each maximal invalid subsequence
// becomes one U+FFFD.
std::string utf8_lossy(std::string_view bytes);
// The length of the longest prefix of `bytes` that ends on a character boundary, counting
// an invalid sequence (one that no further byte could complete) as complete.
size_t utf8_complete_prefix(std::string_view bytes);

}  // namespace mla
