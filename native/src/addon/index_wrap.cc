#include "index_wrap.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include <faiss/IndexFlat.h>
#include <faiss/IndexFlatCodes.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/IDSelector.h>

#include "addon_data.h"
#include "args.h"
#include "errors.h"
#include "flat_search.h"
#include "index_build.h"
#include "rows.h"
#include "threads.h"

namespace hark {

using idx_t = faiss::Index::idx_t;

namespace {
// Marks the Externals Wrap() creates, so `new Index(external)` adopts only a faiss::Index of ours.
constexpr napi_type_tag kIndexTag = {0x8e3f1c52a6d94b07ULL, 0xb1d2e4f6a8c0e2f4ULL};
}  // namespace

Napi::Function IndexWrap::Define(Napi::Env env) {
  return DefineClass(env, "Index",
                     {
                         InstanceAccessor<&IndexWrap::Dim>("dim"),
                         InstanceAccessor<&IndexWrap::Ntotal>("ntotal"),
                         InstanceAccessor<&IndexWrap::IsTrained>("isTrained"),
                         InstanceAccessor<&IndexWrap::Metric>("metric"),
                         InstanceAccessor<&IndexWrap::Kind>("kind"),
                         InstanceAccessor<&IndexWrap::Storage>("storage"),
                         InstanceAccessor<&IndexWrap::Disposed>("disposed"),
                         InstanceMethod<&IndexWrap::GetParam>("getParam"),
                         InstanceMethod<&IndexWrap::SetParam>("setParam"),
                         InstanceMethod<&IndexWrap::Add>("add"),
                         InstanceMethod<&IndexWrap::Train>("train"),
                         InstanceMethod<&IndexWrap::Search>("search"),
                         InstanceMethod<&IndexWrap::RemoveIds>("removeIds"),
                         InstanceMethod<&IndexWrap::Reset>("reset"),
                         InstanceMethod<&IndexWrap::Dispose>("dispose"),
                         InstanceMethod<&IndexWrap::Vectors>("vectors"),
                         InstanceMethod<&IndexWrap::Reconstruct>("reconstruct"),
                         InstanceMethod<&IndexWrap::SetProjection>("setProjection"),
                         InstanceMethod<&IndexWrap::ProjectionInfo>("projectionInfo"),
                         InstanceMethod<&IndexWrap::AddAsync>("addAsync"),
                         InstanceMethod<&IndexWrap::TrainAsync>("trainAsync"),
                         InstanceMethod<&IndexWrap::SearchAsync>("searchAsync"),
                         InstanceMethod<&IndexWrap::ToBuffer>("toBuffer"),
                         InstanceMethod<&IndexWrap::Save>("save"),
                         InstanceMethod<&IndexWrap::SaveAsync>("saveAsync"),
                     });
}

Napi::Object IndexWrap::Wrap(Napi::Env env, std::unique_ptr<faiss::Index> index) {
  auto external = Napi::External<faiss::Index>::New(env, index.get());
  external.TypeTag(&kIndexTag);
  Napi::Object obj = AddonData::Of(env).indexClass.New({external});
  index.release();  // adopted by the constructor
  return obj;
}

IndexWrap::IndexWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IndexWrap>(info) {
  Napi::Env env = info.Env();
  Guard(env, [&] {
    if (info[0].IsExternal()) {
      auto external = info[0].As<Napi::External<faiss::Index>>();
      if (!external.CheckTypeTag(&kIndexTag)) throw HarkError(code::kArg, "new Index(external): not an index from this addon", ErrorKind::Type);
      index_.reset(external.Data());
    } else if (info[0].IsObject()) {
      index_ = BuildIndex(info[0].As<Napi::Object>());
    } else {
      throw HarkError(code::kArg, "new Index(spec): spec must be an object, got " + Describe(info[0]), ErrorKind::Type);
    }
    dim_ = index_->d;
    Publish();
  });
}

void IndexWrap::Publish() {
  if (!index_) return;
  ntotal_.store(index_->ntotal);
  trained_.store(index_->is_trained);
}

faiss::Index* IndexWrap::Live() const {
  if (!index_) throw HarkError(code::kDisposed, "the index was disposed; create or load a new one");
  return index_.get();
}

std::shared_lock<std::shared_mutex> IndexWrap::ReadNow() {
  std::shared_lock<std::shared_mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock())
    throw HarkError(code::kBusy, "the index is busy with an asynchronous add or train; await it first");
  return lock;
}

