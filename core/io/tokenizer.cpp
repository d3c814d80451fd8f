// Hugging Face tokenizer.json, read and run (tokenizer.h). Where the library's behaviour is
// subtle the comment says which rule is followed; tests/core/io/test_tokenizer.cpp checks
// the ids against the library itself.
#include "io/tokenizer.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <queue>
#include <unordered_map>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <utf8proc.h>

#include "base/error.h"
#include "base/json_read.h"
#include "base/text_file.h"

namespace mla {

using nlohmann::json;

// ---------------------------------------------------------------------------------------
// UTF-8

namespace {

// The length of the well-formed UTF-8 sequence at s[i] (1..4), or 0 with `bad` = the count
// of bytes forming the maximal invalid subpart (at least 1); `truncated` when the sequence
// is a valid start that ends with the input.
size_t utf8_sequence(std::string_view s, size_t i, size_t& bad, bool& truncated) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    truncated = false;
    const unsigned char c = b(i);
    if (c < 0x80) return 1;
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c == 0xE0) { need = 2; lo = 0xA0; }
    else if (c >= 0xE1 && c <= 0xEC) need = 2;
    else if (c == 0xED) { need = 2; hi = 0x9F; }
    else if (c >= 0xEE && c <= 0xEF) need = 2;
    else if (c == 0xF0) { need = 3; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) need = 3;
    else if (c == 0xF4) { need = 3; hi = 0x8F; }
    else { bad = 1; return 0; }
    for (size_t k = 1; k <= need; ++k) {
        if (i + k >= s.size()) { bad = k; truncated = true; return 0; }
        const unsigned char x = b(i + k);
        const unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
        if (x < l || x > h) { bad = k; return 0; }
    }
    return need + 1;
}

char32_t code_point(std::string_view s, size_t i, size_t n) {
    const auto b = [&](size_t k) { return static_cast<char32_t>(static_cast<unsigned char>(s[i + k])); };
    switch (n) {
        case 1: return b(0);
        case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
        case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
        default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    }
}

void append_utf8(std::string& out, char32_t c) {
    if (c < 0x80) out += static_cast<char>(c);
    else if (c < 0x800) { out += static_cast<char>(0xC0 | (c >> 6)); out += static_cast<char>(0x80 | (c & 0x3F)); }
    else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

// Code points of possibly invalid bytes: an invalid byte is one "character" of its own that
// equals no code point (the decoders compare characters against their content).
struct Utf8Char { size_t pos, len; char32_t cp; bool valid; };
std::vector<Utf8Char> chars_of(std::string_view s) {
    std::vector<Utf8Char> out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        size_t bad = 0;
        bool trunc = false;
        const size_t n = utf8_sequence(s, i, bad, trunc);
        if (n) { out.push_back({i, n, code_point(s, i, n), true}); i += n; }
        else { out.push_back({i, 1, 0xFFFFFFFF, false}); i += 1; }
    }
    return out;
}

// Rust's char::is_whitespace: the White_Space property.
bool is_white_space(char32_t c) {
    return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

}  // namespace

std::string utf8_lossy(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (size_t i = 0; i < bytes.size();) {
        size_t bad = 0;
        bool trunc = false;
        const size_t n = utf8_sequence(bytes, i, bad, trunc);
        if (n) { out.append(bytes.substr(i, n)); i += n; }
        else { out += "\xEF\xBF\xBD"; i += bad; }
    }
    return out;
}

size_t utf8_complete_prefix(std::string_view bytes) {
    // Only the last character can be incomplete: look at most 3 bytes back for its start.
    const size_t from = bytes.size() > 3 ? bytes.size() - 3 : 0;
    for (size_t i = bytes.size(); i-- > from;) {
        const unsigned char c = static_cast<unsigned char>(bytes[i]);
        if ((c & 0xC0) == 0x80) continue;   // a continuation byte: keep looking back
        size_t bad = 0;
        bool trunc = false;
        utf8_sequence(bytes, i, bad, trunc);
        return trunc ? i : bytes.size();
    }
    return bytes.size();
}

// ---------------------------------------------------------------------------------------
// Pieces of text with their alignment to the input

namespace {

// A piece of (normalized, pre-tokenized) text: for each of its bytes, the span of the input
// it came from. `token`: an added token matched here, the piece goes to no model.
struct Piece {
    std::string text;
    std::vector<TextSpan> align;
    int64_t origin = 0;                 // where an empty piece sits in the input
    std::optional<int64_t> token;

    int64_t first_input_byte() const { return align.empty() ? origin : align.front().begin; }
};

TextSpan span_of(const Piece& p, size_t b, size_t e) {
    if (b >= e) {
        const int64_t at = b < p.align.size() ? p.align[b].begin : (p.align.empty() ? p.origin : p.align.back().end);
        return {at, at};
    }
    TextSpan s{INT64_MAX, INT64_MIN};
    for (size_t i = b; i < e; ++i) {
        if (p.align[i].begin == p.align[i].end) continue;
        s.begin = std::min(s.begin, p.align[i].begin);
        s.end = std::max(s.end, p.align[i].end);
    }
    if (s.begin == INT64_MAX) return {p.align[b].begin, p.align[b].begin};
    return s;
}

// Builds a new piece out of parts of an old one: each output chunk aligned to a source range.
struct PieceBuilder {
    const Piece& src;
    Piece out;
    explicit PieceBuilder(const Piece& s) : src(s) { out.origin = s.origin; }
    void add(std::string_view bytes, size_t b, size_t e) {
        const TextSpan s = span_of(src, b, e);
        out.text.append(bytes);
        out.align.insert(out.align.end(), bytes.size(), s);
    }
    void copy(size_t b, size_t e) {   // src bytes [b, e) unchanged
        out.text.append(src.text, b, e - b);
        out.align.insert(out.align.end(), src.align.begin() + static_cast<ptrdiff_t>(b),
                         src.align.begin() + static_cast<ptrdiff_t>(e));
    }
    Piece finish() {
        if (!out.align.empty()) out.origin = out.align.front().begin;
        return std::move(out);
    }
};

Piece slice(const Piece& p, size_t b, size_t e) {
    Piece s;
    s.text = p.text.substr(b, e - b);
    s.align.assign(p.align.begin() + static_cast<ptrdiff_t>(b), p.align.begin() + static_cast<ptrdiff_t>(e));
    s.origin = span_of(p, b, e).begin;
    return s;
}

// ---------------------------------------------------------------------------------------
// Patterns: a PCRE2 regex (UTF, Unicode properties) or a literal string

class Regex {
public:
    Regex(const std::string& pattern, const std::string& where) : where_(where) {
        int err = 0;
        PCRE2_SIZE at = 0;
        code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP,
                              &err, &at, nullptr);
        if (!code_) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            throw InputError(where + ": the regex does not compile (" + reinterpret_cast<const char*>(msg) +
                             " at offset " + std::to_string(at) + ")", where);
        }
        pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);   // faster when available; matching works either way
    }
    ~Regex() { pcre2_code_free(code_); }
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;

    // Every match, left to right; an empty match is kept and the search moves on by one
    // character (as the library's find_iter does). `s` must be valid UTF-8.
    std::vector<std::pair<size_t, size_t>> find_all(std::string_view s) const {
        std::vector<std::pair<size_t, size_t>> out;
        pcre2_match_data* md = pcre2_match_data_create_from_pattern(code_, nullptr);
        size_t start = 0;
        while (start <= s.size()) {
            const int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), start,
                                       PCRE2_NO_UTF_CHECK, md, nullptr);
            if (rc == PCRE2_ERROR_NOMATCH) break;
            if (rc < 0) {   // a resource limit: the rest of the text would go unsplit, so say so
                PCRE2_UCHAR msg[256];
                pcre2_get_error_message(rc, msg, sizeof msg);
                pcre2_match_data_free(md);
                throw InputError(where_ + ": the regex failed on this text at byte " + std::to_string(start) + " (" +
                                 reinterpret_cast<const char*>(msg) + ")", where_);
            }
            const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
            const size_t b = ov[0], e = ov[1];
            out.emplace_back(b, e);
            if (e > b) start = e;
            else {
                if (b >= s.size()) break;
                size_t bad = 0;
                bool trunc = false;
                const size_t n = utf8_sequence(s, b, bad, trunc);
                start = b + (n ? n : 1);
            }
        }
        pcre2_match_data_free(md);
        return out;
    }
private:
    pcre2_code* code_ = nullptr;
    std::string where_;
};

struct Pattern {
    std::string literal;             // when regex is null
    std::shared_ptr<Regex> regex;

    std::vector<std::pair<size_t, size_t>> find_all(std::string_view s) const {
        if (regex) return regex->find_all(s);
        std::vector<std::pair<size_t, size_t>> out;
        for (size_t at = s.find(literal); at != std::string_view::npos; at = s.find(literal, at + literal.size()))
            out.emplace_back(at, at + literal.size());
        return out;
    }
};

