import type { HarkDatabase } from './database.js';
import type { Db } from './dialect.js';

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
 * bytes per tier as running totals, counted once, before the first call that needs them.
 */
export class HistoryRepository {
  private readonly db: Db;
  private readonly totals: [number, number, number] = [0, 0, 0];
  #counted: Promise<void> | null = null;

  constructor(database: HarkDatabase) {
    this.db = database.db;
  }

  /** Counts the stored bytes per tier (once; every method below waits for it). */
  load(): Promise<void> {
    this.#counted ??= (async () => {
      const rows = await this.db
        .selectFrom('history_blocks')
        .select((eb) => ['tier', eb.fn.sum<number>(eb('n_mels', '*', eb('n_columns', '*', 2))).as('bytes')])
        .groupBy('tier')
        .execute();
      for (const r of rows) this.totals[r.tier as HistoryTier] = Number(r.bytes);
    })().catch((err: unknown) => {
      this.#counted = null;
      throw err;
    });
    return this.#counted;
  }

  /** Stored bytes of a tier (0 until `load` has counted them). */
  bytes(tier: HistoryTier): number {
    return this.totals[tier];
  }

  /** Writes blocks in one transaction. */
  async insert(blocks: readonly HistoryBlock[]): Promise<void> {
    if (blocks.length === 0) return;
    for (const b of blocks) {
      const n = b.nMels * b.nColumns;
      if (b.spectrogram.length !== n || b.anomaly.length !== n)
        throw new RangeError(
          `history block of ${b.nColumns} x ${b.nMels} has ${b.spectrogram.length} / ${b.anomaly.length} bytes`,
        );
    }
    await this.load();
    await this.db.transaction().execute(async (trx) => {
      for (const b of blocks) {
        await trx
          .insertInto('history_blocks')
          .values({
            sensor_id: b.sensorId,
            tier: b.tier,
            t0: b.t0,
            t1: b.t0 + b.nColumns * b.hopMs,
            hop_ms: b.hopMs,
            n_mels: b.nMels,
            n_columns: b.nColumns,
            db_lo: b.dbRange[0],
            db_hi: b.dbRange[1],
            anomaly_scale: b.anomalyScale,
            spectrogram: bufferOf(b.spectrogram),
            anomaly: bufferOf(b.anomaly),
          })
          .execute();
      }
    });
    for (const b of blocks) this.totals[b.tier] += blockBytes(b);
  }

  /** The sensor's blocks of `tier` overlapping `[from, to)`, oldest first. */
  async range(sensorId: string, tier: HistoryTier, from: number, to: number): Promise<HistoryBlock[]> {
    // Blocks of one sensor and tier do not overlap, so the last one starting at or before `from` is the only
    // earlier one that may reach into the range: start there and walk the index.
    const first = await this.db
      .selectFrom('history_blocks')
      .select((eb) => eb.fn.max('t0').as('t0'))
      .where('sensor_id', '=', sensorId)
      .where('tier', '=', tier)
      .where('t0', '<=', from)
      .executeTakeFirst();
    const rows = (await this.db
      .selectFrom('history_blocks')
      .select([
        't0',
        'hop_ms',
        'n_mels',
        'n_columns',
        'db_lo',
        'db_hi',
        'anomaly_scale',
        'spectrogram',
        'anomaly',
      ])
      .where('sensor_id', '=', sensorId)
      .where('tier', '=', tier)
      .where('t0', '>=', first?.t0 ?? from)
      .where('t0', '<', to)
      .where('t1', '>', from)
      .orderBy('t0')
      .execute()) as BlockRow[];
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
  async oldest(sensorId: string, tier: HistoryTier): Promise<number | null> {
    const row = await this.db
      .selectFrom('history_blocks')
      .select((eb) => eb.fn.min('t0').as('t0'))
      .where('sensor_id', '=', sensorId)
      .where('tier', '=', tier)
      .executeTakeFirst();
    return row?.t0 ?? null;
  }

  /** Deletes the blocks of `tier` that ended at or before `cutoff` (ms); returns the bytes freed. */
  async deleteEndedBefore(tier: HistoryTier, cutoff: number): Promise<number> {
    await this.load();
    const bytes = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('history_blocks')
        .select((eb) => eb.fn.sum<number>(eb('n_mels', '*', eb('n_columns', '*', 2))).as('bytes'))
        .where('t1', '<=', cutoff)
        .where('tier', '=', tier)
        .executeTakeFirst();
      await trx.deleteFrom('history_blocks').where('t1', '<=', cutoff).where('tier', '=', tier).execute();
      return Number(row?.bytes ?? 0);
    });
    this.totals[tier] -= bytes;
    return bytes;
  }

  /** Deletes the oldest blocks (by end, any tier and sensor) until at most `budget` bytes remain; returns the bytes freed. */
  async trimTo(budget: number): Promise<number> {
    await this.load();
    let freed = 0;
    while (this.#total() > budget) {
      const rows = await this.db
        .selectFrom('history_blocks')
        .select((eb) => ['id', 'tier', eb('n_mels', '*', eb('n_columns', '*', 2)).as('bytes')])
        .orderBy('t1')
        .limit(256)
        .execute();
      if (rows.length === 0) break;
      const gone: number[] = [];
      let total = this.#total();
      for (const r of rows) {
        if (total <= budget) break;
        gone.push(r.id);
        total -= Number(r.bytes);
      }
      await this.db.deleteFrom('history_blocks').where('id', 'in', gone).execute();
      for (const r of rows.slice(0, gone.length)) {
        this.totals[r.tier as HistoryTier] -= Number(r.bytes);
        freed += Number(r.bytes);
      }
    }
    return freed;
  }

  #total(): number {
    return this.totals[0] + this.totals[1] + this.totals[2];
  }
}

const bufferOf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
