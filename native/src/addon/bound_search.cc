#include "bound_search.h"

#include <faiss/utils/distances.h>
#include <omp.h>
#include <sys/mman.h>

#include <algorithm>
#include <new>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "blas.h"
#include "errors.h"
#include "flat_search.h"
#include "rounding.h"
#include "rows.h"
#include "threads.h"

extern "C" {
// LAPACK (linked with -llapack, as FAISS's own PCA uses it), Fortran interface, column-major.
int ssyrk_(const char* uplo, const char* trans, const int* n, const int* k, const float* alpha, const float* a, const int* lda,
           const float* beta, float* c, const int* ldc);
int dsyevr_(const char* jobz, const char* range, const char* uplo, const int* n, double* a, const int* lda, const double* vl,
            const double* vu, const int* il, const int* iu, const double* abstol, int* m, double* w, double* z, const int* ldz,
            int* isuppz, double* work, const int* lwork, int* iwork, const int* liwork, int* info);
}

namespace hark {

namespace {

using idx_t = faiss::Index::idx_t;

// ---- The bound ------------------------------------------------------------------------------------------
//
// Notation for one query q and one database vector b (d floats each); u = 2^-24, v = 2^-53, gamma_n(w) =
// n w / (1 - n w); P the axes (r x d floats, exact reals as stored), F(b) = ExactDistance(q, b) the distance
// every flat search returns, D = |q - b|^2 the exact real.
//
// 1. sigma. |P x|^2 <= lambda_max(P P^T) |x|^2 <= (1 + |P P^T - I|_F) |x|^2 for any x and any P. The Gram
//    matrix is computed in double from exact float products: each entry within gamma_d(v) |P_k||P_l| of the
//    real one, so |P P^T - I|_F as computed, plus 2 gamma_d(v) r |P|_F^2, bounds the real defect.
// 2. The projections. fl(P b) and fl(P q) come from sgemm (any kernel, any order, fused or not): component
//    k is within gamma_d(u) sum_i |P_ki b_i| <= gamma_d(u) |P_k| |b| of P_k.b (Higham 3.1), so
//    |fl(P b) - P b| <= gamma_d(u) |P|_F |b|. bankSlack takes the largest |b| of the database; a query's
//    slack uses its own |q|. Both are doubled for the roundings of their own computation, plus an absolute
//    r (d + 1) 2^-149 for products that underflow.
// 3. The projected pass. With p = fl(P q), y = fl(P b) (floats, taken as exact from here), sgemm and the
//    addition of fl(|y|^2) give K with |K - (|y|^2 - 2 p.y)| <= gamma_{r+1}(u) (|p| + |y|)^2 (the flat
//    search's argument at dimension r; |y| taken as the largest of the database), doubled, plus an absolute
//    (4 r + 4) 2^-149. |p|^2 is summed in double (within gamma_r(v) of itself). So
//      L = K + |p|^2 - E - e  <=  |p - y|^2,  E, e these two slacks.
// 4. Back to q and b. |P (q - b)| >= |p - y| - |p - P q| - |y - P b|, so
//      |q - b| >= (sqrt(L) - slack_q - bankSlack) / sigma.
// 5. Back to F. ExactDistance sums exact float-to-double differences' squares (each with at most two
//    roundings of v) in double, d - 1 additions of non-negative terms, then rounds once to float: F >= D (1 -
//    gamma_{d+3}(v)) (1 - u) - 2^-150. With eta = 2 (u + gamma_{d+3}(v)) and an absolute 2^-149,
//    F >= D (1 - eta) - 2^-149.
// Together: with t = sqrt((F* + 2^-149) / (1 - eta)), a row whose K exceeds
//      Limit(F*) = (sigma t + slack_q + bankSlack)^2 - |p|^2 + E + e
// has D > t^2, so F > F*: its (distance, label) pair is larger than the best one found, ties included (a
// row with F = F* has K <= Limit(F*) and is measured). Limit is computed in double, widened by 1e-9 of its
// terms (double rounding is 1e-16) and rounded up to a float.

double SquaredNorm(const float* x, int d) {
  double s = 0;
  for (int t = 0; t < d; t++) s += static_cast<double>(x[t]) * x[t];
  return s;
}

// Query blocks: at most this many products (queries x database rows) in flight, 16 MiB.
constexpr int64_t kBlockProducts = int64_t{1} << 22;

// A query goes to the flat search when more than this share of the database survives its first bound: an
// exact row is gathered on its own (d floats out of cache), about 9 times the cost of a row of the blocked
// sgemm (158 against 18 ns per row measured on the dev corpus's 8496 x 640 memories, BENCHMARKS.md, issue
// 16 lever 3), so past an eighth the flat product is cheaper. Both give the same answer.
constexpr int64_t kFallbackShare = 8;

// The constants one query's limits need.
struct QueryBound {
  double sigma, slack, shift, add, eta;
  float Limit(double best) const {
    const double t = std::sqrt((best + 0x1p-149) / (1 - eta));
    const double reach = sigma * t + slack;
    const double limit = reach * reach - shift + add;
    return RoundUp(limit + 1e-9 * (reach * reach + shift + add) + 1e-30);
  }
};

}  // namespace

bool SearchChooser::Bounded() {
  std::lock_guard<std::mutex> lock(mutex_);
  // Two batches of each first (the bounded one first), then the cheaper; the other is tried again after
  // `interval_` batches, an interval that doubles (to 256) while the tries confirm the choice, and, when the
  // try must rebuild the projected database, after `tryQueries_` queries as well.
  if (samples_[1] < 2) return true;
  if (samples_[0] < 2) return false;
  const bool cheaper = mean_[1] <= mean_[0];
  // A try of the bounded search waits for the queries that pay its rebuild, unless the projected database
  // is still held (a flip that no try has confirmed yet).
  if (++since_ < interval_ || (!cheaper && !unconfirmed_ && queriesSince_ < tryQueries_)) return cheaper;
  since_ = 0;
  queriesSince_ = 0;
  probing_ = true;
  return !cheaper;
}

bool SearchChooser::KeepsBank() const {
  return samples_[1] < 2 || samples_[0] < 2 || mean_[1] <= mean_[0] || unconfirmed_;
}

bool SearchChooser::Record(bool bounded, double cpuSecondsPerQuery, int64_t queries) {
  std::lock_guard<std::mutex> lock(mutex_);
  queriesSince_ += queries;
  const bool measured = samples_[0] >= 2 && samples_[1] >= 2;
  const bool before = mean_[1] <= mean_[0];
  const int i = bounded ? 1 : 0;
  // A try replaces what is known of the search it tries (that is older than the interval, so the sound may
  // have changed since); the search in use keeps a moving mean.
  const double weight = probing_ ? 1.0 : samples_[i] < 4 ? 1.0 / static_cast<double>(samples_[i] + 1) : 1.0 / 4;
  mean_[i] += weight * (cpuSecondsPerQuery - mean_[i]);
  samples_[i]++;
  const bool after = mean_[1] <= mean_[0];
  if (!probing_) {
    // The search in use grew dearer than the other's last try: one costly batch (an anomalous window, whose
    // contexts are far from every normal one, so the bound prunes little) can do that. The other search is
    // tried again after 16 batches, with the projected database kept until a try confirms the flip.
    if (measured && after != before) {
      interval_ = 16;
      since_ = 0;
      unconfirmed_ = true;
    }
    return KeepsBank();
  }
  probing_ = false;
  unconfirmed_ = false;
  interval_ = after == before ? std::min<int64_t>(2 * interval_, 256) : 16;
  return KeepsBank();
}

const char* SearchChooser::Choice() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (samples_[1] < 2 || samples_[0] < 2) return "measuring";
  return mean_[1] <= mean_[0] ? "bounded" : "flat";
}

