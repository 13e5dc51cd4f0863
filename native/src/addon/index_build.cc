#include "index_build.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/index_factory.h>

#include "args.h"
#include "errors.h"
#include "rows.h"

namespace hark {

namespace {

int64_t Optional(const Napi::Object& spec, const char* name, int64_t min, int64_t max, int64_t fallback) {
  Napi::Value v = spec.Get(name);
  return v.IsUndefined() ? fallback : GetInt(v, name, min, max);
}

faiss::MetricType ParseMetric(const Napi::Value& v) {
  if (v.IsUndefined()) return faiss::METRIC_L2;
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s == "l2") return faiss::METRIC_L2;
    if (s == "ip") return faiss::METRIC_INNER_PRODUCT;
  }
  throw HarkError(code::kArg, "metric must be 'l2' or 'ip', got " + (v.IsString() ? "'" + v.As<Napi::String>().Utf8Value() + "'" : Describe(v)),
                  ErrorKind::Range);
}

}  // namespace

std::unique_ptr<faiss::Index> BuildIndex(const Napi::Object& spec) {
  std::string kind = GetString(spec.Get("kind"), "kind");
  int64_t dim = GetInt(spec.Get("dim"), "dim", 1, kMaxDim);
  faiss::MetricType metric = ParseMetric(spec.Get("metric"));
  Napi::Value storage = spec.Get("storage");
  if (!storage.IsUndefined() && kind != "flat") throw HarkError(code::kArg, "storage applies only to flat indexes", ErrorKind::Range);
  if (kind == "flat") {
    const std::string s = storage.IsString() ? storage.As<Napi::String>().Utf8Value() : "";
    if (storage.IsUndefined() || s == "float32") return std::make_unique<faiss::IndexFlat>(dim, metric);
    if (s == "uint8") return std::make_unique<faiss::IndexScalarQuantizer>(dim, faiss::ScalarQuantizer::QT_8bit, metric);
    throw HarkError(code::kArg, "storage must be 'float32' or 'uint8', got " + (storage.IsString() ? "'" + s + "'" : Describe(storage)),
                    ErrorKind::Range);
  }
  if (kind == "hnsw") {
    int64_t m = Optional(spec, "M", 2, 512, 32);
    int64_t efConstruction = Optional(spec, "efConstruction", 1, 1 << 16, 40);
    int64_t efSearch = Optional(spec, "efSearch", 1, 1 << 16, 16);
    auto index = std::make_unique<faiss::IndexHNSWFlat>(dim, m, metric);
    index->hnsw.efConstruction = efConstruction;
    index->hnsw.efSearch = efSearch;
    return index;
  }
  if (kind == "ivf") {
    if (spec.Get("nlist").IsUndefined()) throw HarkError(code::kArg, "nlist is required for an IVF index", ErrorKind::Type);
    int64_t nlist = GetInt(spec.Get("nlist"), "nlist", 1, 1 << 24);
    int64_t nprobe = Optional(spec, "nprobe", 1, 1 << 24, 1);
    auto quantizer = std::make_unique<faiss::IndexFlat>(dim, metric);
    auto index = std::make_unique<faiss::IndexIVFFlat>(quantizer.get(), dim, nlist, metric);
    quantizer.release();
    index->own_fields = true;
    index->nprobe = nprobe;
    return index;
  }
  if (kind == "factory") {
    std::string description = GetString(spec.Get("description"), "description");
    try {
      return std::unique_ptr<faiss::Index>(faiss::index_factory(dim, description.c_str(), metric));
    } catch (...) {
      throw Translate(std::current_exception(), code::kArg, "index_factory('" + description + "')");
    }
  }
  throw HarkError(code::kArg, "kind ('" + kind + "') must be one of flat, hnsw, ivf, factory", ErrorKind::Range);
}

const char* KindOf(const faiss::Index* index) {
  if (StorageOf(index)) return "flat";
  if (dynamic_cast<const faiss::IndexHNSW*>(index)) return "hnsw";
  if (dynamic_cast<const faiss::IndexIVF*>(index)) return "ivf";
  return "other";
}

const char* MetricName(faiss::MetricType metric) {
  if (metric == faiss::METRIC_L2) return "l2";
  if (metric == faiss::METRIC_INNER_PRODUCT) return "ip";
  return "other";
}

}  // namespace hark
