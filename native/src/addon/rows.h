// The vectors of a flat index as floats, whichever way it holds them: a faiss::IndexFlat's floats read in
// place, or a faiss::IndexScalarQuantizer's one-byte codes (QT_8bit, factory 'SQ8', storage 'uint8') decoded.
//
// hark encodes and decodes the codes itself (Sq8Train, Sq8Add, Rows::Decode), with the formulas of
// src/types.ts (`Storage`) in plain float operations (-ffp-contract=off): the layout and the decoding are
// FAISS's QT_8bit ones, so the bytes are a valid FAISS index, but every decoded value is one fixed float that
// the TypeScript fallback computes too. The exact searches (flat_search.h, bound_search.h) take those decoded
// floats as the database: their rounding arguments hold for any float database, so a uint8 index answers
// exactly over its decoded vectors, bit for bit on every BLAS and on both backends.
#pragma once

#include <faiss/Index.h>
#include <faiss/IndexScalarQuantizer.h>

#include <cstdint>
#include <string>

namespace hark {

// A faiss::IndexScalarQuantizer with 8-bit per-dimension codes (the one quantiser hark decodes), or null.
const faiss::IndexScalarQuantizer* AsSq8(const faiss::Index* index);
faiss::IndexScalarQuantizer* AsSq8(faiss::Index* index);

// "float32" for a faiss::IndexFlat, "uint8" for AsSq8, null for other indexes.
const char* StorageOf(const faiss::Index* index);

// Read access to the rows of a flat index (float32 or uint8). Cheap to copy; valid while the index is unchanged.
struct Rows {
  int d = 0;
  int64_t ntotal = 0;
  const float* xb = nullptr;       // float32 storage
  const uint8_t* codes = nullptr;  // uint8 storage: [ntotal, d] codes
  const float* vmin = nullptr;     // and per dimension the range's start
  const float* vdiff = nullptr;    // and its width
  // Contexts of columns (ContextSearch, flat_search.h): row j is the `frames` columns of `nMels` floats from
  // column starts[j] on, bin-major (value (m, c) at m * frames + c), assembled into the caller's buffer.
  const float* columns = nullptr;
  const int32_t* starts = nullptr;
  int nMels = 0;
  int frames = 0;

  bool quantized() const { return codes != nullptr; }
  // Whether Row writes into the caller's buffer (decoded codes or assembled contexts).
  bool buffered() const { return codes != nullptr || columns != nullptr; }
  // Row j as floats: a pointer into the index, or `buf` (d floats) holding it decoded.
  const float* Row(int64_t j, float* buf) const;
  // Rows [j0, j0 + m) as floats: a pointer into the index, or `buf` (m * d floats) holding them decoded.
  const float* Block(int64_t j0, int64_t m, float* buf) const;
};

// The rows of a faiss::IndexFlat or an AsSq8 index (the caller checked it is one of them).
Rows RowsOf(const faiss::Index* index);

// Throws ERR_HARK_FAISS_CORRUPT, naming `what`, when a uint8 index read from bytes is inconsistent (codes not
// ntotal x d, a trained index without d ranges of finite values): FAISS's reader does not check it, and a search
// would read past the arrays. Other indexes pass.
void CheckRead(const faiss::Index* index, const std::string& what);

// Sets a uint8 index's per-dimension ranges from n sample vectors (throws HarkError: no vectors, a non-finite
// value, or an index that already holds codes, whose meaning the new ranges would change).
void Sq8Train(faiss::IndexScalarQuantizer* index, int64_t n, const float* x);

// Encodes and appends n vectors (throws HarkError on a non-finite value, before anything is stored).
void Sq8Add(faiss::IndexScalarQuantizer* index, int64_t n, const float* x);

}  // namespace hark