std::unique_lock<std::shared_mutex> IndexWrap::WriteNow() {
  std::unique_lock<std::shared_mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock())
    throw HarkError(code::kBusy, "the index is busy with asynchronous work; await it before changing the index");
  return lock;
}

void IndexWrap::RequireTrained(faiss::Index* index, const char* what) const {
  if (!index->is_trained)
    throw HarkError(code::kNotTrained, std::string("cannot ") + what + " before the index is trained; call train() with a sample first");
}

// Every search of a flat index (any batch, any k) goes through hark's own tiled search (flat_search.h): its
// answer is one function of the data, whatever the BLAS kernels, and equals the TypeScript fallback's.
// FAISS's own flat paths (its k = 1 and small-batch loops, its sgemm heaps) round differently from each
// other and from one OpenBLAS kernel family to the next. Other indexes go through FAISS's search, including
// factory wrappers around a flat index ("IDMap,Flat", "PCA64,Flat"): their answers may differ in the last
// bits between kernel families.
void IndexWrap::RunSearch(faiss::Index* index, int64_t n, const float* x, int64_t k, float* distances, faiss::Index::idx_t* labels) {
  if (n == 0) return;
  if (FlatSearchApplies(index)) {
    FlatSearch(index, n, x, k, distances, labels, 0, nullptr, Norms(index)->data());
    return;
  }
  index->search(n, x, k, distances, labels);
}

void IndexWrap::DropNorms() {
  std::lock_guard<std::mutex> lock(normsMutex_);
  norms_.reset();
}

std::shared_ptr<const std::vector<float>> IndexWrap::Norms(const faiss::Index* index) {
  std::lock_guard<std::mutex> lock(normsMutex_);
  if (!norms_ || static_cast<int64_t>(norms_->size()) != index->ntotal)
    norms_ = std::make_shared<const std::vector<float>>(RowNorms(index));
  return norms_;
}

Napi::Value IndexWrap::Dim(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(dim_)); }
Napi::Value IndexWrap::Ntotal(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(ntotal_.load())); }
Napi::Value IndexWrap::IsTrained(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), trained_.load()); }
Napi::Value IndexWrap::Disposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), disposed_.load()); }

Napi::Value IndexWrap::Metric(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value { return Napi::String::New(info.Env(), MetricName(Live()->metric_type)); });
}

Napi::Value IndexWrap::Kind(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value { return Napi::String::New(info.Env(), KindOf(Live())); });
}

Napi::Value IndexWrap::Storage(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    const char* storage = StorageOf(Live());
    return storage ? Napi::String::New(info.Env(), storage) : info.Env().Null();
  });
}

Napi::Value IndexWrap::GetParam(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    std::string name = GetString(info[0], "name");
    auto lock = ReadNow();
    faiss::Index* index = Live();
    if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index)) {
      if (name == "efSearch") return Napi::Number::New(env, hnsw->hnsw.efSearch);
      if (name == "efConstruction") return Napi::Number::New(env, hnsw->hnsw.efConstruction);
      if (name == "M") return Napi::Number::New(env, static_cast<double>(hnsw->hnsw.nb_neighbors(1)));
    }
    if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(index)) {
      if (name == "nprobe") return Napi::Number::New(env, static_cast<double>(ivf->nprobe));
      if (name == "nlist") return Napi::Number::New(env, static_cast<double>(ivf->nlist));
    }
    return env.Undefined();
  });
}

