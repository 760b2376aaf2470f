// reduce_points POINTS DIM DEGREE: reduce the points of a raw float64 file (row-major, DIM
// columns, as numpy's tofile writes them) with unit weights, and print one "row weight" line per
// kept point.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <tchakaloff/caratheodory.hpp>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s POINTS DIM DEGREE\n", argv[0]);
    return 2;
  }
  const tchakaloff::Index dim = std::atol(argv[2]);
  const tchakaloff::Index degree = std::atol(argv[3]);
  std::ifstream file(argv[1], std::ios::binary | std::ios::ate);
  const auto bytes = static_cast<std::size_t>(file.tellg());
  std::vector<double> points(bytes / sizeof(double));
  file.seekg(0);
  file.read(reinterpret_cast<char*>(points.data()), static_cast<std::streamsize>(bytes));
  if (!file || dim <= 0 || points.size() % static_cast<std::size_t>(dim) != 0) {
    std::fprintf(stderr, "%s: cannot read %ld columns of float64\n", argv[1],
                 static_cast<long>(dim));
    return 2;
  }

  tchakaloff::PointList list;
  list.points = points.data();
  list.dim = dim;
  list.size = static_cast<tchakaloff::Index>(points.size()) / dim;
  try {
    const tchakaloff::Reduction kept = tchakaloff::reduce(list, degree);
    for (std::size_t i = 0; i < kept.indices.size(); ++i)
      std::printf("%ld %.17g\n", static_cast<long>(kept.indices[i]), kept.weights[i]);
  } catch (const std::exception& error) {  // bad input or a numerical breakdown
    std::fprintf(stderr, "reduce failed: %s\n", error.what());
    return 1;
  }
  return 0;
}
