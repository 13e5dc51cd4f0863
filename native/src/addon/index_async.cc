// The asynchronous methods: checks on the JS thread, FAISS on a libuv pool thread under the index lock.
// The index object and the typed arrays stay referenced until the promise settles.
#include "args.h"
#include "errors.h"
#include "index_build.h"
#include "index_wrap.h"
#include "job.h"

namespace hark {

using idx_t = faiss::Index::idx_t;

Napi::Value IndexWrap::AddAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    int64_t n = 0;
    Napi::Float32Array vectors = GetMatrix(info[0], "vectors", dim_, &n);
    const float* data = vectors.Data();
    return Job::Start(
        env,
        [this, n, data] {
          std::unique_lock<std::shared_mutex> lock(mutex_);
          faiss::Index* index = Live();
          RequireTrained(index, "add");
          if (n > 0) index->add(n, data);
          Publish();
        },
        [](Napi::Env env, const Job::Kept&) { return env.Undefined(); }, {Value(), vectors});
  });
}

Napi::Value IndexWrap::TrainAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    int64_t n = 0;
    Napi::Float32Array vectors = GetMatrix(info[0], "vectors", dim_, &n);
    const float* data = vectors.Data();
    return Job::Start(
        env,
        [this, n, data] {
          std::unique_lock<std::shared_mutex> lock(mutex_);
          faiss::Index* index = Live();
          CheckTrainingSize(index, n);
          index->train(n, data);
          Publish();
        },
        [](Napi::Env env, const Job::Kept&) { return env.Undefined(); }, {Value(), vectors});
  });
}

Napi::Value IndexWrap::SearchAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    int64_t n = 0;
    Napi::Float32Array queries = GetMatrix(info[0], "queries", dim_, &n);
    int64_t k = GetInt(info[1], "k", 1, kMaxK);
    SearchResult out = SearchResult::Allocate(env, n, k);
    const float* x = queries.Data();
    float* distances = out.distances.Data();
    idx_t* labels = reinterpret_cast<idx_t*>(out.labels.Data());
    return Job::Start(
        env,
        [this, n, k, x, distances, labels] {
          std::shared_lock<std::shared_mutex> lock(mutex_);
          faiss::Index* index = Live();
          RequireTrained(index, "search");
          RunSearch(index, n, x, k, distances, labels);
        },
        [](Napi::Env env, const Job::Kept& kept) -> Napi::Value {
          Napi::Object result = Napi::Object::New(env);
          result.Set("distances", kept[2].Value());
          result.Set("labels", kept[3].Value());
          return result;
        },
        {Value(), queries, out.distances, out.labels});
  });
}

}  // namespace hark
