import {
  ALERT_KINDS,
  ANNOTATION_LABELS,
  type Alert,
  type AlertAction,
  type AlertBox,
  type AlertNeighbours,
  type AlertKind,
  type AlertOccurrence,
  type AlertSeverity,
  type AlertState,
  type Annotation,
  type AnnotationLabel,
  type Page,
} from '@hark/protocol';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { Repository } from './database.js';
import { alertWhere, type AlertFilters } from './alert.filters.js';
import { keyColumns, keysetCondition, orderBy, sortKeys, type AlertOrder } from './alert.order.js';
import { forUpdate, greatest, type Db } from './dialect.js';
import { ConflictError, InvalidArgumentError, NotFoundError, checkInt } from './errors.js';

/** Largest page of `list()`. */
export const MAX_ALERT_PAGE = 500;

/** What the alert tracker knows when an alert opens. */
export interface NewAlert {
  sensorId: string;
  kind: AlertKind;
  start: number;
  peakScore: number;
  peakAt: number;
  threshold: number;
  boxes?: AlertBox[];
  /** Default `warning`. */
  severity?: AlertSeverity;
  /** Server ms of the first occurrence (default now). */
  openedAt?: number;
}

/** A repeat folded into an alert: its new occurrence as the tracker opened it. */
export type NewOccurrence = Pick<
  NewAlert,
  'start' | 'peakScore' | 'peakAt' | 'boxes' | 'severity' | 'openedAt'
>;

/**
 * Changes while an alert is active, and when its signal ends (`active: false`, `end`). Peak, peak time and
 * boxes are those of the current occurrence: the alert keeps them only while they are its strongest.
 */
export interface AlertPatch {
  active?: boolean;
  end?: number | null;
  peakScore?: number;
  peakAt?: number;
  boxes?: AlertBox[];
  /** `critical` raises the alert's severity; `warning` changes nothing (severity never falls). */
  severity?: AlertSeverity;
  /** Server ms: the occurrence ended (any reason), and its condition was seen to clear (not: signal lost). */
  closedAt?: number;
  clearedAt?: number | null;
}

interface AlertRow {
  id: number;
  sensor_id: string;
  kind: AlertKind;
  state: AlertState;
  active: number;
  start_at: number;
  end_at: number | null;
  peak_score: number;
  peak_at: number;
  threshold: number;
  boxes: string;
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  resolved_by: string | null;
  resolved_at: number | null;
  clip_start: number | null;
  clip_seconds: number | null;
  clip_available: number;
  severity: AlertSeverity;
  occurrences: number;
  closed_at: number | null;
  cleared_at: number | null;
  auto_resolved: number;
}

interface OccurrenceRow {
  id: number;
  alert_id: number;
  start_at: number;
  end_at: number | null;
  peak_score: number;
  peak_at: number;
  opened_at: number;
  cleared_at: number | null;
}

/** Who resolves an alert whose condition stayed clear for the quiet time. */
export const AUTO_RESOLVER = 'auto';

interface AnnotationRow {
  id: number;
  alert_id: number;
  label: AnnotationLabel;
  text: string;
  author: string;
  at: number;
}

interface FeedbackRow {
  id: number;
  alert_id: number;
  reverted_at: number | null;
}

/**
 * Alerts with their annotations and feedback. Reads return the `Alert` of the wire contract. Every write is
 * one committed transaction when its promise resolves (SQLite runs `synchronous = FULL`; PostgreSQL commits
 * durably by default), so an operator's acknowledgement or note survives a crash right after the answer.
 */
export class AlertRepository extends Repository {
  /** Stores a new open, active alert (creating the sensor row if the sensor is unknown). */
  async open(alert: NewAlert): Promise<Alert> {
    if (!ALERT_KINDS.includes(alert.kind)) {
      throw new InvalidArgumentError(`alert kind '${alert.kind}' must be one of ${ALERT_KINDS.join(', ')}`);
    }
    const id = await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('sensors')
        .values({ id: alert.sensorId, name: alert.sensorId, first_seen: alert.start, last_seen: alert.start })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      const { id } = await trx
        .insertInto('alerts')
        .values({
          sensor_id: alert.sensorId,
          kind: alert.kind,
          start_at: alert.start,
          peak_score: alert.peakScore,
          peak_at: alert.peakAt,
          threshold: alert.threshold,
          boxes: JSON.stringify(alert.boxes ?? []),
          severity: alert.severity ?? 'warning',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await this.insertOccurrence(trx, id, alert);
      return id;
    });
    return this.require(id);
  }