Pattern read_pattern(const json& obj, const std::string& where) {
    if (!obj.is_object()) throw InputError(where + " must be {\"String\": ...} or {\"Regex\": ...}, got " + excerpt(obj), where);
    if (obj.contains("Regex")) {
        const auto r = json_string(obj, "Regex", where);
        if (!r) throw InputError(where + ".Regex must be a string", where);
        return {"", std::make_shared<Regex>(*r, where + ".Regex")};
    }
    if (obj.contains("String")) {
        const auto s = json_string(obj, "String", where);
        if (!s || s->empty()) throw InputError(where + ".String must be a non-empty string", where);
        return {*s, nullptr};
    }
    throw InputError(where + " must be {\"String\": ...} or {\"Regex\": ...}, got " + excerpt(obj), where);
}

// A Replace normalizer's or decoder's "pattern" and "content".
void read_replace(const json& obj, const std::string& where, Pattern& pattern, std::string& content) {
    if (!obj.contains("pattern")) throw InputError(where + ".pattern is missing", where + ".pattern");
    pattern = read_pattern(obj.at("pattern"), where + ".pattern");
    const auto c = json_string(obj, "content", where);
    if (!c) throw InputError(where + ".content must be a string", where + ".content");
    content = *c;
}

// The library's find_matches: the whole text as (begin, end, is_match) runs.
struct Run { size_t b, e; bool match; };
std::vector<Run> runs_of(const Pattern& p, std::string_view s) {
    if (s.empty()) return {{0, 0, false}};
    std::vector<Run> out;
    size_t prev = 0;
    for (auto [b, e] : p.find_all(s)) {
        if (prev != b) out.push_back({prev, b, false});
        out.push_back({b, e, true});
        prev = e;
    }
    if (prev != s.size()) out.push_back({prev, s.size(), false});
    return out;
}

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

SplitBehavior read_behavior(const json& obj, const std::string& where) {
    const auto s = json_string(obj, "behavior", where);
    if (!s) throw InputError(where + ".behavior is missing (Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)", where + ".behavior");
    if (*s == "Removed") return SplitBehavior::Removed;
    if (*s == "Isolated") return SplitBehavior::Isolated;
    if (*s == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
    if (*s == "MergedWithNext") return SplitBehavior::MergedWithNext;
    if (*s == "Contiguous") return SplitBehavior::Contiguous;
    throw InputError(where + ".behavior '" + *s + "' is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous", where + ".behavior");
}

// NormalizedString::split: the runs grouped by the behaviour, empty pieces dropped.
std::vector<std::pair<size_t, size_t>> split_ranges(std::vector<Run> runs, SplitBehavior how, bool invert) {
    if (invert) for (Run& r : runs) r.match = !r.match;
    std::vector<std::pair<size_t, size_t>> out;
    switch (how) {
        case SplitBehavior::Isolated:
            for (const Run& r : runs) out.emplace_back(r.b, r.e);
            break;
        case SplitBehavior::Removed:
            for (const Run& r : runs) if (!r.match) out.emplace_back(r.b, r.e);
            break;
        case SplitBehavior::MergedWithPrevious: {
            bool prev_match = false;
            for (const Run& r : runs) {
                if (r.match && !prev_match && !out.empty()) out.back().second = r.e;
                else out.emplace_back(r.b, r.e);
                prev_match = r.match;
            }
            break;
        }
        case SplitBehavior::MergedWithNext: {
            bool prev_match = false;
            for (size_t k = runs.size(); k-- > 0;) {
                const Run& r = runs[k];
                if (r.match && !prev_match && !out.empty()) out.back().first = r.b;
                else out.emplace_back(r.b, r.e);
                prev_match = r.match;
            }
            std::reverse(out.begin(), out.end());
            break;
        }
        case SplitBehavior::Contiguous: {
            bool prev_match = false;
            for (const Run& r : runs) {
                if (r.match == prev_match && !out.empty()) out.back().second = r.e;
                else out.emplace_back(r.b, r.e);
                prev_match = r.match;
            }
            break;
        }
    }
    std::erase_if(out, [](const auto& r) { return r.first == r.second; });
    return out;
}

// ---------------------------------------------------------------------------------------
// Components

std::string type_of(const json& obj, const std::string& where) {
    if (!obj.is_object()) throw InputError(where + " must be an object with a \"type\", got " + excerpt(obj), where);
    const auto t = json_string(obj, "type", where);
    if (!t) throw InputError(where + ".type is missing", where + ".type");
    return *t;
}

const json& array_field(const json& obj, const std::string& key, const std::string& where) {
    if (!obj.contains(key) || !obj.at(key).is_array())
        throw InputError(where + "." + key + " must be an array", where + "." + key);
    return obj.at(key);
}

std::string char_field(const json& obj, const std::string& key, const std::string& where, const std::string& dflt) {
    const auto s = json_string(obj, key, where);
    const std::string v = s ? *s : dflt;
    const auto cs = chars_of(v);
    if (cs.size() != 1 || !cs[0].valid) throw InputError(where + "." + key + " must be one character, got '" + v + "'", where + "." + key);
    return v;
}

// GPT-2's byte-to-character map: printable bytes stand for themselves, the others for
// U+0100 onwards, so every byte is a visible character of the vocabulary.
struct ByteMap {
    std::array<std::string, 256> to_char;
    std::unordered_map<char32_t, unsigned char> to_byte;
    ByteMap() {
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            const char32_t c = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
            append_utf8(to_char[b], c);
            to_byte[c] = static_cast<unsigned char>(b);
        }
    }
};
const ByteMap& byte_map() {
    static const ByteMap m;
    return m;
}

const char* kGpt2Regex = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// -- normalizers

struct Normalizer {
    virtual ~Normalizer() = default;
    virtual void apply(Piece& p) const = 0;
    virtual std::string name() const = 0;
};

// NFC, NFD, NFKC, NFKD through utf8proc. The alignment is kept per grapheme cluster (a
// normalization does not reach across one); if the per-cluster results do not join up to
// the whole-text result, the whole text is one aligned unit. The text itself is always the
// whole-text normalization, as the library computes it.
struct UnicodeNormalizer : Normalizer {
    std::string form;
    utf8proc_option_t options;
    UnicodeNormalizer(std::string f, int opts) : form(std::move(f)), options(static_cast<utf8proc_option_t>(opts)) {}
    std::string name() const override { return form; }

    std::string normalize(std::string_view s) const {
        if (s.empty()) return {};
        utf8proc_uint8_t* dst = nullptr;
        const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                                                static_cast<utf8proc_ssize_t>(s.size()), &dst, options);
        if (n < 0) throw InputError(std::string(form) + " normalization failed: " + utf8proc_errmsg(n));
        std::string out(reinterpret_cast<const char*>(dst), static_cast<size_t>(n));
        std::free(dst);
        return out;
    }
    void apply(Piece& p) const override {
        const std::string whole = normalize(p.text);
        if (whole == p.text) return;
        const auto cs = chars_of(p.text);
        PieceBuilder out(p);
        std::string joined;
        utf8proc_int32_t state = 0;
        size_t cluster = 0;
        std::vector<std::pair<size_t, size_t>> clusters;
        for (size_t k = 1; k <= cs.size(); ++k) {
            if (k == cs.size() || utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(cs[k - 1].cp),
                                                                   static_cast<utf8proc_int32_t>(cs[k].cp), &state)) {
                clusters.emplace_back(cs[cluster].pos, k == cs.size() ? p.text.size() : cs[k].pos);
                cluster = k;
            }
        }
        std::vector<std::string> parts;
        for (auto [b, e] : clusters) { parts.push_back(normalize(std::string_view(p.text).substr(b, e - b))); joined += parts.back(); }
        if (joined != whole) {
            out.add(whole, 0, p.text.size());
        } else {
            for (size_t k = 0; k < clusters.size(); ++k) {
                const auto [b, e] = clusters[k];
                if (parts[k] == std::string_view(p.text).substr(b, e - b)) out.copy(b, e);
                else out.add(parts[k], b, e);
            }
        }
        p = out.finish();
    }
};

struct PrependNormalizer : Normalizer {
    std::string prepend;
    std::string name() const override { return "Prepend"; }
    void apply(Piece& p) const override {
        if (p.text.empty()) return;
        PieceBuilder out(p);
        out.add(prepend, 0, 0);
        out.copy(0, p.text.size());
        p = out.finish();
    }
};

struct ReplaceNormalizer : Normalizer {
    Pattern pattern;
    std::string content;
    std::string name() const override { return "Replace"; }
    void apply(Piece& p) const override {
        const auto matches = pattern.find_all(p.text);
        if (matches.empty()) return;
        PieceBuilder out(p);
        size_t at = 0;
        for (auto [b, e] : matches) {
            out.copy(at, b);
            out.add(content, b, e);
            at = e;
        }
        out.copy(at, p.text.size());
        p = out.finish();
    }
};

