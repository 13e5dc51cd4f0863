#include "context_search.h"

#include <string>

#include "args.h"
#include "errors.h"
#include "flat_search.h"
#include "job.h"
#include "residual_map.h"

namespace hark {

namespace {

// The memory's arguments, checked: every context's columns inside `columns`, starts ascending.
struct MemoryArgs {
  Napi::Float32Array columns;
  Napi::Int32Array starts;
  int nMels = 0;
  int frames = 0;
};

MemoryArgs GetMemory(const Napi::CallbackInfo& info) {
  MemoryArgs a;
  a.nMels = static_cast<int>(GetInt(info[1], "nMels", 1, 1 << 16));
  a.frames = static_cast<int>(GetInt(info[2], "frames", 1, 1 << 12));
  int64_t nCols = 0;
  a.columns = GetMatrix(info[0], "columns", a.nMels, &nCols);
  a.starts = GetInt32s(info[3], "starts");
  const int32_t* s = a.starts.Data();
  const int64_t count = static_cast<int64_t>(a.starts.ElementLength());
  if (count < 1) throw HarkError(code::kArg, "starts must hold at least one context", ErrorKind::Range);
  for (int64_t j = 0; j < count; j++) {
    if (s[j] < 0 || s[j] + static_cast<int64_t>(a.frames) > nCols)
      throw HarkError(code::kArg,
                      "starts[" + std::to_string(j) + "] (" + std::to_string(s[j]) + ") must be in [0, " +
                          std::to_string(nCols - a.frames) + "] (" + std::to_string(nCols) + " columns of " +
                          std::to_string(a.frames) + "-column contexts)",
                      ErrorKind::Range);
    if (j > 0 && s[j] <= s[j - 1])
      throw HarkError(code::kArg, "starts must be ascending (starts[" + std::to_string(j) + "] <= starts[" + std::to_string(j - 1) + "])",
                      ErrorKind::Range);
  }
  return a;
}

struct SearchArgs {
  MemoryArgs memory;
  Napi::Float32Array norms;
  Napi::Float32Array window;
  int64_t windowFrames = 0;
  int64_t queries = 0;
};

SearchArgs GetContextSearch(const Napi::CallbackInfo& info) {
  SearchArgs a;
  a.memory = GetMemory(info);
  int64_t count = 0;
  a.norms = GetMatrix(info[4], "norms", 1, &count);
  if (count != static_cast<int64_t>(a.memory.starts.ElementLength()))
    throw HarkError(code::kArg,
                    "norms holds " + std::to_string(count) + " values for " + std::to_string(a.memory.starts.ElementLength()) + " contexts",
                    ErrorKind::Range);
  a.windowFrames = GetInt(info[6], "windowFrames", a.memory.frames, 1 << 20);
  int64_t rows = 0;
  a.window = GetMatrix(info[5], "window", a.windowFrames, &rows);
  if (rows != a.memory.nMels)
    throw HarkError(code::kDim,
                    "window holds " + std::to_string(rows) + " rows of " + std::to_string(a.windowFrames) + " frames, not nMels (" +
                        std::to_string(a.memory.nMels) + ")",
                    ErrorKind::Range);
  a.queries = a.windowFrames - a.memory.frames + 1;
  return a;
}

ContextColumns ColumnsOf(const SearchArgs& a) {
  return {a.memory.columns.Data(), a.memory.starts.Data(), a.norms.Data(), static_cast<int64_t>(a.memory.starts.ElementLength()),
          a.memory.nMels, a.memory.frames};
}

Napi::Object Result(Napi::Env env, Napi::Value distances, Napi::Value labels) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("distances", distances);
  out.Set("labels", labels);
  return out;
}

// Context indexes fit an Int32Array (starts are int32 and ascending).
void Narrow(const faiss::Index::idx_t* from, int32_t* to, int64_t n) {
  for (int64_t i = 0; i < n; i++) to[i] = static_cast<int32_t>(from[i]);
}

// A blur kernel: a Float32Array of odd length (gaussianKernel's taps).
Napi::Float32Array GetKernel(const Napi::Value& v, const char* name) {
  int64_t length = 0;
  Napi::Float32Array k = GetMatrix(v, name, 1, &length);
  if (length % 2 == 0)
    throw HarkError(code::kArg, std::string(name) + " must hold an odd number of taps, got " + std::to_string(length),
                    ErrorKind::Range);
  return k;
}

}  // namespace

