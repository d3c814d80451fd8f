// `mla-lab train`: trains a byte-level model on the CPU (core/train.h), or with --report
// prints the validation loss of trained models against steps, with their cache per token.
#pragma once

#include "cli.h"

namespace mla::cli {

void add_train_command(CLI::App& root, Commands& cmds);  // cli_train.cpp

}  // namespace mla::cli
