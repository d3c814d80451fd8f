#include "base/text_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"

namespace mla {

namespace fs = std::filesystem;

std::string read_file(const std::string& path, const std::string& hint) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw InputError("cannot open '" + path + "'" + hint);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

void write_file_atomic(const std::string& path, const std::string& text) {
    std::error_code ec;
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << text;
        if (!f.flush()) throw InputError("cannot write '" + tmp + "'; is the folder writable?");
    }
    fs::rename(tmp, path, ec);
    if (ec) throw InputError("cannot replace '" + path + "' with '" + tmp + "': " + ec.message());
}

}  // namespace mla