struct StripNormalizer : Normalizer {
    bool left = true, right = true;
    std::string name() const override { return "Strip"; }
    void apply(Piece& p) const override {
        const auto cs = chars_of(p.text);
        size_t b = 0, e = cs.size();
        if (left) while (b < e && is_white_space(cs[b].cp)) ++b;
        if (right) while (e > b && is_white_space(cs[e - 1].cp)) --e;
        if (b == 0 && e == cs.size()) return;
        const size_t bb = b < cs.size() ? cs[b].pos : p.text.size();
        const size_t ee = e < cs.size() ? cs[e].pos : p.text.size();
        p = slice(p, bb, ee);
    }
};

struct SequenceNormalizer : Normalizer {
    std::vector<std::unique_ptr<Normalizer>> steps;
    std::string name() const override {
        std::string s = "Sequence[";
        for (size_t k = 0; k < steps.size(); ++k) s += (k ? ", " : "") + steps[k]->name();
        return s + "]";
    }
    void apply(Piece& p) const override { for (const auto& n : steps) n->apply(p); }
};

std::unique_ptr<Normalizer> read_normalizer(const json& obj, const std::string& where) {
    const std::string t = type_of(obj, where);
    if (t == "NFC") return std::make_unique<UnicodeNormalizer>("NFC", UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (t == "NFD") return std::make_unique<UnicodeNormalizer>("NFD", UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
    if (t == "NFKC") return std::make_unique<UnicodeNormalizer>("NFKC", UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
    if (t == "NFKD") return std::make_unique<UnicodeNormalizer>("NFKD", UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
    if (t == "Prepend") {
        auto n = std::make_unique<PrependNormalizer>();
        const auto s = json_string(obj, "prepend", where);
        if (!s) throw InputError(where + ".prepend must be a string", where + ".prepend");
        n->prepend = *s;
        return n;
    }
    if (t == "Replace") {
        auto n = std::make_unique<ReplaceNormalizer>();
        read_replace(obj, where, n->pattern, n->content);
        return n;
    }
    if (t == "Strip") {
        auto n = std::make_unique<StripNormalizer>();
        n->left = json_bool(obj, "strip_left", where).value_or(true);
        n->right = json_bool(obj, "strip_right", where).value_or(true);
        return n;
    }
    if (t == "Sequence") {
        auto n = std::make_unique<SequenceNormalizer>();
        const json& list = array_field(obj, "normalizers", where);
        for (size_t k = 0; k < list.size(); ++k)
            n->steps.push_back(read_normalizer(list[k], where + ".normalizers[" + std::to_string(k) + "]"));
        return n;
    }
    throw InputError(where + ": normalizer type '" + t +
                     "' is not supported (this reader knows NFC, NFD, NFKC, NFKD, Prepend, Replace, Strip, Sequence)",
                     where + ".type");
}

// -- pre-tokenizers: each splits every piece that is not an added token

struct PreTokenizer {
    virtual ~PreTokenizer() = default;
    virtual void split(const Piece& p, std::vector<Piece>& out) const = 0;
    virtual std::string name() const = 0;
    void apply(std::vector<Piece>& pieces) const {
        std::vector<Piece> out;
        out.reserve(pieces.size());
        for (Piece& p : pieces) {
            if (p.token) { out.push_back(std::move(p)); continue; }
            if (p.text.empty()) continue;   // the library has no split to work on: no prefix space, no marker
            split(p, out);
        }
        pieces = std::move(out);
    }
};

void push_ranges(const Piece& p, const std::vector<std::pair<size_t, size_t>>& ranges, std::vector<Piece>& out) {
    for (auto [b, e] : ranges) out.push_back(slice(p, b, e));
}

struct SplitPre : PreTokenizer {
    Pattern pattern;
    SplitBehavior behavior = SplitBehavior::Isolated;
    bool invert = false;
    std::string label = "Split";
    std::string name() const override { return label; }
    void split(const Piece& p, std::vector<Piece>& out) const override {
        push_ranges(p, split_ranges(runs_of(pattern, p.text), behavior, invert), out);
    }
};

struct ByteLevelPre : PreTokenizer {
    bool add_prefix_space = false;
    std::shared_ptr<Regex> regex;   // null: use_regex false
    std::string name() const override { return "ByteLevel"; }
    void split(const Piece& in, std::vector<Piece>& out) const override {
        Piece p = in;
        if (add_prefix_space && (p.text.empty() || p.text[0] != ' ')) {
            PieceBuilder b(p);
            b.add(" ", 0, 0);
            b.copy(0, p.text.size());
            p = b.finish();
        }
        std::vector<Piece> parts;
        if (regex) push_ranges(p, split_ranges(runs_of(Pattern{"", regex}, p.text), SplitBehavior::Isolated, false), parts);
        else if (!p.text.empty()) parts.push_back(std::move(p));
        const ByteMap& m = byte_map();
        for (const Piece& part : parts) {
            PieceBuilder b(part);
            for (size_t i = 0; i < part.text.size(); ++i) b.add(m.to_char[static_cast<unsigned char>(part.text[i])], i, i + 1);
            out.push_back(b.finish());
        }
    }
};

enum class PrependScheme { Always, First, Never };

struct MetaspacePre : PreTokenizer {
    std::string replacement = "\xE2\x96\x81";   // U+2581
    PrependScheme scheme = PrependScheme::Always;
    bool split_on = true;
    std::string name() const override { return "Metaspace"; }
    void split(const Piece& in, std::vector<Piece>& out) const override {
        PieceBuilder b(in);
        for (size_t i = 0; i < in.text.size(); ++i) {
            if (in.text[i] == ' ') b.add(replacement, i, i + 1);
            else b.copy(i, i + 1);
        }
        Piece p = b.finish();
        const bool starts = p.text.compare(0, replacement.size(), replacement) == 0;
        if (!starts && (scheme == PrependScheme::Always || (scheme == PrependScheme::First && in.first_input_byte() == 0))) {
            PieceBuilder pb(p);
            pb.add(replacement, 0, 0);
            pb.copy(0, p.text.size());
            p = pb.finish();
        }
        if (!split_on) {
            if (!p.text.empty()) out.push_back(std::move(p));
            return;
        }
        push_ranges(p, split_ranges(runs_of(Pattern{replacement, nullptr}, p.text), SplitBehavior::MergedWithNext, false), out);
    }
};

struct SequencePre : PreTokenizer {
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    std::string name() const override {
        std::string s = "Sequence[";
        for (size_t k = 0; k < steps.size(); ++k) s += (k ? ", " : "") + steps[k]->name();
        return s + "]";
    }
    void split(const Piece& p, std::vector<Piece>& out) const override {
        std::vector<Piece> pieces{p};
        for (const auto& s : steps) s->apply(pieces);
        for (Piece& q : pieces) out.push_back(std::move(q));
    }
};

PrependScheme read_scheme(const json& obj, const std::string& where) {
    if (const auto s = json_string(obj, "prepend_scheme", where)) {
        if (*s == "always") return PrependScheme::Always;
        if (*s == "first") return PrependScheme::First;
        if (*s == "never") return PrependScheme::Never;
        throw InputError(where + ".prepend_scheme '" + *s + "' is not one of always, first, never", where + ".prepend_scheme");
    }
    // Files written before prepend_scheme: add_prefix_space true means always.
    return json_bool(obj, "add_prefix_space", where).value_or(true) ? PrependScheme::Always : PrependScheme::Never;
}

// Rust's regex \w and \s (Unicode): Alphabetic, marks, decimal digits, connector punctuation
// and the joiners; White_Space.
const char* kWordClass = R"(\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D})";

std::unique_ptr<PreTokenizer> read_pre_tokenizer(const json& obj, const std::string& where) {
    const std::string t = type_of(obj, where);
    if (t == "Split") {
        auto p = std::make_unique<SplitPre>();
        if (!obj.contains("pattern")) throw InputError(where + ".pattern is missing", where + ".pattern");
        p->pattern = read_pattern(obj.at("pattern"), where + ".pattern");
        p->behavior = read_behavior(obj, where);
        p->invert = json_bool(obj, "invert", where).value_or(false);
        return p;
    }
    if (t == "ByteLevel") {
        auto p = std::make_unique<ByteLevelPre>();
        p->add_prefix_space = json_bool(obj, "add_prefix_space", where).value_or(true);
        if (json_bool(obj, "use_regex", where).value_or(true)) p->regex = std::make_shared<Regex>(kGpt2Regex, where);
        return p;
    }
    if (t == "Metaspace") {
        auto p = std::make_unique<MetaspacePre>();
        p->replacement = char_field(obj, "replacement", where, "\xE2\x96\x81");
        p->scheme = read_scheme(obj, where);
        p->split_on = json_bool(obj, "split", where).value_or(true);
        return p;
    }
    if (t == "Whitespace") {   // \w+|[^\w\s]+ kept, the rest removed
        auto p = std::make_unique<SplitPre>();
        const std::string w = kWordClass;
        p->pattern = {"", std::make_shared<Regex>("[" + w + "]+|[^" + w + "\\p{White_Space}]+", where)};
        p->behavior = SplitBehavior::Removed;
        p->invert = true;
        p->label = "Whitespace";
        return p;
    }
    if (t == "WhitespaceSplit") {
        auto p = std::make_unique<SplitPre>();
        p->pattern = {"", std::make_shared<Regex>("\\p{White_Space}", where)};
        p->behavior = SplitBehavior::Removed;
        p->label = "WhitespaceSplit";
        return p;
    }
    if (t == "Digits") {
        auto p = std::make_unique<SplitPre>();
        p->pattern = {"", std::make_shared<Regex>("\\p{N}", where)};
        p->behavior = json_bool(obj, "individual_digits", where).value_or(false) ? SplitBehavior::Isolated
                                                                                 : SplitBehavior::Contiguous;
        p->label = "Digits";
        return p;
    }
    if (t == "Sequence") {
        auto p = std::make_unique<SequencePre>();
        const json& list = array_field(obj, "pretokenizers", where);
        for (size_t k = 0; k < list.size(); ++k)
            p->steps.push_back(read_pre_tokenizer(list[k], where + ".pretokenizers[" + std::to_string(k) + "]"));
        return p;
    }
    throw InputError(where + ": pre-tokenizer type '" + t +
                     "' is not supported (this reader knows Split, ByteLevel, Metaspace, Whitespace, WhitespaceSplit, "
                     "Digits, Sequence)", where + ".type");
}

// -- decoders: each maps the list of token strings to a new list (the library's
// decode_chain); `raw` keeps bytes that are not UTF-8 as bytes instead of U+FFFD.

struct DecoderStep {
    virtual ~DecoderStep() = default;
    virtual void apply(std::vector<std::string>& tokens, bool raw) const = 0;
    virtual std::string name() const = 0;
};

struct ByteLevelDec : DecoderStep {
    std::string name() const override { return "ByteLevel"; }
    void apply(std::vector<std::string>& tokens, bool raw) const override {
        const ByteMap& m = byte_map();
        std::string bytes;
        for (const std::string& t : tokens) {
            std::string mine;
            bool all = true;
            for (const Utf8Char& c : chars_of(t)) {
                const auto it = c.valid ? m.to_byte.find(c.cp) : m.to_byte.end();
                if (it == m.to_byte.end()) { all = false; break; }
                mine += static_cast<char>(it->second);
            }
            bytes += all ? mine : t;   // a token of other characters (an added token) as it is
        }
        tokens.assign(1, raw ? bytes : utf8_lossy(bytes));
    }
};

std::optional<unsigned char> fallback_byte(const std::string& t) {
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return std::nullopt;
    const auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    const int hi = hex(t[3]), lo = hex(t[4]);
    if (hi < 0 || lo < 0) return std::nullopt;
    return static_cast<unsigned char>(hi * 16 + lo);
}

bool valid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        size_t bad = 0;
        bool trunc = false;
        const size_t n = utf8_sequence(s, i, bad, trunc);
        if (!n) return false;
        i += n;
    }
    return true;
}

struct ByteFallbackDec : DecoderStep {
    std::string name() const override { return "ByteFallback"; }
    void apply(std::vector<std::string>& tokens, bool raw) const override {
        std::vector<std::string> out;
        std::string pending;
        const auto flush = [&] {
            if (pending.empty()) return;
            if (raw || valid_utf8(pending)) out.push_back(pending);
            else for (size_t k = 0; k < pending.size(); ++k) out.push_back("\xEF\xBF\xBD");   // one U+FFFD a byte, as the library
            pending.clear();
        };
        for (std::string& t : tokens) {
            if (const auto b = fallback_byte(t)) { pending += static_cast<char>(*b); continue; }
            flush();
            out.push_back(std::move(t));
        }
        flush();
        tokens = std::move(out);
    }
};

struct FuseDec : DecoderStep {
    std::string name() const override { return "Fuse"; }
    void apply(std::vector<std::string>& tokens, bool) const override {
        std::string all;
        for (const auto& t : tokens) all += t;
        tokens.assign(1, all);
    }
};

struct StripDec : DecoderStep {
    char32_t content = ' ';
    size_t start = 0, stop = 0;
    std::string name() const override { return "Strip"; }
    void apply(std::vector<std::string>& tokens, bool) const override {
        for (std::string& t : tokens) {
            const auto cs = chars_of(t);
            size_t b = 0, e = cs.size();
            for (size_t k = 0; k < start && k < cs.size(); ++k) {
                if (cs[k].valid && cs[k].cp == content) b = k + 1;
                else break;
            }
            for (size_t k = 0; k < stop && k < cs.size(); ++k) {
                const size_t i = cs.size() - k - 1;
                if (cs[i].valid && cs[i].cp == content) e = i;
                else break;
            }
            if (e < b) e = b;
            const size_t bb = b < cs.size() ? cs[b].pos : t.size();
            const size_t ee = e < cs.size() ? cs[e].pos : t.size();
            t = t.substr(bb, ee - bb);
        }
    }
};

struct ReplaceDec : DecoderStep {
    Pattern pattern;
    std::string content;
    std::string name() const override { return "Replace"; }
    void apply(std::vector<std::string>& tokens, bool raw) const override {
        for (std::string& t : tokens) {
            // A regex needs UTF-8: a raw token that is not (a byte of a split character) is left as it is.
            if (pattern.regex && !valid_utf8(t)) continue;
            std::string out;
            size_t at = 0;
            for (auto [b, e] : pattern.find_all(t)) {
                out.append(t, at, b - at);
                out += content;
                at = e;
            }
            out.append(t, at, std::string::npos);
            t = std::move(out);
        }
    }
};

struct MetaspaceDec : DecoderStep {
    char32_t replacement = 0x2581;
    PrependScheme scheme = PrependScheme::Always;
    std::string name() const override { return "Metaspace"; }
    void apply(std::vector<std::string>& tokens, bool) const override {
        // The library's rule: every replacement character becomes a space, except in the
        // first token, where they are dropped unless the scheme is "never".
        for (size_t i = 0; i < tokens.size(); ++i) {
            std::string out;
            for (const Utf8Char& c : chars_of(tokens[i])) {
                if (c.valid && c.cp == replacement) {
                    if (i == 0 && scheme != PrependScheme::Never) continue;
                    out += ' ';
                } else {
                    out.append(tokens[i], c.pos, c.len);
                }
            }
            tokens[i] = std::move(out);
        }
    }
};

struct SequenceDec : DecoderStep {
    std::vector<std::unique_ptr<DecoderStep>> steps;
    std::string name() const override {
        std::string s = "Sequence[";
        for (size_t k = 0; k < steps.size(); ++k) s += (k ? ", " : "") + steps[k]->name();
        return s + "]";
    }
    void apply(std::vector<std::string>& tokens, bool raw) const override { for (const auto& d : steps) d->apply(tokens, raw); }
};

char32_t one_char(const std::string& s, const std::string& where) {
    const auto cs = chars_of(s);
    if (cs.size() != 1 || !cs[0].valid) throw InputError(where + " must be one character, got '" + s + "'", where);
    return cs[0].cp;
}

std::unique_ptr<DecoderStep> read_decoder(const json& obj, const std::string& where) {
    const std::string t = type_of(obj, where);
    if (t == "ByteLevel") return std::make_unique<ByteLevelDec>();
    if (t == "ByteFallback") return std::make_unique<ByteFallbackDec>();
    if (t == "Fuse") return std::make_unique<FuseDec>();
    if (t == "Strip") {
        auto d = std::make_unique<StripDec>();
        const auto c = json_string(obj, "content", where);
        d->content = one_char(c.value_or(" "), where + ".content");
        const auto start = json_int(obj, "start", where).value_or(0), stop = json_int(obj, "stop", where).value_or(0);
        if (start < 0 || stop < 0) throw InputError(where + ": start and stop must be 0 or more", where);
        d->start = static_cast<size_t>(start);
        d->stop = static_cast<size_t>(stop);
        return d;
    }
    if (t == "Replace") {
        auto d = std::make_unique<ReplaceDec>();
        read_replace(obj, where, d->pattern, d->content);
        return d;
    }
    if (t == "Metaspace") {
        auto d = std::make_unique<MetaspaceDec>();
        d->replacement = one_char(char_field(obj, "replacement", where, "\xE2\x96\x81"), where + ".replacement");
        d->scheme = read_scheme(obj, where);
        return d;
    }
    if (t == "Sequence") {
        auto d = std::make_unique<SequenceDec>();
        const json& list = array_field(obj, "decoders", where);
        for (size_t k = 0; k < list.size(); ++k)
            d->steps.push_back(read_decoder(list[k], where + ".decoders[" + std::to_string(k) + "]"));
        return d;
    }
    throw InputError(where + ": decoder type '" + t +
                     "' is not supported (this reader knows ByteLevel, ByteFallback, Metaspace, Fuse, Strip, Replace, "
                     "Sequence)", where + ".type");
}

// -- post-processors (only with add_special_tokens)

struct Special { std::vector<int64_t> ids; std::vector<std::string> tokens; };
struct PostItem { bool sequence = false; Special special; };

}  // namespace

// ---------------------------------------------------------------------------------------
// The tokenizer

struct AddedToken {
    int64_t id = 0;
    std::string content;
    bool single_word = false, lstrip = false, rstrip = false, normalized = false, special = false;
};

struct Tokenizer::Impl {
    std::string source;
    // model (BPE)
    std::unordered_map<std::string, int64_t> vocab;
    std::vector<std::string> id_token;        // index: id; "" where no token
    std::vector<char> id_known;
    std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges;   // (a, b) -> (rank, merged id)
    bool ignore_merges = false, byte_fallback = false, fuse_unk = false;
    std::optional<int64_t> unk_id;
    std::string prefix, suffix;               // continuing_subword_prefix, end_of_word_suffix
    // components
    std::vector<AddedToken> added;
    std::unordered_map<int64_t, size_t> added_by_id;
    std::unique_ptr<Normalizer> normalizer;
    std::unique_ptr<PreTokenizer> pre;
    std::unique_ptr<DecoderStep> decoder;
    std::vector<PostItem> post;               // empty: nothing added
    bool post_declared = false;
    std::string post_name = "none";
    std::shared_ptr<Regex> word_start, word_end;   // single_word checks
    // per-word cache of the model's output
    mutable std::mutex cache_mutex;
    mutable std::unordered_map<std::string, std::vector<std::pair<int64_t, size_t>>> cache;

    // The added tokens' matches in `p` (leftmost-longest), cut out as token pieces.
    void split_added(const Piece& p, bool normalized_set, std::vector<Piece>& out) const;
    std::vector<std::pair<int64_t, size_t>> bpe(const std::string& word) const;
    std::vector<std::string> decode_tokens(const std::vector<int64_t>& ids, bool skip_special) const;
};

namespace {

bool ends_with_word(const Regex& re, std::string_view s) { return !s.empty() && !re.find_all(s).empty(); }

size_t leading_space(std::string_view s) {
    size_t i = 0;
    for (const Utf8Char& c : chars_of(s)) {
        if (!c.valid || !is_white_space(c.cp)) break;
        i = c.pos + c.len;
    }
    return i;
}
size_t trailing_space_start(std::string_view s) {
    const auto cs = chars_of(s);
    size_t i = s.size();
    for (size_t k = cs.size(); k-- > 0;) {
        if (!cs[k].valid || !is_white_space(cs[k].cp)) break;
        i = cs[k].pos;
    }
    return i;
}

}  // namespace

void Tokenizer::Impl::split_added(const Piece& p, bool normalized_set, std::vector<Piece>& out) const {
    std::vector<const AddedToken*> set;
    for (const AddedToken& a : added)
        if (a.normalized == normalized_set && !a.content.empty()) set.push_back(&a);
    if (set.empty() || p.text.empty()) { if (!p.text.empty() || out.empty()) out.push_back(p); return; }
    std::vector<std::string> contents;   // what is searched: normalized tokens' content through the normalizer
    for (const AddedToken* a : set) {
        if (!normalized_set || !normalizer) { contents.push_back(a->content); continue; }
        Piece c{a->content, std::vector<TextSpan>(a->content.size()), 0, std::nullopt};
        normalizer->apply(c);
        contents.push_back(c.text);
    }
    const std::string& s = p.text;
    size_t start_offset = 0, search = 0;
    while (search < s.size()) {
        // leftmost, then longest
        size_t best_at = std::string::npos, best_len = 0, best = 0;
        for (size_t k = 0; k < set.size(); ++k) {
            const std::string& c = contents[k];
            if (c.empty()) continue;
            const size_t at = s.find(c, search);
            if (at == std::string::npos) continue;
            if (at < best_at || (at == best_at && c.size() > best_len)) { best_at = at; best_len = c.size(); best = k; }
        }
        if (best_at == std::string::npos) break;
        size_t b = best_at, e = best_at + best_len;
        search = e;
        const AddedToken& a = *set[best];
        if (a.single_word) {
            const bool start_space = b == 0 || !ends_with_word(*word_end, std::string_view(s).substr(0, b));
            const bool stop_space = e == s.size() || !ends_with_word(*word_start, std::string_view(s).substr(e));
            if (!start_space || !stop_space) continue;
        }
        if (a.lstrip) b = std::max(trailing_space_start(std::string_view(s).substr(0, b)), start_offset);
        if (a.rstrip) e += leading_space(std::string_view(s).substr(e));
        if (b < start_offset) continue;
        if (start_offset < b) out.push_back(slice(p, start_offset, b));
        Piece t = slice(p, b, e);
        t.token = a.id;
        out.push_back(std::move(t));
        start_offset = e;
        search = std::max(search, e);
    }
    if (start_offset < s.size()) out.push_back(slice(p, start_offset, s.size()));
}

std::vector<std::pair<int64_t, size_t>> Tokenizer::Impl::bpe(const std::string& w) const {
    {
        std::lock_guard<std::mutex> lock(cache_mutex);
        const auto it = cache.find(w);
        if (it != cache.end()) return it->second;
    }
    std::vector<std::pair<int64_t, size_t>> result;   // (id, byte length in w)
    if (ignore_merges) {
        const auto it = vocab.find(w);
        if (it != vocab.end()) result.emplace_back(it->second, w.size());
    }
    if (result.empty()) {
        struct Symbol { int64_t id; size_t len; int prev, next; };
        std::vector<Symbol> sym;
        std::optional<std::pair<int64_t, size_t>> unk;
        const auto add = [&](int64_t id, size_t len) {
            const int n = static_cast<int>(sym.size());
            sym.push_back({id, len, n - 1, -1});
            if (n > 0) sym[static_cast<size_t>(n - 1)].next = n;
        };
        const auto cs = chars_of(w);
        for (size_t k = 0; k < cs.size(); ++k) {
            std::string s = w.substr(cs[k].pos, cs[k].len);
            if (k > 0 && !prefix.empty()) s = prefix + s;
            if (k + 1 == cs.size() && !suffix.empty()) s += suffix;
            const auto it = vocab.find(s);
            if (it != vocab.end()) {
                if (unk) { add(unk->first, unk->second); unk.reset(); }
                add(it->second, cs[k].len);
                continue;
            }
            if (byte_fallback) {
                std::vector<int64_t> ids;
                for (unsigned char b : s) {
                    char code[8];
                    std::snprintf(code, sizeof code, "<0x%02X>", b);
                    const auto f = vocab.find(code);
                    if (f == vocab.end()) { ids.clear(); break; }
                    ids.push_back(f->second);
                }
                if (!ids.empty()) {
                    for (int64_t id : ids) add(id, 1);
                    continue;
                }
            }
            if (unk_id) {
                if (unk && fuse_unk) unk->second += cs[k].len;
                else {
                    if (unk) add(unk->first, unk->second);
                    unk = std::make_pair(*unk_id, cs[k].len);
                }
            }
            // No unk token and no fallback: the character gives no token (the library drops it).
        }
        if (unk) add(unk->first, unk->second);

        // Lowest rank first, then leftmost; stale entries are skipped (Word::merge_all).
        struct Merge { size_t pos; int32_t rank, id; };
        const auto cmp = [](const Merge& a, const Merge& b) { return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos; };
        std::priority_queue<Merge, std::vector<Merge>, decltype(cmp)> queue(cmp);
        const auto pair_key = [](int64_t a, int64_t b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(b); };
        for (size_t i = 0; i + 1 < sym.size(); ++i) {
            const auto m = merges.find(pair_key(sym[i].id, sym[i + 1].id));
            if (m != merges.end()) queue.push({i, m->second.first, m->second.second});
        }
        while (!queue.empty()) {
            const Merge top = queue.top();
            queue.pop();
            Symbol& cur = sym[top.pos];
            if (cur.len == 0 || cur.next == -1) continue;
            const size_t next_pos = static_cast<size_t>(cur.next);
            const auto m = merges.find(pair_key(cur.id, sym[next_pos].id));
            if (m == merges.end() || m->second.second != top.id) continue;
            cur.id = top.id;
            cur.len += sym[next_pos].len;
            cur.next = sym[next_pos].next;
            sym[next_pos].len = 0;
            if (cur.next >= 0) sym[static_cast<size_t>(cur.next)].prev = static_cast<int>(top.pos);
            if (cur.prev >= 0) {
                const auto pm = merges.find(pair_key(sym[static_cast<size_t>(cur.prev)].id, cur.id));
                if (pm != merges.end()) queue.push({static_cast<size_t>(cur.prev), pm->second.first, pm->second.second});
            }
            if (cur.next >= 0) {
                const auto nm = merges.find(pair_key(cur.id, sym[static_cast<size_t>(cur.next)].id));
                if (nm != merges.end()) queue.push({top.pos, nm->second.first, nm->second.second});
            }
        }
        for (const Symbol& s : sym)
            if (s.len) result.emplace_back(s.id, s.len);
    }
    std::lock_guard<std::mutex> lock(cache_mutex);
    if (cache.size() > 200000) cache.clear();
    cache.emplace(w, result);
    return result;
}

std::vector<std::string> Tokenizer::Impl::decode_tokens(const std::vector<int64_t>& ids, bool skip_special) const {
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int64_t id : ids) {
        const auto a = added_by_id.find(id);
        if (a != added_by_id.end()) {
            if (skip_special && added[a->second].special) continue;
            tokens.push_back(added[a->second].content);
            continue;
        }
        if (id < 0 || id >= static_cast<int64_t>(id_token.size()) || !id_known[static_cast<size_t>(id)])
            throw InputError("token id " + std::to_string(id) + " is not in the vocabulary of " + source + " (ids 0.." +
                             std::to_string(id_token.size() == 0 ? 0 : id_token.size() - 1) + ")");
        tokens.push_back(id_token[static_cast<size_t>(id)]);
    }
    return tokens;
}

