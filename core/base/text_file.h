// Whole files as bytes: reading one, and replacing one so that a reader (or a crash) never
// sees half of it. Used for training logs, records, settings and progress files.
#pragma once

#include <string>

namespace mla {

// The file's bytes. Throws InputError "cannot open '<path>'" followed by `hint` when given.
std::string read_file(const std::string& path, const std::string& hint = "");

// Writes `text` to path + ".tmp", then renames it over `path`; creates the parent folder.
// Throws InputError naming the file when a step fails (the old file is then left as it was).
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace mla
