/**
 * Sort keys that carry a float32 score and a region id in one float64, so anomalous cells can be sorted with
 * the native comparator-free `Float64Array.prototype.sort` (tens of millions of cells in about a second)
 * instead of an index array and a JS comparator.
 *
 * A float32 widened to float64 has its 29 lowest mantissa bits at zero; the region id is stored there. The
 * key lies between the score and the next float32 value, so keys sort by score first (ties in any order),
 * and clearing those bits gives the score back exactly.
 */

/** Region ids must be below this (2^29). */
export const MAX_REGION_ID = 0x1fffffff;

const scratch = new Float64Array(1);
const scratchWords = new Uint32Array(scratch.buffer);
/** Index of the low 32-bit word of a float64 in a Uint32Array view (0 on little-endian machines). */
export const LOW_WORD = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 1;

/** Rounds `score` to float32 (and -0 to 0) and packs `region` (1..MAX_REGION_ID) into its low mantissa bits. */
export function packKey(score: number, region: number): number {
  scratch[0] = Math.fround(score) + 0;
  scratchWords[LOW_WORD] |= region;
  return scratch[0];
}

/** The float32 score of a key (region bits cleared). */
export function keyScore(key: number): number {
  scratch[0] = key;
  scratchWords[LOW_WORD] &= ~MAX_REGION_ID;
  return scratch[0];
}

/** The region id of a key. */
export function keyRegion(key: number): number {
  scratch[0] = key;
  return scratchWords[LOW_WORD] & MAX_REGION_ID;
}

/** A typed array that doubles its capacity when full. */
export class GrowableArray<T extends Float32Array | Float64Array> {
  length = 0;

  constructor(
    public data: T,
    private readonly make: (capacity: number) => T,
  ) {}

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = this.make(Math.max(1024, this.data.length * 2));
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  /** Sorts the used part ascending in place and returns a view on it. */
  sorted(): T {
    return this.data.subarray(0, this.length).sort() as T;
  }
}