// ---------------------------------------------------------------------------------------
// Reading tokenizer.json

namespace {

constexpr int64_t kMaxVocab = int64_t{1} << 22;   // 4,194,304 ids, the engine's vocab_size limit (Gemma 3: 262,144)

Special read_special(const json& specials, const std::string& name, const std::string& where,
                     const std::unordered_map<std::string, int64_t>& vocab) {
    Special s;
    if (specials.is_object() && specials.contains(name)) {
        const json& e = specials.at(name);
        const std::string w = where + ".special_tokens." + name;
        if (!e.is_object() || !e.contains("ids") || !e.at("ids").is_array())
            throw InputError(w + " must be an object with \"ids\" and \"tokens\"", w);
        for (const json& v : e.at("ids")) {
            int64_t id = 0;
            if (!json_to_int64(v, id) || id < 0 || id >= kMaxVocab) throw InputError(w + ".ids must hold token ids", w);
            s.ids.push_back(id);
        }
        if (e.contains("tokens") && e.at("tokens").is_array())
            for (const json& v : e.at("tokens")) s.tokens.push_back(v.is_string() ? v.get<std::string>() : "");
        s.tokens.resize(s.ids.size());
        return s;
    }
    const auto it = vocab.find(name);
    if (it == vocab.end()) throw InputError(where + ": special token '" + name + "' is in neither special_tokens nor the vocabulary", where);
    return {{it->second}, {name}};
}

}  // namespace

