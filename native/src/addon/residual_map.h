// The context memory's residual map (libs/detection/src/logmel/context-memory.ts, ContextMemory.score), built
// on the pool thread that searched the window, so that neither the map nor its blur runs on the event loop.
// Every value is computed as the TypeScript computes it, in the same order and in double, so the map is the
// same to the bit (-ffp-contract=off: no multiply-add is fused).
#pragma once

#include <cstdint>

#include "flat_search.h"

namespace hark {

// A blur kernel (odd length, libs/detection gaussianKernel): its taps as float, the radius (length - 1) / 2.
struct BlurKernel {
  const float* taps;
  int64_t length;
};

// `map` ([nMels, windowFrames], bin-major) receives, for each frame t with a full context (h = frames / 2,
// frames odd), the squared difference of the window's column t and the middle column of the memory context
// `labels[t - h]`, in double and rounded to float; the first and last h frames take the nearest such frame's
// value; then the map is blurred along the frames with `alongFrames` and along the bins with `alongBins`
// (gaussianBlur2d: rows first, reflect padding, each output the sum over the taps in order, in double).
void ResidualMap(const ContextColumns& memory, const float* window, int64_t windowFrames, const int32_t* labels,
                 const BlurKernel& alongFrames, const BlurKernel& alongBins, float* map);

}  // namespace hark
