#include "base/json_read.h"

#include <cmath>

#include "base/error.h"

namespace mla {

using nlohmann::json;

namespace {

// The deepest nesting of [ and { outside strings; stops counting past `limit`.
int nesting_depth(std::string_view text, int limit) {
    int depth = 0, deepest = 0;
    bool in_string = false, escaped = false;
    for (char ch : text) {
        if (in_string) {
            if (escaped) escaped = false;
            else if (ch == '\\') escaped = true;
            else if (ch == '"') in_string = false;
            continue;
        }
        if (ch == '"') in_string = true;
        else if (ch == '[' || ch == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit) return deepest;
        } else if (ch == ']' || ch == '}') {
            if (depth > 0) --depth;
        }
    }
    return deepest;
}

std::string cut(std::string s, size_t max_chars) {
    for (char& ch : s)
        if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
    if (s.size() > max_chars) {
        size_t n = max_chars;
        while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // keep UTF-8 whole
        s = s.substr(0, n) + "...";
    }
    return s;
}

[[noreturn]] void wrong_type(const std::string& where, const std::string& key, const char* want, const json& v) {
    throw InputError(where + ": field '" + key + "' must be " + want + ", got " + excerpt(v), key);
}

const json* field(const json& obj, const std::string& key, const std::string& where) {
    if (!obj.is_object()) throw InputError(where + ": expected a JSON object, got " + excerpt(obj));
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
}

}  // namespace

std::string json_reason(const std::exception& e) {
    std::string s = e.what();
    if (s.rfind("[json.exception.", 0) == 0) {
        const size_t close = s.find("] ");
        if (close != std::string::npos) s = s.substr(close + 2);
    }
    return cut(s, 160);
}

json parse_json(std::string_view text, const std::string& source, const json::parser_callback_t& callback) {
    if (nesting_depth(text, kMaxJsonDepth) > kMaxJsonDepth)
        throw InputError(source + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                         " levels; real files nest a few levels, so the file is corrupt or not what it should be");
    try {
        return json::parse(text.begin(), text.end(), callback);
    } catch (const json::exception& e) {
        throw InputError(source + ": not valid JSON (" + json_reason(e) + ")");
    }
}

json read_json_file(const std::string& path, const std::string& hint, int64_t max_bytes) {
    return parse_json(read_file(path, hint, max_bytes), path);
}

std::string excerpt(const json& v, size_t max_chars) {
    // Depth is bounded by parse_json, so dump() cannot recurse far; a long array or string is
    // still dumped whole first, which is fine for the sizes parse_json lets through.
    std::string s;
    try {
        s = v.dump(-1, ' ', false, json::error_handler_t::replace);
    } catch (const json::exception&) {
        s = std::string("a ") + v.type_name();
    }
    return cut(s, max_chars);
}

bool json_to_int64(const json& v, int64_t& out) {
    if (!v.is_number_integer()) return false;
    if (v.is_number_unsigned()) {
        const uint64_t u = v.get<uint64_t>();
        if (u > static_cast<uint64_t>(INT64_MAX)) return false;
        out = static_cast<int64_t>(u);
        return true;
    }
    out = v.get<int64_t>();
    return true;
}

std::optional<int64_t> json_int(const json& obj, const std::string& key, const std::string& where) {
    const json* v = field(obj, key, where);
    if (!v) return std::nullopt;
    int64_t out = 0;
    if (!json_to_int64(*v, out)) {
        if (v->is_number_integer()) wrong_type(where, key, "an integer below 2^63", *v);
        wrong_type(where, key, "an integer", *v);
    }
    return out;
}

std::optional<double> json_number(const json& obj, const std::string& key, const std::string& where) {
    const json* v = field(obj, key, where);
    if (!v) return std::nullopt;
    if (!v->is_number()) wrong_type(where, key, "a number", *v);
    const double d = v->get<double>();
    if (!std::isfinite(d)) wrong_type(where, key, "a finite number", *v);
    return d;
}

std::optional<bool> json_bool(const json& obj, const std::string& key, const std::string& where) {
    const json* v = field(obj, key, where);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) wrong_type(where, key, "true or false", *v);
    return v->get<bool>();
}

std::optional<std::string> json_string(const json& obj, const std::string& key, const std::string& where) {
    const json* v = field(obj, key, where);
    if (!v) return std::nullopt;
    if (!v->is_string()) wrong_type(where, key, "a string", *v);
    return v->get<std::string>();
}

}  // namespace mla