ProjectedBank::ProjectedBank(int64_t ntotal, int rows)
    : ntotal_(ntotal), rows_(rows), bytes_(static_cast<size_t>(ntotal) * (static_cast<size_t>(rows) + 1) * sizeof(float)), data_(nullptr) {
  if (bytes_ == 0) return;
  void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  data_ = static_cast<float*>(p);
}

ProjectedBank::~ProjectedBank() {
  if (data_) munmap(data_, bytes_);
}

std::shared_ptr<const ProjectedBank> Projection::Bank(const faiss::Index* index) const {
  std::lock_guard<std::mutex> lock(bankMutex_);
  if (bank_ || notFinite_) return bank_;
  // fl(P b_j): row-major [nb, r] is column-major [r, nb] = P^T' X.
  auto bank = std::make_shared<ProjectedBank>(ntotal, rows);
  if (ntotal > 0) {
    const float one = 1, zero = 0;
    const int r = rows, dd = d;
    const Rows db = RowsOf(index);
    // Float storage in one product; codes decoded a block of rows at a time (any blocking: the bound holds
    // for any sgemm).
    const int64_t block = db.quantized() ? 4096 : ntotal;
    std::vector<float> decoded(db.quantized() ? static_cast<size_t>(block) * d : 0);
    for (int64_t j0 = 0; j0 < ntotal; j0 += block) {
      const int n = static_cast<int>(std::min(block, ntotal - j0));
      sgemm_("Transpose", "Not transpose", &r, &n, &dd, &one, axes.data(), &dd, db.Block(j0, n, decoded.data()), &dd, &zero,
             bank->projected() + j0 * r, &r);
    }
    faiss::fvec_norms_L2sqr(bank->norms(), bank->projected(), rows, ntotal);
    bank->maxNorm = *std::max_element(bank->norms(), bank->norms() + ntotal);
    // BuildProjection refused vectors long enough to overflow, so this holds; if not, searches stay flat.
    if (!std::isfinite(bank->maxNorm)) {
      notFinite_ = true;
      return nullptr;
    }
  }
  builds_++;
  bank_ = std::move(bank);
  return bank_;
}

