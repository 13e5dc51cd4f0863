/** Recent normalised scores of one sensor (threshold = 1), trimmed by age and count. */
import type { ScorePoint } from './contracts';

export class ScoreBuffer {
  private t: number[] = [];
  private s: number[] = [];

  constructor(
    readonly keepMs = 5 * 60_000,
    readonly maxPoints = 5000,
  ) {}

  get length(): number {
    return this.t.length;
  }

  get last(): ScorePoint | null {
    const n = this.t.length;
    return n ? { t: this.t[n - 1], score: this.s[n - 1] } : null;
  }

  /** Adds a point; points older than the newest held are inserted in order (history merged with live). */
  push(t: number, score: number): void {
    const n = this.t.length;
    if (n === 0 || t > this.t[n - 1]) {
      this.t.push(t);
      this.s.push(score);
    } else {
      let i = n;
      while (i > 0 && this.t[i - 1] > t) i--;
      if (i > 0 && this.t[i - 1] === t) this.s[i - 1] = score;
      else {
        this.t.splice(i, 0, t);
        this.s.splice(i, 0, score);
      }
    }
    this.trim();
  }

  merge(points: readonly ScorePoint[]): void {
    for (const p of points) this.push(p.t, p.score);
  }

  private trim(): void {
    const newest = this.t[this.t.length - 1];
    let drop = 0;
    while (drop < this.t.length && newest - this.t[drop] > this.keepMs) drop++;
    drop = Math.max(drop, this.t.length - this.maxPoints);
    if (drop > 0) {
      this.t.splice(0, drop);
      this.s.splice(0, drop);
    }
  }

  /** `[t, score]` pairs with `t >= from` (ECharts data). */
  since(from: number): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.t.length; i++) if (this.t[i] >= from) out.push([this.t[i], this.s[i]]);
    return out;
  }
}
