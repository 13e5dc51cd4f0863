/**
 * Every sensor the server knows, each with its {@link SensorLine} (kept across reconnects for the server's
 * lifetime): the `/sensor` gateway's entry points, the REST view of the sensors, enrolment recordings, and
 * the housekeeping tick (score history flush, status).
 */
import {
  isSensorId,
  type ColumnsEvent,
  type HelloAck,
  type SensorAck,
  type SensorStatus,
  type TokenInfo,
} from '@hark/protocol';
import type { AlertService } from '../alerts/alert.service.js';
import type { ServerConfig } from '../config.js';
import type { HarkEvents } from '../events.js';
import { SensorsPort } from '../http/ports.js';
import { recordStream } from '../ingest/recorder.js';
import { melHz } from '../ingest/timing.js';
import type { LiveHub } from '../live/live-hub.js';
import type { HarkMetrics } from '../metrics/hark.metrics.js';
import type { BurnInService } from '../models/burn-in.service.js';
import type { ModelRegistry } from '../models/model-registry.js';
import { ModelError } from '../models/errors.js';
import type { ScoringScheduler } from '../scoring/scheduler.js';
import type { ShadowScorer } from '../scoring/shadow-scorer.js';
import type { WindowScorer } from '../scoring/window-scorer.js';
import type { SensorPatch } from '../store/sensor.repository.js';
import { isStorageFailure } from '../store/storage-health.js';
import type { HarkStore } from '../store/store.js';
import type { DspWorker } from '../ingest/dsp-worker.js';
import { SensorLine } from './sensor-line.js';
import { SensorStatusBoard } from './sensor-status.js';

export interface SensorsDeps {
  config: ServerConfig;
  store: HarkStore;
  /** The streams' resampling and log-mel in this worker thread (absent: on the event loop). */
  dsp?: DspWorker;
  models: ModelRegistry;
  scorer: WindowScorer;
  /** Scores the windows again with a sensor's shadow model, when it has one (absent: no shadows). */
  shadow?: ShadowScorer;
  alerts: AlertService;
  hub: LiveHub;
  metrics: HarkMetrics;
  /** Records the columns sent to dashboards (the spectrogram history), if given; forgets a purged sensor. */
  history?: { columns(ev: ColumnsEvent): void; forget?(sensorId: string): void };
  /** This instance's name (`sensor:status.instance` of the sensors streaming here). */
  instance?: () => string;
  /**
   * The latest status of a sensor that streams to another instance of the cluster, if any: shown instead of
   * this instance's view of it, in which it is disconnected.
   */
  remoteStatus?: (sensorId: string) => SensorStatus | null;
  /** Every sensor streaming to another instance now (listed here too, though this instance may not know it). */
  remoteStatuses?: () => SensorStatus[];
  /** Live burn-ins of new model versions (absent: none). */
  burnIn?: BurnInService;
  /** Told of every change an admin makes here to a sensor's record (the other instances reload theirs). */
  events?: HarkEvents;
  log: (line: string) => void;
}

/** The answer to a message of a connection whose sensor was deleted meanwhile. */
const DELETED = 'this connection was closed: its sensor was deleted; connect again to register it anew';

export class Sensors extends SensorsPort {
  readonly #lines = new Map<string, SensorLine>();
  readonly #status: SensorStatusBoard;
  /** Registrations (and hello's name and labels) a failed write left unsaved, retried while degraded. */
  readonly #unsaved = new Map<string, { at: number; patch: SensorPatch }>();
  /** Registrations being written. */
  readonly #saving = new Map<string, { at: number; patch: SensorPatch }>();
  #timer: NodeJS.Timeout | null = null;
  #sweeping: Promise<void> | null = null;
  /** Sensors whose rings are being freed (their pending clips are being written first). */
  readonly #freeing = new Set<string>();

  constructor(readonly d: SensorsDeps) {
    super();
    this.#status = new SensorStatusBoard(d);
  }

  /** The scoring scheduler (its counters and `idle()`, for benchmarks and tests). */
  get scheduler(): ScoringScheduler {
    return this.d.scorer.scheduler;
  }

  /** The window scorer (its per-sensor counters with skipped windows and the scoring hop, for benchmarks). */
  get scorer(): WindowScorer {
    return this.d.scorer;
  }

