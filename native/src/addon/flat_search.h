// hark's exact search for flat indexes: the k-NN hot path of PatchCore scoring, and the only path that
// answers a search of a flat index (every batch size, every k), so that its results are one function of
// the data.
//
// Speed. FAISS 1.7.3 searches a flat index with sgemm on query x database tiles, then corrects every
// product into a distance and feeds it to a result handler, with two OpenMP barriers per tile and a copy
// of the database norms computed on every call. At d = 128 that bookkeeping costs 30-50% of the time of
// the product itself (hark bench knn: 46-69% of the sgemm ceiling). Here each thread owns a strip of the
// database, runs single-threaded sgemm on its tiles (OpenBLAS runs serially inside an OpenMP region) and
// folds each tile into its own shortlists while the tile is still in cache; the shortlists are merged at
// the end.
//
// Determinism. sgemm's rounding depends on the BLAS kernel family (OpenBLAS's Haswell and SkylakeX
// kernels differ, and so do their full and edge tiles), so its products only shortlist: each query keeps
// every vector whose sgemm distance is within a proven rounding bound of the current k-th, and the
// shortlist is ranked by ExactDistance, a fixed-order computation in double rounded once to float. The
// answer is the k smallest (distance, label) pairs by that distance: identical to the bit on every BLAS,
// thread count and tiling, equal to the TypeScript fallback's (src/fallback/exact.ts computes the same
// sums in the same order), and an exact tie goes to the smaller label. The bound is derived in
// flat_search.cc.
#pragma once

#include <faiss/IndexFlat.h>

#include <cstdint>
#include <vector>

namespace hark {

// True when FlatSearch handles this index: a flat index (a faiss::IndexFlat, or 8-bit codes: rows.h) with the L2
// or inner-product metric.
bool FlatSearchApplies(const faiss::Index* index);

// The distance every flat search returns: squared L2 (l2) or the inner product of a and b (d floats each).
// Four interleaved double accumulators (element t goes to lane t % 4 below d - d % 4, the rest to lane 0),
// summed as ((s0 + s1) + s2) + s3 and rounded once to float. Built with -ffp-contract=off (binding.gyp), so
// no multiply-add is fused; src/fallback/exact.ts performs the same operations in the same order.
float ExactDistance(const float* a, const float* b, int d, bool l2);

// Exact k-NN of n queries x (n * d floats) against a flat index (FlatSearchApplies; uint8 storage is searched
// over its decoded vectors, rows.h, with the same argument). Results are
// n * k, nearest first (smallest L2, largest inner product), the smaller label first on equal distances;
// rows with fewer than k database vectors are padded with label -1 and distance FLT_MAX (L2) or -FLT_MAX
// (IP), as FAISS does. `maxThreads` > 0 caps the threads (the answer does not depend on them); `cpuSeconds`,
// when given, receives the CPU time the search's threads spent on it (added to it). `rowNorms`, when given, is
// RowNorms(index) of the index as it is now; without it each search computes them again.
void FlatSearch(const faiss::Index* index, int64_t n, const float* x, int64_t k, float* distances, faiss::Index::idx_t* labels,
                int maxThreads = 0, double* cpuSeconds = nullptr, const float* rowNorms = nullptr);

// The squared norms of a flat index's rows (uint8 storage decoded) as FlatSearch computes them for its tiles:
// faiss::fvec_norms_L2sqr of each row, one row at a time, so the same floats whichever tiles they were computed
// in. They cost a pass over the whole database: with Debian's FAISS (built for any x86-64) about a third of a
// context-memory search of 59 queries when computed on every call, so an index keeps them until it changes
// (index_wrap.h).
std::vector<float> RowNorms(const faiss::Index* index);

// A memory of contexts held as columns (libs/detection's log-mel context memory): `count` contexts, context j
// the `frames` columns of `nMels` floats from column starts[j] on (starts ascending), read bin-major (value
// (m, c) at m * frames + c) as a vector of d = nMels * frames floats. Overlapping contexts share their
// columns, so a memory of whole windows holds each column once instead of `frames` times.
struct ContextColumns {
  const float* columns;   // [*, nMels]
  const int32_t* starts;  // [count], ascending
  const float* norms;     // [count]: ContextNorms of the same memory
  int64_t count;
  int nMels;
  int frames;
};

// The contexts' squared norms, for ContextSearch's shortlists: each column's once, summed per context in
// double and rounded once to float (starts ascending: the last context ends the columns read).
std::vector<float> ContextNorms(const float* columns, const int32_t* starts, int64_t count, int nMels, int frames);

// Exact 1-NN of every full context of one window (`window`: [nMels, windowFrames] bin-major; query t is the
// context of frames t .. t + frames - 1, windowFrames - frames + 1 queries) against `memory`: squared L2
// distances and labels (context indexes), the same to the bit as FlatSearch of a float32 flat index holding the
// assembled contexts (ExactDistance ranks the shortlist; the smaller label wins a tie).
//
// Speed. A context's dot product with a query context is the sum of `frames` column dot products, q_t . y_j =
// sum_c w_{t+c} . v_{s_j+c}, so one sgemm of the window's columns by the memory's columns (windowFrames x nMels
// by nMels x columns) gives every pair's products, and each context's is a sum of `frames` of them along a
// diagonal: about frames times fewer multiply-adds than the flat search of the assembled contexts (a window of
// 63 columns against whole 63-column windows: 63 x 63 column products per window pair instead of 59 x 59
// context products of 5 columns). The sum is a dot product of d terms in another order, so FlatSearch's
// rounding bound holds for it as it is (flat_search.cc). The tiles of the memory are split over the FAISS
// threads (one in a server that leaves a core to its event loop), each with its own shortlists, as FlatSearch
// does; the answer does not depend on the threads.
void ContextSearch(const ContextColumns& memory, const float* window, int64_t windowFrames, float* distances, faiss::Index::idx_t* labels);

}  // namespace hark
