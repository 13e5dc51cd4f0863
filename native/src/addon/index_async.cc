// The asynchronous methods: checks on the JS thread, FAISS on a libuv pool thread under the index lock.
// The index object and the typed arrays stay referenced until the promise settles.
#include "args.h"
#include "errors.h"
#include "index_wrap.h"
#include "job.h"

namespace hark {

using idx_t = faiss::Index::idx_t;

Napi::Value IndexWrap::WriteAsync(const Napi::CallbackInfo& info, Write write) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    int64_t n = 0;
    Napi::Float32Array vectors = GetMatrix(info[0], "vectors", dim_, &n);
    const float* data = vectors.Data();
    return Job::Start(
        env,
        [this, write, n, data] {
          std::unique_lock<std::shared_mutex> lock(mutex_);
          (this->*write)(n, data);
        },
        [](Napi::Env env, const Job::Kept&) { return env.Undefined(); }, {Value(), vectors});
  });
}

Napi::Value IndexWrap::AddAsync(const Napi::CallbackInfo& info) { return WriteAsync(info, &IndexWrap::AddLocked); }
Napi::Value IndexWrap::TrainAsync(const Napi::CallbackInfo& info) { return WriteAsync(info, &IndexWrap::TrainLocked); }

Napi::Value IndexWrap::SearchAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    SearchArgs args = GetSearchArgs(info);
    int64_t n = args.n, k = args.k;
    SearchResult out = SearchResult::Allocate(env, n, k);
    const float* x = args.queries.Data();
    float* distances = out.distances.Data();
    idx_t* labels = reinterpret_cast<idx_t*>(out.labels.Data());
    return Job::Start(
        env,
        [this, n, k, x, distances, labels] {
          std::shared_lock<std::shared_mutex> lock(mutex_);
          SearchLocked(n, x, k, distances, labels);
        },
        [](Napi::Env env, const Job::Kept& kept) -> Napi::Value {
          Napi::Object result = Napi::Object::New(env);
          result.Set("distances", kept[2].Value());
          result.Set("labels", kept[3].Value());
          return result;
        },
        {Value(), args.queries, out.distances, out.labels});
  });
}

}  // namespace hark
