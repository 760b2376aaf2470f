#include <tchakaloff/compress.hpp>

#include "common.hpp"

namespace tchakaloff::bindings {

namespace {

py::dict to_dict(Compression&& c) {
  using namespace pybind11::literals;
  return py::dict("indices"_a = to_numpy(std::move(c.indices)),
                  "weights"_a = to_numpy(std::move(c.weights)),
                  "labels"_a = to_numpy(std::move(c.labels)), "cells"_a = c.cells,
                  "moment_error"_a = c.moment_error);
}

// Progress between batches of cells (none when `callback(done, total)` is None).
std::function<void(Index, Index)> progress_report(const py::object& callback) {
  if (callback.is_none()) return nullptr;
  return [callback](Index done, Index total) {
    py::gil_scoped_acquire gil;
    callback(done, total);
  };
}

CompressOptions options_for(bool prefer_central, Partition partition, Index merge, double prepass,
                            const py::object& progress, int threads) {
  if (threads < 0) throw std::invalid_argument("threads must be >= 0 (0: automatic)");
  CompressOptions options;
  options.prefer_central = prefer_central;
  options.partition = partition;
  options.merge = merge;
  options.prepass = prepass;
  options.progress = progress_report(progress);
  options.poll = interrupt_poll();
  options.threads = threads;
  return options;
}

}  // namespace

void bind_compress(py::module_& m) {
  m.def(
      "compress",
      [](const PointsRef& points, const std::optional<WeightsArray>& weights, Index degree,
         Index size, bool prefer_central, const std::string& partition, Index merge, double prepass,
         const py::object& progress, const std::optional<Eigen::VectorXd>& metric, int threads,
         Index refine_steps) {
        const PointList list = point_list(points, weights);
        if (partition != "kd" && partition != "greedy")
          throw std::invalid_argument("partition must be 'kd' or 'greedy', got '" + partition +
                                      "'");
        if (merge < 1) throw std::invalid_argument("merge must be at least 1");
        CompressOptions options =
            options_for(prefer_central, partition == "greedy" ? Partition::greedy : Partition::kd,
                        merge, prepass, progress, threads);
        if (metric) options.metric = *metric;
        options.refine_steps = refine_steps;
        // Safe without the GIL: the core reads only the caller's numpy buffers; the progress
        // callback takes the GIL back before touching Python.
        Compression c;
        {
          py::gil_scoped_release release;
          c = compress(list, degree, size, options);
        }
        return to_dict(std::move(c));
      },
      py::arg("points").noconvert(), py::arg("weights").none(true), py::arg("degree"),
      py::arg("size"), py::arg("prefer_central") = true, py::arg("partition") = "kd",
      py::arg("merge") = 1, py::arg("prepass") = 0.0, py::arg("progress") = py::none(),
      py::arg("metric") = py::none(), py::arg("threads") = 0,
      py::arg("refine_steps") = CompressOptions{}.refine_steps);

  m.def(
      "reduce_cells",
      [](const PointsRef& points, const std::optional<WeightsArray>& weights,
         std::vector<Index> order, std::vector<Index> offsets, Index degree, bool prefer_central,
         const py::object& progress, int threads) {
        const PointList list = point_list(points, weights);
        if (order.size() != static_cast<size_t>(list.size) || offsets.size() < 2 ||
            offsets.front() != 0 || offsets.back() != list.size ||
            !std::is_sorted(offsets.begin(), offsets.end()))
          throw std::invalid_argument("cells must list every row once, with increasing offsets");
        std::vector<char> seen(static_cast<size_t>(list.size), 0);
        for (const Index p : order) {
          if (p < 0 || p >= list.size || seen[static_cast<size_t>(p)])
            throw std::invalid_argument("cells must list every row exactly once");
          seen[static_cast<size_t>(p)] = 1;
        }
        check_input(list, true);
        const Cells cells{std::move(order), std::move(offsets)};
        const CompressOptions options =
            options_for(prefer_central, Partition::kd, 1, 0.0, progress, threads);
        // Safe without the GIL: as above.
        Compression c;
        {
          py::gil_scoped_release release;
          c = reduce_cells(list, cells, degree, options);
        }
        return to_dict(std::move(c));
      },
      py::arg("points").noconvert(), py::arg("weights").none(true), py::arg("order"),
      py::arg("offsets"), py::arg("degree"), py::arg("prefer_central") = true,
      py::arg("progress") = py::none(), py::arg("threads") = 0);

  // What threads=0 would use now (for tests and benchmarks).
  m.def("idle_cores", &idle_cores);
}

}  // namespace tchakaloff::bindings
