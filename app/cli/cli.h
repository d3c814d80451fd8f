// The command-line contract (DESIGN.md "Command line"). Each group of subcommands lives in
// its own file and registers itself here; main.cpp parses and runs the chosen one.
// Bad input: throw mla::InputError; main prints "mla-lab: error: <message>" and exits 2.
#pragma once

#include <functional>
#include <vector>

#include <CLI/CLI.hpp>

namespace mla::cli {

struct Command {
    CLI::App* sub;              // the parsed subcommand
    std::function<int()> run;   // returns the exit code
};
using Commands = std::vector<Command>;

void add_model_commands(CLI::App& root, Commands& cmds);       // generate, forward, verify, bench (cli/model.cpp)
void add_cache_commands(CLI::App& root, Commands& cmds);       // cache, plot, presets (cli/cache.cpp)
void add_train_command(CLI::App& root, Commands& cmds);        // train, train --report (cli/train.cpp)
void add_screenshot_command(CLI::App& root, Commands& cmds);   // screenshot (cli/screenshot.cpp)
void add_eval_command(CLI::App& root, Commands& cmds);         // eval (cli/eval.cpp)
void add_tokenize_command(CLI::App& root, Commands& cmds);     // tokenize (cli/tokenize.cpp)
void add_convert_command(CLI::App& root, Commands& cmds);      // convert, convert --sweep (cli/convert.cpp)
// The window: `mla-lab` with no subcommand (cli/window_options.cpp). Options are on the root app.
void add_window_options(CLI::App& root, std::function<int()>& run_window);

// Every integer option of `root` and its subcommands takes plain decimal digits that fit its
// type: CLI11 alone saturates 18446744073709551616 to the largest value, reads 010 as octal
// and 0x10 as hex, and wraps -1 into an unsigned option (cli/model_options.cpp).
void strict_integers(CLI::App& root);

}  // namespace mla::cli
