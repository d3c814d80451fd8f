// JSON from outside the program (config.json, safetensors headers, train.json, settings,
// lesson progress): the one place where bytes become a JSON value and where the JSON
// library's exceptions become the project's InputError. Every reader parses through
// parse_json and reads fields through the typed getters, so no nlohmann exception (a number
// too large for a double, a string where a boolean belongs) ever escapes, and no message
// quotes more than a short excerpt of a bad value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/text_file.h"

namespace mla {

// Deeper nesting than this is refused before the text is walked. Real files nest at most
// four levels (a safetensors header: object, tensor, shape array); walking a value nested
// 50,000 levels (printing it, destroying it) would overflow the stack.
constexpr int kMaxJsonDepth = 64;

// Parses `text`; `source` (a file name) starts every message. Throws InputError for invalid
// JSON, nesting deeper than kMaxJsonDepth and numbers out of range. `callback` is passed to
// nlohmann::json::parse (the safetensors reader uses it to refuse duplicate keys).
nlohmann::json parse_json(std::string_view text, const std::string& source,
                          const nlohmann::json::parser_callback_t& callback = nullptr);

// read_file (regular files only, at most max_bytes) and parse_json.
nlohmann::json read_json_file(const std::string& path, const std::string& hint = "",
                              int64_t max_bytes = kMaxTextFileBytes);

// A value as text for a message, cut to about max_chars ("\"yes\"", "[1, 2, 3, ...").
std::string excerpt(const nlohmann::json& v, size_t max_chars = 48);

// What a nlohmann exception says, without its "[json.exception.type_error.302] " prefix and
// cut to one short line.
std::string json_reason(const std::exception& e);

// Typed fields of a JSON object: absent or null gives nullopt; any other type, or a number
// out of range, throws InputError "<where>: field '<key>' must be <type>, got <excerpt>".
// `obj` must be an object (check first; these throw the same message if it is not).
std::optional<int64_t> json_int(const nlohmann::json& obj, const std::string& key, const std::string& where);
std::optional<double> json_number(const nlohmann::json& obj, const std::string& key, const std::string& where);
std::optional<bool> json_bool(const nlohmann::json& obj, const std::string& key, const std::string& where);
std::optional<std::string> json_string(const nlohmann::json& obj, const std::string& key, const std::string& where);

// A value (not a field) as int64: false when it is not an integer or does not fit.
bool json_to_int64(const nlohmann::json& v, int64_t& out);

}  // namespace mla
