#include "base/memory.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "base/error.h"

namespace mla {

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
