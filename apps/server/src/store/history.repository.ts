import type Database from 'better-sqlite3';
import type { HarkDatabase } from './database.js';

/** Tier 0 holds full-resolution columns, tiers 1 and 2 reduced ones (the max over windows, 2 the wider). */
export type HistoryTier = 0 | 1 | 2;
export const HISTORY_TIERS: readonly HistoryTier[] = [0, 1, 2];

/** A run of consecutive quantised columns of one sensor at one tier (the `live/quantise.ts` encoding). */
export interface HistoryBlock {
  sensorId: string;
  tier: HistoryTier;
  /** Time of the first column, ms. */
  t0: number;
  /** Time between columns, ms. */
  hopMs: number;
  nMels: number;
  nColumns: number;
  dbRange: readonly [number, number];
  anomalyScale: number;
  /** `[nColumns, nMels]` bytes, frame-major. */
  spectrogram: Uint8Array;
  anomaly: Uint8Array;
}

interface BlockRow {
  t0: number;
  hop_ms: number;
  n_mels: number;
  n_columns: number;
  db_lo: number;
  db_hi: number;
  anomaly_scale: number;
  spectrogram: Buffer;
  anomaly: Buffer;
}

/** Bytes a block stores (its two pictures; the row's few numbers are left out). */
export const blockBytes = (b: Pick<HistoryBlock, 'nMels' | 'nColumns'>): number => 2 * b.nMels * b.nColumns;

/**
 * The stored spectrogram history (`history_blocks`): blocks are written in batches (one transaction per
 * `insert`), read by range, deleted by age (retention) and oldest first (disk budget). It keeps the stored
 * bytes per tier as running totals, counted once at start.
 */
export class HistoryRepository {
  private readonly db: Database.Database;
  private readonly totals: [number, number, number] = [0, 0, 0];
  private readonly insertStmt: Database.Statement;

  constructor(database: HarkDatabase) {
    this.db = database.db;
    this.insertStmt = this.db.prepare(
      `INSERT INTO history_blocks
         (sensor_id, tier, t0, t1, hop_ms, n_mels, n_columns, db_lo, db_hi, anomaly_scale, spectrogram, anomaly)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const rows = this.db
      .prepare('SELECT tier, SUM(2 * n_mels * n_columns) AS bytes FROM history_blocks GROUP BY tier')
      .all() as { tier: HistoryTier; bytes: number }[];
    for (const r of rows) this.totals[r.tier] = r.bytes;
  }

  /** Stored bytes of a tier. */
  bytes(tier: HistoryTier): number {
    return this.totals[tier];
  }

  /** Writes blocks in one transaction. */
  insert(blocks: readonly HistoryBlock[]): void {
    if (blocks.length === 0) return;
    this.db.transaction(() => {
      for (const b of blocks) {
        const n = b.nMels * b.nColumns;
        if (b.spectrogram.length !== n || b.anomaly.length !== n)
          throw new RangeError(
            `history block of ${b.nColumns} x ${b.nMels} has ${b.spectrogram.length} / ${b.anomaly.length} bytes`,
          );
        this.insertStmt.run(
          b.sensorId,
          b.tier,
          b.t0,
          b.t0 + b.nColumns * b.hopMs,
          b.hopMs,
          b.nMels,
          b.nColumns,
          b.dbRange[0],
          b.dbRange[1],
          b.anomalyScale,
          bufferOf(b.spectrogram),
          bufferOf(b.anomaly),
        );
      }
    })();
    for (const b of blocks) this.totals[b.tier] += blockBytes(b);
  }

  /** The sensor's blocks of `tier` overlapping `[from, to)`, oldest first. */
  range(sensorId: string, tier: HistoryTier, from: number, to: number): HistoryBlock[] {
    // Blocks of one sensor and tier do not overlap, so the last one starting at or before `from` is the only
    // earlier one that may reach into the range: start there and walk the index.
    const first = this.db
      .prepare('SELECT MAX(t0) AS t0 FROM history_blocks WHERE sensor_id = ? AND tier = ? AND t0 <= ?')
      .get(sensorId, tier, from) as { t0: number | null };
    const rows = this.db
      .prepare(
        `SELECT t0, hop_ms, n_mels, n_columns, db_lo, db_hi, anomaly_scale, spectrogram, anomaly
         FROM history_blocks WHERE sensor_id = ? AND tier = ? AND t0 >= ? AND t0 < ? AND t1 > ? ORDER BY t0`,
      )
      .all(sensorId, tier, first.t0 ?? from, to, from) as BlockRow[];
    return rows.map((r) => ({
      sensorId,
      tier,
      t0: r.t0,
      hopMs: r.hop_ms,
      nMels: r.n_mels,
      nColumns: r.n_columns,
      dbRange: [r.db_lo, r.db_hi] as const,
      anomalyScale: r.anomaly_scale,
      spectrogram: r.spectrogram,
      anomaly: r.anomaly,
    }));
  }

  /** Start of the sensor's oldest block of `tier` (ms), null when it has none. */
  oldest(sensorId: string, tier: HistoryTier): number | null {
    const row = this.db
      .prepare('SELECT MIN(t0) AS t0 FROM history_blocks WHERE sensor_id = ? AND tier = ?')
      .get(sensorId, tier) as { t0: number | null };
    return row.t0;
  }

  /** Deletes the blocks of `tier` that ended at or before `cutoff` (ms); returns the bytes freed. */
  deleteEndedBefore(tier: HistoryTier, cutoff: number): number {
    return this.db.transaction(() => {
      const { bytes } = this.db
        .prepare(
          'SELECT COALESCE(SUM(2 * n_mels * n_columns), 0) AS bytes FROM history_blocks WHERE t1 <= ? AND tier = ?',
        )
        .get(cutoff, tier) as { bytes: number };
      this.db.prepare('DELETE FROM history_blocks WHERE t1 <= ? AND tier = ?').run(cutoff, tier);
      this.totals[tier] -= bytes;
      return bytes;
    })();
  }

  /** Deletes the oldest blocks (by end, any tier and sensor) until at most `budget` bytes remain; returns the bytes freed. */
  trimTo(budget: number): number {
    let freed = 0;
    const oldest = this.db.prepare(
      'SELECT id, tier, 2 * n_mels * n_columns AS bytes FROM history_blocks ORDER BY t1 LIMIT 256',
    );
    const del = this.db.prepare('DELETE FROM history_blocks WHERE id = ?');
    while (this.#total() > budget) {
      const rows = oldest.all() as { id: number; tier: HistoryTier; bytes: number }[];
      if (rows.length === 0) break;
      this.db.transaction(() => {
        for (const r of rows) {
          if (this.#total() <= budget) break;
          del.run(r.id);
          this.totals[r.tier] -= r.bytes;
          freed += r.bytes;
        }
      })();
    }
    return freed;
  }

  #total(): number {
    return this.totals[0] + this.totals[1] + this.totals[2];
  }
}

const bufferOf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
