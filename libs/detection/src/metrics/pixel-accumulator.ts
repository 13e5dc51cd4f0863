/**
 * Pixel-level metrics over the anomaly maps of all test clips of a group: `pixelAuc` (ROC AUC of every cell
 * against the pixel ground truth) and `aupro` (area under the per-region-overlap curve up to FPR 0.3,
 * normalised to [0, 1]; Bergmann et al., "The MVTec Anomaly Detection Dataset", IJCV 2021).
 *
 * Both are exact (no threshold binning): cells are kept as float32 scores, normal cells in one array and
 * anomalous cells as region-tagged keys (see `region-keys.ts`), each sorted natively, then one descending
 * merge walk visits every distinct score once. Memory: 4 bytes per normal cell + 8 per anomalous cell
 * (about 100 MB for 20 M cells with 20 % anomalous), plus transient doubling while growing.
 *
 * AUPRO follows the MVTec AD reference evaluation (`compute_pro` + `trapezoid`): for each threshold t,
 * FPR(t) = normal cells >= t / all normal cells (of all clips); PRO(t) = mean over every ground-truth region
 * of (its cells >= t / its size); the (FPR, PRO) points from (0, 0) are integrated with the trapezoid rule up
 * to `fprLimit`, interpolating the point at `fprLimit`, and divided by `fprLimit`. Regions are 8-connected
 * components of each clip's mask (as anomalib's `cv2.connectedComponents` and MVTec's `scipy.ndimage.label`
 * with a 3x3 structure). anomalib's torch `AUPRO` approximates the same curve by resampling each region's ROC
 * on an index grid, so it can differ from this (and from MVTec's code) in the third decimal.
 */
import { connectedComponents8 } from './connected-components.js';
import { GrowableArray, keyRegion, keyScore, MAX_REGION_ID, packKey } from './region-keys.js';
import { validateMaxFpr } from './validate.js';

/** Pixel-level results of one group. */
export interface PixelMetrics {
  /** ROC AUC over all cells, anomalous vs normal, ties count one half. */
  pixelAuc: number;
  /** Normalised area under the PRO curve for FPR in [0, fprLimit], in [0, 1]. */
  aupro: number;
}

/** Accumulates per-clip anomaly maps and ground-truth masks; `compute()` may be called at any time. */
export class PixelMetricAccumulator {
  private readonly normal = new GrowableArray(new Float32Array(0), (n) => new Float32Array(n));
  private readonly anomalous = new GrowableArray(new Float64Array(0), (n) => new Float64Array(n));
  /** `inverseSizes[r]` = 1 / size of region r (index 0 unused). */
  private readonly inverseSizes = new GrowableArray(new Float64Array(1), (n) => new Float64Array(n));
  private clips = 0;

  /**
   * @param fprLimit - upper FPR limit of AUPRO in (0, 1]; default 0.3 (MVTec AD, anomalib).
   */
  constructor(readonly fprLimit = 0.3) {
    validateMaxFpr(fprLimit, 'fprLimit');
    this.inverseSizes.length = 1;
  }

  /** Number of normal cells and of anomalous cells and regions added so far. */
  get counts(): { clips: number; normalCells: number; anomalousCells: number; regions: number } {
    return {
      clips: this.clips,
      normalCells: this.normal.length,
      anomalousCells: this.anomalous.length,
      regions: this.inverseSizes.length - 1,
    };
  }