  /** Closes alerts a crash left active, knows every stored sensor, starts the housekeeping tick. */
  async start(): Promise<void> {
    this.d.store.health.addRetry('sensors', () => this.#saveRegistrations());
    await this.d.alerts.recover(Date.now());
    for (const s of await this.d.store.sensors.list()) this.#get(s.id);
    this.#timer = setInterval(() => this.#tick(), 1000);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const line of this.#lines.values()) line.unsubscribeModel();
    await this.d.scorer.close(this.#lines.keys());
    for (const line of this.#lines.values()) {
      await line.alerts.settled();
      await line.alerts.flushClips(true);
    }
    await this.d.alerts.settled();
    await this.d.store.health.attempt('scores', () => this.d.store.scores.flush());
  }

  // ---- /sensor ----

  /**
   * A sensor connected (with the token named `token`); it streams, and counts as connected, once its hello
   * is accepted (see `SensorIngest`).
   */
  connect(sensorId: string, socketId: string, kick: (reason: string) => void, token = ''): void {
    this.#get(sensorId).ingest.connect(socketId, kick, token);
  }

  disconnect(sensorId: string, socketId: string): void {
    const line = this.#lines.get(sensorId);
    if (!line?.ingest.disconnect(socketId)) return;
    this.d.metrics.sensorsConnected.set(this.#connectedCount());
    // The signal is unknown from here: close what is open at the last audio.
    line.alerts.disconnected();
    this.#status.publish(line, true);
  }

  /**
   * Why a connection as `sensorId` is refused at the handshake, or null: a new id while the server knows
   * `maxSensors` sensors already, or while the sensor token's bound ids it knows reach `maxSensorsPerToken`
   * (a binding longer than the limit: made before the limit was lowered).
   */
  admissionProblem(sensorId: string, token?: Pick<TokenInfo, 'name' | 'role' | 'sensors'>): string | null {
    if (this.#lines.has(sensorId) || this.#known(sensorId)) return null;
    const { maxSensors, maxSensorsPerToken } = this.d.config;
    const known = this.#lines.size;
    if (known >= maxSensors)
      return (
        `the server knows ${known} sensors, its limit (HARK_MAX_SENSORS = ${maxSensors}): ` +
        `'${sensorId}' is a new one; stream as a known id, delete one (DELETE /api/sensors/:id), or raise ` +
        'the limit (each streaming sensor holds about 5 MB of rings besides its model, about 10 MB for a ' +
        'default one fitted on a minute of sound)'
      );
    if (token?.role === 'sensor' && token.sensors) {
      const mine = token.sensors.filter((id) => this.#lines.has(id) || this.#known(id)).length;
      if (mine >= maxSensorsPerToken)
        return (
          `token '${token.name}' has registered ${mine} sensors, the limit of one token ` +
          `(HARK_MAX_SENSORS_PER_TOKEN = ${maxSensorsPerToken}): '${sensorId}' is a new one; use another ` +
          'token for it, or raise the limit'
        );
    }
    return null;
  }

  hello(sensorId: string, socketId: string, msg: unknown): HelloAck {
    // Every connection made its line (`connect`); none here: the sensor was deleted since.
    const line = this.#lines.get(sensorId);
    if (!line) return { ok: false, code: 'BAD_MESSAGE', error: DELETED };
    const { ack, patch, tookOver } = line.ingest.hello(socketId, msg);
    if (tookOver) this.d.log(`sensor ${sensorId}: ${tookOver}`);
    if (tookOver && !patch) {
      // The taker's hello was refused: nobody streams for the sensor now.
      this.d.metrics.sensorsConnected.set(this.#connectedCount());
      line.alerts.disconnected();
      this.#status.publish(line, true);
    }
    if (patch) {
      // Name and labels are the first registration's; later only an admin changes them (REST PATCH).
      this.#register(sensorId, Date.now(), this.#known(sensorId) ? {} : patch);
      this.d.metrics.sensorsConnected.set(this.#connectedCount());
      this.#status.publish(line, true);
    }
    return ack;
  }

  /** Registered already (stored and not deleted, or waiting to be stored). */
  #known(sensorId: string): boolean {
    return this.#unsaved.has(sensorId) || this.#saving.has(sensorId) || this.#stored(sensorId);
  }

  /** Stored and not deleted (as this process last read or wrote it). */
  #stored(sensorId: string): boolean {
    const rec = this.d.store.sensors.cached(sensorId);
    return rec !== null && rec.deletedAt === null;
  }

  audio(sensorId: string, socketId: string, msg: unknown): SensorAck {
    const line = this.#lines.get(sensorId);
    if (!line) return { ok: false, code: 'BAD_MESSAGE', error: DELETED };
    const wasStale = line.ingest.stale;
    const ack = line.ingest.audio(socketId, msg, Date.now());
    if (wasStale && !line.ingest.stale) {
      this.d.log(`sensor ${sensorId}: audio resumed`);
      this.#status.publish(line, true);
    }
    return ack;
  }

  /** Recent columns for a new subscriber. */
  backfill(sensorId: string, seconds: number): ColumnsEvent[] {
    return this.#lines.get(sensorId)?.live.backfill(seconds) ?? [];
  }

  /** Records `seconds` of the sensor's live audio at the analysis rate (enrolment). */
  record(
    sensorId: string,
    seconds: number,
    progress: (done: number, total: number) => void,
  ): Promise<Float32Array> {
    const line = this.#lines.get(sensorId);
    if (!line?.ingest.connected)
      throw new ModelError(
        `sensor ${sensorId} is not connected: enrolment records its live stream`,
        'NOT_STREAMING',
      );
    return recordStream(sensorId, line.stream, seconds, progress);
  }

  // ---- REST ----

  async list(): Promise<SensorStatus[]> {
    for (const s of await this.d.store.sensors.list()) this.#get(s.id);
    for (const id of this.d.models.sensorIds()) this.#get(id);
    const here = [...this.#lines.values()].map((line) => {
      const local = this.#status.of(line);
      return this.#view(local) ?? local;
    });
    const elsewhere = (this.d.remoteStatuses?.() ?? []).filter((r) => !this.#lines.has(r.id));
    return [...here, ...elsewhere];
  }

  async status(sensorId: string): Promise<SensorStatus | null> {
    await this.d.store.sensors.get(sensorId); // fresh in the cache
    const known = this.#stored(sensorId) || this.d.models.status(sensorId).state !== 'none';
    const line = this.#lines.get(sensorId) ?? (known ? this.#get(sensorId) : null);
    return line ? this.#view(this.#status.of(line)) : this.#view(null, sensorId);
  }

  /** Publishes the status of every sensor connected here (Redis returned: the other instances see them again). */
  publishAll(): void {
    for (const line of this.#lines.values()) if (line.ingest.connected) this.#status.publish(line, true);
  }

  /**
   * The sensor's burn-in changed here (collecting, applied, reverted): its status carries the threshold in
   * use, so dashboards get it at once, also when the stream has ended (unless another instance streams it and
   * speaks for it).
   */
  burnInChanged(sensorId: string): void {
    const line = this.#lines.get(sensorId);
    if (line && (line.ingest.connected || !this.d.remoteStatus?.(sensorId)?.connected))
      this.#status.publish(line, true);
  }

  /** The status seen here, or the streaming instance's when the sensor streams elsewhere. */
  #view(local: SensorStatus | null, id = local?.id ?? ''): SensorStatus | null {
    if (local?.connected) return local;
    const remote = this.d.remoteStatus?.(id) ?? null;
    return remote?.connected ? remote : local;
  }

  async update(sensorId: string, patch: SensorPatch): Promise<SensorStatus> {
    await this.d.store.sensors.update(sensorId, patch);
    this.d.events?.emit('sensor:changed', { sensorId });
    return this.#changed(this.#get(sensorId));
  }

  async snooze(sensorId: string, until: number | null): Promise<SensorStatus> {
    await this.d.store.sensors.snooze(sensorId, until);
    this.d.events?.emit('sensor:changed', { sensorId });
    return this.#changed(this.#get(sensorId));
  }

  /**
   * Another instance changed the sensor's stored record (a notice through Redis): the record is read again at
   * once, so the windows scored here use the new snooze and thresholds, and the status sent from here carries
   * the new name and labels. A deleted (or purged) sensor leaves this instance as it leaves the one where it
   * was deleted: its connections here close, its rings go, it leaves the list, and the dashboards here are told
   * (`sensor:deleted` is not relayed). `where`: where it changed (`on instance C`). `gone`: what a missing
   * record means, purged (a notice names the sensor) or maybe not stored yet (a registration still unsaved).
   */
  async recordChanged(sensorId: string, where: string, gone: 'purged' | 'unknown' = 'purged'): Promise<void> {
    const rec = await this.d.store.sensors.get(sensorId);
    const deleted = rec ? rec.deletedAt !== null : gone === 'purged';
    const line = this.#lines.get(sensorId);
    if (!deleted) {
      if (line?.ingest.connected) this.#status.publish(line, true);
      return;
    }
    this.d.hub.broadcast('sensor:deleted', { sensorId });
    if (!line) return;
    this.#lines.delete(sensorId);
    this.#unsaved.delete(sensorId);
    this.d.store.health.setWaiting('sensors', this.#unsaved.size);
    line.unsubscribeModel();
    await this.#closeLine(
      line,
      `sensor ${sensorId} was deleted ${where}; connecting again registers it anew`,
    );
    this.d.metrics.sensorsKnown.set(this.#lines.size);
    this.d.log(`sensor ${sensorId}: deleted ${where}: closed here`);
  }

  /** Reads every sensor record this instance uses again (Redis returned: notices may have been missed). */
  async reloadRecords(where: string): Promise<void> {
    for (const id of [...this.#lines.keys()]) await this.recordChanged(id, where, 'unknown');
  }

  /**
   * An admin deletes a sensor (`DELETE /api/sensors/:id`): its connections are closed with `reason`, its open
   * alerts close at its last audio, its rings and queued windows go, and it leaves the list. Its model and
   * versions are kept under `DATA/retired/` and its alerts, scores and history stay (for the record), unless
   * `purge`, which removes them too. Its next connection is a new registration. False for an unknown id;
   * `ModelError` `BUSY` while it enrols or fits.
   */
  async remove(sensorId: string, o: { purge: boolean; by: string }): Promise<boolean> {
    const line = this.#lines.get(sensorId);
    const known = this.#known(sensorId) || this.d.models.status(sensorId).state !== 'none';
    if (!line && !known) return false;
    const at = Date.now();
    // Refused while a fit runs, and the record written first: either fails with nothing changed.
    this.d.models.checkRemovable(sensorId);
    if (!o.purge) await this.d.store.sensors.markDeleted(sensorId, at);
    if (line) line.unsubscribeModel();
    let retired: string | null;
    try {
      retired = await this.d.models.remove(sensorId, { purge: o.purge, at });
    } catch (err) {
      if (line) line.unsubscribeModel = this.d.models.onChange(sensorId, (det) => line.modelChanged(det));
      throw err;
    }
    this.#lines.delete(sensorId);
    this.#unsaved.delete(sensorId);
    this.d.store.health.setWaiting('sensors', this.#unsaved.size);
    if (line)
      await this.#closeLine(
        line,
        `sensor ${sensorId} was deleted by an admin (${o.by}); connecting again registers it anew`,
      );
    await this.d.store.health.attempt('scores', () => this.d.store.scores.flush());
    if (o.purge) {
      this.d.history?.forget?.(sensorId);
      const alerts = await this.d.store.sensors.purge(sensorId);
      await this.d.alerts.removeMedia(alerts);
      this.d.metrics.forgetSensor(sensorId);
      this.d.log(
        `sensor ${sensorId}: deleted with its data by ${o.by} (${alerts.length} alerts, scores, history, models)`,
      );
    } else {
      this.d.log(
        `sensor ${sensorId}: deleted by ${o.by}; its alerts, scores and history are kept` +
          (retired ? `, its model in ${retired}` : ''),
      );
    }
    this.d.metrics.sensorsKnown.set(this.#lines.size);
    this.d.hub.broadcast('sensor:deleted', { sensorId });
    this.d.events?.emit('sensor:changed', { sensorId });
    return true;
  }

  /** A deleted sensor's line, out of `#lines` already: its connections close with `reason`, its rings go. */
  async #closeLine(line: SensorLine, reason: string): Promise<void> {
    line.ingest.closeAll(reason);
    line.alerts.disconnected();
    this.d.scorer.forget(line.id);
    this.d.burnIn?.forget(line.id);
    await line.alerts.flushClips(true);
    await this.d.scorer.scheduler.idle();
    line.stream.dispose();
    this.d.metrics.sensorsConnected.set(this.#connectedCount());
  }

  melHz(sensorId: string): number[] | null {
    const line = this.#lines.get(sensorId);
    return line ? melHz(line.stream.mel) : null;
  }

  #changed(line: SensorLine): SensorStatus {
    this.#status.publish(line, true);
    return this.#status.of(line);
  }

  /**
   * Stores that the sensor connected (and what its hello said). Best-effort: when the write fails (a full
   * disk) the sensor still streams and is scored; the registration is kept and written once writes succeed.
   */
  #register(sensorId: string, at: number, patch: SensorPatch): void {
    const earlier = this.#unsaved.get(sensorId);
    const merged = { at, patch: { ...earlier?.patch, ...patch } };
    // Known from its hello on, while the write is under way.
    this.#unsaved.delete(sensorId);
    this.#saving.set(sensorId, merged);
    void this.d.store.health
      .attempt('sensor', () => this.d.store.sensors.upsert(sensorId, merged.at, merged.patch))
      .then((saved) => {
        if (this.#saving.get(sensorId) !== merged) return; // a later registration took over
        this.#saving.delete(sensorId);
        if (!saved) this.#unsaved.set(sensorId, merged);
        this.d.store.health.setWaiting('sensors', this.#unsaved.size);
        // The status read the record before the write answered (the id as name): send the stored one now.
        const line = this.#lines.get(sensorId);
        if (saved && line) this.#status.publish(line, true);
      });
  }

  /** Writes the unsaved registrations; throws at the first that fails. Returns how many still wait. */
  async #saveRegistrations(): Promise<number> {
    for (const [id, r] of this.#unsaved) {
      await this.d.store.sensors.upsert(id, r.at, r.patch);
      if (this.#unsaved.get(id) === r) this.#unsaved.delete(id);
    }
    return 0;
  }

  #tick(): void {
    void this.d.store.health.attempt('scores', () => this.d.store.scores.flush());
    const now = Date.now();
    // Auto-resolve and escalation: the sensors whose alerts changed show it at once. One sweep at a time.
    if (!this.#sweeping) {
      this.#sweeping = this.d.alerts
        .sweep(now)
        .then((changed) => {
          for (const a of changed) {
            const line = this.#lines.get(a.sensorId);
            if (line) this.#status.publish(line, true);
          }
        })
        .catch((err: unknown) =>
          // A store that fails (PostgreSQL down, a full disk) is logged once per outage by its health, not
          // once a second here.
          isStorageFailure(err)
            ? this.d.store.health.failed('sweep', err)
            : this.d.log(`alert lifecycle sweep failed: ${(err as Error).message}`),
        )
        .finally(() => (this.#sweeping = null));
    }
    this.#freeIdle(now);
    const timeoutMs = this.d.config.dataTimeoutSeconds * 1000;
    for (const line of this.#lines.values()) {
      if (!line.ingest.connected) continue;
      const { lastSeen } = line.ingest;
      if (!line.ingest.stale && lastSeen !== null && now - lastSeen > timeoutMs) {
        // The connection stands (its pings answer) but no audio comes: to an operator it is gone, and the
        // signal is unknown from its last audio on.
        line.ingest.stale = true;
        this.d.log(
          `sensor ${line.id}: no audio for ${((now - lastSeen) / 1000).toFixed(1)} s (--data-timeout ` +
            `${this.d.config.dataTimeoutSeconds} s): counted as disconnected until audio resumes`,
        );
        line.alerts.disconnected();
        this.#status.publish(line, true);
        continue;
      }
      this.#status.publish(line, false);
    }
  }

  /**
   * Gives back the rings of sensors without audio for `sensorIdleFreeSeconds` (disconnected, or connected
   * and silent); their next audio takes them again. Pending alert clips are written first, with the audio
   * the ring still has.
   */
  #freeIdle(now: number): void {
    const idleMs = this.d.config.sensorIdleFreeSeconds * 1000;
    let bytes = 0;
    for (const line of this.#lines.values()) {
      const held = line.stream.ringBytes;
      if (held === 0) continue;
      const last = line.ingest.lastSeen ?? 0;
      bytes += held;
      if (now - last < idleMs || this.#freeing.has(line.id)) continue;
      this.#freeing.add(line.id);
      void line.alerts.flushClips(true).finally(() => {
        this.#freeing.delete(line.id);
        // Audio may have come back while the clips were written: then the rings are in use again.
        if (Date.now() - (line.ingest.lastSeen ?? 0) < idleMs) return;
        line.stream.release();
        this.d.log(
          `sensor ${line.id}: no audio for ${Math.round((Date.now() - last) / 1000)} s ` +
            `(--sensor-idle-free ${this.d.config.sensorIdleFreeSeconds} s): its rings ` +
            `(${(held / 1e6).toFixed(1)} MB) are freed until it streams again`,
        );
      });
    }
    this.d.metrics.sensorRingBytes.set(bytes);
    this.d.metrics.sensorsKnown.set(this.#lines.size);
  }

  #connectedCount(): number {
    let n = 0;
    for (const line of this.#lines.values()) if (line.ingest.connected) n++;
    return n;
  }

  #get(id: string): SensorLine {
    const existing = this.#lines.get(id);
    if (existing) return existing;
    if (!isSensorId(id)) throw new ModelError(`sensor id ${JSON.stringify(id)} is not valid`, 'INVALID');
    const line = new SensorLine(id, {
      ...this.d,
      onChange: (l, now) => this.#status.publish(l, now),
    });
    this.#lines.set(id, line);
    line.unsubscribeModel = this.d.models.onChange(id, (det) => line.modelChanged(det));
    line.modelChanged(this.d.models.detector(id));
    return line;
  }
}
