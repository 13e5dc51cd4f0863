#include "flat_search.h"

#include <faiss/utils/distances.h>
#include <omp.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "blas.h"
#include "rounding.h"
#include "rows.h"
#include "threads.h"

namespace hark {

namespace {

using idx_t = faiss::Index::idx_t;
using Ranked = std::pair<float, idx_t>;  // (key, label): ordered by key, then by the smaller label

constexpr float kInf = std::numeric_limits<float>::infinity();

// ---- The rounding bound ------------------------------------------------------------------------------
//
// Notation for one query q and one database vector y (d floats each): Q = |q|^2, Y = |y|^2, P = q.y, all
// exact reals; u = 2^-24 (float), v = 2^-53 (double), gamma_n(u) = n u / (1 - n u). F is ExactDistance
// (the returned distance) and key = F for L2, -F for inner product: smaller keys are nearer.
//
// The sgemm pass computes K = fl(fl(-2 P) + fl(Y)) for L2 (alpha = -2 is an exact scaling, FAISS's
// fvec_norms_L2sqr gives fl(Y)) and K = fl(-P) for inner product (alpha = -1). A dot product of d terms
// summed in any order, with or without fused multiply-adds, is within gamma_d(u) sum |q_i y_i| <=
// gamma_d(u) |q| |y| of P (Higham, Accuracy and Stability of Numerical Algorithms, 3.1), whichever kernel,
// blocking or edge tile OpenBLAS uses. So, with B = (|q| + |y|)^2 >= 2 |q||y| + Y >= |Y - 2 P|:
//   L2: |K - (Y - 2 P)| <= gamma_d(u) (2 |q||y| + Y) + u (1 + gamma_d(u)) (2 |q||y| + Y) <= gamma_{d+1}(u) B
//   IP: |K + P| <= gamma_d(u) |q||y|
// ExactDistance sums exact float-to-double differences' squares (or exact products) in double: each of the
// d terms carries at most 3 roundings of v and the sum d - 1 more, so it is within gamma_{d+3}(v) of
// D = Q + Y - 2 P (L2, a sum of non-negative terms) or of P (IP, against sum |q_i y_i| <= |q||y|); the
// final rounding to float adds u of the result. So |F - D| <= (u + 2 gamma_{d+3}(v)) B, and for IP
// |F - P| <= (u + 2 gamma_{d+3}(v)) |q||y|. Together, with c = Q for L2 and 0 for IP:
//   |K - (key - c)| <= E = (gamma_{d+1}(u) + u + 2 gamma_{d+3}(v)) B          (L2)
//                      (gamma_d(u) + u + 2 gamma_{d+3}(v)) |q||y|               (IP)
// E is doubled for the roundings of the bound itself and of the norms it is computed from, and gets an
// absolute (4 d + 4) 2^-149 for products that underflow to subnormals. |y| is taken as the largest norm
// of the tile (from fl(Y) >= Y (1 - gamma_d(u))), so one E serves a query's whole row of a tile.
//
// Why the shortlist holds the answer: every vector seen so far gives an interval [K - E, K + E] that holds
// key - c. Let T be the k-th smallest upper end K + E seen (a max-heap of k values per query). k real
// vectors have key - c <= T, so the k-th smallest key of the whole database is <= T + c, and a vector whose
// lower end K - E exceeds T has a key strictly larger: it can never be among the k smallest (distance,
// label) pairs, ties included. T only decreases as the scan goes on, so testing each vector against the
// current T keeps a superset of the answer; ranking the superset by (key, label) gives the answer exactly.
//
// The shortlist buffer is bounded (2 k + 32 entries). When it fills, entries above the current T go; if
// that frees too little (many vectors within E of each other: duplicates), the buffer is re-ranked exactly
// on the spot, keeps its k best and tightens T to the exact k-th key. Re-ranking costs d operations per
// entry, no more than checking those near-ties exactly would, so no input makes the search fail or fall
// back to another path; a bank of all-equal vectors costs one exact pass over it.

// Per-problem coefficients of E (see above): E = scale * (|q| + |y|)^2 for L2, scale * |q||y| for IP.
struct Bound {
  double scale;
  double absolute;
  double normGamma;  // fl(Y) >= Y (1 - normGamma)
  bool l2;

