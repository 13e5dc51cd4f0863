// The BLAS FAISS runs on: which library was loaded, and how fast its sgemm is for a given shape.
#pragma once

#include <napi.h>

namespace hark {

// benchSgemm(m, n, k, repeats?) -> {seconds, gflops, threads}: the best of `repeats` runs of the
// product FAISS's exact search makes, C[n x m] = Y[n x k] * X[m x k]^T (m queries, n database vectors,
// dimension k), with the addon's thread count.
Napi::Value BenchSgemm(const Napi::CallbackInfo& info);

// blasInfo() -> {library, corename, config, parallel}: the file providing sgemm_ and, for OpenBLAS,
// the kernel it picked (set OPENBLAS_CORETYPE before loading to change it).
Napi::Value BlasInfo(const Napi::CallbackInfo& info);

}  // namespace hark
