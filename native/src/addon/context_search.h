// The context memory's search (ContextSearch, flat_search.h) for JavaScript: a memory of contexts held as
// columns, given as typed arrays on every call (the caller keeps them; nothing is held here between calls).
#pragma once

#include <napi.h>

namespace hark {

// contextNorms(columns: Float32Array, nMels, frames, starts: Int32Array) -> Float32Array: the contexts'
// squared norms, for contextSearch.
Napi::Value ContextNormsJs(const Napi::CallbackInfo& info);

// contextSearch(columns, nMels, frames, starts, norms, window: Float32Array, windowFrames) ->
// {distances: Float32Array, labels: Int32Array}: the exact nearest context of each full context of the
// window ([nMels, windowFrames], bin-major). contextSearchAsync: the same on a libuv pool thread; given two
// blur kernels (Float32Arrays, odd lengths: along the frames, then along the bins) after the window frames,
// its answer also holds `map`, the context memory's blurred residual map (residual_map.h).
Napi::Value ContextSearchJs(const Napi::CallbackInfo& info);
Napi::Value ContextSearchAsyncJs(const Napi::CallbackInfo& info);

}  // namespace hark
