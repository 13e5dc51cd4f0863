/**
 * Connected-component labelling of a binary mask with 8-connectivity (a cell touches the 8 cells around it,
 * diagonals included). This is what the AUPRO references use: MVTec AD's evaluation code calls
 * `scipy.ndimage.label(mask, structure=np.ones((3, 3)))` and anomalib calls `cv2.connectedComponents(mask)`
 * (default connectivity 8) or kornia's `connected_components` (3x3 max-pooling, also 8-connected).
 */

/** Labelled components of one mask. */
export interface Components {
  /** Per-cell component id, same layout as the mask: 0 = background, 1..count = components. */
  labels: Int32Array;
  /** Number of components. */
  count: number;
  /** `sizes[k - 1]` = number of cells of component k. */
  sizes: Int32Array;
}

/**
 * Labels the 8-connected components of `mask` (non-zero = foreground), numbered in raster order of their
 * first cell, like `scipy.ndimage.label`.
 *
 * @param mask - row-major `[rows, cols]` (for a spectrogram: `[nMels, nFrames]`).
 * @param rows - number of rows (mel bins).
 * @param cols - number of columns (frames).
 */
export function connectedComponents8(mask: ArrayLike<number>, rows: number, cols: number): Components {
  if (mask.length !== rows * cols) {
    throw new Error(`mask length (${mask.length}) must equal rows * cols (${rows} * ${cols})`);
  }
  const labels = new Int32Array(mask.length);
  const stack = new Int32Array(mask.length);
  const sizes: number[] = [];
  let count = 0;
  for (let start = 0; start < mask.length; start++) {
    if (mask[start] === 0 || labels[start] !== 0) continue;
    count++;
    labels[start] = count;
    let top = 0;
    stack[top++] = start;
    let size = 0;
    while (top > 0) {
      const cell = stack[--top];
      size++;
      const r = (cell / cols) | 0;
      const c = cell - r * cols;
      for (let dr = -1; dr <= 1; dr++) {
        const rr = r + dr;
        if (rr < 0 || rr >= rows) continue;
        for (let dc = -1; dc <= 1; dc++) {
          const cc = c + dc;
          if (cc < 0 || cc >= cols) continue;
          const next = rr * cols + cc;
          if (mask[next] !== 0 && labels[next] === 0) {
            labels[next] = count;
            stack[top++] = next;
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, count, sizes: Int32Array.from(sizes) };
}