  /**
   * Folds a repeat into alert `id`: a new occurrence, the alert active again (and, when it had resolved by
   * itself, open again: acknowledged if someone had acknowledged it). Its peak, boxes and severity follow the
   * strongest occurrence.
   */
  async recur(id: number, occ: NewOccurrence): Promise<Alert> {
    await this.db.transaction().execute(async (trx) => {
      const row = await this.lockRow(trx, id);
      await this.insertOccurrence(trx, id, occ);
      const stronger = occ.peakScore >= row.peak_score;
      const auto = row.auto_resolved === 1;
      await trx
        .updateTable('alerts')
        .set({
          occurrences: row.occurrences + 1,
          active: 1,
          end_at: null,
          closed_at: null,
          cleared_at: null,
          peak_at: stronger ? occ.peakAt : row.peak_at,
          boxes: stronger ? JSON.stringify(occ.boxes ?? []) : row.boxes,
          peak_score: Math.max(row.peak_score, occ.peakScore),
          severity: occ.severity === 'critical' ? 'critical' : row.severity,
          state: auto ? (row.acknowledged_at === null ? 'open' : 'acknowledged') : row.state,
          resolved_by: auto ? null : row.resolved_by,
          resolved_at: auto ? null : row.resolved_at,
          auto_resolved: 0,
        })
        .where('id', '=', id)
        .execute();
    });
    return this.require(id);
  }

  /**
   * The alert a new one of `sensorId` and `kind` folds into: the sensor's latest alert of that kind, when it
   * ended at or after `since` (server ms) and no person resolved it (open, acknowledged or auto-resolved).
   */
  async foldTarget(sensorId: string, kind: AlertKind, since: number): Promise<Alert | null> {
    const row = (await this.db
      .selectFrom('alerts')
      .selectAll()
      .where('sensor_id', '=', sensorId)
      .where('kind', '=', kind)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst()) as AlertRow | undefined;
    if (!row || row.active === 1 || row.closed_at === null || row.closed_at < since) return null;
    if (row.state === 'resolved' && row.auto_resolved === 0) return null;
    return (await this.hydrate(this.db, [row]))[0];
  }

  /**
   * Resolves, as {@link AUTO_RESOLVER}, every unresolved alert whose condition was seen to clear at or before
   * `clearedBy` (server ms) and has not come back. Returns the alerts changed.
   */
  async autoResolve(clearedBy: number, now = Date.now()): Promise<Alert[]> {
    const ids = await this.db.transaction().execute(async (trx) => {
      const found = (
        await trx
          .selectFrom('alerts')
          .select('id')
          .where('state', '!=', 'resolved')
          .where('active', '=', 0)
          .where('cleared_at', 'is not', null)
          .where('cleared_at', '<=', clearedBy)
          .orderBy('id')
          .execute()
      ).map((r) => r.id);
      if (found.length > 0) {
        await trx
          .updateTable('alerts')
          .set({ state: 'resolved', auto_resolved: 1, resolved_by: AUTO_RESOLVER, resolved_at: now })
          .where('id', 'in', found)
          .execute();
      }
      return found;
    });
    return this.many(ids);
  }

  /** Active `warning` alerts, with the server ms their current occurrence opened (for escalation by time). */
  async activeWarnings(): Promise<{ id: number; sensorId: string; openedAt: number }[]> {
    const rows = await this.db
      .selectFrom('alerts as a')
      .select((eb) => [
        'a.id',
        'a.sensor_id as sensorId',
        eb
          .selectFrom('alert_occurrences as o')
          .select('o.opened_at')
          .whereRef('o.alert_id', '=', 'a.id')
          .orderBy('o.id', 'desc')
          .limit(1)
          .as('openedAt'),
      ])
      .where('a.active', '=', 1)
      .where('a.severity', '=', 'warning')
      .execute();
    return rows as { id: number; sensorId: string; openedAt: number }[];
  }

  /** Raises the alert to `critical`. */
  async escalate(id: number): Promise<Alert> {
    await this.require(id);
    await this.db.updateTable('alerts').set({ severity: 'critical' }).where('id', '=', id).execute();
    return this.require(id);
  }