Tokenizer Tokenizer::from_file(const std::string& path) {
    return from_json(read_file(path, ", give a Hugging Face tokenizer.json"), path);
}

Tokenizer Tokenizer::from_json(std::string_view text, const std::string& source) {
    const json root = parse_json(text, source);
    if (!root.is_object()) throw InputError(source + ": a tokenizer.json is a JSON object, got " + excerpt(root));
    auto impl = std::make_shared<Impl>();
    impl->source = source;
    const std::string w = source + ": ";

    for (const char* k : {"truncation", "padding"})
        if (root.contains(k) && !root.at(k).is_null())
            throw InputError(w + k + " is set; this reader does not " + (std::string(k) == "padding" ? "pad" : "truncate") +
                             " (set it to null)", k);

    // model
    if (!root.contains("model")) throw InputError(w + "model is missing", "model");
    const json& model = root.at("model");
    if (!model.is_object()) throw InputError(w + "model must be an object", "model");
    const std::string mtype = json_string(model, "type", w + "model").value_or("BPE");
    if (mtype != "BPE")
        throw InputError(w + "model.type '" + mtype + "' is not supported (this reader knows BPE)", "model.type");
    if (const auto d = json_number(model, "dropout", w + "model"); d && *d != 0.0)
        throw InputError(w + "model.dropout is " + std::to_string(*d) + "; encoding with dropout is random (set it to null)", "model.dropout");
    if (!model.contains("vocab") || !model.at("vocab").is_object())
        throw InputError(w + "model.vocab must be an object of token: id", "model.vocab");
    int64_t max_id = -1;
    for (const auto& [tok, v] : model.at("vocab").items()) {
        int64_t id = 0;
        if (!json_to_int64(v, id) || id < 0 || id >= kMaxVocab)
            throw InputError(w + "model.vocab['" + tok.substr(0, 40) + "'] must be an id from 0 to " + std::to_string(kMaxVocab - 1) +
                             ", got " + excerpt(v), "model.vocab");
        impl->vocab[tok] = id;
        max_id = std::max(max_id, id);
    }
    impl->ignore_merges = json_bool(model, "ignore_merges", w + "model").value_or(false);
    impl->byte_fallback = json_bool(model, "byte_fallback", w + "model").value_or(false);
    impl->fuse_unk = json_bool(model, "fuse_unk", w + "model").value_or(false);
    impl->prefix = json_string(model, "continuing_subword_prefix", w + "model").value_or("");
    impl->suffix = json_string(model, "end_of_word_suffix", w + "model").value_or("");
    if (const auto unk = json_string(model, "unk_token", w + "model")) {
        const auto it = impl->vocab.find(*unk);
        if (it == impl->vocab.end()) throw InputError(w + "model.unk_token '" + *unk + "' is not in the vocabulary", "model.unk_token");
        impl->unk_id = it->second;
    }
    if (model.contains("merges") && !model.at("merges").is_null()) {
        const json& ms = model.at("merges");
        if (!ms.is_array()) throw InputError(w + "model.merges must be an array", "model.merges");
        for (size_t r = 0; r < ms.size(); ++r) {
            const json& m = ms[r];
            const std::string where = w + "model.merges[" + std::to_string(r) + "]";
            std::string a, b;
            if (m.is_string()) {
                const std::string s = m.get<std::string>();
                const size_t sp = s.find(' ');
                if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
                    throw InputError(where + " must be two tokens separated by one space, got " + excerpt(m), "model.merges");
                a = s.substr(0, sp);
                b = s.substr(sp + 1);
            } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
                a = m[0].get<std::string>();
                b = m[1].get<std::string>();
            } else {
                throw InputError(where + " must be \"a b\" or [\"a\", \"b\"], got " + excerpt(m), "model.merges");
            }
            const auto ia = impl->vocab.find(a), ib = impl->vocab.find(b);
            if (ia == impl->vocab.end() || ib == impl->vocab.end())
                throw InputError(where + " names '" + (ia == impl->vocab.end() ? a : b).substr(0, 40) + "', which is not in the vocabulary", "model.merges");
            std::string merged = a;
            merged += (!impl->prefix.empty() && b.compare(0, impl->prefix.size(), impl->prefix) == 0) ? b.substr(impl->prefix.size()) : b;
            const auto im = impl->vocab.find(merged);
            if (im == impl->vocab.end())
                throw InputError(where + " makes '" + merged.substr(0, 40) + "', which is not in the vocabulary", "model.merges");
            const uint64_t key = (static_cast<uint64_t>(ia->second) << 32) | static_cast<uint64_t>(ib->second);
            impl->merges[key] = {static_cast<int32_t>(r), static_cast<int32_t>(im->second)};   // a repeated pair: the later rank, as the library
        }
    }

    // added tokens
    if (root.contains("added_tokens") && !root.at("added_tokens").is_null()) {
        const json& list = root.at("added_tokens");
        if (!list.is_array()) throw InputError(w + "added_tokens must be an array", "added_tokens");
        for (size_t k = 0; k < list.size(); ++k) {
            const std::string where = w + "added_tokens[" + std::to_string(k) + "]";
            const json& e = list[k];
            if (!e.is_object()) throw InputError(where + " must be an object", "added_tokens");
            AddedToken a;
            const auto id = json_int(e, "id", where);
            const auto content = json_string(e, "content", where);
            if (!id || *id < 0 || *id >= kMaxVocab) throw InputError(where + ".id must be a token id", "added_tokens");
            if (!content || content->empty()) throw InputError(where + ".content must be a non-empty string", "added_tokens");
            a.id = *id;
            a.content = *content;
            a.single_word = json_bool(e, "single_word", where).value_or(false);
            a.lstrip = json_bool(e, "lstrip", where).value_or(false);
            a.rstrip = json_bool(e, "rstrip", where).value_or(false);
            a.special = json_bool(e, "special", where).value_or(false);
            a.normalized = json_bool(e, "normalized", where).value_or(!a.special);
            impl->added_by_id[a.id] = impl->added.size();
            impl->added.push_back(std::move(a));
            max_id = std::max(max_id, *id);
        }
    }
    impl->id_token.assign(static_cast<size_t>(max_id + 1), "");
    impl->id_known.assign(static_cast<size_t>(max_id + 1), 0);
    for (const auto& [tok, id] : impl->vocab) { impl->id_token[static_cast<size_t>(id)] = tok; impl->id_known[static_cast<size_t>(id)] = 1; }
    for (const AddedToken& a : impl->added) { impl->id_token[static_cast<size_t>(a.id)] = a.content; impl->id_known[static_cast<size_t>(a.id)] = 1; }
    impl->word_end = std::make_shared<Regex>(std::string("[") + kWordClass + "]$", w + "word check");
    impl->word_start = std::make_shared<Regex>(std::string("^[") + kWordClass + "]", w + "word check");

    if (root.contains("normalizer") && !root.at("normalizer").is_null())
        impl->normalizer = read_normalizer(root.at("normalizer"), w + "normalizer");
    if (root.contains("pre_tokenizer") && !root.at("pre_tokenizer").is_null())
        impl->pre = read_pre_tokenizer(root.at("pre_tokenizer"), w + "pre_tokenizer");
    if (root.contains("decoder") && !root.at("decoder").is_null())
        impl->decoder = read_decoder(root.at("decoder"), w + "decoder");

    if (root.contains("post_processor") && !root.at("post_processor").is_null()) {
        std::function<void(const json&, const std::string&)> read_post = [&](const json& p, const std::string& where) {
            const std::string t = type_of(p, where);
            if (t == "ByteLevel") return;   // it changes offsets only
            if (t == "TemplateProcessing") {
                const json& single = array_field(p, "single", where);
                const json specials = p.contains("special_tokens") ? p.at("special_tokens") : json::object();
                for (size_t k = 0; k < single.size(); ++k) {
                    const json& item = single[k];
                    const std::string iw = where + ".single[" + std::to_string(k) + "]";
                    if (item.is_object() && item.contains("Sequence")) { impl->post.push_back({true, {}}); continue; }
                    if (item.is_object() && item.contains("SpecialToken") && item.at("SpecialToken").is_object()) {
                        const auto id = json_string(item.at("SpecialToken"), "id", iw);
                        if (!id) throw InputError(iw + ".SpecialToken.id must be a string", where);
                        impl->post.push_back({false, read_special(specials, *id, where, impl->vocab)});
                        continue;
                    }
                    throw InputError(iw + " must be {\"Sequence\": ...} or {\"SpecialToken\": ...}", where);
                }
                return;
            }
            if (t == "BertProcessing" || t == "RobertaProcessing") {
                for (const char* k : {"cls", "sep"}) {
                    if (!p.contains(k) || !p.at(k).is_array() || p.at(k).size() != 2 || !p.at(k)[0].is_string())
                        throw InputError(where + "." + k + " must be [\"token\", id]", where);
                }
                int64_t cls = 0, sep = 0;
                if (!json_to_int64(p.at("cls")[1], cls) || !json_to_int64(p.at("sep")[1], sep))
                    throw InputError(where + ": cls and sep must be [\"token\", id]", where);
                impl->post.push_back({false, {{cls}, {p.at("cls")[0].get<std::string>()}}});
                impl->post.push_back({true, {}});
                impl->post.push_back({false, {{sep}, {p.at("sep")[0].get<std::string>()}}});
                return;
            }
            if (t == "Sequence") {
                const json& list = array_field(p, "processors", where);
                for (size_t k = 0; k < list.size(); ++k) read_post(list[k], where + ".processors[" + std::to_string(k) + "]");
                return;
            }
            throw InputError(where + ": post-processor type '" + t +
                             "' is not supported (this reader knows TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence)",
                             where + ".type");
        };
        read_post(root.at("post_processor"), w + "post_processor");
        impl->post_declared = true;
        impl->post_name = type_of(root.at("post_processor"), w + "post_processor");
        // A processor that adds nothing still passes the sequence through.
        if (std::none_of(impl->post.begin(), impl->post.end(), [](const PostItem& i) { return i.sequence; }))
            impl->post.insert(impl->post.begin(), PostItem{true, {}});
    }
    return Tokenizer(impl);
}

