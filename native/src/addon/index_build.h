// Builds a FAISS index from the JS spec object and names an existing one's type and metric.
#pragma once

#include <faiss/Index.h>
#include <napi.h>

#include <memory>
#include <string>

namespace hark {

constexpr int64_t kMaxDim = 1 << 16;
constexpr int64_t kMaxK = 1 << 20;

// spec = {kind: 'flat'|'hnsw'|'ivf'|'factory', dim, metric: 'l2'|'ip', M, efConstruction, efSearch,
// nlist, nprobe, description}; absent optional fields take FAISS's defaults.
std::unique_ptr<faiss::Index> BuildIndex(const Napi::Object& spec);

// 'flat', 'hnsw', 'ivf' or 'other'.
const char* KindOf(const faiss::Index* index);
// 'l2', 'ip' or 'other'.
const char* MetricName(faiss::MetricType metric);

}  // namespace hark
