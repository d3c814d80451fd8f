// Bad input (a config, a file, a flag, a setting): the one error type core throws for what a
// user gave it. The message says what was wrong and what would be right, in one line; the
// CLI prints it and exits 2, the window shows it and keeps its last good state.
#pragma once

#include <stdexcept>
#include <string>

namespace mla {

struct InputError : std::runtime_error {
    // The field the message is about, where one is ("kv_lora_rank", a config.json or settings
    // field name); "" otherwise. A reader routes the message by it, never by its words.
    std::string field;
    explicit InputError(const std::string& message, std::string field_name = "")
        : std::runtime_error(message), field(std::move(field_name)) {}
};

}  // namespace mla