  Bound(int d, bool isL2)
      : scale(2 * ((isL2 ? Gamma(d + 1, kUnitFloat) : Gamma(d, kUnitFloat)) + kUnitFloat + 2 * Gamma(d + 3, kUnitDouble))),
        absolute((4.0 * d + 4) * 0x1p-149),
        normGamma(Gamma(d, kUnitFloat)),
        l2(isL2) {}

  // E for a query of norm at most qnorm against vectors whose computed squared norms are at most maxYn.
  double Slack(double qnorm, float maxYn) const {
    const double ynorm = std::sqrt(static_cast<double>(maxYn) / (1 - normGamma));
    return (l2 ? scale * (qnorm + ynorm) * (qnorm + ynorm) : scale * qnorm * ynorm) + absolute;
  }
};

// ---- Shortlists ---------------------------------------------------------------------------------------

// The shape of one search.
struct Context {
  Rows rows;  // the database, read as floats (decoded from codes for uint8 storage, rows.h)
  int d;
  bool l2;
  int64_t k;
  int64_t capacity;  // shortlist entries per query and thread
};

// One thread's working memory for exact re-ranking: the ranked pairs, and a row decoded from codes.
struct Scratch {
  Ranked* ranked;
  float* row;  // d floats (uint8 storage only)

  float Distance(const float* query, idx_t label, const Context& c) const {
    return ExactDistance(query, c.rows.Row(label, row), c.d, c.l2);
  }
};

// One query's candidates in one thread.
struct Shortlist {
  float* bound;          // the k smallest upper ends K + E seen: a max-heap, bound[0] the largest
  float* low;            // the candidates' lower ends K - E
  idx_t* lab;            // and their labels
  int64_t count = 0;
  float exact = kInf;    // the exact k-th key - c after a re-rank (an upper end too)
  const float* query;    // the query's d floats
  double shift = 0;      // c = |q|^2 as computed (L2), 0 (IP)
  double shiftSlack = 0; // |c computed - c exact| <= shiftSlack

  float Threshold() const { return std::min(bound[0], exact); }
};

// Every thread's shortlist of every query (`lists[thread * n + query]`) and the queries' norms for the bound,
// set up before the search: the searches allocate everything outside their parallel regions, where a
// std::bad_alloc would terminate the process instead of reaching the caller as an error.
struct Shortlists {
  std::vector<float> bounds, lows;
  std::vector<idx_t> labs;
  std::vector<Shortlist> lists;
  std::vector<double> qnorm;  // an upper bound of each query's norm

