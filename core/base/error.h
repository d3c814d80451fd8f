// Bad input (a config, a file, a flag, a setting): the one error type core throws for what a
// user gave it. The message says what was wrong and what would be right, in one line; the
// CLI prints it and exits 2, the window shows it and keeps its last good state.
#pragma once

#include <stdexcept>

namespace mla {

struct InputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace mla
