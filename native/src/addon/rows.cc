#include "rows.h"

#include <faiss/IndexFlat.h>

#include <cmath>
#include <string>
#include <vector>

#include "errors.h"

namespace hark {

namespace {

// One dimension's value from its code: vmin + ((code + 0.5) / 255) * vdiff, each operation rounded to float
// (the TypeScript fallback computes Math.fround of each step, which is the same float).
__attribute__((target_clones("avx2", "default")))
void DecodeRows(const uint8_t* codes, int64_t m, int d, const float* vmin, const float* vdiff, float* out) {
  for (int64_t j = 0; j < m; j++) {
    const uint8_t* c = codes + j * d;
    float* o = out + j * d;
    for (int i = 0; i < d; i++) o[i] = vmin[i] + ((static_cast<float>(c[i]) + 0.5f) / 255.0f) * vdiff[i];
  }
}

void CheckFinite(int64_t n, int d, const float* x) {
  const int64_t count = n * d;
  for (int64_t t = 0; t < count; t++)
    if (!std::isfinite(x[t])) throw HarkError(code::kArg, "vectors hold a non-finite value", ErrorKind::Range);
}

}  // namespace

const faiss::IndexScalarQuantizer* AsSq8(const faiss::Index* index) {
  auto* sq = dynamic_cast<const faiss::IndexScalarQuantizer*>(index);
  return sq && sq->sq.qtype == faiss::ScalarQuantizer::QT_8bit && sq->code_size == static_cast<size_t>(sq->d) ? sq : nullptr;
}

faiss::IndexScalarQuantizer* AsSq8(faiss::Index* index) {
  return const_cast<faiss::IndexScalarQuantizer*>(AsSq8(static_cast<const faiss::Index*>(index)));
}

const char* StorageOf(const faiss::Index* index) {
  if (dynamic_cast<const faiss::IndexFlat*>(index)) return "float32";
  if (AsSq8(index)) return "uint8";
  return nullptr;
}

const float* Rows::Row(int64_t j, float* buf) const {
  if (columns) {
    const float* col = columns + static_cast<int64_t>(starts[j]) * nMels;
    for (int c = 0; c < frames; c++)
      for (int m = 0; m < nMels; m++) buf[m * frames + c] = col[c * nMels + m];
    return buf;
  }
  if (!codes) return xb + j * d;
  DecodeRows(codes + j * d, 1, d, vmin, vdiff, buf);
  return buf;
}

const float* Rows::Block(int64_t j0, int64_t m, float* buf) const {
  if (!codes) return xb + j0 * d;
  DecodeRows(codes + j0 * d, m, d, vmin, vdiff, buf);
  return buf;
}

Rows RowsOf(const faiss::Index* index) {
  Rows rows;
  rows.d = static_cast<int>(index->d);
  rows.ntotal = index->ntotal;
  if (auto* flat = dynamic_cast<const faiss::IndexFlat*>(index)) {
    rows.xb = flat->get_xb();
  } else if (auto* sq = AsSq8(index)) {
    rows.codes = sq->codes.data();
    rows.vmin = sq->sq.trained.data();
    rows.vdiff = sq->sq.trained.data() + sq->d;
  }
  return rows;
}

void CheckRead(const faiss::Index* index, const std::string& what) {
  auto* sq = AsSq8(index);
  if (!sq) return;
  const size_t d = static_cast<size_t>(sq->d);
  bool ok = sq->ntotal >= 0 && sq->codes.size() == static_cast<size_t>(sq->ntotal) * d;
  if (sq->is_trained) {
    ok = ok && sq->sq.trained.size() == 2 * d;
    for (size_t i = 0; ok && i < sq->sq.trained.size(); i++) ok = std::isfinite(sq->sq.trained[i]);
  } else {
    ok = ok && sq->ntotal == 0;
  }
  if (!ok)
    throw HarkError(code::kCorrupt, what + " is not a FAISS index or is damaged: an 8-bit index whose ranges or codes do not match its size");
}

void Sq8Train(faiss::IndexScalarQuantizer* index, int64_t n, const float* x) {
  if (n < 1) throw HarkError(code::kArg, "train needs at least one vector", ErrorKind::Range);
  if (index->ntotal > 0)
    throw HarkError(code::kUnsupported,
                    "train on a uint8 flat index that holds vectors would change what its codes mean; reset() it or build a new index");
  const int d = static_cast<int>(index->d);
  CheckFinite(n, d, x);
  std::vector<float> trained(2 * static_cast<size_t>(d));
  for (int i = 0; i < d; i++) {
    float lo = x[i], hi = x[i];
    for (int64_t j = 1; j < n; j++) {
      const float v = x[j * d + i];
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    const float width = hi - lo;
    if (!std::isfinite(width))
      throw HarkError(code::kArg, "vectors span a range wider than float holds in dimension " + std::to_string(i), ErrorKind::Range);
    trained[i] = lo;
    trained[d + i] = width;
  }
  index->sq.trained = std::move(trained);
  index->is_trained = true;
}

void Sq8Add(faiss::IndexScalarQuantizer* index, int64_t n, const float* x) {
  const int d = static_cast<int>(index->d);
  CheckFinite(n, d, x);
  const float* vmin = index->sq.trained.data();
  const float* vdiff = vmin + d;
  const size_t at = index->codes.size();
  index->codes.resize(at + static_cast<size_t>(n) * d);
  uint8_t* out = index->codes.data() + at;
  for (int64_t j = 0; j < n; j++) {
    for (int i = 0; i < d; i++) {
      int code = 0;
      if (vdiff[i] != 0) {
        float t = (x[j * d + i] - vmin[i]) / vdiff[i];
        if (!(t > 0)) t = 0;
        if (t > 1) t = 1;
        code = static_cast<int>(255.0f * t);
        if (code > 255) code = 255;
      }
      out[j * d + i] = static_cast<uint8_t>(code);
    }
  }
  index->ntotal += n;
}

}  // namespace hark