  Shortlists(const float* x, int64_t n, int d, bool l2, int64_t k, int64_t capacity, int nt)
      : bounds(static_cast<size_t>(nt) * n * k, kInf),
        lows(static_cast<size_t>(nt) * n * capacity),
        labs(static_cast<size_t>(nt) * n * capacity),
        lists(static_cast<size_t>(nt) * n),
        qnorm(static_cast<size_t>(n)) {
    for (int64_t i = 0; i < n; i++) {
      const float* q = x + i * d;
      double sq = 0;
      for (int t = 0; t < d; t++) sq += static_cast<double>(q[t]) * q[t];
      const double sqSlack = 2 * Gamma(d, kUnitDouble) * sq;  // |sq - |q|^2| <= gamma_d(v) |q|^2
      qnorm[i] = std::sqrt(sq + sqSlack);
      for (int t = 0; t < nt; t++) {
        Shortlist& s = lists[t * n + i];
        s.bound = bounds.data() + (t * n + i) * k;
        s.low = lows.data() + (t * n + i) * capacity;
        s.lab = labs.data() + (t * n + i) * capacity;
        s.query = q;
        s.shift = l2 ? sq : 0;
        s.shiftSlack = l2 ? sqSlack : 0;
      }
    }
  }
};

float Key(float distance, bool l2) { return l2 ? distance : -distance; }

// Replaces a max-heap's top with v (v < heap[0]) and restores the heap.
void ReplaceTop(float* heap, int64_t k, float v) {
  int64_t i = 0;
  for (;;) {
    int64_t child = 2 * i + 1;
    if (child >= k) break;
    if (child + 1 < k && heap[child + 1] > heap[child]) child++;
    if (heap[child] <= v) break;
    heap[i] = heap[child];
    i = child;
  }
  heap[i] = v;
}

// Ranks a shortlist exactly, keeps its k best and tightens its threshold to the exact k-th key.
void Rerank(Shortlist& s, const Context& c, const Scratch& sc) {
  Ranked* scratch = sc.ranked;
  for (int64_t i = 0; i < s.count; i++) scratch[i] = {Key(sc.Distance(s.query, s.lab[i], c), c.l2), s.lab[i]};
  const int64_t keep = std::min(s.count, c.k);
  std::partial_sort(scratch, scratch + keep, scratch + s.count);
  for (int64_t i = 0; i < keep; i++) {
    s.low[i] = RoundDown(scratch[i].first - s.shift - s.shiftSlack);
    s.lab[i] = scratch[i].second;
  }
  if (keep == c.k) s.exact = std::min(s.exact, RoundUp(scratch[keep - 1].first - s.shift + s.shiftSlack));
  s.count = keep;
}

// Frees room in a full shortlist: drops entries above the threshold, and re-ranks if that freed too little.
// Afterwards count < capacity (capacity > k whenever a shortlist can fill: see FlatSearch).
void MakeRoom(Shortlist& s, const Context& c, const Scratch& scratch) {
  const float threshold = s.Threshold();
  int64_t m = 0;
  for (int64_t i = 0; i < s.count; i++) {
    if (s.low[i] <= threshold) {
      s.low[m] = s.low[i];
      s.lab[m] = s.lab[i];
      m++;
    }
  }
  s.count = m;
  if (m > c.k + (c.capacity - c.k) / 2) Rerank(s, c, scratch);
}

// Offers a vector with sgemm key K = v and slack e to a shortlist.
inline void Admit(Shortlist& s, const Context& c, float v, double e, idx_t label, const Scratch& scratch) {
  const float low = RoundDown(v - e);
  if (low > s.Threshold()) return;
  if (s.count == c.capacity) MakeRoom(s, c, scratch);
  s.low[s.count] = low;
  s.lab[s.count] = label;
  s.count++;
  const float up = RoundUp(v + e);
  if (up < s.bound[0]) ReplaceTop(s.bound, c.k, up);
}

// The largest sgemm key that may still enter the shortlist.
inline float Limit(const Shortlist& s, double e) { return RoundUp(s.Threshold() + e); }

// Folds one row of a tile (m products of one query, already scaled by -2 for L2 or -1 for IP) into that
// query's shortlist. Blocks of 16 are first tested against the limit with a branch-free, vectorisable
// comparison; only blocks holding a candidate take the scalar path.
__attribute__((target_clones("avx2", "default")))
void FoldRow(const float* p, const float* yn, int64_t m, idx_t base, double e, Shortlist& s, const Context& c, const Scratch& scratch) {
  float limit = Limit(s, e);
  int64_t j = 0;
  float v[16];
  for (; j + 16 <= m; j += 16) {
    int below = 0;
    if (c.l2) {
      for (int l = 0; l < 16; l++) v[l] = p[j + l] + yn[j + l];
    } else {
      for (int l = 0; l < 16; l++) v[l] = p[j + l];
    }
    for (int l = 0; l < 16; l++) below |= v[l] <= limit;
    if (!below) continue;
    for (int l = 0; l < 16; l++) {
      if (v[l] <= limit) {
        Admit(s, c, v[l], e, base + j + l, scratch);
        limit = Limit(s, e);
      }
    }
  }
  for (; j < m; j++) {
    const float x = c.l2 ? p[j] + yn[j] : p[j];
    if (x <= limit) {
      Admit(s, c, x, e, base + j, scratch);
      limit = Limit(s, e);
    }
  }
}

// Writes query i's answer from every thread's shortlist: the k smallest (key, label) pairs by exact key.
void Answer(const std::vector<Shortlist>& lists, int nt, int64_t n, int64_t i, const Context& c, const Scratch& sc, float* distances, idx_t* labels) {
  Ranked* scratch = sc.ranked;
  float threshold = kInf;
  for (int t = 0; t < nt; t++) threshold = std::min(threshold, lists[t * n + i].Threshold());
  int64_t m = 0;
  for (int t = 0; t < nt; t++) {
    const Shortlist& s = lists[t * n + i];
    for (int64_t r = 0; r < s.count; r++)
      if (s.low[r] <= threshold)
        scratch[m++] = {Key(sc.Distance(s.query, s.lab[r], c), c.l2), s.lab[r]};
  }
  const int64_t keep = std::min(m, c.k);
  std::partial_sort(scratch, scratch + keep, scratch + m);
  for (int64_t r = 0; r < c.k; r++) {
    distances[i * c.k + r] = r < keep ? Key(scratch[r].first, c.l2) : (c.l2 ? FLT_MAX : -FLT_MAX);
    labels[i * c.k + r] = r < keep ? scratch[r].second : -1;
  }
}

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

// out[i] = p0[off + i] + p1[off + 1 + i] + ... + p_{frames-1}[off + frames - 1 + i] for i < len, where p_c is
// row t + c of the m-wide product tile: the products of `len` consecutive contexts with query t, summed in the
// same order for every context.
__attribute__((target_clones("avx2", "default")))
void SumDiagonals(const float* p, int64_t m, int64_t t, int frames, int64_t off, int64_t len, float* out) {
  const float* p0 = p + t * m + off;
  for (int64_t i = 0; i < len; i++) out[i] = p0[i];
  for (int c = 1; c < frames; c++) {
    const float* pc = p + (t + c) * m + off + c;
    for (int64_t i = 0; i < len; i++) out[i] += pc[i];
  }
}

}  // namespace

float ExactDistance(const float* a, const float* b, int d, bool l2) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const int tail = d & ~3;
  int t = 0;
  if (l2) {
    for (; t < tail; t += 4) {
      const double d0 = static_cast<double>(a[t]) - b[t];
      const double d1 = static_cast<double>(a[t + 1]) - b[t + 1];
      const double d2 = static_cast<double>(a[t + 2]) - b[t + 2];
      const double d3 = static_cast<double>(a[t + 3]) - b[t + 3];
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    for (; t < d; t++) {
      const double e = static_cast<double>(a[t]) - b[t];
      s0 += e * e;
    }
  } else {
    for (; t < tail; t += 4) {
      s0 += static_cast<double>(a[t]) * b[t];
      s1 += static_cast<double>(a[t + 1]) * b[t + 1];
      s2 += static_cast<double>(a[t + 2]) * b[t + 2];
      s3 += static_cast<double>(a[t + 3]) * b[t + 3];
    }
    for (; t < d; t++) s0 += static_cast<double>(a[t]) * b[t];
  }
  return static_cast<float>(s0 + s1 + s2 + s3);
}

bool FlatSearchApplies(const faiss::Index* index) {
  if (!StorageOf(index)) return false;
  if (index->metric_type != faiss::METRIC_L2 && index->metric_type != faiss::METRIC_INNER_PRODUCT) return false;
  return index->d <= (1 << 20);
}

std::vector<float> RowNorms(const faiss::Index* index) {
  const Rows rows = RowsOf(index);
  const int d = rows.d;
  const int64_t nb = rows.ntotal;
  std::vector<float> out(static_cast<size_t>(nb));
  // Blocks of the tile's height, decoded for uint8 storage (each row's norm depends on that row only).
  const int64_t bb = std::max<int64_t>(1, std::min<int64_t>(TileSize().cols, nb));
  std::unique_ptr<float[]> buf(rows.quantized() ? new float[static_cast<size_t>(bb) * d] : nullptr);
  for (int64_t j0 = 0; j0 < nb; j0 += bb) {
    const int64_t m = std::min(bb, nb - j0);
    faiss::fvec_norms_L2sqr(out.data() + j0, rows.Block(j0, m, buf.get()), d, m);
  }
  return out;
}

void FlatSearch(const faiss::Index* index, int64_t n, const float* x, int64_t k, float* distances, idx_t* labels, int maxThreads,
                double* cpuSeconds, const float* rowNorms) {
  const Tile& tile = TileSize();
  const bool l2 = index->metric_type == faiss::METRIC_L2;
  const int d = static_cast<int>(index->d);
  const int64_t nb = index->ntotal;
  // A shortlist holds at most nb entries, so with capacity nb it never fills; otherwise capacity > k.
  const Context context{RowsOf(index), d, l2, k, std::max<int64_t>(1, std::min<int64_t>(2 * k + 32, nb))};
  const Bound bound(d, l2);
  const int64_t qb = std::min(tile.rows, n);
  const int64_t bb = std::max<int64_t>(1, std::min(tile.cols, nb));
  const int64_t tiles = (nb + bb - 1) / bb;
  const int64_t blocks = (n + qb - 1) / qb;
  // Work items: one tile of the database against one block of queries, database-major. Threads take
  // contiguous runs of items, so a database of several tiles is split into strips (each thread reads its
  // part of memory once per query block) and a database of one tile is split by queries.
  const int64_t items = tiles * blocks;

  ApplyThreads();
  const int threads = maxThreads > 0 ? std::min(maxThreads, GetNumThreads()) : GetNumThreads();
  const int nt = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, items)));
  // A tile is one thread's unit of work. With a single item, OpenBLAS (OpenMP build) would thread the
  // sgemm itself, outside any parallel region: its team's wake-up and spinning cost far more than the
  // product (806 x 97 x 256: 13 ms of CPU against 0.8 on one thread, 2-core EPYC under load), so a search
  // of one item runs on this thread alone. Inside a region of several threads OpenBLAS runs single anyway.
  // The setting is this thread's (an OpenMP ICV of the calling thread) and is put back on return, so a later
  // search of several items on the same libuv thread still gets its team.
  OneThread oneThread(nt == 1);
  // Everything is allocated here, outside the parallel regions: a std::bad_alloc inside one would
  // terminate the process instead of reaching the caller as an error.
  Shortlists all(x, n, d, l2, k, context.capacity, nt);
  std::vector<Shortlist>& shortlists = all.lists;
  const std::vector<double>& qnorm = all.qnorm;
  std::vector<float> products(static_cast<size_t>(nt) * qb * bb);
  std::vector<float> norms(rowNorms ? 0 : static_cast<size_t>(nt) * bb);
  const size_t scratchSize = static_cast<size_t>(nt) * context.capacity;
  std::vector<Ranked> scratch(static_cast<size_t>(nt) * scratchSize);
  // uint8 storage: each thread decodes its tile (the sgemm's operand) and the rows it re-ranks. Uninitialised:
  // every value is written before it is read.
  const bool decode = context.rows.quantized();
  std::unique_ptr<float[]> tileBufs(decode ? new float[static_cast<size_t>(nt) * bb * d] : nullptr);
  std::unique_ptr<float[]> rowBufs(decode ? new float[static_cast<size_t>(nt) * d] : nullptr);
  auto scratchOf = [&](int t) {
    return Scratch{scratch.data() + t * scratchSize, decode ? rowBufs.get() + static_cast<size_t>(t) * d : nullptr};
  };

  std::vector<double> cpu(static_cast<size_t>(nt), 0.0);
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const double cpu0 = cpuSeconds ? ThreadCpuSeconds() : 0;
    float* p = products.data() + static_cast<size_t>(t) * qb * bb;
    const float* yn = nullptr;  // the norms of tile `normed`: rowNorms', or computed into this thread's part of `norms`
    float* ynBuf = rowNorms ? nullptr : norms.data() + static_cast<size_t>(t) * bb;
    const Scratch tscratch = scratchOf(t);
    float* decoded = decode ? tileBufs.get() + static_cast<size_t>(t) * bb * d : nullptr;  // the tile `normed`, decoded
    const float alpha = l2 ? -2.0f : -1.0f, beta = 0.0f;
    const int64_t first = items * t / nt, last = items * (t + 1) / nt;
    int64_t normed = -1;  // the tile whose norms yn holds
    float maxYn = 0;
    for (int64_t item = first; item < last; item++) {
      const int64_t tile = item / blocks, i0 = (item % blocks) * qb;
      const int64_t j0 = tile * bb;
      const int m = static_cast<int>(std::min(bb, nb - j0));
      const float* y = decode ? decoded : context.rows.xb + j0 * d;
      if (decode && tile != normed) context.rows.Block(j0, m, decoded);
      if (tile != normed) {
        if (rowNorms) {
          yn = rowNorms + j0;
        } else {
          faiss::fvec_norms_L2sqr(ynBuf, y, d, m);
          yn = ynBuf;
        }
        maxYn = *std::max_element(yn, yn + m);
        normed = tile;
      }
      const int rows = static_cast<int>(std::min(qb, n - i0));
      sgemm_("Transpose", "Not transpose", &m, &rows, &d, &alpha, y, &d, x + i0 * d, &d, &beta, p, &m);
      for (int r = 0; r < rows; r++) {
        const int64_t i = i0 + r;
        FoldRow(p + static_cast<size_t>(r) * m, yn, m, j0, bound.Slack(qnorm[i], maxYn), shortlists[t * n + i], context, tscratch);
      }
    }
    if (cpuSeconds) cpu[t] += ThreadCpuSeconds() - cpu0;
  }

