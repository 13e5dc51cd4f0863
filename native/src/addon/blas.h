// The BLAS FAISS runs on: which library was loaded, and how fast its sgemm is for a given shape.
#pragma once

#include <napi.h>

// The BLAS single-precision product (Fortran interface, column-major), as FAISS links it.
extern "C" int sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                      const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                      const float* beta, float* c, const int* ldc);

namespace hark {

// benchSgemm(m, n, k, repeats?) -> {seconds, gflops, threads, cpuSeconds}: the best of `repeats` runs of the
// product FAISS's exact search makes, C[n x m] = Y[n x k] * X[m x k]^T (m queries, n database vectors,
// dimension k), with the addon's thread count.
Napi::Value BenchSgemm(const Napi::CallbackInfo& info);

// blasInfo() -> {library, corename, config, parallel}: the file providing sgemm_ and, for OpenBLAS,
// the kernel it picked (set OPENBLAS_CORETYPE before loading to change it).
Napi::Value BlasInfo(const Napi::CallbackInfo& info);

}  // namespace hark
