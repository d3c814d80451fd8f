// Numbers as people read them, and the one comparison of two arrays the project uses.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace mla {

// Thousands separators: 327680 -> "327,680", -1234 -> "-1,234"; a double is rounded to
// an integer first ("-" when it is not finite).
std::string with_commas_unsigned(uint64_t v);
std::string with_commas_signed(int64_t v);
std::string with_commas(double v);
template <class I, std::enable_if_t<std::is_integral_v<I>, int> = 0> std::string with_commas(I v) {
    if constexpr (std::is_signed_v<I>) return with_commas_signed(static_cast<int64_t>(v));
    else return with_commas_unsigned(static_cast<uint64_t>(v));
}

// The largest |a[i] - b[i]|, in double; infinity when the sizes differ or either holds a NaN.
double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace mla
