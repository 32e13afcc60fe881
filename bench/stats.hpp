// Percentiles of a sample, the way latency tables report them.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

namespace corps::bench {

/// The `q`-quantile (0..1) of `values` by the nearest-rank method: the
/// smallest value with at least q of the sample at or below it. Reorders
/// `values`; 0 for an empty sample.
inline double percentile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  const auto index = std::clamp<std::size_t>(rank, 1, values.size()) - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return values[index];
}

}  // namespace corps::bench
