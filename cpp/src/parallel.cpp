#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <tchakaloff/parallel.hpp>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef __linux__
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#endif

namespace tchakaloff {

namespace {

thread_local int call_requested = 0;  // the current call's count (0: automatic)
thread_local int call_resolved = 0;   // what the automatic count came to (0: not yet)
thread_local int call_depth = 0;

#ifdef __linux__
// Up to `size` bytes of a small /proc file (a few reads, no allocation).
Index read_proc(const char* path, char* buffer, Index size) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  Index used = 0;
  while (used < size - 1) {
    const auto got = ::read(fd, buffer + used, static_cast<size_t>(size - 1 - used));
    if (got <= 0) break;
    used += got;
  }
  ::close(fd);
  buffer[used] = '\0';
  return used;
}

// Threads running on the machine now (procs_running counts threads, ours included).
int running_threads() {
  std::vector<char> buffer(Index{1} << 17);  // past the per-interrupt counts of large machines
  if (read_proc("/proc/stat", buffer.data(), static_cast<Index>(buffer.size())) == 0) return -1;
  const char* line = std::strstr(buffer.data(), "procs_running ");
  return line ? std::atoi(line + 14) : -1;
}

// Our own threads that are running now (state R), this one included: a team of an earlier
// region still spinning at its barrier is ours, not another process's.
int own_running_threads() {
  DIR* tasks = ::opendir("/proc/self/task");
  if (!tasks) return 1;
  int running = 0;
  char path[64], stat[512];
  while (const dirent* entry = ::readdir(tasks)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::snprintf(path, sizeof path, "/proc/self/task/%.20s/stat", entry->d_name);
    if (read_proc(path, stat, static_cast<Index>(sizeof stat)) == 0) continue;
    const char* end = std::strrchr(stat, ')');  // the name may hold spaces and parentheses
    if (end && end[1] == ' ' && end[2] == 'R') ++running;
  }
  ::closedir(tasks);
  return std::max(running, 1);
}
#endif

int available_cores() {
#ifdef _OPENMP
  return std::max(1, omp_get_num_procs());  // the process's affinity mask
#else
  return 1;
#endif
}

}  // namespace

int idle_cores() {
  int cores = available_cores();
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    const int cap = std::atoi(env);  // "4" or "4,2": the first level's count
    if (cap > 0) cores = std::min(cores, cap);
  }
#ifdef __linux__
  if (cores > 1) {
    const int running = running_threads();
    if (running > 0) cores -= std::max(0, running - own_running_threads());
  }
#endif
  return std::max(1, cores);
}

CallThreads::CallThreads(int requested) : owner_(call_depth == 0) {
  if (requested < 0) throw std::invalid_argument("threads must be >= 0 (0: automatic)");
  ++call_depth;
  if (owner_) {
    call_requested = requested;
    call_resolved = 0;
  }
}

CallThreads::~CallThreads() { --call_depth; }

int team(Index work) {
#ifdef _OPENMP
  if (work <= kParallelWork || omp_in_parallel()) return 1;
  if (call_requested > 0) return call_requested;
  if (call_depth == 0) return idle_cores();  // outside any call: nothing to remember it for
  if (call_resolved == 0) call_resolved = idle_cores();
  return call_resolved;
#else
  (void)work;
  return 1;
#endif
}

void FirstError::keep(std::exception_ptr error) noexcept {
#pragma omp critical(tchakaloff_first_error)
  if (!error_) error_ = std::move(error);
}

}  // namespace tchakaloff