void IndexWrap::SetParam(const Napi::CallbackInfo& info) {
  Guard(info.Env(), [&] {
    std::string name = GetString(info[0], "name");
    auto lock = WriteNow();
    faiss::Index* index = Live();
    auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index);
    auto* ivf = dynamic_cast<faiss::IndexIVF*>(index);
    if (hnsw && name == "efSearch") {
      hnsw->hnsw.efSearch = GetInt(info[1], "efSearch", 1, 1 << 16);
    } else if (hnsw && name == "efConstruction") {
      hnsw->hnsw.efConstruction = GetInt(info[1], "efConstruction", 1, 1 << 16);
    } else if (ivf && name == "nprobe") {
      ivf->nprobe = GetInt(info[1], "nprobe", 1, 1 << 24);
    } else {
      throw HarkError(code::kUnsupported, "parameter '" + name + "' cannot be set on a " + KindOf(index) + " index");
    }
  });
}

void IndexWrap::RequireUnpinned(const char* what) const {
  if (pinned_)
    throw HarkError(code::kUnsupported, std::string("cannot ") + what +
                                            ": the index lent its vectors to JavaScript (vectors()), so they must not move or change; build a new index");
}

void IndexWrap::AddLocked(int64_t n, const float* x) {
  faiss::Index* index = Live();
  RequireTrained(index, "add");
  RequireUnpinned("add");
  if (n > 0) {
    projection_.reset();
    DropNorms();
    // uint8 storage: hark's encoder (rows.h), so that both backends hold the same codes.
    if (auto* sq = AsSq8(index))
      Sq8Add(sq, n, x);
    else
      index->add(n, x);
  }
  Publish();
}

void IndexWrap::TrainLocked(int64_t n, const float* x) {
  faiss::Index* index = Live();
  CheckTrainingSize(index, n);
  DropNorms();
  if (auto* sq = AsSq8(index))
    Sq8Train(sq, n, x);
  else
    index->train(n, x);
  Publish();
}

void IndexWrap::SearchLocked(int64_t n, const float* x, int64_t k, float* distances, idx_t* labels) {
  faiss::Index* index = Live();
  RequireTrained(index, "search");
  if (projection_ && k == 1 && projection_->ntotal == index->ntotal && n > 0) {
    // The bounded or the flat search, whichever has been cheaper on this index's queries (same answers). The
    // projected database is built for a bounded batch and freed while the flat search is the choice.
    const Projection& pr = *projection_;
    const faiss::Index* flat = index;
    const bool bounded = pr.chooser.Bounded();
    std::shared_ptr<const ProjectedBank> bank = bounded ? pr.Bank(flat) : nullptr;
    const std::shared_ptr<const std::vector<float>> norms = Norms(flat);
    if (bounded && !bank) {
      FlatSearch(flat, n, x, k, distances, labels, 0, nullptr, norms->data());
      return;
    }
    double cpu = 0;
    if (bounded)
      BoundSearch(flat, pr, *bank, n, x, distances, labels, &cpu, norms->data());
    else
      FlatSearch(flat, n, x, k, distances, labels, 0, &cpu, norms->data());
    bank.reset();
    if (!pr.chooser.Record(bounded, cpu / static_cast<double>(n), n)) pr.Release();
    return;
  }
  RunSearch(index, n, x, k, distances, labels);
}

void IndexWrap::WriteSync(const Napi::CallbackInfo& info, Write write) {
  Guard(info.Env(), [&] {
    int64_t n = 0;
    Napi::Float32Array vectors = GetMatrix(info[0], "vectors", dim_, &n);
    auto lock = WriteNow();
    ApplyThreads();
    (this->*write)(n, vectors.Data());
  });
}

IndexWrap::SearchArgs IndexWrap::GetSearchArgs(const Napi::CallbackInfo& info) const {
  SearchArgs args{{}, 0, 0};
  args.queries = GetMatrix(info[0], "queries", dim_, &args.n);
  args.k = GetInt(info[1], "k", 1, kMaxK);
  return args;
}

void IndexWrap::Add(const Napi::CallbackInfo& info) { WriteSync(info, &IndexWrap::AddLocked); }
void IndexWrap::Train(const Napi::CallbackInfo& info) { WriteSync(info, &IndexWrap::TrainLocked); }

Napi::Value IndexWrap::Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    SearchArgs args = GetSearchArgs(info);
    auto lock = ReadNow();
    SearchResult out = SearchResult::Allocate(env, args.n, args.k);
    ApplyThreads();
    SearchLocked(args.n, args.queries.Data(), args.k, out.distances.Data(), reinterpret_cast<idx_t*>(out.labels.Data()));
    return out.ToObject(env);
  });
}