void Projection::Release() const {
  std::shared_ptr<const ProjectedBank> old;
  {
    std::lock_guard<std::mutex> lock(bankMutex_);
    old.swap(bank_);
  }
}

size_t Projection::BankBytes() const {
  std::lock_guard<std::mutex> lock(bankMutex_);
  return bank_ ? bank_->bytes() : 0;
}

int64_t Projection::Builds() const {
  std::lock_guard<std::mutex> lock(bankMutex_);
  return builds_;
}

std::shared_ptr<const Projection> BuildProjection(const faiss::Index* index, const float* axes, int rows) {
  const int d = static_cast<int>(index->d);
  const int64_t nb = index->ntotal;
  const Rows db = RowsOf(index);
  std::vector<float> row(static_cast<size_t>(d));
  auto p = std::make_shared<Projection>(rows);
  p->d = d;
  p->ntotal = nb;
  p->axes.assign(axes, axes + static_cast<size_t>(rows) * d);

  // 1. sigma and |P|_F.
  double frob2 = 0, defect2 = 0;
  for (int k = 0; k < rows; k++) {
    for (int l = k; l < rows; l++) {
      double g = 0;
      const float* a = axes + static_cast<size_t>(k) * d;
      const float* b = axes + static_cast<size_t>(l) * d;
      for (int t = 0; t < d; t++) g += static_cast<double>(a[t]) * b[t];
      if (k == l) frob2 += g;
      const double e = g - (k == l ? 1.0 : 0.0);
      defect2 += (k == l ? 1.0 : 2.0) * e * e;
    }
  }
  p->frobenius = std::sqrt(frob2 * (1 + 2 * Gamma(d, kUnitDouble))) * (1 + 1e-12);
  const double defect = std::sqrt(defect2) * (1 + 1e-12) + 2 * Gamma(d, kUnitDouble) * rows * p->frobenius * p->frobenius + 1e-300;
  p->sigma = std::sqrt(1 + defect) * (1 + 1e-12);

  // The database's largest norm (in double: exact enough, and a non-finite value disables the bound).
  double maxB = 0;
  for (int64_t j = 0; j < nb; j++) {
    const double s = SquaredNorm(db.Row(j, row.data()), d);
    if (!std::isfinite(s)) return nullptr;
    maxB = std::max(maxB, s);
  }
  const double bNorm = std::sqrt(maxB * (1 + 2 * Gamma(d, kUnitDouble)));
  // Every projection is within |P|_F |b| (1 + gamma_d(u)) and its squared norm within the square of that:
  // below 1e18 both stay far inside float's range (3.4e38), so Bank's projections are finite.
  if (!(p->frobenius * bNorm < 1e18)) return nullptr;
  p->bankSlack = 2 * Gamma(d, kUnitFloat) * p->frobenius * bNorm + rows * (d + 1.0) * 0x1p-149;
  return p;
}