#pragma omp parallel num_threads(nt)
  {
    const double cpu0 = cpuSeconds ? ThreadCpuSeconds() : 0;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; i++)
      Answer(shortlists, nt, n, i, context, scratchOf(omp_get_thread_num()), distances, labels);
    if (cpuSeconds) cpu[omp_get_thread_num()] += ThreadCpuSeconds() - cpu0;
  }
  if (cpuSeconds)
    for (double c : cpu) *cpuSeconds += c;
}

std::vector<float> ContextNorms(const float* columns, const int32_t* starts, int64_t count, int nMels, int frames) {
  // Each column's squared norm once, in double, then each context's as the sum of its columns', rounded once
  // to float: within u (1 + gamma_d(v)) Y of Y, inside the gamma_d(u) Y the shortlists' bound allows for fl(Y).
  const int64_t nCols = count > 0 ? static_cast<int64_t>(starts[count - 1]) + frames : 0;
  std::vector<double> col(static_cast<size_t>(nCols));
  for (int64_t i = 0; i < nCols; i++) {
    const float* v = columns + i * nMels;
    double sq = 0;
    for (int m = 0; m < nMels; m++) sq += static_cast<double>(v[m]) * v[m];
    col[i] = sq;
  }
  std::vector<float> out(static_cast<size_t>(count));
  for (int64_t j = 0; j < count; j++) {
    double sq = 0;
    for (int c = 0; c < frames; c++) sq += col[starts[j] + c];
    out[j] = static_cast<float>(sq);
  }
  return out;
}

