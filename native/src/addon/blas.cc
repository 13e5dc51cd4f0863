#include "blas.h"

#include <dlfcn.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <vector>

#include "args.h"
#include "errors.h"
#include "threads.h"

namespace hark {

Napi::Value BenchSgemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    int m = static_cast<int>(GetInt(info[0], "m", 1, 1 << 20));
    int n = static_cast<int>(GetInt(info[1], "n", 1, 1 << 20));
    int k = static_cast<int>(GetInt(info[2], "k", 1, 1 << 16));
    int repeats = info[3].IsUndefined() ? 3 : static_cast<int>(GetInt(info[3], "repeats", 1, 1000));
    if (static_cast<int64_t>(m) * n > (int64_t{1} << 28))
      throw HarkError(code::kArg, "m * n (" + std::to_string(static_cast<int64_t>(m) * n) + ") must be <= 2^28 (1 GiB of output)",
                      ErrorKind::Range);
    std::vector<float> x(static_cast<size_t>(m) * k), y(static_cast<size_t>(n) * k), c(static_cast<size_t>(m) * n);
    uint32_t state = 12345;
    for (float* v : {x.data(), y.data()}) {
      size_t len = v == x.data() ? x.size() : y.size();
      for (size_t i = 0; i < len; i++) {
        state = state * 1664525u + 1013904223u;
        v[i] = static_cast<float>(state >> 8) / 16777216.0f - 0.5f;
      }
    }
    const float one = 1.0f, zero = 0.0f;
    ApplyThreads();
    // CPU time of the whole process: on a shared machine it stays near the work done while wall time grows.
    auto cpu = [] {
      timespec ts;
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
      return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
    };
    double best = 1e300, bestCpu = 1e300;
    for (int r = 0; r < repeats; r++) {
      auto t0 = std::chrono::steady_clock::now();
      const double c0 = cpu();
      sgemm_("Transpose", "Not transpose", &n, &m, &k, &one, y.data(), &k, x.data(), &k, &zero, c.data(), &n);
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (s < best) best = s;
      bestCpu = std::min(bestCpu, cpu() - c0);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("seconds", best);
    out.Set("cpuSeconds", bestCpu);
    out.Set("gflops", 2.0 * m * n * k / best / 1e9);
    out.Set("threads", GetNumThreads());
    return out;
  });
}

Napi::Value BlasInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("library", env.Null());
  out.Set("corename", env.Null());
  out.Set("config", env.Null());
  out.Set("parallel", env.Null());
  Dl_info where{};
  if (!dladdr(reinterpret_cast<void*>(&sgemm_), &where) || !where.dli_fname) return out;
  char* real = realpath(where.dli_fname, nullptr);
  out.Set("library", real ? real : where.dli_fname);
  std::free(real);
  void* lib = dlopen(where.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
  if (!lib) return out;
  using Str = char* (*)();
  using Int = int (*)();
  if (auto f = reinterpret_cast<Str>(dlsym(lib, "openblas_get_corename"))) out.Set("corename", f());
  if (auto f = reinterpret_cast<Str>(dlsym(lib, "openblas_get_config"))) out.Set("config", f());
  if (auto f = reinterpret_cast<Int>(dlsym(lib, "openblas_get_parallel"))) {
    int p = f();
    out.Set("parallel", p == 0 ? "sequential" : p == 1 ? "pthreads" : "openmp");
  }
  dlclose(lib);
  return out;
}

}  // namespace hark