namespace {

// The constants of one search, shared by its threads.
struct Search {
  const faiss::Index* index;
  Rows rows;
  const Projection& pr;
  const ProjectedBank& bank;
  const float* x;
  double eta, passScale, yNorm, passAbsolute;
};

// Searches queries [begin, end) on the calling thread; a query the bound cannot narrow gets label kToFlat.
constexpr idx_t kToFlat = -2;

void SearchRange(const Search& s, int64_t begin, int64_t end, float* distances, idx_t* labels) {
  const Projection& pr = s.pr;
  const int d = pr.d, r = pr.rows;
  const int64_t nb = pr.ntotal;
  std::vector<float> decoded(static_cast<size_t>(d));  // a row decoded from codes (uint8 storage)
  const float* norms = s.bank.norms();
  const int64_t qb = std::max<int64_t>(1, std::min<int64_t>(end - begin, kBlockProducts / nb));
  std::vector<float> qp(static_cast<size_t>(qb) * r);
  std::vector<float> products(static_cast<size_t>(qb) * nb);
  std::vector<std::pair<float, idx_t>> candidates;
  for (int64_t i0 = begin; i0 < end; i0 += qb) {
    const int rowsHere = static_cast<int>(std::min(qb, end - i0));
    const float* q0 = s.x + i0 * d;
    const float one = 1, minusTwo = -2, zero = 0;
    const int nbi = static_cast<int>(nb);
    // fl(P q) for the block: column-major [r, rows] = P^T' Q.
    sgemm_("Transpose", "Not transpose", &r, &rowsHere, &d, &one, pr.axes.data(), &d, q0, &d, &zero, qp.data(), &r);
    // -2 fl(P q).fl(P b): column-major [nb, rows] = Y^T' (P q), as the flat search lays its tiles out.
    sgemm_("Transpose", "Not transpose", &nbi, &rowsHere, &r, &minusTwo, s.bank.projected(), &r, qp.data(), &r, &zero,
           products.data(), &nbi);
    for (int row = 0; row < rowsHere; row++) {
      const int64_t i = i0 + row;
      const float* q = s.x + i * d;
      const float* pq = qp.data() + static_cast<size_t>(row) * r;
      float* key = products.data() + static_cast<size_t>(row) * nb;
      const double qn2 = SquaredNorm(q, d), pn2 = SquaredNorm(pq, r);
      if (!std::isfinite(qn2) || !std::isfinite(pn2)) {
        labels[i] = kToFlat;
        continue;
      }
      const double pNorm = std::sqrt(pn2 * (1 + 2 * Gamma(r, kUnitDouble)));
      QueryBound bound;
      bound.sigma = pr.sigma;
      bound.slack = 2 * Gamma(d, kUnitFloat) * pr.frobenius * std::sqrt(qn2 * (1 + 2 * Gamma(d, kUnitDouble))) +
                    r * (d + 1.0) * 0x1p-149 + pr.bankSlack;
      bound.shift = pn2;
      bound.add = 2 * s.passScale * (pNorm + s.yNorm) * (pNorm + s.yNorm) + s.passAbsolute + 2 * Gamma(r, kUnitDouble) * pn2;
      bound.eta = s.eta;
      // K = fl(-2 p.y) + fl(|y|^2), as the flat search forms its keys; the row of smallest K is measured first.
      // The smallest key in a register: reading key[first] back after each store made every row wait for the
      // previous row's comparison (most of this loop's time). The same row as before: the first of the smallest.
      key[0] += norms[0];
      int64_t first = 0;
      float firstKey = key[0];
      for (int64_t j = 1; j < nb; j++) {
        const float v = key[j] + norms[j];
        key[j] = v;
        if (v < firstKey) {
          firstKey = v;
          first = j;
        }
      }
      float best = ExactDistance(q, s.rows.Row(first, decoded.data()), d, true);
      idx_t label = first;
      float limit = bound.Limit(best);
      candidates.clear();
      for (int64_t j = 0; j < nb; j++)
        if (key[j] <= limit && j != first) candidates.emplace_back(key[j], j);
      if (static_cast<int64_t>(candidates.size()) * kFallbackShare > nb) {
        labels[i] = kToFlat;
        continue;
      }
      std::sort(candidates.begin(), candidates.end());
      for (const auto& [k, j] : candidates) {
        if (k > limit) break;
        const float e = ExactDistance(q, s.rows.Row(j, decoded.data()), d, true);
        if (e < best || (e == best && j < label)) {
          best = e;
          label = j;
          limit = bound.Limit(best);
        }
      }
      distances[i] = best;
      labels[i] = label;
    }
  }
}

}  // namespace