// ---------------------------------------------------------------------------------------
// Encoding and decoding

Encoding Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
    const Impl& m = *impl_;
    for (size_t i = 0; i < text.size();) {
        size_t bad = 0;
        bool trunc = false;
        const size_t n = utf8_sequence(text, i, bad, trunc);
        if (!n) throw InputError("the text is not valid UTF-8 at byte " + std::to_string(i) + " (give UTF-8 text)");
        i += n;
    }
    Piece whole;
    whole.text.assign(text);
    whole.align.resize(text.size());
    for (size_t i = 0; i < text.size(); ++i) whole.align[i] = {static_cast<int64_t>(i), static_cast<int64_t>(i + 1)};

    // 1-2: added tokens on the raw text, the normalizer on what remains, normalized added tokens.
    std::vector<Piece> raw, pieces;
    m.split_added(whole, false, raw);
    for (Piece& p : raw) {
        if (p.token) { pieces.push_back(std::move(p)); continue; }
        if (m.normalizer) m.normalizer->apply(p);
        m.split_added(p, true, pieces);
    }
    // 3: the pre-tokenizer.
    if (m.pre) m.pre->apply(pieces);
    // 4: the model.
    Encoding enc;
    for (const Piece& p : pieces) {
        if (p.token) {
            enc.ids.push_back(*p.token);
            enc.tokens.push_back(m.id_token[static_cast<size_t>(*p.token)]);
            enc.spans.push_back(span_of(p, 0, p.text.size()));
            continue;
        }
        if (p.text.empty()) continue;
        size_t at = 0;
        for (auto [id, len] : m.bpe(p.text)) {
            enc.ids.push_back(id);
            enc.tokens.push_back(m.id_token[static_cast<size_t>(id)]);
            enc.spans.push_back(span_of(p, at, at + len));
            at += len;
        }
    }
    // 5: the post-processor.
    if (add_special_tokens && m.post_declared) {
        Encoding out;
        for (const PostItem& item : m.post) {
            if (item.sequence) {
                out.ids.insert(out.ids.end(), enc.ids.begin(), enc.ids.end());
                out.tokens.insert(out.tokens.end(), enc.tokens.begin(), enc.tokens.end());
                out.spans.insert(out.spans.end(), enc.spans.begin(), enc.spans.end());
                continue;
            }
            // An added special token holds no text: an empty span where it stands.
            const int64_t at = out.spans.empty() ? 0 : out.spans.back().end;
            for (size_t k = 0; k < item.special.ids.size(); ++k) {
                out.ids.push_back(item.special.ids[k]);
                out.tokens.push_back(item.special.tokens[k]);
                out.spans.push_back({at, at});
            }
        }
        return out;
    }
    return enc;
}

