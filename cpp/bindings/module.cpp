#include <pybind11/pybind11.h>

#include <tchakaloff/types.hpp>

namespace py = pybind11;

namespace tchakaloff::bindings {
void bind_monomials(py::module_& m);
void bind_moments(py::module_& m);
void bind_reduce(py::module_& m);
void bind_compress(py::module_& m);
}  // namespace tchakaloff::bindings

// Built once per instruction set (CMakeLists.txt); TCHAKALOFF_MODULE names the build.
PYBIND11_MODULE(TCHAKALOFF_MODULE, m) {
  m.doc() = "C++ core of tchakaloff (private: use the tchakaloff package)";
  // Local registrations: both builds of the module may be loaded in one process.
  py::register_local_exception<tchakaloff::ReductionError>(m, "ReductionError",
                                                           PyExc_ArithmeticError);
  tchakaloff::bindings::bind_monomials(m);
  tchakaloff::bindings::bind_moments(m);
  tchakaloff::bindings::bind_reduce(m);
  tchakaloff::bindings::bind_compress(m);
#ifdef _OPENMP
  m.attr("openmp") = true;
#else
  m.attr("openmp") = false;
#endif
#ifdef __AVX2__
  m.attr("isa") = "x86-64-v3";
#else
  m.attr("isa") = "baseline";
#endif
  // Whether this CPU (and its operating system) runs the x86-64-v3 build.
#ifdef TCHAKALOFF_DETECT_V3
  m.attr("cpu_runs_x86_64_v3") = static_cast<bool>(__builtin_cpu_supports("x86-64-v3"));
#else
  m.attr("cpu_runs_x86_64_v3") = false;
#endif
}
