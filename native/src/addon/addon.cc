// hark's FAISS binding: module entry point. See README.md for the API, threads and error codes.
#include <faiss/Index.h>
#include <faiss/utils/distances.h>
#include <napi.h>

#include "addon_data.h"
#include "args.h"
#include "blas.h"
#include "bound_search.h"
#include "context_search.h"
#include "errors.h"
#include "index_io.h"
#include "index_wrap.h"
#include "kcenter.h"
#include "threads.h"

namespace hark {

namespace {

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Guard(info.Env(), [&] { SetNumThreads(static_cast<int>(GetInt(info[0], "threads", 1, 1024))); });
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), GetNumThreads()); }

// blasBlocking() reads, blasBlocking({threshold, queryBlock, databaseBlock}) sets FAISS's exact-search
// tiling: searches of at least `threshold` queries go through sgemm on blocks of queryBlock x databaseBlock.
Napi::Value BlasBlocking(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    if (!info[0].IsUndefined()) {
      if (!info[0].IsObject()) throw HarkError(code::kArg, "blasBlocking(options): options must be an object, got " + Describe(info[0]), ErrorKind::Type);
      Napi::Object o = info[0].As<Napi::Object>();
      if (!o.Get("threshold").IsUndefined()) faiss::distance_compute_blas_threshold = GetInt(o.Get("threshold"), "threshold", 1, INT32_MAX);
      if (!o.Get("queryBlock").IsUndefined()) faiss::distance_compute_blas_query_bs = GetInt(o.Get("queryBlock"), "queryBlock", 1, 1 << 20);
      if (!o.Get("databaseBlock").IsUndefined()) faiss::distance_compute_blas_database_bs = GetInt(o.Get("databaseBlock"), "databaseBlock", 1, 1 << 20);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("threshold", faiss::distance_compute_blas_threshold);
    out.Set("queryBlock", faiss::distance_compute_blas_query_bs);
    out.Set("databaseBlock", faiss::distance_compute_blas_database_bs);
    return out;
  });
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData(data);
  Napi::Function indexClass = IndexWrap::Define(env);
  data->indexClass = Napi::Persistent(indexClass);
  exports.Set("Index", indexClass);
  exports.Set("fromBuffer", Napi::Function::New(env, FromBuffer, "fromBuffer"));
  exports.Set("load", Napi::Function::New(env, Load, "load"));
  exports.Set("loadAsync", Napi::Function::New(env, LoadAsync, "loadAsync"));
  exports.Set("setNumThreads", Napi::Function::New(env, SetThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, GetThreads, "getNumThreads"));
  exports.Set("benchSgemm", Napi::Function::New(env, BenchSgemm, "benchSgemm"));
  exports.Set("blasInfo", Napi::Function::New(env, BlasInfo, "blasInfo"));
  exports.Set("blasBlocking", Napi::Function::New(env, BlasBlocking, "blasBlocking"));
  exports.Set("principalAxes", Napi::Function::New(env, PrincipalAxes, "principalAxes"));
  exports.Set("kCenterGreedy", Napi::Function::New(env, KCenterGreedy, "kCenterGreedy"));
  exports.Set("contextNorms", Napi::Function::New(env, ContextNormsJs, "contextNorms"));
  exports.Set("contextSearch", Napi::Function::New(env, ContextSearchJs, "contextSearch"));
  exports.Set("contextSearchAsync", Napi::Function::New(env, ContextSearchAsyncJs, "contextSearchAsync"));
  exports.Set("faissVersion", Napi::String::New(env, std::to_string(FAISS_VERSION_MAJOR) + "." + std::to_string(FAISS_VERSION_MINOR) +
                                                         "." + std::to_string(FAISS_VERSION_PATCH)));
  return exports;
}

}  // namespace hark

static Napi::Object InitHarkFaiss(Napi::Env env, Napi::Object exports) { return hark::Init(env, exports); }

NODE_API_MODULE(hark_faiss, InitHarkFaiss)
