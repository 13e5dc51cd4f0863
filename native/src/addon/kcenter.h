// Greedy k-center coreset selection (PatchCore's memory-bank subsampling) in native code: the fit-time hot
// loop, 10-20x faster than the TypeScript loop (libs/detection/src/components/kcenter-greedy.ts), which
// remains the reference and the fallback.
#pragma once

#include <napi.h>

namespace hark {

// kCenterGreedy(features: Float32Array, dim, count, first) -> Int32Array of `count` row indices in selection
// order, starting at row `first`: each next row is the one farthest (squared L2) from those chosen so far;
// ties go to the smaller index. Runs on the FAISS thread count (OpenMP).
Napi::Value KCenterGreedy(const Napi::CallbackInfo& info);

}  // namespace hark
