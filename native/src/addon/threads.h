// FAISS and OpenBLAS (its OpenMP build) parallelise with OpenMP, whose thread count is per calling
// thread: every entry point that calls FAISS first applies the addon-wide count to its own thread.
#pragma once

namespace hark {

void SetNumThreads(int n);
int GetNumThreads();
// omp_set_num_threads(GetNumThreads()) on the calling thread.
void ApplyThreads();

}  // namespace hark
