/**
 * Live burn-ins (migration 11, `burn_ins`): one row per sensor and model version, for every instance. The
 * instance that scores the sensor writes its progress and the fitted factor; any instance answers the REST
 * calls and records an admin's revert or restart (models/burn-in.service.ts applies them).
 */
import type { Updateable } from 'kysely';
import type { BurnInFit, ModelBurnIn } from '@hark/protocol';
import { Repository } from './database.js';
import { ConflictError, NotFoundError } from './errors.js';
import type { BurnInsTable } from './schema.js';

/** A break in the stream (null) or a window: its stream time t1 (ms) and normalised score. */
export type BurnInSeries = ([number, number] | null)[];

/** What a fit (or a refit on a late fault mark) gives: the factor and what it was fitted on. */
export interface BurnInOutcome {
  factor: number;
  unbounded: number;
  windows: number;
  excluded: number;
  fit: BurnInFit;
}

const toRecord = (r: BurnInsTable): ModelBurnIn => ({
  sensorId: r.sensor_id,
  version: Number(r.version),
  state: r.state as ModelBurnIn['state'],
  reason: r.reason,
  target: Number(r.target),
  windows: Number(r.windows),
  excluded: Number(r.excluded),
  factor: r.factor,
  unbounded: r.unbounded,
  fit: r.fit === null ? null : (JSON.parse(r.fit) as BurnInFit),
  spanStart: r.span_start,
  spanEnd: r.span_end,
  startedAt: Number(r.started_at),
  startedBy: r.started_by,
  appliedAt: r.applied_at === null ? null : Number(r.applied_at),
  revertedAt: r.reverted_at === null ? null : Number(r.reverted_at),
  revertedBy: r.reverted_by,
  updatedAt: Number(r.updated_at),
});

export class BurnInRepository extends Repository {
  async get(sensorId: string, version: number): Promise<ModelBurnIn | null> {
    const row = await this.#row(sensorId, version);
    return row ? toRecord(row) : null;
  }

  /** Like `get`, throwing `NotFoundError` naming the sensor and version. */
  async require(sensorId: string, version: number): Promise<ModelBurnIn> {
    const r = await this.get(sensorId, version);
    if (!r) throw new NotFoundError(`sensor '${sensorId}' version ${version} has no burn-in`);
    return r;
  }

  /** The sensor's burn-ins, by version. */
  async listBySensor(sensorId: string): Promise<ModelBurnIn[]> {
    const rows = await this.db
      .selectFrom('burn_ins')
      .selectAll()
      .where('sensor_id', '=', sensorId)
      .orderBy('version')
      .execute();
    return rows.map(toRecord);
  }

  /**
   * The windows collected, with their series: while collecting, the windows so far (written with the
   * progress, so a restart resumes from them); after a fit, the series it was fitted on (null before any
   * progress, or once reverted or skipped).
   */
  async series(sensorId: string, version: number): Promise<BurnInSeries | null> {
    const row = await this.#row(sensorId, version);
    return row?.series ? (JSON.parse(row.series) as BurnInSeries) : null;
  }

  /**
   * Starts collecting (again): a new version's burn-in (`by` null, only when it has none: `ifAbsent`) or an
   * admin's restart, which replaces what was there. Returns the record and whether it was (re)started now.
   */
  async start(s: {
    sensorId: string;
    version: number;
    target: number;
    by: string | null;
    ifAbsent: boolean;
    at?: number;
  }): Promise<{ record: ModelBurnIn; started: boolean }> {
    const at = s.at ?? Date.now();
    const row: BurnInsTable = {
      sensor_id: s.sensorId,
      version: s.version,
      state: 'collecting',
      reason: null,
      target: s.target,
      windows: 0,
      excluded: 0,
      factor: null,
      unbounded: null,
      fit: null,
      series: null,
      span_start: null,
      span_end: null,
      started_at: at,
      started_by: s.by,
      applied_at: null,
      reverted_at: null,
      reverted_by: null,
      updated_at: at,
    };
    const { sensor_id: _s, version: _v, ...rest } = row;
    const done = await this.db
      .insertInto('burn_ins')
      .values(row)
      .onConflict((oc) =>
        s.ifAbsent
          ? oc.columns(['sensor_id', 'version']).doNothing()
          : oc.columns(['sensor_id', 'version']).doUpdateSet(rest),
      )
      .returning('version')
      .executeTakeFirst();
    return { record: await this.require(s.sensorId, s.version), started: done !== undefined };
  }

