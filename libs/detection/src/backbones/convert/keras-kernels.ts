/**
 * Keras kernel layouts to ONNX, and TF padding rules as ONNX attributes.
 */

/** ONNX `Conv` spatial attributes: explicit `[top, left, bottom, right]` pads or TF-style auto padding. */
export type SpatialAttrs = { pads: number[] } | { auto_pad: 'SAME_UPPER' | 'VALID' };

/**
 * Conv2D kernel `[kh, kw, cin, cout]` (HWIO) to `[cout, cin, kh, kw]`. With `sumInputs`, the input channels are
 * summed into one: a convolution of `cin` identical channels equals the summed kernel applied to one channel.
 */
export function kernelToOihw(
  k: Float32Array,
  kh: number,
  kw: number,
  cin: number,
  cout: number,
  sumInputs: boolean,
): Float32Array {
  const inOut = sumInputs ? 1 : cin;
  const w = new Float32Array(cout * inOut * kh * kw);
  const acc = new Float64Array(sumInputs ? cout * kh * kw : 0);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let c = 0; c < cin; c++) {
        for (let o = 0; o < cout; o++) {
          const v = k[((i * kw + j) * cin + c) * cout + o];
          if (sumInputs) acc[(o * kh + i) * kw + j] += v;
          else w[((o * cin + c) * kh + i) * kw + j] = v;
        }
      }
    }
  }
  if (sumInputs) w.set(acc);
  return w;
}

/** DepthwiseConv2D kernel `[kh, kw, cin, mult]` to grouped `[cin * mult, 1, kh, kw]` (output `c * mult + m`). */
export function depthwiseToOihw(
  k: Float32Array,
  kh: number,
  kw: number,
  cin: number,
  mult: number,
): Float32Array {
  const w = new Float32Array(cin * mult * kh * kw);
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      for (let c = 0; c < cin; c++) {
        for (let m = 0; m < mult; m++)
          w[((c * mult + m) * kh + i) * kw + j] = k[((i * kw + j) * cin + c) * mult + m];
      }
    }
  }
  return w;
}

/**
 * TF padding as ONNX attributes. "valid": none. "same" with stride 1: the fixed total `(k - 1) * d` split with
 * the odd pixel at the end. "same" with a larger stride depends on the input size, so it becomes
 * `auto_pad = SAME_UPPER`, which ONNX defines exactly as TF does (extra padding at the end).
 */
export function poolOrConvPads(
  padding: string,
  kernel: [number, number],
  strides: [number, number],
  dilations: [number, number],
): SpatialAttrs {
  if (padding === 'valid') return { pads: [0, 0, 0, 0] };
  if (padding !== 'same') throw new Error(`padding '${padding}' is unsupported; expected 'valid' or 'same'`);
  if (strides[0] !== 1 || strides[1] !== 1) return { auto_pad: 'SAME_UPPER' };
  const th = (kernel[0] - 1) * dilations[0];
  const tw = (kernel[1] - 1) * dilations[1];
  return { pads: [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)] };
}

/**
 * TF pooling padding as ONNX `auto_pad` (never explicit pads). onnxruntime 1.30's PadFusion folds a preceding
 * zero `Pad` into a pool's explicit `pads`, which is wrong for MaxPool (its pads act as -inf) and for
 * AveragePool without `count_include_pad`; it leaves pools with `auto_pad` alone. `SAME_UPPER` equals TF "same"
 * for every stride, and AveragePool keeps excluding the padding (count_include_pad = 0).
 */
export function poolPads(padding: string): SpatialAttrs {
  if (padding === 'valid') return { auto_pad: 'VALID' };
  if (padding === 'same') return { auto_pad: 'SAME_UPPER' };
  throw new Error(`padding '${padding}' is unsupported; expected 'valid' or 'same'`);
}
