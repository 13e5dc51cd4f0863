// An exact 1-NN search of a flat L2 index that measures most of the database only through a principal-
// component lower bound: the context memory's search (libs/detection/src/logmel/context-memory.ts), whose
// queries mostly have a near twin among a few thousand normal contexts.
//
// For axes P (r x d) and any x, |P x| <= sigma |x| with sigma^2 = the largest eigenvalue of P P^T (1 for
// orthonormal rows). So |P q - P b| / sigma is a lower bound of |q - b|, and a row whose bound exceeds the best
// exact distance found so far cannot be the nearest. The search projects the queries (one sgemm of r / d of
// the flat product), measures exactly (ExactDistance) the row of smallest bound and then, in bound order,
// every row whose bound does not rule it out. The bound is widened by every rounding of the projected pass
// (derived in bound_search.cc), so the answer is the flat search's (flat_search.h) bit for bit: the same
// distance and label on every BLAS, and the smaller label on an exact tie. Any P works; the memory's leading
// principal axes (PrincipalAxes) make the bound tight, since they keep most of its spread.
#pragma once

#include <faiss/IndexFlat.h>
#include <napi.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace hark {

// Which search a memory's next query batch takes. The bound's gain depends on the sound: most contexts of a
// steady machine or a scene have a near twin in the memory and the bounded search measures a few rows of
// thousands, but broadband noise leaves every context far from its nearest one, and then it measures many and
// sends queries on to the flat search after paying the projected pass (on the development corpus from 0.39
// to 1.1 of the flat search's CPU, 1.8 on the synthetic pump). Both give the same answers, so each memory
// measures both (the CPU time of the threads that searched, per query: a moving mean over the last ~4 batches
// for the search in use, the latest try for the other) and keeps the cheaper. The other is tried again after
// 16 batches, then after 32, 64 ... 256 while the tries confirm the choice, and after 16 again once the choice
// flips, so a change of sound is followed at little cost.
class SearchChooser {
 public:
  // Whether the next batch takes the bounded search.
  bool Bounded();
  void Record(bool bounded, double cpuSecondsPerQuery);

 private:
  std::mutex mutex_;
  double mean_[2] = {0, 0};  // [flat, bounded]
  int64_t samples_[2] = {0, 0};
  int64_t since_ = 0;      // batches since the last try of the other search
  int64_t interval_ = 16;  // batches between tries
  bool probing_ = false;   // the batch in flight is a try (concurrent batches may blur it: harmless)
};

// What a bounded search needs besides the index: the axes, the database projected onto them, and the
// constants of the rounding bound. Built once per index (setProjection) and read by concurrent searches.
struct Projection {
  int rows = 0;                  // r
  int d = 0;
  int64_t ntotal = 0;            // the index's size when built: a search uses it only while they match
  std::vector<float> axes;       // P, [r, d]
  std::vector<float> projected;  // fl(P b_j), [ntotal, r]
  std::vector<float> norms;      // |fl(P b_j)|^2 as fvec_norms_L2sqr computes them
  float maxNorm = 0;             // the largest of norms
  double sigma = 1;              // |P x| <= sigma |x| for every x
  double frobenius = 0;          // an upper bound of |P|_F
  double bankSlack = 0;          // |fl(P b_j) - P b_j| <= bankSlack for every j
  mutable SearchChooser chooser;
};

// The projection of a flat L2 index's vectors onto `axes` (rows x index->d floats), or null when the
// database holds a non-finite value (the bound would not hold; searches stay flat).
std::shared_ptr<const Projection> BuildProjection(const faiss::IndexFlat* index, const float* axes, int rows);

// Exact 1-NN of n queries: the same distances and labels as FlatSearch(index, n, x, 1, ...). `projection`
// must have been built from this index at its current size.
// `cpuSeconds`, when given, receives the CPU time its threads spent (added to it).
void BoundSearch(const faiss::IndexFlat* index, const Projection& projection, int64_t n, const float* x, float* distances,
                 faiss::Index::idx_t* labels, double* cpuSeconds = nullptr);

// principalAxes(vectors, dim, count) -> Float32Array [count, dim]: the unit eigenvectors of the vectors'
// covariance with the `count` largest eigenvalues, largest first (LAPACK dsyevr). They depend on the BLAS's
// rounding in their last bits; a bounded search's answer does not.
Napi::Value PrincipalAxes(const Napi::CallbackInfo& info);

}  // namespace hark