  /**
   * A collecting burn-in's progress: windows so far, the span, what a full one waits for (`reason`) and, when
   * given, the windows themselves (so that a restart or another instance resumes from them).
   * `startedAt` names the collection (a restart meanwhile makes a new one): nothing is written for another.
   */
  async progress(
    sensorId: string,
    version: number,
    startedAt: number,
    p: {
      windows: number;
      spanStart: number | null;
      spanEnd: number | null;
      reason: string | null;
      series?: BurnInSeries;
    },
    at = Date.now(),
  ): Promise<boolean> {
    return this.#updateCollecting(sensorId, version, startedAt, {
      windows: p.windows,
      span_start: p.spanStart,
      span_end: p.spanEnd,
      reason: p.reason,
      ...(p.series && { series: JSON.stringify(p.series) }),
      updated_at: at,
    });
  }

  /**
   * The collection `startedAt` is full and fitted: applied with `outcome`, or skipped (`outcome` null, `reason`
   * says why). The series is kept so that a fault marked later can be left out (`refit`). False when the
   * collection is no longer the one running (restarted meanwhile).
   */
  async finish(
    sensorId: string,
    version: number,
    startedAt: number,
    f: {
      outcome: BurnInOutcome | null;
      reason: string | null;
      series: BurnInSeries;
      spanStart: number | null;
      spanEnd: number | null;
      collected: number;
    },
    at = Date.now(),
  ): Promise<boolean> {
    const o = f.outcome;
    return this.#updateCollecting(sensorId, version, startedAt, {
      state: o ? 'applied' : 'skipped',
      reason: f.reason,
      windows: o ? o.windows : f.collected,
      excluded: o ? o.excluded : 0,
      factor: o ? o.factor : null,
      unbounded: o ? o.unbounded : null,
      fit: o ? JSON.stringify(o.fit) : null,
      series: JSON.stringify(f.series),
      span_start: f.spanStart,
      span_end: f.spanEnd,
      applied_at: o ? at : null,
      updated_at: at,
    });
  }

  /** Updates the collection `startedAt` of (sensor, version) if it is still the one running. */
  async #updateCollecting(
    sensorId: string,
    version: number,
    startedAt: number,
    set: Updateable<BurnInsTable>,
  ): Promise<boolean> {
    const r = await this.db
      .updateTable('burn_ins')
      .set(set)
      .where('sensor_id', '=', sensorId)
      .where('version', '=', version)
      .where('state', '=', 'collecting')
      .where('started_at', '=', startedAt)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * An applied burn-in fitted again without a span marked as a fault after it was applied: the new factor,
   * or skipped (`outcome` null: too much of it was a fault). Only an applied one changes.
   */
  async refit(
    sensorId: string,
    version: number,
    outcome: BurnInOutcome | null,
    reason: string | null,
    excluded: number,
    at = Date.now(),
  ): Promise<ModelBurnIn | null> {
    const r = await this.db
      .updateTable('burn_ins')
      .set(
        outcome
          ? {
              factor: outcome.factor,
              unbounded: outcome.unbounded,
              windows: outcome.windows,
              excluded: outcome.excluded,
              fit: JSON.stringify(outcome.fit),
              reason,
              updated_at: at,
            }
          : {
              state: 'skipped',
              factor: null,
              unbounded: null,
              fit: null,
              excluded,
              reason,
              updated_at: at,
            },
      )
      .where('sensor_id', '=', sensorId)
      .where('version', '=', version)
      .where('state', '=', 'applied')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0 ? this.get(sensorId, version) : null;
  }

  /**
   * Back to the fitted threshold: an applied burn-in becomes 'reverted' (who and when recorded). Any other
   * state is a `ConflictError` that says what to do.
   */
  async revert(sensorId: string, version: number, by: string, at = Date.now()): Promise<ModelBurnIn> {
    const cur = await this.require(sensorId, version);
    if (cur.state !== 'applied') {
      const why =
        cur.state === 'reverted'
          ? `was already reverted by ${cur.revertedBy} at ${new Date(cur.revertedAt ?? 0).toISOString()}`
          : `is ${cur.state}${cur.reason ? ` (${cur.reason})` : ''}, not applied`;
      throw new ConflictError(
        `the burn-in of sensor '${sensorId}' version ${version} ${why}: only an applied one can be reverted (restart it to collect again)`,
      );
    }
    const r = await this.db
      .updateTable('burn_ins')
      .set({ state: 'reverted', reverted_at: at, reverted_by: by, updated_at: at })
      .where('sensor_id', '=', sensorId)
      .where('version', '=', version)
      .where('state', '=', 'applied')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) {
      throw new ConflictError(
        `the burn-in of sensor '${sensorId}' version ${version} changed meanwhile; read it again`,
      );
    }
    return this.require(sensorId, version);
  }

  #row(sensorId: string, version: number): Promise<BurnInsTable | undefined> {
    return this.db
      .selectFrom('burn_ins')
      .selectAll()
      .where('sensor_id', '=', sensorId)
      .where('version', '=', version)
      .executeTakeFirst();
  }
}