  /**
   * Adds one clip.
   *
   * @param map - anomaly map, row-major `[nMels, nFrames]`, finite scores (higher = more anomalous); scores
   *   are compared at float32 precision.
   * @param mask - ground truth, same layout, 1 = anomalous cell, 0 = normal; `null` for a normal clip.
   * @param nMels - rows of the map.
   * @param nFrames - columns of the map.
   */
  update(map: ArrayLike<number>, mask: ArrayLike<number> | null, nMels: number, nFrames: number): void {
    const clip = this.clips;
    if (!(Number.isInteger(nMels) && nMels > 0 && Number.isInteger(nFrames) && nFrames > 0)) {
      throw new Error(`clip ${clip}: nMels (${nMels}) and nFrames (${nFrames}) must be positive integers`);
    }
    const cells = nMels * nFrames;
    if (map.length !== cells) {
      throw new Error(`clip ${clip}: map length (${map.length}) must equal nMels * nFrames (${cells})`);
    }
    if (mask !== null && mask.length !== cells) {
      throw new Error(`clip ${clip}: mask length (${mask.length}) must equal nMels * nFrames (${cells})`);
    }
    for (let k = 0; k < cells; k++) {
      const v = map[k];
      if (!Number.isFinite(v) || !Number.isFinite(Math.fround(v))) {
        throw new Error(
          `clip ${clip}: map cell (mel ${(k / nFrames) | 0}, frame ${k % nFrames}) is ${v}; scores must be finite float32`,
        );
      }
      if (mask !== null && mask[k] !== 0 && mask[k] !== 1) {
        throw new Error(
          `clip ${clip}: mask cell ${k} is ${mask[k]}; masks must be 0 (normal) or 1 (anomalous)`,
        );
      }
    }
    const components = mask === null ? null : connectedComponents8(mask, nMels, nFrames);
    const firstRegion = this.inverseSizes.length - 1;
    if (components !== null && firstRegion + components.count > MAX_REGION_ID) {
      throw new Error(
        `more than ${MAX_REGION_ID} ground-truth regions; evaluate fewer clips per accumulator`,
      );
    }
    for (const size of components?.sizes ?? []) this.inverseSizes.push(1 / size);
    for (let k = 0; k < cells; k++) {
      const label = components === null ? 0 : components.labels[k];
      if (label === 0) this.normal.push(map[k]);
      else this.anomalous.push(packKey(map[k], firstRegion + label));
    }
    this.clips++;
  }

  /** Pixel ROC AUC. @throws when no normal or no anomalous cell was added. */
  pixelAuc(): number {
    return this.compute().pixelAuc;
  }

  /** AUPRO up to `fprLimit`. @throws when no normal or no anomalous cell was added. */
  aupro(): number {
    return this.compute().aupro;
  }

  /**
   * Both metrics in one pass over the sorted cells (sorting is in place; later `update`s are allowed).
   *
   * @throws when no normal cell or no anomalous cell (hence no ground-truth region) was added.
   */
  compute(): PixelMetrics {
    const negatives = this.normal.length;
    const positives = this.anomalous.length;
    if (negatives === 0 || positives === 0) {
      throw new Error(
        `only one class present (${positives} anomalous, ${negatives} normal cells); pixel metrics need ` +
          `normal cells and at least one anomalous clip with a non-empty ground-truth mask`,
      );
    }
    const regions = this.inverseSizes.length - 1;
    return walk(
      this.normal.sorted(),
      this.anomalous.sorted(),
      this.inverseSizes.data,
      regions,
      this.fprLimit,
    );
  }
}

/** Descending merge walk over sorted normal scores and sorted anomalous keys. */
function walk(
  neg: Float32Array,
  pos: Float64Array,
  inverseSizes: Float64Array,
  regions: number,
  fprLimit: number,
): PixelMetrics {
  let i = neg.length - 1;
  let j = pos.length - 1;
  let mannWhitneyU = 0;
  let fp = 0;
  let proSum = 0;
  let prevFpr = 0;
  let prevPro = 0;
  let area = 0;
  let done = false;
  let posScore = j >= 0 ? keyScore(pos[j]) : -Infinity;
  while (i >= 0 || j >= 0) {
    const t = Math.max(i >= 0 ? neg[i] : -Infinity, posScore);
    let dn = 0;
    for (; i >= 0 && neg[i] === t; i--) dn++;
    let dp = 0;
    while (j >= 0 && posScore === t) {
      dp++;
      proSum += inverseSizes[keyRegion(pos[j])];
      j--;
      posScore = j >= 0 ? keyScore(pos[j]) : -Infinity;
    }
    // Anomalous cells at t rank above the i + 1 normal cells below t and tie with the dn at t.
    mannWhitneyU += dp * (i + 1) + 0.5 * dp * dn;
    fp += dn;
    if (!done) {
      const fpr = fp / neg.length;
      const pro = proSum / regions;
      if (fpr <= fprLimit) {
        area += ((fpr - prevFpr) * (pro + prevPro)) / 2;
      } else {
        const proAtLimit = prevPro + ((pro - prevPro) * (fprLimit - prevFpr)) / (fpr - prevFpr);
        area += ((fprLimit - prevFpr) * (proAtLimit + prevPro)) / 2;
        done = true;
      }
      prevFpr = fpr;
      prevPro = pro;
    }
  }
  return { pixelAuc: mannWhitneyU / (pos.length * neg.length), aupro: area / fprLimit };
}
