#include "threads.h"

#include <omp.h>

#include <atomic>

namespace hark {

namespace {
std::atomic<int> g_threads{0};  // 0 = not set yet: OpenMP's own default (OMP_NUM_THREADS or all cores)
}

void SetNumThreads(int n) { g_threads.store(n); }

int GetNumThreads() {
  int n = g_threads.load();
  return n > 0 ? n : omp_get_max_threads();
}

void ApplyThreads() {
  int n = g_threads.load();
  if (n > 0 && omp_get_max_threads() != n) omp_set_num_threads(n);
}

}  // namespace hark