Napi::Value IndexWrap::RemoveIds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Napi::BigInt64Array ids = GetIds(info[0], "ids");
    auto lock = WriteNow();
    faiss::Index* index = Live();
    RequireUnpinned("removeIds");
    if (dynamic_cast<faiss::IndexHNSW*>(index))
      throw HarkError(code::kUnsupported,
                      "removeIds is not supported by HNSW indexes (FAISS cannot delete from the graph); rebuild the index without those vectors");
    projection_.reset();
    DropNorms();
    faiss::IDSelectorBatch selector(ids.ElementLength(), reinterpret_cast<const idx_t*>(ids.Data()));
    size_t removed = 0;
    try {
      removed = index->remove_ids(selector);
    } catch (...) {
      throw Translate(std::current_exception(), code::kUnsupported, std::string("removeIds on a ") + KindOf(index) + " index");
    }
    Publish();
    return Napi::Number::New(env, static_cast<double>(removed));
  });
}

void IndexWrap::Reset(const Napi::CallbackInfo& info) {
  Guard(info.Env(), [&] {
    auto lock = WriteNow();
    faiss::Index* index = Live();
    RequireUnpinned("reset");
    projection_.reset();
    DropNorms();
    index->reset();
    if (auto* flat = dynamic_cast<faiss::IndexFlatCodes*>(index)) flat->codes.shrink_to_fit();
    Publish();
  });
}

void IndexWrap::Dispose(const Napi::CallbackInfo& info) {
  Guard(info.Env(), [&] {
    auto lock = WriteNow();
    index_.reset();
    ntotal_.store(0);
    disposed_.store(true);
  });
}

// The vectors of a flat index as a Float32Array over FAISS's own storage (IndexFlat::codes), so a caller that
// reads a few rows per search (PatchCore's re-weighting, the context memory's residuals) does not keep a
// second copy of the bank. The external ArrayBuffer holds a shared_ptr to the index: dispose() and the
// wrapper's collection drop theirs, and the storage is freed when the last view is collected. Pinning
// forbids whatever could reallocate or rewrite the storage (add, removeIds, reset); the spare capacity of
// the vector is returned first, while nothing can point into it yet.
Napi::Value IndexWrap::Vectors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto lock = WriteNow();
    faiss::Index* index = Live();
    auto* flat = dynamic_cast<faiss::IndexFlat*>(index);
    if (AsSq8(index))
      throw HarkError(code::kUnsupported,
                      "vectors() needs float32 storage; a uint8 flat index keeps one-byte codes (use reconstruct(ids))");
    if (!flat)
      throw HarkError(code::kUnsupported, std::string("vectors() needs a flat index; a ") + KindOf(index) +
                                              " index does not keep its vectors as plain floats");
    if (!pinned_) flat->codes.shrink_to_fit();
    pinned_ = true;
    size_t count = static_cast<size_t>(flat->ntotal) * static_cast<size_t>(flat->d);
    if (count == 0) return Napi::Float32Array::New(env, 0);
    auto keep = std::make_unique<std::shared_ptr<faiss::Index>>(index_);
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
        env, flat->get_xb(), count * sizeof(float), [](Napi::Env, void*, std::shared_ptr<faiss::Index>* owner) { delete owner; },
        keep.get());
    keep.release();  // owned by the buffer's finaliser now
    return Napi::Float32Array::New(env, count, buffer, 0);
  });
}

