#include "flat_search.h"

#include <faiss/utils/distances.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <vector>

#include "blas.h"
#include "threads.h"

namespace hark {

namespace {

using idx_t = faiss::Index::idx_t;

// Tile of queries x database vectors (a 4 MiB product per thread), folded right after its sgemm while it
// is still in cache. Chosen with hark bench knn on the 2-core EPYC (d 128-1024); HARK_FLAT_TILE="rows,cols"
// overrides it for experiments (read once, thread-safely, at the first search).
struct Tile {
  int64_t rows = 1024;
  int64_t cols = 1024;
};

Tile ReadTile() {
  Tile tile;
  if (const char* s = std::getenv("HARK_FLAT_TILE")) {
    char* end = nullptr;
    long q = std::strtol(s, &end, 10);
    if (end && *end == ',') {
      long b = std::strtol(end + 1, nullptr, 10);
      if (q > 0 && b > 0) tile = {q, b};
    }
  }
  return tile;
}

const Tile& TileSize() {
  static const Tile tile = ReadTile();
  return tile;
}

// keys/labs hold the k best (smallest key) of one query, sorted ascending. A candidate is inserted only
// when strictly better than the k-th: the database is scanned in label order within a thread, so on a tie
// the earlier (smaller) label stays, as in FAISS.
inline void Insert(float* keys, idx_t* labs, int64_t k, float v, idx_t label) {
  int64_t p = k - 1;
  while (p > 0 && keys[p - 1] > v) {
    keys[p] = keys[p - 1];
    labs[p] = labs[p - 1];
    p--;
  }
  keys[p] = v;
  labs[p] = label;
}

// Folds one row of a tile (m products of one query, already scaled by -2 for L2 or -1 for IP) into that
// query's top-k. Blocks of 16 are first tested against the current k-th key with a branch-free,
// vectorisable comparison; only blocks holding a better candidate take the scalar insertion path.
__attribute__((target_clones("avx2", "default")))
void FoldRow(const float* c, const float* yn, int64_t m, idx_t base, float* keys, idx_t* labs, int64_t k) {
  float thr = keys[k - 1];
  int64_t j = 0;
  float v[16];
  for (; j + 16 <= m; j += 16) {
    int below = 0;
    if (yn) {
      for (int l = 0; l < 16; l++) v[l] = c[j + l] + yn[j + l];
    } else {
      for (int l = 0; l < 16; l++) v[l] = c[j + l];
    }
    for (int l = 0; l < 16; l++) below |= v[l] < thr;
    if (!below) continue;
    for (int l = 0; l < 16; l++) {
      if (v[l] < thr) {
        Insert(keys, labs, k, v[l], base + j + l);
        thr = keys[k - 1];
      }
    }
  }
  for (; j < m; j++) {
    float x = yn ? c[j] + yn[j] : c[j];
    if (x < thr) {
      Insert(keys, labs, k, x, base + j);
      thr = keys[k - 1];
    }
  }
}

}  // namespace

bool FlatSearchApplies(const faiss::Index* index, int64_t n, int64_t k) {
  auto* flat = dynamic_cast<const faiss::IndexFlat*>(index);
  if (!flat) return false;
  if (flat->metric_type != faiss::METRIC_L2 && flat->metric_type != faiss::METRIC_INNER_PRODUCT) return false;
  return n >= kFlatSearchMinBatch && k >= 1 && k <= kFlatSearchMaxK && flat->ntotal >= k && flat->d <= (1 << 20);
}

void FlatSearch(const faiss::IndexFlat* index, int64_t n, const float* x, int64_t k, float* distances, idx_t* labels) {
  const Tile& tile = TileSize();
  const bool l2 = index->metric_type == faiss::METRIC_L2;
  const int d = static_cast<int>(index->d);
  const int64_t nb = index->ntotal;
  const float* xb = index->get_xb();
  const int64_t qb = std::min(tile.rows, n);
  const int64_t bb = std::min(tile.cols, nb);
  const int64_t tiles = (nb + bb - 1) / bb;

  std::vector<float> xn;
  if (l2) {
    xn.resize(static_cast<size_t>(n));
    faiss::fvec_norms_L2sqr(xn.data(), x, d, n);
  }

  ApplyThreads();
  const int nt = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(GetNumThreads(), tiles)));
  const float inf = std::numeric_limits<float>::infinity();
  // Per-thread top-k of every query, tile products and bank norms. Allocated here, outside the parallel
  // region: a std::bad_alloc inside it would terminate the process instead of reaching the caller as an error.
  std::vector<float> keys(static_cast<size_t>(nt) * n * k, inf);
  std::vector<idx_t> labs(static_cast<size_t>(nt) * n * k, -1);
  std::vector<float> products(static_cast<size_t>(nt) * qb * bb);
  std::vector<float> norms(l2 ? static_cast<size_t>(nt) * bb : 0);

#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    float* tkeys = keys.data() + static_cast<size_t>(t) * n * k;
    idx_t* tlabs = labs.data() + static_cast<size_t>(t) * n * k;
    float* c = products.data() + static_cast<size_t>(t) * qb * bb;
    float* yn = l2 ? norms.data() + static_cast<size_t>(t) * bb : nullptr;
    const float alpha = l2 ? -2.0f : -1.0f, beta = 0.0f;
    // Contiguous strips of the database per thread: each reads its own part of memory once per query block.
    const int64_t first = tiles * t / nt, last = tiles * (t + 1) / nt;
    for (int64_t tile = first; tile < last; tile++) {
      const int64_t j0 = tile * bb;
      const int m = static_cast<int>(std::min(bb, nb - j0));
      const float* y = xb + j0 * d;
      if (l2) faiss::fvec_norms_L2sqr(yn, y, d, m);
      for (int64_t i0 = 0; i0 < n; i0 += qb) {
        const int rows = static_cast<int>(std::min(qb, n - i0));
        sgemm_("Transpose", "Not transpose", &m, &rows, &d, &alpha, y, &d, x + i0 * d, &d, &beta, c, &m);
        for (int r = 0; r < rows; r++) {
          const int64_t i = i0 + r;
          FoldRow(c + static_cast<size_t>(r) * m, yn, m, j0, tkeys + i * k, tlabs + i * k, k);
        }
      }
    }
  }

  // Merge the threads' lists: smallest key first, the smaller label on a tie.
  std::vector<std::pair<float, idx_t>> cand(static_cast<size_t>(nt) * k);
  for (int64_t i = 0; i < n; i++) {
    size_t m = 0;
    for (int t = 0; t < nt; t++) {
      const size_t off = (static_cast<size_t>(t) * n + i) * k;
      for (int64_t r = 0; r < k; r++)
        if (labs[off + r] >= 0) cand[m++] = {keys[off + r], labs[off + r]};
    }
    std::partial_sort(cand.begin(), cand.begin() + std::min<size_t>(m, k), cand.begin() + m);
    for (int64_t r = 0; r < k; r++) {
      float* dout = distances + i * k + r;
      idx_t* lout = labels + i * k + r;
      if (static_cast<size_t>(r) >= m) {
        *dout = l2 ? inf : -inf;
        *lout = -1;
      } else if (l2) {
        const float dist = cand[r].first + xn[i];
        *dout = dist < 0 ? 0 : dist;
        *lout = cand[r].second;
      } else {
        *dout = -cand[r].first;
        *lout = cand[r].second;
      }
    }
  }
}

}  // namespace hark
