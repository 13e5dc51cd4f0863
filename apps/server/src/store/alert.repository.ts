import {
  ALERT_KINDS,
  ANNOTATION_LABELS,
  type Alert,
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
import { Repository } from './database.js';
import { whereClause, type AlertFilters } from './alert.filters.js';
import { keyColumns, keysetCondition, orderBy, sortKeys, type AlertOrder } from './alert.order.js';
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
 * one committed transaction when the call returns (the database runs `synchronous = FULL`), so an operator's
 * acknowledgement or note survives a crash right after the answer.
 */
export class AlertRepository extends Repository {
  /** Stores a new open, active alert (creating the sensor row if the sensor is unknown). */
  open(alert: NewAlert): Alert {
    if (!ALERT_KINDS.includes(alert.kind)) {
      throw new InvalidArgumentError(`alert kind '${alert.kind}' must be one of ${ALERT_KINDS.join(', ')}`);
    }
    const id = this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO sensors (id, name, first_seen, last_seen) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        )
        .run(alert.sensorId, alert.sensorId, alert.start, alert.start);
      const id = this.db
        .prepare(
          `INSERT INTO alerts (sensor_id, kind, start_at, peak_score, peak_at, threshold, boxes, severity)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          alert.sensorId,
          alert.kind,
          alert.start,
          alert.peakScore,
          alert.peakAt,
          alert.threshold,
          JSON.stringify(alert.boxes ?? []),
          alert.severity ?? 'warning',
        ).lastInsertRowid;
      this.insertOccurrence(Number(id), alert);
      return id;
    })();
    return this.require(Number(id));
  }

  /**
   * Folds a repeat into alert `id`: a new occurrence, the alert active again (and, when it had resolved by
   * itself, open again: acknowledged if someone had acknowledged it). Its peak, boxes and severity follow the
   * strongest occurrence.
   */
  recur(id: number, occ: NewOccurrence): Alert {
    this.require(id);
    this.db.transaction(() => {
      this.insertOccurrence(id, occ);
      this.db
        .prepare(
          `UPDATE alerts SET
             occurrences = occurrences + 1,
             active = 1, end_at = NULL, closed_at = NULL, cleared_at = NULL,
             peak_at = CASE WHEN @peakScore >= peak_score THEN @peakAt ELSE peak_at END,
             boxes = CASE WHEN @peakScore >= peak_score THEN @boxes ELSE boxes END,
             peak_score = MAX(peak_score, @peakScore),
             severity = CASE WHEN @severity = 'critical' THEN 'critical' ELSE severity END,
             state = CASE WHEN auto_resolved = 1
               THEN CASE WHEN acknowledged_at IS NULL THEN 'open' ELSE 'acknowledged' END ELSE state END,
             resolved_by = CASE WHEN auto_resolved = 1 THEN NULL ELSE resolved_by END,
             resolved_at = CASE WHEN auto_resolved = 1 THEN NULL ELSE resolved_at END,
             auto_resolved = 0
           WHERE id = @id`,
        )
        .run({
          id,
          peakScore: occ.peakScore,
          peakAt: occ.peakAt,
          boxes: JSON.stringify(occ.boxes ?? []),
          severity: occ.severity ?? 'warning',
        });
    })();
    return this.require(id);
  }

  /**
   * The alert a new one of `sensorId` and `kind` folds into: the sensor's latest alert of that kind, when it
   * ended at or after `since` (server ms) and no person resolved it (open, acknowledged or auto-resolved).
   */
  foldTarget(sensorId: string, kind: AlertKind, since: number): Alert | null {
    const row = this.db
      .prepare(`SELECT * FROM alerts WHERE sensor_id = ? AND kind = ? ORDER BY id DESC LIMIT 1`)
      .get(sensorId, kind) as AlertRow | undefined;
    if (!row || row.active === 1 || row.closed_at === null || row.closed_at < since) return null;
    if (row.state === 'resolved' && row.auto_resolved === 0) return null;
    return this.hydrate([row])[0];
  }

  /**
   * Resolves, as {@link AUTO_RESOLVER}, every unresolved alert whose condition was seen to clear at or before
   * `clearedBy` (server ms) and has not come back. Returns the alerts changed.
   */
  autoResolve(clearedBy: number, now = Date.now()): Alert[] {
    const ids = this.db.transaction(() => {
      const found = (
        this.db
          .prepare(
            `SELECT id FROM alerts WHERE state != 'resolved' AND active = 0
               AND cleared_at IS NOT NULL AND cleared_at <= ?`,
          )
          .all(clearedBy) as { id: number }[]
      ).map((r) => r.id);
      const set = this.db.prepare(
        `UPDATE alerts SET state = 'resolved', auto_resolved = 1, resolved_by = ?, resolved_at = ? WHERE id = ?`,
      );
      for (const id of found) set.run(AUTO_RESOLVER, now, id);
      return found;
    })();
    return ids.map((id) => this.require(id));
  }

  /** Active `warning` alerts, with the server ms their current occurrence opened (for escalation by time). */
  activeWarnings(): { id: number; sensorId: string; openedAt: number }[] {
    return this.db
      .prepare(
        `SELECT a.id, a.sensor_id AS sensorId,
           (SELECT o.opened_at FROM alert_occurrences o WHERE o.alert_id = a.id ORDER BY o.id DESC LIMIT 1)
             AS openedAt
         FROM alerts a WHERE a.active = 1 AND a.severity = 'warning'`,
      )
      .all() as { id: number; sensorId: string; openedAt: number }[];
  }

  /** Raises the alert to `critical`. */
  escalate(id: number): Alert {
    this.require(id);
    this.db.prepare(`UPDATE alerts SET severity = 'critical' WHERE id = ?`).run(id);
    return this.require(id);
  }

  /** Ids of the alerts matching `filters` (oldest first), at most `limit`. */
  ids(filters: AlertFilters, limit: number): number[] {
    const { where, params } = this.where(filters);
    return (
      this.db.prepare(`SELECT a.id FROM alerts a ${where} ORDER BY a.id LIMIT @limit`).all({
        ...params,
        limit,
      }) as { id: number }[]
    ).map((r) => r.id);
  }

  private insertOccurrence(alertId: number, occ: NewOccurrence): void {
    this.db
      .prepare(
        `INSERT INTO alert_occurrences (alert_id, start_at, peak_score, peak_at, opened_at)
         VALUES (?, ?, ?, ?, ?)`,
      )
      .run(alertId, occ.start, occ.peakScore, occ.peakAt, occ.openedAt ?? Date.now());
  }

  /** Updates the signal side of an alert (peak, boxes, end, active); the operator side is untouched. */
  update(id: number, patch: AlertPatch): Alert {
    this.require(id);
    const params = {
      id,
      active: patch.active === undefined ? null : patch.active ? 1 : 0,
      setEnd: patch.end === undefined ? 0 : 1,
      end: patch.end ?? null,
      peakScore: patch.peakScore ?? null,
      peakAt: patch.peakAt ?? null,
      boxes: patch.boxes ? JSON.stringify(patch.boxes) : null,
      severity: patch.severity ?? null,
      closedAt: patch.closedAt ?? null,
      setCleared: patch.clearedAt === undefined ? 0 : 1,
      clearedAt: patch.clearedAt ?? null,
    };
    // Expressions on the right read the row as it was: the peak comparisons see the old peak.
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE alerts SET
             active = COALESCE(@active, active),
             end_at = CASE WHEN @setEnd THEN @end ELSE end_at END,
             peak_at = CASE WHEN @peakScore IS NOT NULL AND @peakScore >= peak_score
               THEN COALESCE(@peakAt, peak_at) ELSE peak_at END,
             boxes = CASE WHEN @boxes IS NOT NULL AND (@peakScore IS NULL OR @peakScore >= peak_score)
               THEN @boxes ELSE boxes END,
             peak_score = MAX(peak_score, COALESCE(@peakScore, peak_score)),
             severity = CASE WHEN @severity = 'critical' THEN 'critical' ELSE severity END,
             closed_at = COALESCE(@closedAt, closed_at),
             cleared_at = CASE WHEN @setCleared THEN @clearedAt ELSE cleared_at END
           WHERE id = @id`,
        )
        .run(params);
      this.db
        .prepare(
          `UPDATE alert_occurrences SET
             end_at = CASE WHEN @setEnd THEN @end ELSE end_at END,
             peak_at = CASE WHEN @peakScore > peak_score THEN COALESCE(@peakAt, peak_at) ELSE peak_at END,
             peak_score = MAX(peak_score, COALESCE(@peakScore, peak_score)),
             cleared_at = CASE WHEN @setCleared THEN @clearedAt ELSE cleared_at END
           WHERE id = (SELECT MAX(id) FROM alert_occurrences WHERE alert_id = @id)`,
        )
        .run(params);
    })();
    return this.require(id);
  }

  /** Records that the alert's clip (`DATA/alerts/<id>/clip.wav`) was written. */
  setClip(id: number, clip: { start: number; seconds: number }): Alert {
    this.require(id);
    this.db
      .prepare('UPDATE alerts SET clip_start = ?, clip_seconds = ?, clip_available = 1 WHERE id = ?')
      .run(clip.start, clip.seconds, id);
    return this.require(id);
  }

  /**
   * Marks every still-active alert inactive, ending it at `end` (or its peak time, if later): after a
   * restart nothing is over the threshold any more until new windows say so. Returns the alerts changed.
   */
  deactivateAll(end: number): Alert[] {
    const ids = (this.db.prepare('SELECT id FROM alerts WHERE active = 1').all() as { id: number }[]).map(
      (r) => r.id,
    );
    // The signal is unknown since the crash: ended (a repeat may fold in), not seen to clear (no auto-resolve).
    this.db.transaction(() => {
      this.db
        .prepare(
          `UPDATE alert_occurrences SET end_at = MAX(?, peak_at) WHERE end_at IS NULL AND alert_id IN
             (SELECT id FROM alerts WHERE active = 1)`,
        )
        .run(end);
      this.db
        .prepare(
          `UPDATE alerts SET active = 0, end_at = COALESCE(end_at, MAX(?, peak_at)), closed_at = ?
           WHERE active = 1`,
        )
        .run(end, Date.now());
    })();
    return ids.map((id) => this.require(id));
  }

  get(id: number): Alert | null {
    const row = this.db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
    return row ? this.hydrate([row])[0] : null;
  }

  /** Like `get`, throwing `NotFoundError` for an unknown id. */
  require(id: number): Alert {
    const alert = this.get(id);
    if (!alert) throw new NotFoundError(`alert ${id} not found`);
    return alert;
  }

  /** The sensor's alert that is still over the threshold, if any (the newest, should there be several). */
  activeFor(sensorId: string, kind?: AlertKind): Alert | null {
    const row = this.db
      .prepare(
        `SELECT * FROM alerts WHERE sensor_id = ? AND active = 1 AND (? IS NULL OR kind = ?)
         ORDER BY start_at DESC, id DESC LIMIT 1`,
      )
      .get(sensorId, kind ?? null, kind ?? null) as AlertRow | undefined;
    return row ? this.hydrate([row])[0] : null;
  }

  /** Alerts not yet resolved, per sensor id (sensors without any are absent). */
  unresolvedCounts(): Map<string, number> {
    const rows = this.db
      .prepare(`SELECT sensor_id, COUNT(*) AS n FROM alerts WHERE state != 'resolved' GROUP BY sensor_id`)
      .all() as { sensor_id: string; n: number }[];
    return new Map(rows.map((r) => [r.sensor_id, r.n]));
  }

  /** Alerts that need a person (state `open`: neither acknowledged nor resolved), per sensor id. */
  attentionCounts(): Map<string, number> {
    const rows = this.db
      .prepare(`SELECT sensor_id, COUNT(*) AS n FROM alerts WHERE state = 'open' GROUP BY sensor_id`)
      .all() as { sensor_id: string; n: number }[];
    return new Map(rows.map((r) => [r.sensor_id, r.n]));
  }

  /**
   * One page of alerts matching `filters`, in `order` (default: open first, then acknowledged, then resolved;
   * newest first within each state). `limit` in 1..500, `offset` >= 0.
   */
  list(filters: AlertFilters = {}, limit = 50, offset = 0, order: AlertOrder = {}): Page<Alert> {
    checkInt('limit', limit, 1, MAX_ALERT_PAGE);
    checkInt('offset', offset, 0, Number.MAX_SAFE_INTEGER);
    const { where, params } = this.where(filters);
    const total = (
      this.db.prepare(`SELECT COUNT(*) AS n FROM alerts a ${where}`).get(params) as { n: number }
    ).n;
    const rows = this.db
      .prepare(`SELECT a.* FROM alerts a ${where} ${orderBy(sortKeys(order))} LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit, offset }) as AlertRow[];
    return { items: this.hydrate(rows), total, limit, offset };
  }

  /**
   * The alerts just before and after alert `id` in the list of `filters` and `order`, and its place in that
   * list (null when it does not match the filters). Found by the alert's own sort values (keyset), so they
   * are right even when the alert has left the list since the reader opened it.
   */
  neighbours(id: number, filters: AlertFilters = {}, order: AlertOrder = {}): AlertNeighbours {
    const keys = sortKeys(order);
    const at = this.db.prepare(`SELECT ${keyColumns(keys)} FROM alerts a WHERE a.id = ?`).get(id) as
      Record<string, string | number> | undefined;
    if (!at) throw new NotFoundError(`alert ${id} not found`);
    const { where, params } = this.where(filters);
    const and = (cond: string) => (where ? `${where} AND ${cond}` : `WHERE ${cond}`);
    const all = { ...params, ...at, id };
    const step = (before: boolean) =>
      (
        this.db
          .prepare(
            `SELECT a.id FROM alerts a ${and(keysetCondition(keys, before))} ${orderBy(keys, before)} LIMIT 1`,
          )
          .get(all) as { id: number } | undefined
      )?.id ?? null;
    const count = (cond?: string) =>
      (
        this.db.prepare(`SELECT COUNT(*) AS n FROM alerts a ${cond ? and(cond) : where}`).get(all) as {
          n: number;
        }
      ).n;
    const listed = count('a.id = @id') === 1;
    return {
      id,
      previous: step(true),
      next: step(false),
      position: listed ? count(keysetCondition(keys, true)) + 1 : null,
      total: count(),
    };
  }

  /** `whereClause` with a label group turned into the ids of the sensors that carry it. */
  private where(filters: AlertFilters): ReturnType<typeof whereClause> {
    if (filters.labels === undefined) return whereClause(filters);
    const group = Object.entries(filters.labels);
    const sensors = this.db.prepare('SELECT id, labels FROM sensors').all() as {
      id: string;
      labels: string;
    }[];
    const ids = sensors
      .filter((s) => {
        const labels = JSON.parse(s.labels) as Record<string, string>;
        return group.every(([k, v]) => labels[k] === v);
      })
      .map((s) => s.id);
    const inGroup = filters.sensorIds ? ids.filter((id) => filters.sensorIds!.includes(id)) : ids;
    return whereClause({ ...filters, labels: undefined, sensorIds: inGroup });
  }

  /** open -> acknowledged. Acknowledging twice, or a resolved alert, is a `ConflictError`. */
  acknowledge(id: number, by: string, at = Date.now()): Alert {
    return this.transition(id, () => {
      const alert = this.require(id);
      if (alert.state === 'acknowledged') {
        throw new ConflictError(
          `alert ${id} is already acknowledged (by ${alert.acknowledgedBy} at ${iso(alert.acknowledgedAt)})`,
        );
      }
      if (alert.state === 'resolved') {
        throw new ConflictError(
          `alert ${id} is resolved (by ${alert.resolvedBy}); it cannot be acknowledged`,
        );
      }
      this.db
        .prepare(
          `UPDATE alerts SET state = 'acknowledged', acknowledged_by = ?, acknowledged_at = ? WHERE id = ?`,
        )
        .run(by, at, id);
    });
  }

  /** open or acknowledged -> resolved (final). Resolving a resolved alert is a `ConflictError`. */
  resolve(id: number, by: string, at = Date.now()): Alert {
    return this.transition(id, () => {
      const alert = this.require(id);
      if (alert.state === 'resolved') {
        throw new ConflictError(
          `alert ${id} is already resolved (by ${alert.resolvedBy} at ${iso(alert.resolvedAt)})`,
        );
      }
      this.db
        .prepare(`UPDATE alerts SET state = 'resolved', resolved_by = ?, resolved_at = ? WHERE id = ?`)
        .run(by, at, id);
    });
  }

  /** Adds an operator's note; allowed in every state. */
  annotate(id: number, note: { label: AnnotationLabel; text?: string; author: string; at?: number }): Alert {
    if (!ANNOTATION_LABELS.includes(note.label)) {
      throw new InvalidArgumentError(
        `annotation label '${note.label}' must be one of ${ANNOTATION_LABELS.map((l) => `'${l}'`).join(', ')}`,
      );
    }
    return this.transition(id, () => {
      this.require(id);
      this.db
        .prepare('INSERT INTO annotations (alert_id, label, text, author, at) VALUES (?, ?, ?, ?, ?)')
        .run(id, note.label, note.text ?? '', note.author, note.at ?? Date.now());
    });
  }

  private transition(id: number, write: () => void): Alert {
    this.db.transaction(write).immediate();
    return this.require(id);
  }

  /** Rows to `Alert`s, joining annotations and the latest feedback in two queries. */
  private hydrate(rows: AlertRow[]): Alert[] {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const marks = ids.map(() => '?').join(',');
    const notes = this.db
      .prepare(`SELECT * FROM annotations WHERE alert_id IN (${marks}) ORDER BY at, id`)
      .all(...ids) as AnnotationRow[];
    const feedback = this.db
      .prepare(
        `SELECT id, alert_id, reverted_at FROM feedback WHERE id IN
           (SELECT MAX(id) FROM feedback WHERE alert_id IN (${marks}) GROUP BY alert_id)`,
      )
      .all(...ids) as FeedbackRow[];
    const occurrences = this.db
      .prepare(`SELECT * FROM alert_occurrences WHERE alert_id IN (${marks}) ORDER BY id`)
      .all(...ids) as OccurrenceRow[];
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
