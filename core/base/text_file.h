// Whole files as bytes: reading one, and writing one so that a reader (or a crash, or a
// full disk) never sees half of it. Every file the project writes goes through AtomicFile:
// model folders, checkpoints, training logs and records, settings, lesson progress, plots,
// exports and screenshots.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace mla {

// What every reader checks before it opens a file: that `path` names a regular file (not a
// folder, a FIFO, a device or a socket, which would hang or never end) and is at most
// `max_bytes` long. Throws InputError naming the path, what it is and the limit; `hint`
// (", give a config.json") is appended to the "cannot open" message. Returns the size.
int64_t check_regular_file(const std::string& path, int64_t max_bytes, const std::string& hint = "");

// The default size limit of read_file: larger than any text file the project reads.
constexpr int64_t kMaxTextFileBytes = int64_t{64} << 20;  // 64 MiB

// The file's bytes, after check_regular_file. Throws InputError "cannot open '<path>'"
// followed by `hint` when given, or naming the size limit.
std::string read_file(const std::string& path, const std::string& hint = "",
                      int64_t max_bytes = kMaxTextFileBytes);

// A file written in full or not at all: bytes go to a temporary file in the target's folder
// (which must exist); commit() flushes, syncs and closes it, checking each step, then
// renames it over `path`. Any failure throws InputError naming the file and what failed;
// the temporary file is then removed (also when the object dies uncommitted), and the old
// file at `path` is left as it was.
class AtomicFile {
public:
    explicit AtomicFile(std::string path);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    void write(const void* data, size_t n);
    void write(const std::string& s) { write(s.data(), s.size()); }
    void finish();  // flush, sync and close: the bytes are on disk, not yet at `path`
    void commit();  // finish(), then rename over `path`
    const std::string& path() const { return path_; }

private:
    void fail(const std::string& what);  // removes the temporary file and throws
    std::string path_, tmp_;
    std::FILE* f_ = nullptr;
    bool committed_ = false;
};

// AtomicFile for one string; creates the parent folder when missing.
void write_file_atomic(const std::string& path, const std::string& text);

}  // namespace mla
