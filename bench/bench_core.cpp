// Throughput of the moment pass and of reduce on Gaussian points, written as JSON.
// usage: bench_core [out.json]
#include <chrono>
#include <cstdio>
#include <random>
#include <tchakaloff/caratheodory.hpp>

using namespace tchakaloff;

namespace {

template <class F>
double best_seconds(F&& run, int repeats) {
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    run();
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "bench_core.json";
  struct Case {
    Index n, dim, degree;
  };
  const Case cases[] = {{1000000, 2, 6}, {50000, 4, 5}, {20000, 3, 8}, {100000, 3, 8}};
  std::FILE* out = std::fopen(path, "w");
  if (!out) return 2;
  std::fprintf(out, "[\n");
  std::mt19937_64 rng(42);
  std::normal_distribution<double> normal;
  bool first = true, ok = true;
  for (const Case& c : cases) {
    RowMatrixXd points(c.n, c.dim);
    for (Index i = 0; i < points.size(); ++i) points.data()[i] = normal(rng);
    const PointList list{points.data(), c.dim, c.n, nullptr, nullptr};
    const Index n_mom = n_moments(c.dim, c.degree);
    const Frame frame = Frame::bounding_box(list);
    const MonomialTable table(c.dim, c.degree);
    const auto chunks = equal_split(c.n, std::max<Index>(1, std::min<Index>(c.n / 4096, 256)));
    const double t_pass =
        best_seconds([&] { group_sums(list, chunks, table, Basis::chebyshev, frame); }, 5);
    const double t_raw = best_seconds([&] { raw_moments(list, c.degree); }, 5);
    Reduction r;
    const double t_reduce = best_seconds([&] { r = reduce(list, c.degree); }, 3);
    ok = ok && static_cast<Index>(r.indices.size()) <= n_mom && r.moment_error < 1e-12;
    const double flops = 2.0 * static_cast<double>(n_mom) * static_cast<double>(c.n);
    std::fprintf(out,
                 "%s  {\"n\": %lld, \"m\": %lld, \"k\": %lld, \"N\": %lld, \"pass_s\": %.6g, "
                 "\"pass_gflops\": %.4g, \"raw_moments_s\": %.6g, \"reduce_s\": %.6g, "
                 "\"reduce_over_pass\": %.4g, \"kept\": %zu, \"moment_error\": %.3g}",
                 first ? "" : ",\n", static_cast<long long>(c.n), static_cast<long long>(c.dim),
                 static_cast<long long>(c.degree), static_cast<long long>(n_mom), t_pass,
                 flops / t_pass * 1e-9, t_raw, t_reduce, t_reduce / t_pass, r.indices.size(),
                 r.moment_error);
    std::printf(
        "n=%lld m=%lld k=%lld N=%lld  pass %.4fs (%.2f GFLOP/s)  raw %.4fs  reduce %.4fs "
        "(%.2fx pass)  kept %zu  err %.2e\n",
        static_cast<long long>(c.n), static_cast<long long>(c.dim),
        static_cast<long long>(c.degree), static_cast<long long>(n_mom), t_pass,
        flops / t_pass * 1e-9, t_raw, t_reduce, t_reduce / t_pass, r.indices.size(),
        r.moment_error);
    first = false;
  }
  std::fprintf(out, "\n]\n");
  std::fclose(out);
  return ok ? 0 : 1;
}