void ContextSearch(const ContextColumns& memory, const float* window, int64_t windowFrames, float* distances, idx_t* labels) {
  const int nMels = memory.nMels, frames = memory.frames, d = nMels * frames;
  const int64_t n = windowFrames - frames + 1, nb = memory.count, k = 1;
  Rows rows;
  rows.d = d;
  rows.ntotal = nb;
  rows.columns = memory.columns;
  rows.starts = memory.starts;
  rows.nMels = nMels;
  rows.frames = frames;
  const Context context{rows, d, true, k, std::max<int64_t>(1, std::min<int64_t>(2 * k + 32, nb))};
  const Bound bound(d, true);
  // Tiles of whole contexts spanning at most the flat search's tile width in columns (one context at least).
  struct Tile {
    int64_t j0, j1, c0;
    int m;
  };
  const int64_t width = std::max<int64_t>(TileSize().cols, frames);
  std::vector<Tile> tiles;
  for (int64_t j0 = 0; j0 < nb;) {
    const int64_t c0 = memory.starts[j0];
    int64_t j1 = j0, c1 = c0;
    while (j1 < nb && memory.starts[j1] + frames - c0 <= width) c1 = std::max<int64_t>(c1, memory.starts[j1++] + frames);
    tiles.push_back({j0, j1, c0, static_cast<int>(c1 - c0)});
    j0 = j1;
  }
  ApplyThreads();
  const int nt = static_cast<int>(std::max<size_t>(1, std::min<size_t>(GetNumThreads(), tiles.size())));
  // One thread: OpenBLAS would thread a lone sgemm itself (see FlatSearch); inside a region it runs serially.
  OneThread oneThread(nt == 1);
  // The queries as contexts (bin-major, for ExactDistance) and the window as columns (for the product).
  std::vector<float> queries(static_cast<size_t>(n) * d);
  std::vector<float> cols(static_cast<size_t>(windowFrames) * nMels);
  for (int64_t t = 0; t < n; t++)
    for (int m = 0; m < nMels; m++)
      for (int c = 0; c < frames; c++) queries[t * d + m * frames + c] = window[m * windowFrames + t + c];
  for (int64_t i = 0; i < windowFrames; i++)
    for (int m = 0; m < nMels; m++) cols[i * nMels + m] = window[m * windowFrames + i];
  // Every allocation out here, outside the parallel regions (see FlatSearch).
  Shortlists all(queries.data(), n, d, true, k, context.capacity, nt);
  std::vector<Shortlist>& shortlists = all.lists;
  const std::vector<double>& qnorm = all.qnorm;
  std::vector<Ranked> ranked(static_cast<size_t>(nt) * context.capacity);
  std::vector<float> rowBufs(static_cast<size_t>(nt) * d);
  std::vector<float> products(static_cast<size_t>(nt) * windowFrames * width);
  std::vector<float> sums(static_cast<size_t>(nt) * width);
  struct Run {
    int64_t first, len, off;
  };
  std::vector<std::vector<Run>> runs(static_cast<size_t>(nt), std::vector<Run>(static_cast<size_t>(width)));
  const int wf = static_cast<int>(windowFrames);
  const int64_t ntiles = static_cast<int64_t>(tiles.size());
#pragma omp parallel num_threads(nt)
  {
    const int th = omp_get_thread_num();
    const Scratch scratch{ranked.data() + static_cast<size_t>(th) * context.capacity, rowBufs.data() + static_cast<size_t>(th) * d};
    float* p = products.data() + static_cast<size_t>(th) * windowFrames * width;
    float* sum = sums.data() + static_cast<size_t>(th) * width;
    Run* run = runs[th].data();
    const float alpha = -2.0f, beta = 0.0f;
    for (int64_t ti = ntiles * th / nt; ti < ntiles * (th + 1) / nt; ti++) {
      const Tile& tile = tiles[ti];
      int m = tile.m;
      // Runs of consecutive starts: their diagonal sums are contiguous.
      int64_t nr = 0;
      for (int64_t j = tile.j0; j < tile.j1;) {
        int64_t r = j + 1;
        while (r < tile.j1 && memory.starts[r] == memory.starts[r - 1] + 1) r++;
        run[nr++] = {j - tile.j0, r - j, memory.starts[j] - tile.c0};
        j = r;
      }
      sgemm_("Transpose", "Not transpose", &m, &wf, &nMels, &alpha, memory.columns + tile.c0 * nMels, &nMels, cols.data(), &nMels, &beta,
             p, &m);
      const float maxYn = *std::max_element(memory.norms + tile.j0, memory.norms + tile.j1);
      for (int64_t t = 0; t < n; t++) {
        for (int64_t r = 0; r < nr; r++) SumDiagonals(p, m, t, frames, run[r].off, run[r].len, sum + run[r].first);
        FoldRow(sum, memory.norms + tile.j0, tile.j1 - tile.j0, tile.j0, bound.Slack(qnorm[t], maxYn), shortlists[th * n + t], context,
                scratch);
      }
    }
  }
#pragma omp parallel num_threads(nt)
  {
    const int th = omp_get_thread_num();
    const Scratch scratch{ranked.data() + static_cast<size_t>(th) * context.capacity, rowBufs.data() + static_cast<size_t>(th) * d};
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; i++) Answer(shortlists, nt, n, i, context, scratch, distances, labels);
  }
}

}  // namespace hark
