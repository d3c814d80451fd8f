#include "base/assets.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace mla {

std::vector<std::string> assets_candidates(const std::string& name) {
    std::vector<std::string> dirs;
    if (const char* env = std::getenv("MLA_LAB_ASSETS"); env && *env) dirs.push_back((fs::path(env) / name).string());
    std::error_code ec;
    const fs::path exe = fs::canonical("/proc/self/exe", ec);
    if (!ec) {
        const fs::path bin = exe.parent_path();
        dirs.push_back((bin / "assets" / name).string());
        dirs.push_back((bin.parent_path() / "assets" / name).string());                     // build/bin -> build/assets
        dirs.push_back((bin.parent_path() / "share" / "mla-lab" / "assets" / name).string());  // cmake --install
    }
    return dirs;
}

std::string find_assets_subdir(const std::string& name) {
    std::error_code ec;
    for (const std::string& d : assets_candidates(name))
        if (fs::is_directory(d, ec)) return d;
    return "";
}

std::string assets_not_found(const std::string& name) {
    std::string tried;
    for (const std::string& d : assets_candidates(name)) tried += (tried.empty() ? "" : ", ") + d;
    return "no " + name + " folder found (looked in " + tried + "); keep assets/ next to the executable's folder, "
           "install with cmake --install, or set MLA_LAB_ASSETS to the assets folder";
}

std::string user_config_path(const std::string& file) {
    if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return std::string(x) + "/mla-lab/" + file;
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/mla-lab/" + file;
    return "";
}

}  // namespace mla