void BoundSearch(const faiss::Index* index, const Projection& pr, const ProjectedBank& bank, int64_t n, const float* x, float* distances, idx_t* labels,
                 double* cpuSeconds, const float* rowNorms) {
  if (n == 0) return;
  const int d = pr.d, r = pr.rows;
  if (pr.ntotal == 0) {
    FlatSearch(index, n, x, 1, distances, labels, 0, cpuSeconds, rowNorms);
    return;
  }
  // 3. The projected pass's slack: the flat search's at dimension r, |y| the largest projected norm.
  const Search search{index,
                      RowsOf(index),
                      pr,
                      bank,
                      x,
                      2 * (kUnitFloat + Gamma(d + 3, kUnitDouble)),
                      2 * Gamma(r + 1, kUnitFloat),
                      std::sqrt(static_cast<double>(bank.maxNorm) / (1 - Gamma(r, kUnitFloat))),
                      (4.0 * r + 4) * 0x1p-149};
  // Queries are split between the addon's threads (at least 16 each: a window of the context memory, 59
  // queries, takes two); each runs its own small products serially (OpenBLAS does inside a parallel region,
  // and OneThread makes a lone thread do the same instead of waking a team).
  const int nt = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(GetNumThreads(), n / 16)));
  {
    OneThread oneThread;
    std::vector<double> cpu(static_cast<size_t>(nt), 0.0);
    if (nt == 1) {
      const double cpu0 = ThreadCpuSeconds();
      SearchRange(search, 0, n, distances, labels);
      cpu[0] = ThreadCpuSeconds() - cpu0;
    } else {
#pragma omp parallel num_threads(nt)
      {
        const int t = omp_get_thread_num();
        const double cpu0 = ThreadCpuSeconds();
        SearchRange(search, n * t / nt, n * (t + 1) / nt, distances, labels);
        cpu[t] = ThreadCpuSeconds() - cpu0;
      }
    }
    if (cpuSeconds)
      for (double c : cpu) *cpuSeconds += c;
  }
  // Queries the bound could not narrow (or non-finite ones; about 1 % of a window's on most memories): the
  // flat search, which gives every query the answer it would have had in the whole batch.
  std::vector<int64_t> flat;
  for (int64_t i = 0; i < n; i++)
    if (labels[i] == kToFlat) flat.push_back(i);
  if (flat.empty()) return;
  const int64_t m = static_cast<int64_t>(flat.size());
  std::vector<float> gathered(static_cast<size_t>(m) * d);
  for (int64_t k = 0; k < m; k++) std::copy(x + flat[k] * d, x + (flat[k] + 1) * d, gathered.data() + k * d);
  std::vector<float> dist(static_cast<size_t>(m));
  std::vector<idx_t> lab(static_cast<size_t>(m));
  FlatSearch(index, m, gathered.data(), 1, dist.data(), lab.data(), 0, cpuSeconds, rowNorms);
  for (int64_t k = 0; k < m; k++) {
    distances[flat[k]] = dist[k];
    labels[flat[k]] = lab[k];
  }
}

