// hark's exact search for flat indexes: the k-NN hot path of PatchCore scoring.
//
// FAISS 1.7.3 searches a flat index with sgemm on query x database tiles, then corrects every product
// into a distance and feeds it to a result handler, with two OpenMP barriers per tile and a copy of the
// database norms computed on every call. At d = 128 that bookkeeping costs 30-50% of the time of the
// product itself (hark bench knn: 46-69% of the sgemm ceiling). Here each thread owns a strip of the
// database, runs single-threaded sgemm on its tiles (OpenBLAS runs serially inside an OpenMP region) and
// folds each tile into its own top-k while the tile is still in cache; the per-thread lists are merged at
// the end. Same distances as FAISS (L2: |x|^2 + |y|^2 - 2 x.y, clamped at 0; IP: x.y), same tie rule
// (the smaller label wins).
#pragma once

#include <faiss/IndexFlat.h>

#include <cstdint>

namespace hark {

// Largest k served here; larger k (and tiny batches) go to FAISS's own search.
constexpr int64_t kFlatSearchMaxK = 32;
// Smallest batch worth the sgemm path (FAISS's distance_compute_blas_threshold is 20).
constexpr int64_t kFlatSearchMinBatch = 20;

// True when FlatSearch handles this index and request.
bool FlatSearchApplies(const faiss::Index* index, int64_t n, int64_t k);

// Exact k-NN of n queries x (n * d floats) against a faiss::IndexFlat (L2 or inner product). Results are
// n * k, nearest first; rows with fewer than k database vectors are padded with label -1 and distance
// +inf (L2) or -inf (IP), as FAISS does.
void FlatSearch(const faiss::IndexFlat* index, int64_t n, const float* x, int64_t k, float* distances, faiss::Index::idx_t* labels);

}  // namespace hark
