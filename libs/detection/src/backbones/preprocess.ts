/**
 * Input scaling for the image backbones. Keras' MobileNetV2/InceptionV3 preprocessing maps 8-bit pixels
 * `p in [0, 255]` to `p / 127.5 - 1`; a spectrogram becomes such a grey image by mapping a dB range onto it.
 */

/** A dB window: values at or below `min` map to -1, at or above `max` to +1. */
export interface DbRange {
  min: number;
  max: number;
}

/**
 * Scales log-power values (dB) to the image nets' input range [-1, 1], clipping outside `range`; equivalent to
 * rendering the spectrogram as a grey 8-bit image over `range` and applying Keras' preprocessing (without the
 * 8-bit rounding). Writes into `out` (may be `db` itself) and returns it. Layout is untouched.
 */
export function toBackboneInput(
  db: Float32Array,
  range: DbRange,
  out: Float32Array = new Float32Array(db.length),
): Float32Array {
  if (!(range.max > range.min))
    throw new Error(`range.max (${range.max}) must be > range.min (${range.min})`);
  if (out.length !== db.length) throw new Error(`out has ${out.length} values, db has ${db.length}`);
  const scale = 2 / (range.max - range.min);
  for (let i = 0; i < db.length; i++) {
    const v = (db[i] - range.min) * scale - 1;
    out[i] = v < -1 ? -1 : v > 1 ? 1 : v;
  }
  return out;
}
