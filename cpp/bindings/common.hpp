#pragma once
// Helpers shared by the bind_<area>.cpp files: the view of numpy arrays as point lists, and
// the Ctrl-C poll for kernels that run with the GIL released.

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <tchakaloff/moments.hpp>
#include <vector>

namespace tchakaloff::bindings {

namespace py = pybind11;
using WeightsArray = py::array_t<double, py::array::c_style>;

// Points and weights were made contiguous float64 by the Python layer; here only shapes.
inline PointList point_list(const PointsRef& points, const std::optional<WeightsArray>& weights) {
  PointList list{points.data(), points.cols(), points.rows(), nullptr, nullptr};
  if (weights) {
    if (weights->ndim() != 1 || weights->shape(0) != points.rows())
      throw std::invalid_argument("weights must be a 1-d array with one entry per point");
    list.weights = weights->data();
  }
  return list;
}

// The getter of a result's vector field as a numpy view: no copy; the view keeps the result
// alive.
template <class Result, class T>
auto view_of(std::vector<T> Result::*field) {
  return [field](const py::object& self) {
    const std::vector<T>& values = self.cast<const Result&>().*field;
    return py::array_t<T>(static_cast<py::ssize_t>(values.size()), values.data(), self);
  };
}

// Called by the core between chunks, from the thread that released the GIL. It checks at
// most once per 20 ms: taking the GIL back costs microseconds, which a small call (a
// reduction of 1e4 points takes 0.4 ms, polled a few times) would feel, and 20 ms is far
// below the half second Ctrl-C may take.
inline Poll interrupt_poll() {
  using Clock = std::chrono::steady_clock;
  auto last = std::make_shared<Clock::time_point>(Clock::now());
  return [last] {
    const Clock::time_point now = Clock::now();
    if (now - *last < std::chrono::milliseconds(20)) return;
    *last = now;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  };
}

}  // namespace tchakaloff::bindings
