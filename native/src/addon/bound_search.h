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
#include <functional>
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
// flips, so a change of sound is followed at little cost. A flip by the search in use (its moving mean passing
// the other's last try: one anomalous window whose contexts are far from every normal one can do it) is judged
// the same way, by a try of the search it left after 16 batches, and the projected database is kept until that
// try: so one costly window does not leave a memory on the dearer search for hundreds of batches.
//
// While the flat search is kept, the projected database is freed (Projection::Release): it is as large as r / d
// of the memory, and a memory the bound does not help should not pay for it. A try of the bounded search then
// builds it again, one product of the database with the r axes: the flat search's cost for r queries. So that
// rebuilding costs at most 1/64 of the flat search it checks, such a try also waits for 64 r to 96 r flat
// queries (12288 at r = 192 and more: about two minutes of one sensor's windows), spread by a hash of the
// memory's address so that memories loaded together do not all rebuild at once. A memory whose bound does
// not pay is one whose sound leaves every context far from the rest (noise-like), and such a sound does not
// turn into a steady one within seconds.
class SearchChooser {
 public:
  SearchChooser(int64_t rebuildQueries, uint64_t seed)
      : tryQueries_(64 * rebuildQueries + static_cast<int64_t>(seed % static_cast<uint64_t>(32 * rebuildQueries + 1))) {}
  // Whether the next batch takes the bounded search.
  bool Bounded();
  // Records a batch of `queries`. Returns whether the projected database is worth keeping: false once the
  // flat search is the choice.
  bool Record(bool bounded, double cpuSecondsPerQuery, int64_t queries);
  // 'measuring' (the first two batches of each), 'bounded' or 'flat': the choice for the batches to come.
  const char* Choice();

 private:
  bool KeepsBank() const;

  std::mutex mutex_;
  double mean_[2] = {0, 0};  // [flat, bounded]
  int64_t samples_[2] = {0, 0};
  int64_t since_ = 0;         // batches since the last try of the other search
  int64_t queriesSince_ = 0;  // queries since then
  int64_t interval_ = 16;     // batches between tries
  int64_t tryQueries_;        // queries between tries of the bounded search while the flat one is kept
  bool probing_ = false;      // the batch in flight is a try (concurrent batches may blur it: harmless)
  bool unconfirmed_ = false;  // the search in use flipped the choice and no try has judged it yet
};

// The database projected onto the axes: built when a bounded search needs it, freed while the flat search is
// kept. In pages of its own (mmap), so that freeing it gives the memory back to the system; an allocation from
// malloc's arenas may stay in the process.
class ProjectedBank {
 public:
  ProjectedBank(int64_t ntotal, int rows);
  ~ProjectedBank();
  ProjectedBank(const ProjectedBank&) = delete;
  ProjectedBank& operator=(const ProjectedBank&) = delete;
  float* projected() const { return data_; }           // fl(P b_j), [ntotal, r]
  float* norms() const { return data_ + ntotal_ * rows_; }  // |fl(P b_j)|^2 as fvec_norms_L2sqr computes them
  size_t bytes() const { return bytes_; }
  float maxNorm = 0;  // the largest of norms

 private:
  int64_t ntotal_;
  int64_t rows_;
  size_t bytes_;
  float* data_;
};

// What a bounded search needs besides the index: the axes, the database projected onto them (on demand), and
// the constants of the rounding bound. Built once per index (setProjection) and read by concurrent searches.
struct Projection {
  explicit Projection(int rows) : rows(rows), chooser(rows, std::hash<const void*>{}(this) * 0x9E3779B97F4A7C15ull >> 17) {}
  int rows;                      // r
  int d = 0;
  int64_t ntotal = 0;            // the index's size when built: a search uses it only while they match
  std::vector<float> axes;       // P, [r, d]
  double sigma = 1;              // |P x| <= sigma |x| for every x
  double frobenius = 0;          // an upper bound of |P|_F
  double bankSlack = 0;          // |fl(P b_j) - P b_j| <= bankSlack for every j
  mutable SearchChooser chooser;

  // The projected database of `index` (the one this was built from), built now if it was freed. Null when a
  // projection is not finite (then the search is flat).
  std::shared_ptr<const ProjectedBank> Bank(const faiss::Index* index) const;
  // Frees the projected database (searches holding it keep it until they end).
  void Release() const;
  // What it holds now, and how many times it was built.
  size_t BankBytes() const;
  int64_t Builds() const;

 private:
  mutable std::mutex bankMutex_;
  mutable std::shared_ptr<const ProjectedBank> bank_;
  mutable int64_t builds_ = 0;
  mutable bool notFinite_ = false;  // a build gave a non-finite projection: Bank answers null from then on
};

// The projection of a flat L2 index's vectors (float32 or uint8 storage, rows.h: decoded) onto `axes` (rows x index->d floats), or null when the
// database holds a non-finite value or vectors so long that a projection could overflow (the bound would not
// hold; searches stay flat). The projected database itself is built by the first bounded search.
std::shared_ptr<const Projection> BuildProjection(const faiss::Index* index, const float* axes, int rows);

// Exact 1-NN of n queries: the same distances and labels as FlatSearch(index, n, x, 1, ...). `projection`
// must have been built from this index at its current size, and `bank` by projection.Bank(index).
// `cpuSeconds`, when given, receives the CPU time its threads spent (added to it); `rowNorms`, when given, is
// RowNorms(index), for the queries that go on to the flat search.
void BoundSearch(const faiss::Index* index, const Projection& projection, const ProjectedBank& bank, int64_t n, const float* x, float* distances,
                 faiss::Index::idx_t* labels, double* cpuSeconds = nullptr, const float* rowNorms = nullptr);

// principalAxes(vectors, dim, count) -> Float32Array [count, dim]: the unit eigenvectors of the vectors'
// covariance with the `count` largest eigenvalues, largest first (LAPACK dsyevr). They depend on the BLAS's
// rounding in their last bits; a bounded search's answer does not.
Napi::Value PrincipalAxes(const Napi::CallbackInfo& info);

}  // namespace hark
