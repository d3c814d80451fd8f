// How much memory the machine can give, so that a size from a file or a flag is refused
// before it is allocated ("needs 4.4 GB, 1.2 GB available") instead of failing half-way
// with bad_alloc, or the machine swapping to a halt.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mla {

// Bytes the process may still allocate: MemAvailable from /proc/meminfo, lowered by an
// address-space limit (ulimit -v) when one is set. MLA_LAB_MEMORY_BYTES, when set to a
// positive integer, replaces it (tests use it to act out a small machine).
int64_t available_memory_bytes();

// Throws InputError "<what> needs <N> of memory, but <M> is available; <hint>" when
// bytes_needed (a double, so that a product of hostile sizes cannot overflow) is more than
// available_memory_bytes().
void check_memory(double bytes_needed, const std::string& what, const std::string& hint = "");

// The processor's data caches as the kernel reports them (/sys/devices/system/cpu/cpu0/
// cache): level, bytes of one instance, and how many CPUs share it. Empty when unknown.
struct CpuCache {
    int level = 0;
    int64_t bytes = 0;
    int shared_by = 1;  // CPUs sharing one instance
};
std::vector<CpuCache> cpu_data_caches();

// 4,400,000,000 -> "4.4 GB"; 512 -> "512 B" (decimal units, as the cache calculator).
std::string memory_text(double bytes);

}  // namespace mla