  /** Ids of the alerts matching `filters` (oldest first), at most `limit`. */
  async ids(filters: AlertFilters, limit: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('alerts as a')
      .select('a.id')
      .where(alertWhere(await this.withLabels(filters)))
      .orderBy('a.id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  private async insertOccurrence(db: Db, alertId: number, occ: NewOccurrence): Promise<void> {
    await db
      .insertInto('alert_occurrences')
      .values({
        alert_id: alertId,
        start_at: occ.start,
        peak_score: occ.peakScore,
        peak_at: occ.peakAt,
        opened_at: occ.openedAt ?? Date.now(),
      })
      .execute();
  }

  /** The alert's row, locked for the rest of the transaction `trx`; `NotFoundError` for an unknown id. */
  private async lockRow(trx: Db, id: number): Promise<AlertRow> {
    const row = await forUpdate(
      this.engine,
      trx.selectFrom('alerts').selectAll().where('id', '=', id),
    ).executeTakeFirst();
    if (!row) throw new NotFoundError(`alert ${id} not found`);
    return row as AlertRow;
  }

  /** Updates the signal side of an alert (peak, boxes, end, active); the operator side is untouched. */
  async update(id: number, patch: AlertPatch): Promise<Alert> {
    await this.db.transaction().execute(async (trx) => {
      // Every new value is computed from the row as it was: the peak comparisons see the old peak.
      const row = await this.lockRow(trx, id);
      const peak = patch.peakScore;
      await trx
        .updateTable('alerts')
        .set({
          active: patch.active === undefined ? row.active : patch.active ? 1 : 0,
          end_at: patch.end === undefined ? row.end_at : patch.end,
          peak_at: peak !== undefined && peak >= row.peak_score ? (patch.peakAt ?? row.peak_at) : row.peak_at,
          boxes:
            patch.boxes && (peak === undefined || peak >= row.peak_score)
              ? JSON.stringify(patch.boxes)
              : row.boxes,
          peak_score: Math.max(row.peak_score, peak ?? row.peak_score),
          severity: patch.severity === 'critical' ? 'critical' : row.severity,
          closed_at: patch.closedAt ?? row.closed_at,
          cleared_at: patch.clearedAt === undefined ? row.cleared_at : patch.clearedAt,
        })
        .where('id', '=', id)
        .execute();
      const occ = (await trx
        .selectFrom('alert_occurrences')
        .selectAll()
        .where('alert_id', '=', id)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst()) as OccurrenceRow | undefined;
      if (!occ) return;
      await trx
        .updateTable('alert_occurrences')
        .set({
          end_at: patch.end === undefined ? occ.end_at : patch.end,
          peak_at: peak !== undefined && peak > occ.peak_score ? (patch.peakAt ?? occ.peak_at) : occ.peak_at,
          peak_score: Math.max(occ.peak_score, peak ?? occ.peak_score),
          cleared_at: patch.clearedAt === undefined ? occ.cleared_at : patch.clearedAt,
        })
        .where('id', '=', occ.id)
        .execute();
    });
    return this.require(id);
  }

  /** Records that the alert's clip (`DATA/alerts/<id>/clip.wav`) was written. */
  async setClip(id: number, clip: { start: number; seconds: number }): Promise<Alert> {
    await this.require(id);
    await this.db
      .updateTable('alerts')
      .set({ clip_start: clip.start, clip_seconds: clip.seconds, clip_available: 1 })
      .where('id', '=', id)
      .execute();
    return this.require(id);
  }

  /**
   * Marks every still-active alert inactive, ending it at `end` (or its peak time, if later): after a
   * restart nothing is over the threshold any more until new windows say so. Returns the alerts changed.
   */
  async deactivateAll(end: number): Promise<Alert[]> {
    // The signal is unknown since the crash: ended (a repeat may fold in), not seen to clear (no auto-resolve).
    const ids = await this.db.transaction().execute(async (trx) => {
      const ids = (
        await trx.selectFrom('alerts').select('id').where('active', '=', 1).orderBy('id').execute()
      ).map((r) => r.id);
      if (ids.length === 0) return ids;
      await trx
        .updateTable('alert_occurrences')
        .set((eb) => ({ end_at: greatest(this.engine, eb.val(end), eb.ref('peak_at')) }))
        .where('end_at', 'is', null)
        .where('alert_id', 'in', ids)
        .execute();
      await trx
        .updateTable('alerts')
        .set((eb) => ({
          active: 0,
          end_at: eb.fn.coalesce('end_at', greatest(this.engine, eb.val(end), eb.ref('peak_at'))),
          closed_at: Date.now(),
        }))
        .where('id', 'in', ids)
        .execute();
      return ids;
    });
    return this.many(ids);
  }

  async get(id: number): Promise<Alert | null> {
    const row = await this.db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? (await this.hydrate(this.db, [row as AlertRow]))[0] : null;
  }

  /** Like `get`, throwing `NotFoundError` for an unknown id. */
  async require(id: number): Promise<Alert> {
    const alert = await this.get(id);
    if (!alert) throw new NotFoundError(`alert ${id} not found`);
    return alert;
  }

  /** The alerts of `ids`, in that order. */
  private async many(ids: number[]): Promise<Alert[]> {
    if (ids.length === 0) return [];
    const rows = (await this.db
      .selectFrom('alerts')
      .selectAll()
      .where('id', 'in', ids)
      .execute()) as AlertRow[];
    const byId = new Map((await this.hydrate(this.db, rows)).map((a) => [a.id, a]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** The sensor's alert that is still over the threshold, if any (the newest, should there be several). */
  async activeFor(sensorId: string, kind?: AlertKind): Promise<Alert | null> {
    let q = this.db
      .selectFrom('alerts')
      .selectAll()
      .where('sensor_id', '=', sensorId)
      .where('active', '=', 1)
      .orderBy('start_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1);
    if (kind !== undefined) q = q.where('kind', '=', kind);
    const row = await q.executeTakeFirst();
    return row ? (await this.hydrate(this.db, [row as AlertRow]))[0] : null;
  }

  /** Alerts not yet resolved, per sensor id (sensors without any are absent). */
  async unresolvedCounts(): Promise<Map<string, number>> {
    return this.countsBySensor('!=', 'resolved');
  }

  /** Alerts that need a person (state `open`: neither acknowledged nor resolved), per sensor id. */
  async attentionCounts(): Promise<Map<string, number>> {
    return this.countsBySensor('=', 'open');
  }

  private async countsBySensor(op: '=' | '!=', state: AlertState): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('alerts')
      .select((eb) => ['sensor_id', eb.fn.countAll<number>().as('n')])
      .where('state', op, state)
      .groupBy('sensor_id')
      .execute();
    return new Map(rows.map((r) => [r.sensor_id, Number(r.n)]));
  }

  /**
   * One page of alerts matching `filters`, in `order` (default: open first, then acknowledged, then resolved;
   * newest first within each state). `limit` in 1..500, `offset` >= 0.
   */
  async list(
    filters: AlertFilters = {},
    limit = 50,
    offset = 0,
    order: AlertOrder = {},
  ): Promise<Page<Alert>> {
    checkInt('limit', limit, 1, MAX_ALERT_PAGE);
    checkInt('offset', offset, 0, Number.MAX_SAFE_INTEGER);
    const where = alertWhere(await this.withLabels(filters));
    const { n } = await this.db
      .selectFrom('alerts as a')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(where)
      .executeTakeFirstOrThrow();
    const rows = await this.db
      .selectFrom('alerts as a')
      .selectAll('a')
      .where(where)
      .orderBy(orderBy(sortKeys(order)))
      .limit(limit)
      .offset(offset)
      .execute();
    return { items: await this.hydrate(this.db, rows as AlertRow[]), total: Number(n), limit, offset };
  }

  /**
   * The alerts just before and after alert `id` in the list of `filters` and `order`, and its place in that
   * list (null when it does not match the filters). Found by the alert's own sort values (keyset), so they
   * are right even when the alert has left the list since the reader opened it.
   */
  async neighbours(id: number, filters: AlertFilters = {}, order: AlertOrder = {}): Promise<AlertNeighbours> {
    const keys = sortKeys(order);
    const found = await sql<
      Record<string, unknown>
    >`SELECT ${keyColumns(keys)} FROM alerts a WHERE a.id = ${id}`.execute(this.db);
    const row = found.rows[0];
    if (!row) throw new NotFoundError(`alert ${id} not found`);
    const at = keys.map((_, i) => row[`k${i}`]);
    const where = alertWhere(await this.withLabels(filters));
    const step = async (before: boolean) =>
      (
        await this.db
          .selectFrom('alerts as a')
          .select('a.id')
          .where(where)
          .where(keysetCondition(keys, at, before))
          .orderBy(orderBy(keys, before))
          .limit(1)
          .executeTakeFirst()
      )?.id ?? null;
    const count = async (cond?: RawBuilder<SqlBool>) => {
      let q = this.db
        .selectFrom('alerts as a')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where(where);
      if (cond) q = q.where(cond);
      return Number((await q.executeTakeFirstOrThrow()).n);
    };
    const listed = (await count(sql<SqlBool>`a.id = ${id}`)) === 1;
    return {
      id,
      previous: await step(true),
      next: await step(false),
      position: listed ? (await count(keysetCondition(keys, at, true))) + 1 : null,
      total: await count(),
    };
  }

  /**
   * The filters with a label group turned into the ids of the sensors that carry it (labels are JSON, whose
   * operators differ between SQLite and PostgreSQL; a plant has hundreds of sensors at most).
   */
  private async withLabels(filters: AlertFilters): Promise<AlertFilters> {
    if (filters.labels === undefined) return filters;
    const group = Object.entries(filters.labels);
    const sensors = await this.db.selectFrom('sensors').select(['id', 'labels']).execute();
    const ids = sensors
      .filter((s) => {
        const labels = JSON.parse(s.labels) as Record<string, string>;
        return group.every(([k, v]) => labels[k] === v);
      })
      .map((s) => s.id);
    const inGroup = filters.sensorIds ? ids.filter((id) => filters.sensorIds!.includes(id)) : ids;
    return { ...filters, labels: undefined, sensorIds: inGroup };
  }

  /**
   * open -> acknowledged. Acknowledging twice, or a resolved alert, is a `ConflictError`. Either way the
   * request is recorded in the alert's actions (`actions`): applied in the same transaction as the step,
   * refused after it rolled back.
   */
  async acknowledge(id: number, by: string, at = Date.now()): Promise<Alert> {
    return this.step(id, 'acknowledge', by, at, async (trx, row) => {
      if (row.state === 'acknowledged') {
        throw new ConflictError(
          `alert ${id} is already acknowledged (by ${row.acknowledged_by} at ${iso(row.acknowledged_at)})`,
        );
      }
      if (row.state === 'resolved') {
        throw new ConflictError(`alert ${id} is resolved (by ${row.resolved_by}); it cannot be acknowledged`);
      }
      await trx
        .updateTable('alerts')
        .set({ state: 'acknowledged', acknowledged_by: by, acknowledged_at: at })
        .where('id', '=', id)
        .execute();
    });
  }

  /** open or acknowledged -> resolved (final). Resolving a resolved alert is a `ConflictError`. Recorded too. */
  async resolve(id: number, by: string, at = Date.now()): Promise<Alert> {
    return this.step(id, 'resolve', by, at, async (trx, row) => {
      if (row.state === 'resolved') {
        throw new ConflictError(
          `alert ${id} is already resolved (by ${row.resolved_by} at ${iso(row.resolved_at)})`,
        );
      }
      await trx
        .updateTable('alerts')
        .set({ state: 'resolved', resolved_by: by, resolved_at: at })
        .where('id', '=', id)
        .execute();
    });
  }

  /** Every acknowledge or resolve asked of alert `id`, oldest first (a `NotFoundError` for an unknown alert). */
  async actions(id: number): Promise<AlertAction[]> {
    await this.require(id);
    const rows = await this.db
      .selectFrom('alert_actions')
      .selectAll()
      .where('alert_id', '=', id)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      alertId: Number(r.alert_id),
      action: r.action as AlertAction['action'],
      outcome: r.outcome as AlertAction['outcome'],
      by: r.actor,
      at: Number(r.at),
      detail: r.detail,
    }));
  }

  /** A step recorded as applied with its write, or as refused (with the reason) when its check refuses it. */
  private async step(
    id: number,
    action: AlertAction['action'],
    by: string,
    at: number,
    write: (trx: Db, row: AlertRow) => Promise<void>,
  ): Promise<Alert> {
    const record = (db: Db, outcome: AlertAction['outcome'], detail: string | null) =>
      db
        .insertInto('alert_actions')
        .values({ alert_id: id, action, outcome, actor: by, at, detail })
        .execute();
    try {
      return await this.transition(id, async (trx, row) => {
        await write(trx, row);
        await record(trx, 'applied', null);
      });
    } catch (err) {
      if (err instanceof ConflictError) await record(this.db, 'refused', err.message);
      throw err;
    }
  }

  /** Adds an operator's note; allowed in every state. */
  async annotate(
    id: number,
    note: { label: AnnotationLabel; text?: string; author: string; at?: number },
  ): Promise<Alert> {
    if (!ANNOTATION_LABELS.includes(note.label)) {
      throw new InvalidArgumentError(
        `annotation label '${note.label}' must be one of ${ANNOTATION_LABELS.map((l) => `'${l}'`).join(', ')}`,
      );
    }
    return this.transition(id, async (trx) => {
      await trx
        .insertInto('annotations')
        .values({
          alert_id: id,
          label: note.label,
          text: note.text ?? '',
          author: note.author,
          at: note.at ?? Date.now(),
        })
        .execute();
    });
  }

  /**
   * Runs an operator's step on the alert's locked row in one transaction (two operators on two instances take
   * turns: the second sees the first one's state), then returns the alert as committed.
   */
  private async transition(id: number, write: (trx: Db, row: AlertRow) => Promise<void>): Promise<Alert> {
    await this.db.transaction().execute(async (trx) => write(trx, await this.lockRow(trx, id)));
    return this.require(id);
  }

  /** Rows to `Alert`s, joining annotations, occurrences and the latest feedback in three queries. */
  private async hydrate(db: Db, rows: AlertRow[]): Promise<Alert[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const notes = (await db
      .selectFrom('annotations')
      .selectAll()
      .where('alert_id', 'in', ids)
      .orderBy('at')
      .orderBy('id')
      .execute()) as AnnotationRow[];
    const feedback = (await db
      .selectFrom('feedback')
      .select(['id', 'alert_id', 'reverted_at'])
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('feedback')
          .select((e) => e.fn.max('id').as('id'))
          .where('alert_id', 'in', ids)
          .groupBy('alert_id'),
      )
      .execute()) as FeedbackRow[];
    const occurrences = (await db
      .selectFrom('alert_occurrences')
      .selectAll()
      .where('alert_id', 'in', ids)
      .orderBy('id')
      .execute()) as OccurrenceRow[];
    const occurrencesBy = new Map<number, AlertOccurrence[]>();
    for (const o of occurrences) {
      const list = occurrencesBy.get(o.alert_id) ?? [];
      list.push({
        start: o.start_at,
        end: o.end_at,
        peakScore: o.peak_score,
        peakAt: o.peak_at,
        openedAt: o.opened_at,
        clearedAt: o.cleared_at,
      });
      occurrencesBy.set(o.alert_id, list);
    }
    const notesBy = new Map<number, Annotation[]>();
    for (const n of notes) {
      const list = notesBy.get(n.alert_id) ?? [];
      list.push({ id: n.id, alertId: n.alert_id, label: n.label, text: n.text, author: n.author, at: n.at });
      notesBy.set(n.alert_id, list);
    }
    const feedbackBy = new Map(feedback.map((f) => [f.alert_id, f]));
    return rows.map((r) => {
      const f = feedbackBy.get(r.id);
      return {
        id: r.id,
        sensorId: r.sensor_id,
        kind: r.kind,
        state: r.state,
        active: r.active === 1,
        start: r.start_at,
        end: r.end_at,
        peakScore: r.peak_score,
        peakAt: r.peak_at,
        threshold: r.threshold,
        boxes: JSON.parse(r.boxes) as AlertBox[],
        acknowledgedBy: r.acknowledged_by,
        acknowledgedAt: r.acknowledged_at,
        resolvedBy: r.resolved_by,
        resolvedAt: r.resolved_at,
        annotations: notesBy.get(r.id) ?? [],
        clip: { available: r.clip_available === 1, start: r.clip_start, seconds: r.clip_seconds },
        feedback: f ? { id: f.id, taught: f.reverted_at === null, revertedAt: f.reverted_at } : null,
        severity: r.severity,
        count: r.occurrences,
        occurrences: occurrencesBy.get(r.id) ?? [],
        clearedAt: r.cleared_at,
        autoResolved: r.auto_resolved === 1,
      };
    });
  }
}

const iso = (t: number | null) => (t === null ? '?' : new Date(t).toISOString());
