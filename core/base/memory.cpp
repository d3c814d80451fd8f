#include "base/memory.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "base/error.h"

namespace mla {

namespace {
std::string first_line(const std::string& path) {
    std::ifstream f(path);
    std::string line;
    std::getline(f, line);
    return line;
}
}  // namespace

std::vector<CpuCache> cpu_data_caches() {
    std::vector<CpuCache> out;
    for (int i = 0; i < 16; ++i) {
        const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
        const std::string type = first_line(dir + "type");
        if (type.empty()) break;
        if (type == "Instruction") continue;
        CpuCache c;
        c.level = std::atoi(first_line(dir + "level").c_str());
        const std::string size = first_line(dir + "size");  // "48K", "2048K", "105M"
        char* end = nullptr;
        c.bytes = std::strtoll(size.c_str(), &end, 10);
        if (end && *end == 'K') c.bytes <<= 10;
        else if (end && *end == 'M') c.bytes <<= 20;
        // shared_cpu_list: "0", "0-1", "0,2"
        const std::string list = first_line(dir + "shared_cpu_list");
        int n = 0;
        size_t at = 0;
        while (at < list.size()) {
            size_t comma = list.find(',', at);
            if (comma == std::string::npos) comma = list.size();
            const std::string part = list.substr(at, comma - at);
            const size_t dash = part.find('-');
            n += dash == std::string::npos ? 1 : std::atoi(part.c_str() + dash + 1) - std::atoi(part.c_str()) + 1;
            at = comma + 1;
        }
        c.shared_by = std::max(1, n);
        if (c.level > 0 && c.bytes > 0) out.push_back(c);
    }
    return out;
}

int64_t available_memory_bytes() {
    if (const char* env = std::getenv("MLA_LAB_MEMORY_BYTES")) {
        char* end = nullptr;
        const long long v = std::strtoll(env, &end, 10);
        if (end && *end == '\0' && v > 0) return v;
    }
    int64_t avail = -1;
    std::ifstream f("/proc/meminfo");
    std::string key;
    int64_t kb = 0;
    std::string unit;
    while (f >> key >> kb >> unit)
        if (key == "MemAvailable:") {
            avail = kb * 1024;
            break;
        }
    if (avail < 0) {
        const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
        avail = pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : INT64_MAX;
    }
    struct rlimit rl {};
    if (::getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        avail = std::min<int64_t>(avail, static_cast<int64_t>(rl.rlim_cur));
    return avail;
}

std::string memory_text(double bytes) {
    const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    int u = 0;
    double v = bytes;
    while (u < 6 && v >= 1000) {
        v /= 1000;
        ++u;
    }
    char buf[64];
    if (!std::isfinite(bytes)) return "more bytes than can be counted";
    if (u == 0) std::snprintf(buf, sizeof buf, "%.0f B", v);
    else if (u == 6 && v >= 1000) std::snprintf(buf, sizeof buf, "%.3g EB", v);
    else std::snprintf(buf, sizeof buf, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

void check_memory(double bytes_needed, const std::string& what, const std::string& hint) {
    const int64_t avail = available_memory_bytes();
    if (!(bytes_needed <= static_cast<double>(avail)))
        throw InputError(what + " needs " + memory_text(bytes_needed) + " of memory, but " +
                         memory_text(static_cast<double>(avail)) + " is available" + (hint.empty() ? "" : "; " + hint));
}

}  // namespace mla