Napi::Value PrincipalAxes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guard(env, [&]() -> Napi::Value {
    const int64_t dim = GetInt(info[1], "dim", 1, 1 << 16);
    int64_t n = 0;
    Napi::Float32Array vectors = GetMatrix(info[0], "vectors", dim, &n);
    const int64_t count = GetInt(info[2], "count", 1, dim);
    if (n < 2) throw HarkError(code::kArg, "principalAxes needs at least two rows, got " + std::to_string(n), ErrorKind::Range);
    if (n > INT32_MAX) throw HarkError(code::kArg, "principalAxes: too many rows for LAPACK", ErrorKind::Range);
    const float* x = vectors.Data();
    const int d = static_cast<int>(dim), rows = static_cast<int>(n), m = static_cast<int>(count);
    std::vector<double> mean(static_cast<size_t>(d), 0.0);
    for (int64_t j = 0; j < n; j++)
      for (int t = 0; t < d; t++) mean[t] += x[j * d + t];
    for (double& v : mean) v /= static_cast<double>(n);
    std::vector<float> centred(static_cast<size_t>(n) * d);
    for (int64_t j = 0; j < n; j++)
      for (int t = 0; t < d; t++) {
        const float v = static_cast<float>(x[j * d + t] - mean[t]);
        if (!std::isfinite(v)) throw HarkError(code::kArg, "principalAxes: vectors hold a non-finite value", ErrorKind::Range);
        centred[static_cast<size_t>(j) * d + t] = v;
      }
    // The scatter matrix X^T X of the centred rows (upper triangle, column-major d x d), then in double.
    std::vector<float> scatter(static_cast<size_t>(d) * d, 0.0f);
    {
      ApplyThreads();
      const float one = 1, zero = 0;
      ssyrk_("Upper", "Not transpose", &d, &rows, &one, centred.data(), &d, &zero, scatter.data(), &d);
    }
    centred = {};
    std::vector<double> a(scatter.begin(), scatter.end());
    // The m largest eigenpairs (indices d - m + 1 .. d, ascending), eigenvectors in z (column-major d x m).
    const int il = d - m + 1, iu = d, ldz = d;
    const double vl = 0, vu = 0, abstol = 0;
    int found = 0, infoCode = 0, lwork = -1, liwork = -1, iworkSize = 0;
    double workSize = 0;
    std::vector<double> w(static_cast<size_t>(d)), z(static_cast<size_t>(d) * m);
    std::vector<int> isuppz(static_cast<size_t>(2) * m);
    dsyevr_("V", "I", "U", &d, a.data(), &d, &vl, &vu, &il, &iu, &abstol, &found, w.data(), z.data(), &ldz, isuppz.data(), &workSize,
            &lwork, &iworkSize, &liwork, &infoCode);
    if (infoCode != 0) throw HarkError(code::kInternal, "principalAxes: LAPACK dsyevr workspace query failed (" + std::to_string(infoCode) + ")");
    lwork = static_cast<int>(workSize);
    liwork = iworkSize;
    std::vector<double> work(static_cast<size_t>(lwork));
    std::vector<int> iwork(static_cast<size_t>(liwork));
    dsyevr_("V", "I", "U", &d, a.data(), &d, &vl, &vu, &il, &iu, &abstol, &found, w.data(), z.data(), &ldz, isuppz.data(), work.data(),
            &lwork, iwork.data(), &liwork, &infoCode);
    if (infoCode != 0 || found != m)
      throw HarkError(code::kInternal, "principalAxes: LAPACK dsyevr failed (info " + std::to_string(infoCode) + ", " +
                                           std::to_string(found) + " of " + std::to_string(m) + " eigenvectors)");
    Napi::Float32Array out = Napi::Float32Array::New(env, static_cast<size_t>(m) * d);
    for (int k = 0; k < m; k++) {
      const double* v = z.data() + static_cast<size_t>(m - 1 - k) * d;
      for (int t = 0; t < d; t++) out[static_cast<size_t>(k) * d + t] = static_cast<float>(v[t]);
    }
    return out;
  });
}

}  // namespace hark
