#include <tchakaloff/compress.hpp>

#include "common.hpp"

namespace tchakaloff::bindings {

namespace {

// Progress between batches of cells (none when `callback(done, total)` is None).
std::function<void(Index, Index)> progress_report(const py::object& callback) {
  if (callback.is_none()) return nullptr;
  return [callback](Index done, Index total) {
    py::gil_scoped_acquire gil;
    callback(done, total);
  };
}

// The caller's options with this call's progress report and Ctrl-C poll.
CompressOptions for_call(CompressOptions options, const py::object& progress) {
  options.progress = progress_report(progress);
  options.poll = interrupt_poll();
  return options;
}

}  // namespace

void bind_compress(py::module_& m) {
  py::enum_<Partition>(m, "Partition", py::module_local())
      .value("kd", Partition::kd)
      .value("greedy", Partition::greedy);

  // The defaults are the core's (compress.hpp); Python sets what its caller chose.
  py::class_<CompressOptions>(m, "CompressOptions", py::module_local())
      .def(py::init<>())
      .def_readwrite("basis", &CompressOptions::basis)
      .def_readwrite("prefer_central", &CompressOptions::prefer_central)
      .def_readwrite("partition", &CompressOptions::partition)
      .def_readwrite("merge", &CompressOptions::merge)
      .def_readwrite("prepass", &CompressOptions::prepass)
      .def_readwrite("refine_steps", &CompressOptions::refine_steps)
      .def_property(
          "metric",
          [](const CompressOptions& o) -> std::optional<Eigen::VectorXd> {
            if (o.metric.size() == 0) return std::nullopt;
            return o.metric;
          },
          [](CompressOptions& o, const std::optional<Eigen::VectorXd>& metric) {
            o.metric = metric ? *metric : Eigen::VectorXd();
          })
      .def_readwrite("threads", &CompressOptions::threads);

  py::class_<Compression>(m, "Compression", py::module_local())
      .def_property_readonly("indices", view_of(&Compression::indices))
      .def_property_readonly("weights", view_of(&Compression::weights))
      .def_property_readonly("labels", view_of(&Compression::labels))
      .def_readonly("cells", &Compression::cells)
      .def_readonly("moment_error", &Compression::moment_error);

  m.def("greedy_prepass", &greedy_prepass, py::arg("cut_dims"), py::arg("degree"));

  m.def(
      "compress",
      [](const PointsRef& points, const std::optional<WeightsArray>& weights, Index degree,
         Index size, const CompressOptions& options, const py::object& progress) {
        const PointList list = point_list(points, weights);
        const CompressOptions call = for_call(options, progress);
        // Safe without the GIL: the core reads only the caller's numpy buffers; the progress
        // callback takes the GIL back before touching Python.
        py::gil_scoped_release release;
        return compress(list, degree, size, call);
      },
      py::arg("points").noconvert(), py::arg("weights").none(true), py::arg("degree"),
      py::arg("size"), py::arg("options") = CompressOptions(), py::arg("progress") = py::none());

  m.def(
      "reduce_cells",
      [](const PointsRef& points, const std::optional<WeightsArray>& weights,
         std::vector<Index> order, std::vector<Index> offsets, Index degree,
         const CompressOptions& options, const py::object& progress) {
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
        const CompressOptions call = for_call(options, progress);
        // Safe without the GIL: as above.
        py::gil_scoped_release release;
        return reduce_cells(list, cells, degree, call);
      },
      py::arg("points").noconvert(), py::arg("weights").none(true), py::arg("order"),
      py::arg("offsets"), py::arg("degree"), py::arg("options") = CompressOptions(),
      py::arg("progress") = py::none());

  // What threads=0 would use now (for tests and benchmarks).
  m.def("idle_cores", &idle_cores);
}

}  // namespace tchakaloff::bindings
