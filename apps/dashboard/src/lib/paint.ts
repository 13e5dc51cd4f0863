/**
 * Bytes -> pixels. The canvas side (ImageData, drawImage) lives in the components; these functions fill a
 * `Uint32Array` view of an image so they can be tested without a browser.
 *
 * Images are `width` columns by `nMels` rows with mel bin 0 (the lowest frequency) on the bottom row.
 */
import type { GridRect } from '../charts/options/layout';

/**
 * Paints `length` frame-major columns of `bytes` (`[columns, nMels]`) starting at column `from` into `out`
 * (an image `width` wide, `nMels` high) at x offset `x`.
 */
export function paintColumns(
  bytes: Uint8Array,
  nMels: number,
  from: number,
  length: number,
  lut: Uint32Array,
  out: Uint32Array,
  width: number,
  x = 0,
): void {
  for (let c = 0; c < length; c++) {
    const src = (from + c) * nMels;
    let dst = (nMels - 1) * width + x + c;
    for (let m = 0; m < nMels; m++) {
      out[dst] = lut[bytes[src + m]];
      dst -= width;
    }
  }
}

/**
 * The backing size of a canvas drawn under `rect` in a chart container `containerWidth` CSS pixels wide: its
 * CSS box times the device pixel ratio, capped at 2 (the images drawn into it have far fewer columns than
 * the screen has pixels, so more would only paint more interpolated pixels), and at least 1 by 1.
 */
export function canvasSize(
  rect: GridRect,
  containerWidth: number,
  devicePixelRatio: number,
): { width: number; height: number } {
  const dpr = Math.min(2, devicePixelRatio || 1);
  return {
    width: Math.max(1, Math.round((containerWidth - rect.left - rect.right) * dpr)),
    height: Math.max(1, Math.round(rect.height * dpr)),
  };
}

/** Decodes base64 (as sent in `AlertSpectrogram`) to bytes. */
export function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** socket.io delivers binary fields as `ArrayBuffer` in browsers (and `Buffer`/`Uint8Array` in Node). */
export function asBytes(data: ArrayBuffer | ArrayBufferView | number[]): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return Uint8Array.from(data);
}