namespace {
// The decoder chain over the ids' strings, joined; no decoder: the strings joined by spaces.
std::string run_decoder(const Tokenizer::Impl& m, const std::vector<int64_t>& ids, bool skip_special, bool raw) {
    std::vector<std::string> tokens = m.decode_tokens(ids, skip_special);
    std::string s;
    if (!m.decoder) {
        for (size_t k = 0; k < tokens.size(); ++k) s += (k ? " " : "") + tokens[k];
        return s;
    }
    m.decoder->apply(tokens, raw);
    for (const auto& t : tokens) s += t;
    return raw ? s : utf8_lossy(s);
}
}  // namespace

std::string Tokenizer::decode_bytes(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
    return run_decoder(*impl_, ids, skip_special_tokens, true);
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
    return run_decoder(*impl_, ids, skip_special_tokens, false);
}

int64_t Tokenizer::vocab_size() const { return static_cast<int64_t>(impl_->id_token.size()); }

std::optional<std::string> Tokenizer::id_to_token(int64_t id) const {
    if (id < 0 || id >= vocab_size() || !impl_->id_known[static_cast<size_t>(id)]) return std::nullopt;
    return impl_->id_token[static_cast<size_t>(id)];
}

std::optional<int64_t> Tokenizer::token_to_id(const std::string& token) const {
    for (const AddedToken& a : impl_->added)
        if (a.content == token) return a.id;
    const auto it = impl_->vocab.find(token);
    if (it == impl_->vocab.end()) return std::nullopt;
    return it->second;
}

bool Tokenizer::is_special(int64_t id) const {
    const auto a = impl_->added_by_id.find(id);
    return a != impl_->added_by_id.end() && impl_->added[a->second].special;
}

std::string Tokenizer::describe() const {
    const Impl& m = *impl_;
    std::string s = "BPE, " + std::to_string(vocab_size()) + " ids (" + std::to_string(m.added.size()) + " added), " +
                    std::to_string(m.merges.size()) + " merges";
    if (m.byte_fallback) s += ", byte fallback";
    s += "; normalizer " + (m.normalizer ? m.normalizer->name() : std::string("none"));
    s += "; pre-tokenizer " + (m.pre ? m.pre->name() : std::string("none"));
    s += "; decoder " + (m.decoder ? m.decoder->name() : std::string("none"));
    s += "; post-processor " + m.post_name;
    return s;
}

