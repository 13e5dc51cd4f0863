// FAISS and OpenBLAS (its OpenMP build) parallelise with OpenMP, whose thread count is per calling
// thread: every entry point that calls FAISS first applies the addon-wide count to its own thread.
#pragma once

namespace hark {

void SetNumThreads(int n);
int GetNumThreads();
// omp_set_num_threads(GetNumThreads()) on the calling thread.
void ApplyThreads();

// CPU time of the calling thread, in seconds (CLOCK_THREAD_CPUTIME_ID).
double ThreadCpuSeconds();

// While alive (and `on`), OpenMP on the calling thread runs one thread: OpenBLAS's OpenMP build then runs
// its products serially instead of waking a team whose spinning costs more than a small product. The
// setting is the calling thread's (an OpenMP ICV) and is put back on destruction.
class OneThread {
 public:
  explicit OneThread(bool on = true);
  ~OneThread();
  OneThread(const OneThread&) = delete;
  OneThread& operator=(const OneThread&) = delete;

 private:
  int previous_ = 0;
};

}  // namespace hark
