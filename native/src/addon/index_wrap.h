// The JS class `Index`: one FAISS index (Flat, HNSW, IVF or anything index_factory builds) behind a
// reader-writer lock. Searches share the lock; add, train, remove, reset and parameter changes take it
// alone. Synchronous calls never wait for it: they fail with ERR_HARK_FAISS_BUSY while async work holds it.
// A flat index can lend its vectors to JavaScript without a copy (vectors()): the view shares ownership of
// the index, so the memory outlives dispose() until the view is collected, and the index is pinned from then
// on (add, removeIds and reset would move or change the vectors under the view, so they throw).
#pragma once

#include <faiss/Index.h>
#include <napi.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "bound_search.h"

namespace hark {

// The two typed arrays a search fills, allocated on the JS thread before FAISS writes into them.
struct SearchResult {
  Napi::Float32Array distances;
  Napi::BigInt64Array labels;
  static SearchResult Allocate(Napi::Env env, int64_t n, int64_t k);
  Napi::Object ToObject(Napi::Env env) const;
};

// IVF training needs at least nlist vectors (FAISS's k-means would throw); other types accept any n.
void CheckTrainingSize(faiss::Index* index, int64_t n);

class IndexWrap : public Napi::ObjectWrap<IndexWrap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // A JS Index that owns `index` (from read_index).
  static Napi::Object Wrap(Napi::Env env, std::unique_ptr<faiss::Index> index);

  // new Index(spec): spec = {kind: 'flat'|'hnsw'|'ivf'|'factory', dim, metric, M, efConstruction,
  // efSearch, nlist, nprobe, description}; new Index(External<faiss::Index>) adopts a loaded index.
  explicit IndexWrap(const Napi::CallbackInfo& info);

 private:
  // Properties
  Napi::Value Dim(const Napi::CallbackInfo& info);
  Napi::Value Ntotal(const Napi::CallbackInfo& info);
  Napi::Value IsTrained(const Napi::CallbackInfo& info);
  Napi::Value Metric(const Napi::CallbackInfo& info);
  Napi::Value Kind(const Napi::CallbackInfo& info);
  Napi::Value Storage(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  Napi::Value GetParam(const Napi::CallbackInfo& info);
  void SetParam(const Napi::CallbackInfo& info);

  // Synchronous methods
  void Add(const Napi::CallbackInfo& info);
  void Train(const Napi::CallbackInfo& info);
  Napi::Value Search(const Napi::CallbackInfo& info);
  Napi::Value RemoveIds(const Napi::CallbackInfo& info);
  void Reset(const Napi::CallbackInfo& info);
  void Dispose(const Napi::CallbackInfo& info);
  Napi::Value Vectors(const Napi::CallbackInfo& info);
  Napi::Value Reconstruct(const Napi::CallbackInfo& info);
  void SetProjection(const Napi::CallbackInfo& info);
  Napi::Value ProjectionInfo(const Napi::CallbackInfo& info);

  // Asynchronous methods (index_async.cc)
  Napi::Value AddAsync(const Napi::CallbackInfo& info);
  Napi::Value TrainAsync(const Napi::CallbackInfo& info);
  Napi::Value SearchAsync(const Napi::CallbackInfo& info);

  // Serialisation (index_io.cc)
  Napi::Value ToBuffer(const Napi::CallbackInfo& info);
  void Save(const Napi::CallbackInfo& info);
  Napi::Value SaveAsync(const Napi::CallbackInfo& info);

  // The index, or ERR_HARK_FAISS_DISPOSED. Call with the lock held.
  faiss::Index* Live() const;
  // Try-locks for synchronous calls (ERR_HARK_FAISS_BUSY when async work holds the index).
  std::shared_lock<std::shared_mutex> ReadNow();
  std::unique_lock<std::shared_mutex> WriteNow();
  // Shared checks before add/search: trained, and the row count.
  void RequireTrained(faiss::Index* index, const char* what) const;
  // ERR_HARK_FAISS_UNSUPPORTED once vectors() has lent the storage to JavaScript.
  void RequireUnpinned(const char* what) const;
  // index->search, except that flat indexes are searched by hark's deterministic FlatSearch
  // (flat_search.h), whatever the batch size and k (see index_wrap.cc).
  void RunSearch(faiss::Index* index, int64_t n, const float* x, int64_t k, float* distances, faiss::Index::idx_t* labels);
  // The rows' squared norms of a flat index (FlatSearch's RowNorms), computed by the first search that needs
  // them and kept until add, train, removeIds or reset changes the index. Call with a lock held.
  std::shared_ptr<const std::vector<float>> Norms(const faiss::Index* index);
  // Drops them. Call with the write lock held, before the index changes.
  void DropNorms();

  // The work of add, train and search, the same for the synchronous and the asynchronous methods: the
  // checks on the index's state, then FAISS. Call with the lock held (the write lock for add and train).
  void AddLocked(int64_t n, const float* x);
  void TrainLocked(int64_t n, const float* x);
  void SearchLocked(int64_t n, const float* x, int64_t k, float* distances, faiss::Index::idx_t* labels);
  // add and train (sync, and async in index_async.cc): `vectors` checked on the JS thread, then `write`.
  using Write = void (IndexWrap::*)(int64_t n, const float* x);
  void WriteSync(const Napi::CallbackInfo& info, Write write);
  Napi::Value WriteAsync(const Napi::CallbackInfo& info, Write write);
  // The arguments of search and searchAsync: queries [n, dim] and k.
  struct SearchArgs {
    Napi::Float32Array queries;
    int64_t n;
    int64_t k;
  };
  SearchArgs GetSearchArgs(const Napi::CallbackInfo& info) const;

  // Copies ntotal and is_trained into the atomics below. Call with the write lock held.
  void Publish();

  // Shared with the views vectors() returned (each holds a copy until it is collected).
  std::shared_ptr<faiss::Index> index_;
  std::shared_mutex mutex_;
  int64_t dim_ = 0;
  // Readable while async work runs (the getters never wait for the lock).
  std::atomic<int64_t> ntotal_{0};
  std::atomic<bool> trained_{false};
  std::atomic<bool> disposed_{false};
  // Set by vectors(); written under the write lock, read under either lock.
  bool pinned_ = false;
  // Set by setProjection() (flat L2 only): k = 1 searches go through BoundSearch while the index keeps the
  // size it was built at. Written under the write lock (and dropped by add, removeIds and reset).
  std::shared_ptr<const Projection> projection_;
  // Norms(): built under normsMutex_ (searches hold only the shared lock), dropped under the write lock.
  std::mutex normsMutex_;
  std::shared_ptr<const std::vector<float>> norms_;
};

}  // namespace hark
