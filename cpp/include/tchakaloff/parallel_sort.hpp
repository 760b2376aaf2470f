#pragma once
// Sorting on every thread, for the orders the compression rounds sort again and again.

#include <algorithm>
#include <tchakaloff/parallel.hpp>
#include <vector>

namespace tchakaloff {

// Sorts `values` whose order is total (no two compare equal), so the result is the one sorted
// order whatever the thread count: one chunk per thread sorted, then merged pairwise.
template <class T>
void parallel_sort(std::vector<T>& values) {
  const auto n = static_cast<Index>(values.size());
  // Chunks are the threads of the call (the order is total, so the result is the same).
  const Index chunks = n < 16384 ? 1 : team(kParallelWork + n);
  if (chunks <= 1) {
    std::sort(values.begin(), values.end());
    return;
  }
  auto at = [&](Index c) { return values.begin() + n * std::min(c, chunks) / chunks; };
  FirstError error;  // std::inplace_merge may fail to allocate its buffer
#pragma omp parallel for schedule(static) num_threads(static_cast<int>(chunks))
  for (Index c = 0; c < chunks; ++c) error.run([&] { std::sort(at(c), at(c + 1)); });
  error.rethrow();
  for (Index width = 1; width < chunks; width *= 2) {
#pragma omp parallel for schedule(static) num_threads(static_cast<int>(chunks))
    for (Index c = 0; c < chunks - width; c += 2 * width)
      error.run([&] { std::inplace_merge(at(c), at(c + width), at(c + 2 * width)); });
    error.rethrow();
  }
}

}  // namespace tchakaloff
