// Shared by the libFuzzer targets (tests/fuzz/fuzz_*.cpp, built with -DMLA_FUZZ=ON, see
// cmake/fuzz.cmake): a temporary folder of this process where each input is written as the
// file a reader opens, and an invariant check that fails the run.
//
// The rule of every target: an mla::InputError is the expected answer to bad bytes and is
// caught; anything else (std::logic_error from MLA_CHECK, a nlohmann::json exception, a
// std::bad_alloc, a sanitizer report) escapes, and libFuzzer reports it with the input.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace fuzz {

// A folder of this process under $TMPDIR (mla-fuzz-XXXXXX), removed when the process exits
// normally; every input overwrites the same files in it.
inline const std::filesystem::path& temp_dir() {
    struct Dir {
        std::filesystem::path path;
        Dir() {
            std::string t = (std::filesystem::temp_directory_path() / "mla-fuzz-XXXXXX").string();
            if (!::mkdtemp(t.data())) {
                std::perror("fuzz: mkdtemp");
                std::abort();
            }
            path = t;
        }
        ~Dir() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    };
    static Dir d;
    return d.path;
}

// Writes the bytes to `path`, replacing the file, and returns it. A failure to write is the
// harness's own problem, not the reader's: abort.
inline std::string write_file(const std::filesystem::path& path, const void* data, size_t size) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
        std::perror(("fuzz: cannot write " + path.string()).c_str());
        std::abort();
    }
    return path.string();
}
// The same to temp_dir()/name.
inline std::string write_temp(const std::string& name, const void* data, size_t size) {
    return write_file(temp_dir() / name, data, size);
}

// The expected refusal of bad bytes. With MLA_FUZZ_VERBOSE=1 in the environment it is
// printed, to see why a seed goes no deeper (run the target on files: fuzz_x FILE...).
inline void refused(const std::exception& e) {
    static const bool verbose = std::getenv("MLA_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "refused: %s\n", e.what());
}

// A property the reader promises that the input broke: thrown as std::logic_error so that
// it escapes like an MLA_CHECK and libFuzzer keeps the input.
inline void expect(bool ok, const std::string& what) {
    if (!ok) throw std::logic_error("fuzz: " + what);
}

}  // namespace fuzz
