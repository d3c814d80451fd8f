#include "base/text_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"

namespace mla {

namespace fs = std::filesystem;

namespace {

std::string size_text(int64_t bytes) {
    if (bytes >= (int64_t{1} << 20) && bytes % (int64_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
    return std::to_string(bytes) + " bytes";
}

}  // namespace

int64_t check_regular_file(const std::string& path, int64_t max_bytes, const std::string& hint) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw InputError("cannot open '" + path + "': " + std::strerror(errno) + hint);
    const char* kind = S_ISDIR(st.st_mode)    ? "a folder"
                       : S_ISFIFO(st.st_mode) ? "a named pipe (FIFO)"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                       : S_ISREG(st.st_mode)  ? nullptr
                                              : "not a regular file";
    if (kind) throw InputError("cannot read '" + path + "': it is " + kind + ", not a regular file" + hint);
    const int64_t size = static_cast<int64_t>(st.st_size);
    if (size > max_bytes)
        throw InputError("cannot read '" + path + "': it is " + std::to_string(size) + " bytes, more than the " +
                         size_text(max_bytes) + " this file may hold");
    return size;
}

std::string read_file(const std::string& path, const std::string& hint, int64_t max_bytes) {
    check_regular_file(path, max_bytes, hint);
    std::ifstream f(path, std::ios::binary);
    if (!f) throw InputError("cannot open '" + path + "': " + std::strerror(errno) + hint);
    std::string out;
    char buf[1 << 16];
    while (f.read(buf, sizeof buf) || f.gcount() > 0) {
        out.append(buf, static_cast<size_t>(f.gcount()));
        // The file may have grown since it was checked.
        if (static_cast<int64_t>(out.size()) > max_bytes)
            throw InputError("cannot read '" + path + "': it holds more than the " + size_text(max_bytes) +
                             " this file may hold");
    }
    if (f.bad()) throw InputError("cannot read '" + path + "': a read failed");
    return out;
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
    static std::atomic<uint64_t> counter{0};
    const fs::path target(path_);
    std::error_code ec;
    if (fs::is_directory(target, ec)) throw InputError("cannot write '" + path_ + "': it is a folder; give a file name");
    std::string name = ".";
    name += target.filename().string();
    name += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    tmp_ = (target.parent_path() / name).string();
    f_ = std::fopen(tmp_.c_str(), "wb");
    if (!f_)
        throw InputError("cannot create '" + path_ + "': " + std::strerror(errno) +
                         " (is the folder there and writable?)");
}

AtomicFile::~AtomicFile() {
    if (f_) std::fclose(f_);
    if (!committed_) std::remove(tmp_.c_str());
}

void AtomicFile::fail(const std::string& what) {
    const std::string why = std::strerror(errno);
    if (f_) std::fclose(f_);
    f_ = nullptr;
    std::remove(tmp_.c_str());
    throw InputError("cannot write '" + path_ + "': " + what + " failed (" + why + "); nothing was written");
}

void AtomicFile::write(const void* data, size_t n) {
    if (!f_) throw InputError("cannot write '" + path_ + "': the file is already closed");
    if (n > 0 && std::fwrite(data, 1, n, f_) != n) fail("writing");
}

void AtomicFile::finish() {
    if (!f_) return;
    if (std::fflush(f_) != 0) fail("flushing");
    if (::fsync(::fileno(f_)) != 0) fail("syncing to disk");
    const int rc = std::fclose(f_);
    f_ = nullptr;
    if (rc != 0) fail("closing");
}

void AtomicFile::commit() {
    finish();
    std::error_code ec;
    fs::rename(tmp_, path_, ec);
    if (ec) {
        std::remove(tmp_.c_str());
        throw InputError("cannot write '" + path_ + "': renaming the finished file failed (" + ec.message() +
                         "); nothing was written");
    }
    committed_ = true;
}

void write_file_atomic(const std::string& path, const std::string& text) {
    std::error_code ec;
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    AtomicFile f(path);
    f.write(text);
    f.commit();
}

}  // namespace mla
