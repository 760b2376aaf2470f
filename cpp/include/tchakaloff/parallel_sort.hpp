#pragma once
// Sorting on every thread, for the orders the compression rounds sort again and again.

#include <tchakaloff/types.hpp>

#include <algorithm>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace tchakaloff {

// Sorts `values` whose order is total (no two compare equal), so the result is the one sorted
// order whatever the thread count: one chunk per thread sorted, then merged pairwise.
template <class T>
void parallel_sort(std::vector<T>& values) {
  const auto n = static_cast<Index>(values.size());
#ifdef _OPENMP
  const Index chunks = n < 16384 ? 1 : omp_get_max_threads();
#else
  const Index chunks = 1;
#endif
  if (chunks <= 1) {
    std::sort(values.begin(), values.end());
    return;
  }
  auto at = [&](Index c) { return values.begin() + n * std::min(c, chunks) / chunks; };
#pragma omp parallel for schedule(static)
  for (Index c = 0; c < chunks; ++c) std::sort(at(c), at(c + 1));
  for (Index width = 1; width < chunks; width *= 2) {
#pragma omp parallel for schedule(static)
    for (Index c = 0; c < chunks - width; c += 2 * width)
      std::inplace_merge(at(c), at(c + width), at(c + 2 * width));
  }
}

}  // namespace tchakaloff
