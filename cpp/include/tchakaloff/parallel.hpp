#pragma once
// How the core's parallel regions run: with the thread count of the current call (a per-call
// setting, never OpenMP's global one), and without letting an exception out of a region.

#include <exception>
#include <tchakaloff/types.hpp>

namespace tchakaloff {

// Threads of the current call on this thread, for the length of the call: `requested` > 0
// exactly that many, 0 automatic (idle_cores(), resolved when the first large region opens).
// Entry points (reduce, compress, reduce_cells, raw_moments) open one from their options; an
// inner scope, or one opened inside a parallel region, keeps the outer call's count. The
// count reaches the regions through team(), in their num_threads clause: leaf helpers (the
// bounding box, the k-d cuts, sorting) run for every entry point without a thread parameter
// each, and no state outside the calling thread changes.
class CallThreads {
 public:
  explicit CallThreads(int requested);
  ~CallThreads();
  CallThreads(const CallThreads&) = delete;
  CallThreads& operator=(const CallThreads&) = delete;

 private:
  bool owner_;
};

// Threads for a parallel region of `work` (points x functions, or similar): 1 below
// kParallelWork or inside another region, else the current call's count.
int team(Index work);

// Cores worth using now: those this process may run on (its affinity), less the threads of
// other processes running on them at this moment (Linux: /proc/stat's procs_running, minus
// our own running threads), at least 1 and at most OMP_NUM_THREADS when that is set. On a
// busy machine a team of all cores waits at every barrier for the thread whose core another
// process holds: one thread is then faster.
int idle_cores();

// The first exception thrown by any thread of a region, carried out of it:
//   FirstError error;
//   #pragma omp parallel for ...
//   for (...) error.run([&] { ... });
//   error.rethrow();
class FirstError {
 public:
  template <class F>
  void run(F&& body) noexcept {
    try {
      body();
    } catch (...) {
      keep(std::current_exception());
    }
  }
  void rethrow() const {
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void keep(std::exception_ptr error) noexcept;
  std::exception_ptr error_;
};

}  // namespace tchakaloff
