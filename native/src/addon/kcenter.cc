#include "kcenter.h"

#include <faiss/utils/distances.h>
#include <omp.h>

#include <limits>
#include <vector>

#include "args.h"
#include "errors.h"
#include "threads.h"

namespace hark {

Napi::Value KCenterGreedy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int64_t dim = GetInt(info[1], "dim", 1, 1 << 20);
    int64_t n = 0;
    Napi::Float32Array features = GetMatrix(info[0], "features", dim, &n);
    const int64_t count = GetInt(info[2], "count", 1, INT32_MAX);
    if (n < 1) throw HarkError(code::kArg, "features must hold at least one row", ErrorKind::Range);
    if (count > n)
      throw HarkError(code::kArg, "count (" + std::to_string(count) + ") must be <= the number of rows (" + std::to_string(n) + ")",
                      ErrorKind::Range);
    const int64_t first = GetInt(info[3], "first", 0, n - 1);
    const float* x = features.Data();

    std::vector<float> minDist(static_cast<size_t>(n), std::numeric_limits<float>::infinity());
    Napi::Int32Array selected = Napi::Int32Array::New(env, static_cast<size_t>(count));
    int32_t* out = selected.Data();
    ApplyThreads();
    const int nt = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(GetNumThreads(), n / 4096 + 1)));
    std::vector<float> bestDist(nt);
    std::vector<int64_t> bestIdx(nt);
    int64_t last = first;
#pragma omp parallel num_threads(nt)
    {
      const int t = omp_get_thread_num();
      const int64_t lo = n * t / nt, hi = n * (t + 1) / nt;
      for (int64_t s = 0; s < count; s++) {
        const float* c = x + last * dim;
        float best = -1;
        int64_t bi = -1;
        for (int64_t p = lo; p < hi; p++) {
          float m = minDist[p];
          if (m > 0) {
            const float d = faiss::fvec_L2sqr(x + p * dim, c, static_cast<size_t>(dim));
            if (d < m) m = minDist[p] = d;
          }
          if (m > best) {
            best = m;
            bi = p;
          }
        }
        bestDist[t] = best;
        bestIdx[t] = bi;
#pragma omp barrier
#pragma omp single
        {
          out[s] = static_cast<int32_t>(last);
          // Threads hold ascending ranges: a strict > keeps the smaller index on a tie.
          int w = 0;
          for (int u = 1; u < nt; u++)
            if (bestDist[u] > bestDist[w]) w = u;
          last = bestIdx[w];
        }  // implicit barrier: every thread sees the new `last`
      }
    }
    return selected;
  });
}

}  // namespace hark
