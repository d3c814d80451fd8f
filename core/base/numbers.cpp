#include "base/numbers.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mla {

std::string with_commas_unsigned(uint64_t v) {
    const std::string digits = std::to_string(v);
    std::string out;
    const size_t n = digits.size();
    for (size_t i = 0; i < n; ++i) {
        out += digits[i];
        if (i + 1 < n && (n - i - 1) % 3 == 0) out += ',';
    }
    return out;
}

std::string with_commas_signed(int64_t v) {
    if (v >= 0) return with_commas_unsigned(static_cast<uint64_t>(v));
    std::string out = "-";
    out += with_commas_unsigned(static_cast<uint64_t>(-(v + 1)) + 1);
    return out;
}

std::string with_commas(double v) {
    if (!std::isfinite(v)) return "-";
    const double r = std::round(std::fabs(v));
    const std::string s = r < 1.8e19 ? with_commas_unsigned(static_cast<uint64_t>(r)) : std::to_string(r);
    if (!(v < 0 && r > 0)) return s;
    std::string out = "-";
    out += s;
    return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
    double m = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double d = std::fabs(static_cast<double>(a[i]) - b[i]);
        if (std::isnan(d)) return std::numeric_limits<double>::infinity();  // a NaN is never "close"
        m = std::max(m, d);
    }
    return m;
}

}  // namespace mla
