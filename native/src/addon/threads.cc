#include "threads.h"

#include <omp.h>

#include <atomic>
#include <ctime>

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

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

OneThread::OneThread(bool on) {
  if (!on) return;
  previous_ = omp_get_max_threads();
  omp_set_num_threads(1);
}

OneThread::~OneThread() {
  if (previous_ > 0) omp_set_num_threads(previous_);
}

}  // namespace hark