Napi::Value ContextNormsJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    MemoryArgs a = GetMemory(info);
    const int64_t count = static_cast<int64_t>(a.starts.ElementLength());
    std::vector<float> norms = ContextNorms(a.columns.Data(), a.starts.Data(), count, a.nMels, a.frames);
    Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(count));
    std::copy(norms.begin(), norms.end(), out.Data());
    return out;
  });
}

Napi::Value ContextSearchJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    SearchArgs a = GetContextSearch(info);
    Napi::Float32Array distances = Napi::Float32Array::New(env, static_cast<size_t>(a.queries));
    Napi::Int32Array labels = Napi::Int32Array::New(env, static_cast<size_t>(a.queries));
    std::vector<faiss::Index::idx_t> wide(static_cast<size_t>(a.queries));
    ContextSearch(ColumnsOf(a), a.window.Data(), a.windowFrames, distances.Data(), wide.data());
    Narrow(wide.data(), labels.Data(), a.queries);
    return Result(env, distances, labels);
  });
}

Napi::Value ContextSearchAsyncJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    SearchArgs a = GetContextSearch(info);
    Napi::Float32Array distances = Napi::Float32Array::New(env, static_cast<size_t>(a.queries));
    Napi::Int32Array labels = Napi::Int32Array::New(env, static_cast<size_t>(a.queries));
    const ContextColumns memory = ColumnsOf(a);
    const float* window = a.window.Data();
    const int64_t windowFrames = a.windowFrames, n = a.queries;
    float* d = distances.Data();
    int32_t* l = labels.Data();
    if (info.Length() <= 7 || info[7].IsUndefined())
      return Job::Start(
          env,
          [memory, window, windowFrames, n, d, l] {
            std::vector<faiss::Index::idx_t> wide(static_cast<size_t>(n));
            ContextSearch(memory, window, windowFrames, d, wide.data());
            Narrow(wide.data(), l, n);
          },
          [](Napi::Env env, const Job::Kept& kept) -> Napi::Value { return Result(env, kept[4].Value(), kept[5].Value()); },
          {a.memory.columns, a.memory.starts, a.norms, a.window, distances, labels});
    // With the blur's kernels: the residual map too (residual_map.h), on the same pool thread.
    if (memory.frames % 2 == 0)
      throw HarkError(code::kArg,
                      "the residual map needs an odd frames (" + std::to_string(memory.frames) + "): the context's middle column",
                      ErrorKind::Range);
    Napi::Float32Array alongFrames = GetKernel(info[7], "blur.alongFrames");
    Napi::Float32Array alongBins = GetKernel(info[8], "blur.alongBins");
    Napi::Float32Array map = Napi::Float32Array::New(env, static_cast<size_t>(memory.nMels * windowFrames));
    const BlurKernel kf{alongFrames.Data(), static_cast<int64_t>(alongFrames.ElementLength())};
    const BlurKernel kb{alongBins.Data(), static_cast<int64_t>(alongBins.ElementLength())};
    float* out = map.Data();
    return Job::Start(
        env,
        [memory, window, windowFrames, n, d, l, kf, kb, out] {
          std::vector<faiss::Index::idx_t> wide(static_cast<size_t>(n));
          ContextSearch(memory, window, windowFrames, d, wide.data());
          Narrow(wide.data(), l, n);
          ResidualMap(memory, window, windowFrames, l, kf, kb, out);
        },
        [](Napi::Env env, const Job::Kept& kept) -> Napi::Value {
          Napi::Object out = Result(env, kept[4].Value(), kept[5].Value()).As<Napi::Object>();
          out.Set("map", kept[8].Value());
          return out;
        },
        {a.memory.columns, a.memory.starts, a.norms, a.window, distances, labels, alongFrames, alongBins, map});
  });
}

}  // namespace hark
