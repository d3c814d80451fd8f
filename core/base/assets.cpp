#include "base/assets.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;

namespace mla {

std::string find_assets_subdir(const std::string& name) {
    std::vector<fs::path> dirs;
    std::error_code ec;
    const fs::path exe = fs::canonical("/proc/self/exe", ec);
    if (!ec) {
        dirs.push_back(exe.parent_path().parent_path() / "assets" / name);
        dirs.push_back(exe.parent_path() / "assets" / name);
    }
#ifdef MLA_ASSETS_DIR
    dirs.push_back(fs::path(MLA_ASSETS_DIR) / name);
#endif
    for (const fs::path& d : dirs)
        if (fs::is_directory(d, ec)) return d.string();
    return "";
}

std::string user_config_path(const std::string& file) {
    if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/mla-lab/" + file;
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/mla-lab/" + file;
    return "";
}

}  // namespace mla
