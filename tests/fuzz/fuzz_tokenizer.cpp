// libFuzzer target: the bytes are a tokenizer.json. Tokenizer::from_json reads it; one that
// loads encodes a fixed set of texts (ASCII, whitespace runs, accents, CJK, emoji, an added
// token's look) with and without special tokens, and every encoding must hold: one token
// string and one span per id, spans in order inside the text, ids that decode, and the
// stream decoder's text equal to decode's. Bad files are InputErrors; nothing else may escape.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "fuzz/fuzz_common.h"
#include "io/tokenizer.h"

namespace {

const char* const kTexts[] = {
    "Make a travel plan for Spain", "  a  b\t\n\n c   ", "Caf\xC3\xA9 na\xC3\xAFve", "\xE6\x88\x91\xE5\x96\x9C",
    "\xF0\x9F\xA4\x96!", "<|endoftext|>x<s>", "12345 3.14", "",
};

void check(const mla::Tokenizer& tok, std::string_view text, bool special) {
    const mla::Encoding e = tok.encode(text, special);
    fuzz::expect(e.tokens.size() == e.ids.size() && e.spans.size() == e.ids.size(), "tokens/spans/ids sizes differ");
    int64_t last = 0;
    for (const mla::TextSpan& s : e.spans) {
        fuzz::expect(s.begin >= last && s.begin <= s.end && s.end <= static_cast<int64_t>(text.size()), "a span out of order or range");
        last = s.begin;
    }
    (void)tok.decode(e.ids);
    mla::StreamDecoder stream(tok);
    std::string streamed;
    for (int64_t id : e.ids) streamed += stream.push(id);
    fuzz::expect(streamed == stream.text(), "the stream decoder's pieces do not add up to its text");
    fuzz::expect(stream.text() + mla::utf8_lossy(stream.pending()) == mla::utf8_lossy(tok.decode_bytes(e.ids)),
                 "the stream decoder's text differs from decode_bytes");
    (void)tok.describe();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const mla::Tokenizer tok = mla::Tokenizer::from_json(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
        for (const char* t : kTexts) {
            try {
                check(tok, t, false);
                check(tok, t, true);
            } catch (const mla::InputError& e) {
                fuzz::refused(e);   // a regex that hits PCRE2's limit on this text
            }
        }
    } catch (const mla::InputError& e) {
        fuzz::refused(e);
    }
    return 0;
}
