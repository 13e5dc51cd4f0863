import { Repository } from './database.js';
import { NotFoundError } from './errors.js';

/** A sensor as stored: what survives restarts. Live state (level, queue, ...) lives in the runtime. */
export interface SensorRecord {
  id: string;
  name: string;
  labels: Record<string, string>;
  firstSeen: number;
  lastSeen: number;
  snoozedUntil: number | null;
  /** The sensor's own severity thresholds (null: the server's defaults). */
  criticalPeak: number | null;
  criticalSeconds: number | null;
  /** When an admin deleted it (it is no longer listed; its alerts keep its name), else null. */
  deletedAt: number | null;
}

/** `PATCH /api/sensors/:id`: name, labels (replaced), severity thresholds (null: back to the defaults). */
export interface SensorPatch {
  name?: string;
  labels?: Record<string, string>;
  severityThresholds?: { criticalPeak?: number | null; criticalSeconds?: number | null };
}

interface SensorRow {
  id: string;
  name: string;
  labels: string;
  first_seen: number;
  last_seen: number;
  snoozed_until: number | null;
  critical_peak: number | null;
  critical_seconds: number | null;
  deleted_at: number | null;
}

const toRecord = (r: SensorRow): SensorRecord => ({
  id: r.id,
  name: r.name,
  labels: JSON.parse(r.labels) as Record<string, string>,
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
  snoozedUntil: r.snoozed_until,
  criticalPeak: r.critical_peak,
  criticalSeconds: r.critical_seconds,
  deletedAt: r.deleted_at,
});

/** Sensors ever seen, their names, labels and snoozes. */
export class SensorRepository extends Repository {
  /**
   * Records that a sensor said hello at `at`: creates it (named after its id unless `name` is given) or
   * updates its last-seen time, and its name / labels when given. A deleted sensor's id registers anew: name,
   * labels, first-seen time, snooze and thresholds start over.
   */
  upsert(
    id: string,
    at: number,
    patch: { name?: string; labels?: Record<string, string> } = {},
  ): SensorRecord {
    this.db
      .prepare(
        `INSERT INTO sensors (id, name, labels, first_seen, last_seen) VALUES (@id, @name, @labels, @at, @at)
         ON CONFLICT (id) DO UPDATE SET
           last_seen = CASE WHEN deleted_at IS NULL THEN MAX(last_seen, @at) ELSE @at END,
           first_seen = CASE WHEN deleted_at IS NULL THEN first_seen ELSE @at END,
           name = CASE WHEN deleted_at IS NULL THEN COALESCE(@newName, name) ELSE @name END,
           labels = CASE WHEN deleted_at IS NULL THEN COALESCE(@newLabels, labels) ELSE @labels END,
           snoozed_until = CASE WHEN deleted_at IS NULL THEN snoozed_until END,
           critical_peak = CASE WHEN deleted_at IS NULL THEN critical_peak END,
           critical_seconds = CASE WHEN deleted_at IS NULL THEN critical_seconds END,
           deleted_at = NULL`,
      )
      .run({
        id,
        at,
        name: patch.name ?? id,
        labels: JSON.stringify(patch.labels ?? {}),
        newName: patch.name ?? null,
        newLabels: patch.labels ? JSON.stringify(patch.labels) : null,
      });
    return this.require(id);
  }

  /** Moves the last-seen time forward (never back). Unknown ids are ignored. */
  touch(id: string, at: number): void {
    this.db.prepare('UPDATE sensors SET last_seen = MAX(last_seen, ?) WHERE id = ?').run(at, id);
  }

  get(id: string): SensorRecord | null {
    const row = this.db.prepare('SELECT * FROM sensors WHERE id = ?').get(id) as SensorRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** Like `get`, throwing `NotFoundError` for an unknown or deleted id. */
  require(id: string): SensorRecord {
    const sensor = this.get(id);
    if (!sensor || sensor.deletedAt !== null) throw new NotFoundError(`sensor '${id}' not found`);
    return sensor;
  }

  /** Every sensor not deleted, by id. */
  list(): SensorRecord[] {
    return (
      this.db.prepare('SELECT * FROM sensors WHERE deleted_at IS NULL ORDER BY id').all() as SensorRow[]
    ).map(toRecord);
  }

  /**
   * Deletes a sensor from the list, keeping its row (name, labels) for the alerts that reference it. False
   * when the id is unknown or deleted already.
   */
  markDeleted(id: string, at: number): boolean {
    return (
      this.db.prepare('UPDATE sensors SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL').run(at, id)
        .changes > 0
    );
  }

  /**
   * Removes everything stored of a sensor, in one transaction: its alerts (with their annotations,
   * occurrences, feedback and notification deliveries, by cascade), score points and daily percentiles,
   * spectrogram history, model records and its own row. Returns the ids of the alerts removed (their media
   * files are the caller's).
   */
  purge(id: string): number[] {
    return this.db.transaction(() => {
      const alerts = (
        this.db.prepare('SELECT id FROM alerts WHERE sensor_id = ? ORDER BY id').all(id) as { id: number }[]
      ).map((r) => r.id);
      for (const table of ['feedback', 'alerts', 'scores', 'score_days', 'history_blocks', 'models'])
        this.db.prepare(`DELETE FROM ${table} WHERE sensor_id = ?`).run(id);
      this.db.prepare('DELETE FROM sensors WHERE id = ?').run(id);
      return alerts;
    })();
  }

  /** Renames, relabels (labels are replaced, not merged) and / or sets the severity thresholds of a known sensor. */
  update(id: string, patch: SensorPatch): SensorRecord {
    this.require(id);
    const t = patch.severityThresholds ?? {};
    this.db
      .prepare(
        `UPDATE sensors SET
           name = COALESCE(@name, name),
           labels = COALESCE(@labels, labels),
           critical_peak = CASE WHEN @setPeak THEN @peak ELSE critical_peak END,
           critical_seconds = CASE WHEN @setSeconds THEN @seconds ELSE critical_seconds END
         WHERE id = @id`,
      )
      .run({
        id,
        name: patch.name ?? null,
        labels: patch.labels ? JSON.stringify(patch.labels) : null,
        setPeak: t.criticalPeak === undefined ? 0 : 1,
        peak: t.criticalPeak ?? null,
        setSeconds: t.criticalSeconds === undefined ? 0 : 1,
        seconds: t.criticalSeconds ?? null,
      });
    return this.require(id);
  }

  /** Mutes a known sensor's alerts until `until` (ms); null lifts the snooze. */
  snooze(id: string, until: number | null): SensorRecord {
    this.require(id);
    this.db.prepare('UPDATE sensors SET snoozed_until = ? WHERE id = ?').run(until, id);
    return this.require(id);
  }
}
