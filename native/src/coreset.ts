import { loaded } from './load.js';

/**
 * Greedy k-center selection in the addon (PatchCore's coreset): `count` row indices of `features`
 * (`[n, dim]`) in selection order, starting at row `first`, each next one the row farthest (squared L2) from
 * those chosen so far, ties to the smaller index. Returns null when the addon is not loaded: the caller then
 * runs its own TypeScript loop (libs/detection kcenter-greedy.ts), which this matches up to float32 rounding.
 */
export function nativeKCenterGreedy(
  features: Float32Array,
  dim: number,
  count: number,
  first: number,
): Int32Array | null {
  return loaded.addon ? loaded.addon.kCenterGreedy(features, dim, count, first) : null;
}

/**
 * The `count` leading principal axes of `vectors` (`[n, dim]`, n >= 2): unit eigenvectors of their
 * covariance, largest eigenvalue first, `[count, dim]` (LAPACK in the addon). For FlatIndex.setProjection.
 * Returns null when the addon is not loaded (the TypeScript backend searches flat, with the same answers).
 */
export function principalAxes(vectors: Float32Array, dim: number, count: number): Float32Array | null {
  return loaded.addon ? loaded.addon.principalAxes(vectors, dim, count) : null;
}