std::string StreamDecoder::push(int64_t id) {
    ids_.push_back(id);
    const std::string all = tok_->decode_bytes(ids_);
    const size_t n = utf8_complete_prefix(all);
    std::string text = utf8_lossy(std::string_view(all).substr(0, n));
    pending_ = all.substr(n);
    std::string added;
    if (text.compare(0, text_.size(), text_) == 0) added = text.substr(text_.size());
    else added = text;   // a decoder rewrote earlier text (none of the supported ones do once a later token exists)
    text_ = std::move(text);
    return added;
}

}  // namespace mla

// ---------------------------------------------------------------------------------------
// Training a byte-level BPE

namespace mla {

BpeTrainResult train_byte_level_bpe(std::string_view corpus, const BpeTrainOptions& o) {
    const int64_t specials = static_cast<int64_t>(o.special_tokens.size());
    if (o.vocab_size < 256 + specials || o.vocab_size > 1000000)
        throw InputError("--vocab-size must be from " + std::to_string(256 + specials) +
                         " (256 bytes + the special tokens) to 1000000, got " + std::to_string(o.vocab_size), "vocab_size");
    if (o.min_frequency < 1) throw InputError("--min-frequency must be 1 or more", "min_frequency");
    if (corpus.empty()) throw InputError("the corpus is empty (give a text file)");
    for (size_t i = 0; i < corpus.size();) {
        size_t bad = 0;
        bool trunc = false;
        const size_t n = utf8_sequence(corpus, i, bad, trunc);
        if (!n) throw InputError("the corpus is not valid UTF-8 at byte " + std::to_string(i) + " (give UTF-8 text)");
        i += n;
    }
    for (const std::string& s : o.special_tokens)
        if (s.empty()) throw InputError("a special token must not be empty");

    // Distinct pre-tokens and their counts; each spelled as byte ids.
    BpeTrainResult result;
    std::unordered_map<std::string, int64_t> counts;
    const Regex re(kGpt2Regex, "GPT-2 regex");
    size_t prev = 0;
    const auto add_word = [&](size_t b, size_t e) {
        if (e > b) { ++counts[std::string(corpus.substr(b, e - b))]; ++result.pre_tokens; }
    };
    for (auto [b, e] : re.find_all(corpus)) {
        add_word(prev, b);   // the regex covers every byte; a gap is kept as its own piece anyway
        add_word(b, e);
        prev = e;
    }
    add_word(prev, corpus.size());
    result.distinct_pre_tokens = static_cast<int64_t>(counts.size());

    struct Word { std::vector<int32_t> sym; int64_t count; };
    std::vector<Word> words;
    words.reserve(counts.size());
    {
        std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
        std::sort(sorted.begin(), sorted.end());   // a fixed order: the result does not depend on hashing
        for (const auto& [w, c] : sorted) {
            Word word{{}, c};
            for (unsigned char ch : w) word.sym.push_back(ch);
            words.push_back(std::move(word));
        }
    }
    const ByteMap& bm = byte_map();
    std::vector<std::string> token(256);
    for (int b = 0; b < 256; ++b) token[static_cast<size_t>(b)] = bm.to_char[static_cast<size_t>(b)];

    const auto key = [](int32_t a, int32_t b) { return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b); };
    std::unordered_map<uint64_t, int64_t> pair_count;
    std::unordered_map<uint64_t, std::vector<int32_t>> pair_words;   // words that may hold the pair (stale entries allowed)
    for (size_t wi = 0; wi < words.size(); ++wi) {
        const Word& w = words[wi];
        for (size_t i = 0; i + 1 < w.sym.size(); ++i) {
            const uint64_t k = key(w.sym[i], w.sym[i + 1]);
            pair_count[k] += w.count;
            auto& list = pair_words[k];
            if (list.empty() || list.back() != static_cast<int32_t>(wi)) list.push_back(static_cast<int32_t>(wi));
        }
    }
    // Most frequent first; equal counts: the pair whose strings sort first. Entries go stale
    // when a count changes and are checked against pair_count when popped.
    struct Entry { int64_t count; uint64_t pair; };
    const auto worse = [&](const Entry& x, const Entry& y) {
        if (x.count != y.count) return x.count < y.count;
        const int32_t xa = static_cast<int32_t>(x.pair >> 32), xb = static_cast<int32_t>(x.pair & 0xFFFFFFFF);
        const int32_t ya = static_cast<int32_t>(y.pair >> 32), yb = static_cast<int32_t>(y.pair & 0xFFFFFFFF);
        if (token[static_cast<size_t>(xa)] != token[static_cast<size_t>(ya)]) return token[static_cast<size_t>(xa)] > token[static_cast<size_t>(ya)];
        return token[static_cast<size_t>(xb)] > token[static_cast<size_t>(yb)];
    };
    std::priority_queue<Entry, std::vector<Entry>, decltype(worse)> heap(worse);
    for (const auto& [k, c] : pair_count) heap.push({c, k});

    std::vector<std::pair<int32_t, int32_t>> merges;
    const int64_t wanted = o.vocab_size - 256 - specials;
    std::unordered_map<uint64_t, int64_t> delta;
    while (static_cast<int64_t>(merges.size()) < wanted) {
        if (heap.empty()) { result.stopped_early = true; break; }
        const Entry top = heap.top();
        heap.pop();
        const auto it = pair_count.find(top.pair);
        if (it == pair_count.end() || it->second != top.count) continue;   // stale
        if (top.count < o.min_frequency) { result.stopped_early = true; break; }
        const int32_t a = static_cast<int32_t>(top.pair >> 32), b = static_cast<int32_t>(top.pair & 0xFFFFFFFF);
        const int32_t id = static_cast<int32_t>(token.size());
        token.push_back(token[static_cast<size_t>(a)] + token[static_cast<size_t>(b)]);
        merges.emplace_back(a, b);
        delta.clear();
        std::vector<int32_t> touched = std::move(pair_words[top.pair]);
        pair_words.erase(top.pair);
        for (int32_t wi : touched) {
            Word& w = words[static_cast<size_t>(wi)];
            bool has = false;
            for (size_t i = 0; i + 1 < w.sym.size(); ++i) if (w.sym[i] == a && w.sym[i + 1] == b) { has = true; break; }
            if (!has) continue;
            for (size_t i = 0; i + 1 < w.sym.size(); ++i) delta[key(w.sym[i], w.sym[i + 1])] -= w.count;
            std::vector<int32_t> out;
            out.reserve(w.sym.size());
            for (size_t i = 0; i < w.sym.size(); ++i) {
                if (i + 1 < w.sym.size() && w.sym[i] == a && w.sym[i + 1] == b) { out.push_back(id); ++i; }
                else out.push_back(w.sym[i]);
            }
            w.sym = std::move(out);
            for (size_t i = 0; i + 1 < w.sym.size(); ++i) {
                const uint64_t k = key(w.sym[i], w.sym[i + 1]);
                delta[k] += w.count;
                if (w.sym[i] == id || w.sym[i + 1] == id) {
                    auto& list = pair_words[k];
                    if (list.empty() || list.back() != wi) list.push_back(wi);
                }
            }
        }
        for (const auto& [k, d] : delta) {
            if (d == 0) continue;
            int64_t& c = pair_count[k];
            c += d;
            if (c <= 0) pair_count.erase(k);
            else heap.push({c, k});
        }
    }
    result.merges = static_cast<int64_t>(merges.size());

    nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
    for (size_t id = 0; id < token.size(); ++id) vocab[token[id]] = id;
    nlohmann::ordered_json merge_list = nlohmann::ordered_json::array();
    for (auto [a, b] : merges) merge_list.push_back(token[static_cast<size_t>(a)] + " " + token[static_cast<size_t>(b)]);
    nlohmann::ordered_json added = nlohmann::ordered_json::array();
    for (size_t k = 0; k < o.special_tokens.size(); ++k)
        added.push_back({{"id", token.size() + k}, {"content", o.special_tokens[k]}, {"single_word", false}, {"lstrip", false},
                         {"rstrip", false}, {"normalized", false}, {"special", true}});
    const nlohmann::ordered_json byte_level{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
    nlohmann::ordered_json doc;
    doc["version"] = "1.0";
    doc["truncation"] = nullptr;
    doc["padding"] = nullptr;
    doc["added_tokens"] = added;
    doc["normalizer"] = nullptr;
    doc["pre_tokenizer"] = byte_level;
    doc["post_processor"] = byte_level;
    doc["decoder"] = byte_level;
    doc["model"] = {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
                    {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
                    {"vocab", vocab}, {"merges", merge_list}};
    result.json = doc.dump(1) + "\n";
    return result;
}

}  // namespace mla
