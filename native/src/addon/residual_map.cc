#include "residual_map.h"

#include <vector>

namespace hark {

namespace {

// numpy / torch 'reflect' (the edge not repeated), for kernels wider than the line too (gaussian-blur.ts).
int64_t Reflect(int64_t i, int64_t n) {
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  i = ((i % period) + period) % period;
  return i < n ? i : period - i;
}

// One axis of the blur over `lines` lines of `n` cells `stride` apart, line l starting at l * lineStep
// (gaussian-blur.ts, blurAxis): out[p] = sum over j = -r..r, in that order, of k[j + r] * src[reflect(p + j)].
void BlurAxis(const float* src, float* dst, int64_t lines, int64_t lineStep, int64_t n, int64_t stride,
              const BlurKernel& k) {
  const int64_t r = (k.length - 1) / 2;
  for (int64_t l = 0; l < lines; l++) {
    const int64_t base = l * lineStep;
    for (int64_t p = 0; p < n; p++) {
      double s = 0;
      if (p - r >= 0 && p + r < n) {
        const float* at = src + base + (p - r) * stride;
        for (int64_t t = 0; t < k.length; t++, at += stride)
          s += static_cast<double>(k.taps[t]) * static_cast<double>(*at);
      } else {
        for (int64_t j = -r; j <= r; j++)
          s += static_cast<double>(k.taps[j + r]) * static_cast<double>(src[base + Reflect(p + j, n) * stride]);
      }
      dst[base + p * stride] = static_cast<float>(s);
    }
  }
}

}  // namespace

void ResidualMap(const ContextColumns& memory, const float* window, int64_t windowFrames, const int32_t* labels,
                 const BlurKernel& alongFrames, const BlurKernel& alongBins, float* map) {
  const int64_t nMels = memory.nMels, wf = windowFrames, h = memory.frames / 2;
  const int64_t n = wf - 2 * h;
  std::vector<float> raw(static_cast<size_t>(nMels * wf));
  for (int64_t j = 0; j < n; j++) {
    const int64_t t = j + h;
    const float* middle = memory.columns + (static_cast<int64_t>(memory.starts[labels[j]]) + h) * nMels;
    for (int64_t m = 0; m < nMels; m++) {
      const double d = static_cast<double>(window[m * wf + t]) - static_cast<double>(middle[m]);
      raw[m * wf + t] = static_cast<float>(d * d);
    }
  }
  for (int64_t m = 0; m < nMels; m++) {
    for (int64_t t = 0; t < h; t++) {
      raw[m * wf + t] = raw[m * wf + h];
      raw[m * wf + wf - 1 - t] = raw[m * wf + wf - 1 - h];
    }
  }
  std::vector<float> rows(raw.size());
  BlurAxis(raw.data(), rows.data(), nMels, wf, wf, 1, alongFrames);
  BlurAxis(rows.data(), map, wf, 1, nMels, wf, alongBins);
}

}  // namespace hark