// reconstruct(ids) -> Float32Array [ids.length, dim]: the rows of a flat index with these labels as searches
// see them (float32 storage copied, uint8 storage decoded: rows.h). A copy, so nothing is pinned.
Napi::Value IndexWrap::Reconstruct(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    Napi::BigInt64Array ids = GetIds(info[0], "ids");
    auto lock = ReadNow();
    faiss::Index* index = Live();
    if (!StorageOf(index))
      throw HarkError(code::kUnsupported, std::string("reconstruct needs a flat index; a ") + KindOf(index) +
                                              " index is not read back by hark");
    const Rows rows = RowsOf(index);
    const size_t count = ids.ElementLength();
    for (size_t i = 0; i < count; i++)
      if (ids[i] < 0 || ids[i] >= rows.ntotal)
        throw HarkError(code::kArg, "id (" + std::to_string(ids[i]) + ") is not in [0, " + std::to_string(rows.ntotal) + ")",
                        ErrorKind::Range);
    Napi::Float32Array out = Napi::Float32Array::New(env, count * static_cast<size_t>(rows.d));
    for (size_t i = 0; i < count; i++) {
      float* o = out.Data() + i * rows.d;
      const float* row = rows.Row(ids[i], o);
      if (row != o) std::copy(row, row + rows.d, o);
    }
    return out;
  });
}

// setProjection(axes | null): axes [r, dim] (1 <= r <= dim) for the bounded exact search of k = 1 queries
// (bound_search.h); null goes back to the flat search. Flat L2 indexes only. The answers do not change.
void IndexWrap::SetProjection(const Napi::CallbackInfo& info) {
  Guard(info.Env(), [&] {
    if (info[0].IsNull() || info[0].IsUndefined()) {
      auto lock = WriteNow();
      Live();
      projection_.reset();
      return;
    }
    int64_t rows = 0;
    Napi::Float32Array axes = GetMatrix(info[0], "axes", dim_, &rows);
    if (rows < 1 || rows > dim_)
      throw HarkError(code::kArg, "axes must hold 1 to dim (" + std::to_string(dim_) + ") rows, got " + std::to_string(rows),
                      ErrorKind::Range);
    for (size_t i = 0; i < axes.ElementLength(); i++)
      if (!std::isfinite(axes[i])) throw HarkError(code::kArg, "axes hold a non-finite value", ErrorKind::Range);
    auto lock = WriteNow();
    faiss::Index* index = Live();
    const bool flat = StorageOf(index) != nullptr;
    if (!flat || index->metric_type != faiss::METRIC_L2 || !FlatSearchApplies(index))
      throw HarkError(code::kUnsupported, std::string("setProjection needs a flat L2 index; this is a ") +
                                              (flat ? "flat inner-product" : KindOf(index)) + " index");
    ApplyThreads();
    projection_ = BuildProjection(index, axes.Data(), static_cast<int>(rows));
  });
}

// projectionInfo() -> null, or { rows, choice: 'measuring' | 'bounded' | 'flat', bankBytes, builds }: the axes'
// count, the search the next batches take, the bytes of the projected database held now (0 while the flat
// search is kept) and how many times it was built.
Napi::Value IndexWrap::ProjectionInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    auto lock = ReadNow();
    faiss::Index* index = Live();
    if (!projection_ || projection_->ntotal != index->ntotal) return env.Null();
    Napi::Object out = Napi::Object::New(env);
    out.Set("rows", Napi::Number::New(env, projection_->rows));
    out.Set("choice", Napi::String::New(env, projection_->chooser.Choice()));
    out.Set("bankBytes", Napi::Number::New(env, static_cast<double>(projection_->BankBytes())));
    out.Set("builds", Napi::Number::New(env, static_cast<double>(projection_->Builds())));
    return out;
  });
}

void CheckTrainingSize(faiss::Index* index, int64_t n) {
  if (auto* ivf = dynamic_cast<faiss::IndexIVF*>(index)) {
    if (n < static_cast<int64_t>(ivf->nlist))
      throw HarkError(code::kArg,
                      "train needs at least nlist (" + std::to_string(ivf->nlist) + ") vectors, got " + std::to_string(n),
                      ErrorKind::Range);
  }
}

SearchResult SearchResult::Allocate(Napi::Env env, int64_t n, int64_t k) {
  return {Napi::Float32Array::New(env, static_cast<size_t>(n * k)), Napi::BigInt64Array::New(env, static_cast<size_t>(n * k))};
}

Napi::Object SearchResult::ToObject(Napi::Env env) const {
  Napi::Object out = Napi::Object::New(env);
  out.Set("distances", distances);
  out.Set("labels", labels);
  return out;
}

}  // namespace hark
