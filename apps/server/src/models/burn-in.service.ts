/**
 * Live burn-in (issue 13, item 1): the first minutes an enrolled or uploaded model version scores live refine
 * its threshold. The pure part is `BurnIn` (calibration/burn-in.ts: the same extreme-value tail fit as at fit
 * time, on the live normalised scores, bounded); this is its wiring in the server.
 *
 * - Which versions: the active version of a sensor when it came from an enrolment or an upload (the server fitted
 *   it on a minute or two of sound, so its threshold is an upper bound extrapolated from little data); a model
 *   placed by an admin (`hark fit`, source 'directory') only when its `model.json` says `"burnIn": true`, and
 *   `"burnIn": false` keeps any model out. `hark serve --burn-in-windows N` (default 1200 = 10 minutes at the
 *   0.5 s hop), 0 = off: no new burn-in starts (an applied one stays applied, and can be reverted).
 * - Collecting: the sensor line hands every scored window's normalised score here (in units of the fitted
 *   threshold: nothing is applied while collecting) before anything else sees it. A window more than 1.5 hops
 *   after the previous one (a reconnect, windows dropped under overload or skipped by the hop governor) cuts the
 *   series: runs of consecutive windows never cross a break. Windows scored out of order go in their place.
 * - Never absorbs a fault: when the collection is full, the sensor's alerts overlapping it are read from the
 *   shared store. A window overlapping an alert labelled 'true fault' or 'maintenance' (its latest such label;
 *   maintenance is not the machine's normal operation either) is left out. While an alert overlapping it is
 *   neither resolved nor labelled, nothing is applied: the operator may still call it a fault, and fitting on its
 *   windows now would raise the threshold by what may be a fault's scores; waiting costs only the delay. A mark
 *   that arrives after the factor was applied refits it from the kept series (any instance: the series is in the
 *   database) and the new factor replaces the old one.
 * - Applied: the threshold becomes `factor` times the fitted one; the sensor line divides every normalised score
 *   and both anomaly maps by it before the live view, the score history, the alerts and the shadow trial see
 *   them, so one scale (threshold = 1) holds everywhere. A sensor's own severity thresholds (`criticalPeak`) are
 *   on that scale too, so they stay multiples of the refined threshold.
 * - Recorded: `burn_ins` (migration 11), shared by every instance. The windows collected so far are written
 *   with the progress (every 50 windows), so a restart of the server (or a failover to another instance) during
 *   a collection resumes from the last written ones under the same record: the windows since were lost with
 *   the process (at most 49), and the time the stream was away is a break in the series like any other (stream
 *   times say where it is). A window the sensor sends again after reconnecting (same stream time) counts once.
 * - Reversible: an admin's revert returns to the fitted threshold (recorded who and when); a restart collects
 *   again. Another instance hears of every change through the cluster's burn-in notice and reads the record.
 */
import { BurnIn } from '@hark/detection';
import type { Alert, AnnotationLabel, ModelBurnIn, ModelStatus, SensorBurnIn } from '@hark/protocol';
import type { HarkEvents } from '../events.js';
import type { BurnInOutcome, BurnInSeries } from '../store/burn-in.repository.js';
import { ConflictError } from '../store/errors.js';
import type { HarkStore } from '../store/store.js';

/** What the service reads of the model registry. */
export interface BurnInModels {
  status(sensorId: string): Pick<ModelStatus, 'version' | 'source'>;
  /** The active detector's false-alarm settings (null: no model). */
  detector(sensorId: string): {
    config: { falseAlarmsPerDay: number; falseAlarmConfidence: number };
  } | null;
  /** `model.json`'s `burnIn` field of the active model (null: not set). */
  burnInAsked(sensorId: string): boolean | null;
}

export interface BurnInServiceOptions {
  store: HarkStore;
  events: HarkEvents;
  models: BurnInModels;
  /** `--burn-in-windows` (0: off). */
  windows: number;
  /** The streams' hop (s) and the live alert rule (windows over the threshold that open an alert). */
  hopSeconds: number;
  alertWindows: number;
  log: (line: string) => void;
  now?: () => number;
}

/** Labels that say what an alert was; 'unknown' says nothing. */
const VERDICTS: readonly AnnotationLabel[] = ['true fault', 'false alarm', 'maintenance'];
/** Verdicts whose spans are not normal operation. */
const FAULTS: readonly AnnotationLabel[] = ['true fault', 'maintenance'];
/** Progress is written every this many windows (the record's `windows` while collecting). */
const PROGRESS_EVERY = 50;
/** A full collection waiting for an alert's label (or after a failed write) looks again after this, ms. */
const RECHECK_MS = 5000;

/** The latest verdict an operator gave an alert, or null. */
export function alertVerdict(a: Pick<Alert, 'annotations'>): AnnotationLabel | null {
  for (let i = a.annotations.length - 1; i >= 0; i--)
    if (VERDICTS.includes(a.annotations[i].label)) return a.annotations[i].label;
  return null;
}

/** A collection running here. */
interface Collect {
  /** Names the record (a restart makes a new one). */
  startedAt: number;
  target: number;
  /** Windows collected so far, in stream-time order: [t1, normalised score]. */
  series: [number, number][];
  collected: number;
  spanStart: number | null;
  spanEnd: number | null;
  /** Stream ms a window spans (t1 - t0): a window overlaps a span when its t1 is within it or this after. */
  windowMs: number;
  written: number;
  checkAfter: number;
  busy: boolean;
  reason: string | null;
}

interface Local {
  version: number | null;
  /** The record's state and windows (null: the version has no burn-in), for the sensor's status. */
  state: ModelBurnIn['state'] | null;
  windows: number;
  target: number;
  /** The threshold in units of the fitted one: 1 unless a burn-in is applied. */
  factor: number;
  collect: Collect | null;
}

export class BurnInService {
  readonly #local = new Map<string, Local>();
  /** Per-sensor chain of record reads and writes, so two never interleave. */
  readonly #chains = new Map<string, Promise<void>>();
  readonly #now: () => number;
  /** Looks again at full collections that wait (a label may come on another instance, after the stream). */
  readonly #recheck: NodeJS.Timeout;
  #stopped = false;

  constructor(private readonly o: BurnInServiceOptions) {
    this.#now = o.now ?? Date.now;
    o.events.on('alert:update', (a) => this.#alertChanged(a));
    // Every model swap of every sensor (the registry's, on each instance), streaming here or not.
    o.events.on('model:changed', (m) => void this.sync(m.sensorId));
    this.#recheck = setInterval(() => {
      for (const [id, l] of this.#local) {
        const c = l.collect;
        if (c && c.collected >= c.target && !c.busy && this.#now() >= c.checkAfter) void this.#finish(id, c);
      }
    }, RECHECK_MS);
    this.#recheck.unref();
  }

  /** Stops looking again (the server stops; the store closes after). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#recheck);
    await Promise.all([...this.#chains.values()]);
  }

  /** The sensor's threshold factor (1: the fitted threshold). Normalised scores are divided by it. */
  factor(sensorId: string): number {
    return this.#local.get(sensorId)?.factor ?? 1;
  }

  /** The burn-in of the version in use, as the sensor's status carries it (null: none). */
  summary(sensorId: string): SensorBurnIn | null {
    const l = this.#local.get(sensorId);
    if (!l || l.version === null || l.state === null) return null;
    return {
      version: l.version,
      state: l.state,
      windows: l.collect ? l.collect.collected : l.windows,
      target: l.collect ? l.collect.target : l.target,
      factor: l.state === 'applied' ? l.factor : null,
    };
  }

  /** A scored window of the sensor (its normalised score in units of the fitted threshold). */
  scored(sensorId: string, w: { t0: number; t1: number }, normalised: number): void {
    const c = this.#local.get(sensorId)?.collect;
    if (!c) return;
    if (c.collected < c.target && Number.isFinite(normalised)) {
      // Two windows of a sensor may be scored at once and finish out of order: each goes in its place.
      let i = c.series.length;
      while (i > 0 && c.series[i - 1][0] > w.t1) i--;
      // A window already collected (resent after a reconnect, or written before a restart) counts once.
      if (i > 0 && c.series[i - 1][0] === w.t1) return;
      c.series.splice(i, 0, [w.t1, normalised]);
      c.collected++;
      c.spanStart = Math.min(c.spanStart ?? w.t0, w.t0);
      c.spanEnd = Math.max(c.spanEnd ?? w.t1, w.t1);
      c.windowMs = w.t1 - w.t0;
      if (c.collected < c.target && c.collected - c.written >= PROGRESS_EVERY) this.#progress(sensorId, c);
    }
    if (c.collected >= c.target && !c.busy && this.#now() >= c.checkAfter) void this.#finish(sensorId, c);
  }

  /**
   * The sensor's model was loaded or swapped (or another instance changed its burn-in): reads its record,
   * starts the burn-in of a new eligible version, and follows the record's state.
   */
  sync(sensorId: string): Promise<void> {
    return this.#chain(sensorId, () => this.#sync(sensorId));
  }

  /** Every sensor followed here, read again (the cluster's Redis returned: notices may have been missed). */
  async syncAll(): Promise<void> {
    await Promise.all([...this.#local.keys()].map((id) => this.sync(id)));
  }

  /** The sensor left (deleted): forget it. */
  forget(sensorId: string): void {
    this.#local.delete(sensorId);
  }

  /** The record of a version's burn-in, with the live count of a collection running here. */
  async get(sensorId: string, version: number): Promise<ModelBurnIn> {
    const r = await this.o.store.burnIns.require(sensorId, version);
    const c = this.#local.get(sensorId);
    if (r.state === 'collecting' && c?.version === version && c.collect?.startedAt === r.startedAt)
      return {
        ...r,
        windows: c.collect.collected,
        spanStart: c.collect.spanStart,
        spanEnd: c.collect.spanEnd,
        reason: c.collect.reason,
      };
    return r;
  }

  /** The sensor's burn-ins, by version (the live count of one collecting here). */
  async list(sensorId: string): Promise<ModelBurnIn[]> {
    const out = [];
    for (const r of await this.o.store.burnIns.listBySensor(sensorId))
      out.push(await this.get(sensorId, r.version));
    return out;
  }

  /** Back to the fitted threshold (an admin): the applied burn-in becomes 'reverted'. */
  async revert(sensorId: string, version: number, by: string): Promise<ModelBurnIn> {
    const r = await this.o.store.burnIns.revert(sensorId, version, by, this.#now());
    this.o.log(`burn-in: ${sensorId} version ${version}: reverted by ${by}; the fitted threshold again`);
    await this.#changed(sensorId, version);
    return r;
  }

  /** Collects again from now (an admin), on the fitted threshold meanwhile. The version must be active. */
  async restart(sensorId: string, version: number, by: string): Promise<ModelBurnIn> {
    if (this.o.windows === 0)
      throw new ConflictError(
        `the burn-in is off on this server (--burn-in-windows 0); start it with --burn-in-windows 1200 to restart one`,
      );
    const active = this.o.models.status(sensorId).version;
    if (active !== version)
      throw new ConflictError(
        `sensor '${sensorId}' scores with version ${active ?? 'none'}, not ${version}: only the active version burns in (activate it first)`,
      );
    const { record } = await this.o.store.burnIns.start({
      sensorId,
      version,
      target: this.o.windows,
      by,
      ifAbsent: false,
      at: this.#now(),
    });
    this.o.log(`burn-in: ${sensorId} version ${version}: restarted by ${by} (${this.o.windows} windows)`);
    await this.#changed(sensorId, version);
    return record;
  }

  // ---- internals ----

  #chain(sensorId: string, step: () => Promise<void>): Promise<void> {
    const next = (this.#chains.get(sensorId) ?? Promise.resolve()).then(step, step);
    const settled = next.catch((err: Error) => this.o.log(`burn-in: ${sensorId}: ${err.message}`));
    this.#chains.set(sensorId, settled);
    return settled;
  }

  /** Tells this instance (at once) and the others (the cluster's notice) that the record changed. */
  async #changed(sensorId: string, version: number): Promise<void> {
    await this.sync(sensorId);
    this.o.events.emit('burn-in:changed', { sensorId, version });
  }

  async #sync(sensorId: string): Promise<void> {
    const status = this.o.models.status(sensorId);
    const version = this.o.models.detector(sensorId) ? status.version : null;
    let local = this.#local.get(sensorId);
    if (!local)
      this.#local.set(
        sensorId,
        (local = { version: null, state: null, windows: 0, target: 0, factor: 1, collect: null }),
      );
    if (local.version !== version) Object.assign(local, { version, state: null, factor: 1, collect: null });
    if (version === null) return;
    let record = await this.o.store.burnIns.get(sensorId, version);
    if (!record && this.o.windows > 0 && this.#eligible(sensorId, status.source)) {
      ({ record } = await this.o.store.burnIns.start({
        sensorId,
        version,
        target: this.o.windows,
        by: null,
        ifAbsent: true,
        at: this.#now(),
      }));
      this.o.log(`burn-in: ${sensorId} version ${version}: collecting its first ${record.target} windows`);
    }
    if (local.version !== version) return; // swapped meanwhile: the next sync follows the new one
    if (!record) {
      Object.assign(local, { state: null, factor: 1, collect: null });
      return;
    }
    Object.assign(local, { state: record.state, windows: record.windows, target: record.target });
    if (record.state === 'collecting' && this.o.windows === 0) {
      // Switched off while one was collecting: say so in its record rather than leave it collecting forever.
      await this.o.store.burnIns.finish(sensorId, version, record.startedAt, {
        outcome: null,
        reason: 'the burn-in was switched off (--burn-in-windows 0) before it finished',
        series: [],
        spanStart: null,
        spanEnd: null,
        collected: 0,
      });
      Object.assign(local, { state: 'skipped', factor: 1, collect: null });
      return;
    }
    local.factor = record.state === 'applied' && record.factor !== null ? record.factor : 1;
    if (record.state !== 'collecting') local.collect = null;
    else if (local.collect?.startedAt !== record.startedAt) {
      // A collection this process is not running yet (a restart, a failover, a new version): it resumes from
      // the windows its record holds (none for a new one).
      const stored = await this.o.store.burnIns.series(sensorId, version);
      if (local.version !== version) return;
      const series = (stored ?? []).filter((p): p is [number, number] => p !== null);
      const first = series[0];
      local.collect = {
        startedAt: record.startedAt,
        target: record.target,
        series,
        collected: series.length,
        spanStart: series.length ? record.spanStart : null,
        spanEnd: series.length ? record.spanEnd : null,
        windowMs: first && record.spanStart !== null ? first[0] - record.spanStart : 0,
        written: series.length,
        checkAfter: 0,
        busy: false,
        reason: null,
      };
      if (series.length)
        this.o.log(
          `burn-in: ${sensorId} version ${version}: resuming from ${series.length} of ${record.target} windows`,
        );
    }
  }

  #eligible(sensorId: string, source: ModelStatus['source']): boolean {
    const asked = this.o.models.burnInAsked(sensorId);
    if (asked !== null) return asked;
    return source === 'enrol' || source === 'upload';
  }

  /**
   * The collected windows (in time order) with a break wherever the next one starts more than 1.5 hops after
   * the last: a reconnect, or windows dropped under overload, skipped by the hop governor or not finite. Stream
   * times count samples, so consecutive windows are exactly one hop apart.
   */
  #withBreaks(series: [number, number][]): BurnInSeries {
    const out: BurnInSeries = [];
    const hopMs = this.o.hopSeconds * 1000;
    for (let i = 0; i < series.length; i++) {
      if (i > 0 && series[i][0] - series[i - 1][0] > 1.5 * hopMs) out.push(null);
      out.push(series[i]);
    }
    return out;
  }

  #progress(sensorId: string, c: Collect): void {
    c.written = c.collected;
    const local = this.#local.get(sensorId);
    if (!local?.version) return;
    const version = local.version;
    void this.o.store.burnIns
      .progress(sensorId, version, c.startedAt, {
        windows: c.collected,
        spanStart: c.spanStart,
        spanEnd: c.spanEnd,
        reason: c.reason,
        series: c.series.slice(),
      })
      .catch((err: Error) => this.o.log(`burn-in: ${sensorId}: progress not recorded: ${err.message}`));
  }

  /** The options the model was calibrated with, for a refit of its threshold on live scores. */
  #fitOptions(sensorId: string, target: number) {
    const d = this.o.models.detector(sensorId);
    // Without a configured rate (the quantile threshold) the fit uses fit-detector.ts's REFERENCE_PER_DAY, 1.
    const perDay = d && d.config.falseAlarmsPerDay > 0 ? d.config.falseAlarmsPerDay : 1;
    return {
      windows: target,
      perDay,
      windowsPerDay: 86_400 / this.o.hopSeconds,
      alertWindows: this.o.alertWindows,
      confidence: d?.config.falseAlarmConfidence ?? 0.9,
    };
  }

  /**
   * The sensor's alerts overlapping `[from, to]` (stream ms): the spans marked as faults, and those neither
   * resolved nor labelled yet.
   */
  async #alertsIn(sensorId: string, from: number, to: number) {
    const { items } = await this.o.store.alerts.list({ sensorId, from, to }, 500, 0);
    return {
      faults: items.filter((a) => FAULTS.includes(alertVerdict(a) as AnnotationLabel)),
      pending: items.filter((a) => a.state !== 'resolved' && alertVerdict(a) === null),
    };
  }

  /** Fits the series without the fault spans: the outcome, or null with the reason. */
  #fit(
    sensorId: string,
    target: number,
    series: BurnInSeries,
    faults: Alert[],
    windowMs: number,
  ): { outcome: BurnInOutcome | null; reason: string | null; excluded: number } {
    const b = new BurnIn(this.#fitOptions(sensorId, target));
    for (const p of series) {
      if (p === null) b.gap();
      else b.add(p[0], p[1]);
    }
    // A window overlaps an alert's span [start, end] when its t1 is in [start, end + window length].
    for (const a of faults) b.exclude(a.start, (a.end ?? Number.POSITIVE_INFINITY) + windowMs);
    const inFault = (t: number) =>
      faults.some((a) => t >= a.start && t <= (a.end ?? Number.POSITIVE_INFINITY) + windowMs);
    const excluded = series.filter((p) => p !== null && inFault(p[0])).length;
    let r: ReturnType<BurnIn['result']>;
    try {
      r = b.result();
    } catch (err) {
      // fitRate refuses too few run minima to fit a tail (not met by >= 100 windows today): recorded as skipped
      // rather than tried again every few seconds.
      return {
        outcome: null,
        reason: `the live scores could not be fitted (${(err as Error).message.replace(/held-out /g, '')}), so the fitted threshold stays`,
        excluded,
      };
    }
    if (!r)
      return {
        outcome: null,
        reason: `${excluded} of ${series.filter((p) => p !== null).length} windows were in spans marked as faults: fewer than half are left to fit on, so the fitted threshold stays`,
        excluded,
      };
    const { excesses, ...tail } = r.fit;
    return {
      outcome: {
        factor: r.factor,
        unbounded: r.unbounded,
        windows: r.windows,
        excluded: r.excluded,
        fit: { ...tail, excesses: excesses.length },
      },
      reason: null,
      excluded,
    };
  }

  /** A full collection: waits for open unlabelled alerts, then fits, records and applies (or skips). */
  async #finish(sensorId: string, c: Collect): Promise<void> {
    if (this.#stopped) return;
    c.busy = true;
    try {
      const local = this.#local.get(sensorId);
      const version = local?.version;
      if (!local || !version || local.collect !== c) return;
      const { faults, pending } = await this.#alertsIn(sensorId, c.spanStart!, c.spanEnd!);
      if (pending.length) {
        const ids = pending.map((a) => a.id).join(', ');
        const reason = `waiting for alert ${ids} to be labelled (true fault, false alarm or maintenance) or resolved`;
        if (reason !== c.reason) {
          c.reason = reason;
          this.o.log(`burn-in: ${sensorId} version ${version}: full; ${reason}`);
          this.#progress(sensorId, c);
        }
        c.checkAfter = this.#now() + RECHECK_MS;
        return;
      }
      const series = this.#withBreaks(c.series);
      const { outcome, reason } = this.#fit(sensorId, c.target, series, faults, c.windowMs);
      const ok = await this.o.store.burnIns.finish(
        sensorId,
        version,
        c.startedAt,
        {
          outcome,
          reason,
          series,
          spanStart: c.spanStart,
          spanEnd: c.spanEnd,
          collected: c.collected,
        },
        this.#now(),
      );
      if (ok && local.collect === c) {
        local.collect = null;
        local.factor = outcome?.factor ?? 1;
        local.state = outcome ? 'applied' : 'skipped';
        local.windows = outcome ? outcome.windows : c.collected;
        this.o.log(
          outcome
            ? `burn-in: ${sensorId} version ${version}: applied, threshold x${outcome.factor.toFixed(3)} ` +
                `(unbounded ${outcome.unbounded.toFixed(3)}, ${outcome.windows} windows, ${outcome.excluded} in fault spans left out)`
            : `burn-in: ${sensorId} version ${version}: skipped: ${reason}`,
        );
        this.o.events.emit('burn-in:changed', { sensorId, version });
      } else if (!ok) await this.sync(sensorId); // restarted or reverted elsewhere meanwhile
    } catch (err) {
      this.o.log(`burn-in: ${sensorId}: not finished (trying again): ${(err as Error).message}`);
      c.checkAfter = this.#now() + RECHECK_MS;
    } finally {
      c.busy = false;
    }
  }

  /**
   * An alert changed here: a full collection waiting on it looks again at once, and a fault mark on an alert
   * inside an applied burn-in refits it without the span.
   */
  #alertChanged(a: Alert): void {
    const c = this.#local.get(a.sensorId)?.collect;
    if (c) {
      c.checkAfter = 0;
      // A full collection waiting on it need not wait for the next window (the stream may have stopped).
      if (c.collected >= c.target && !c.busy) void this.#finish(a.sensorId, c);
    }
    const verdict = alertVerdict(a);
    if (!verdict || !FAULTS.includes(verdict)) return;
    void this.#chain(a.sensorId, () => this.#refitAround(a));
  }

  async #refitAround(a: Alert): Promise<void> {
    for (const r of await this.o.store.burnIns.listBySensor(a.sensorId)) {
      if (r.state !== 'applied' || r.spanStart === null || r.spanEnd === null) continue;
      const series = await this.o.store.burnIns.series(a.sensorId, r.version);
      if (!series?.length) continue;
      const first = series.find((p) => p !== null);
      const windowMs = first && r.spanStart !== null ? first[0] - r.spanStart : 0;
      if (a.start > r.spanEnd || (a.end !== null && a.end + windowMs < r.spanStart)) continue;
      const { faults } = await this.#alertsIn(a.sensorId, r.spanStart, r.spanEnd);
      const { outcome, reason, excluded } = this.#fit(a.sensorId, r.target, series, faults, windowMs);
      if (outcome && outcome.excluded === r.excluded && outcome.factor === r.factor) continue;
      const after = await this.o.store.burnIns.refit(
        a.sensorId,
        r.version,
        outcome,
        reason,
        excluded,
        this.#now(),
      );
      if (!after) continue;
      this.o.log(
        `burn-in: ${a.sensorId} version ${r.version}: alert ${a.id} was marked '${alertVerdict(a)}'; ` +
          (outcome
            ? `fitted again without it: threshold x${outcome.factor.toFixed(3)} (was x${r.factor?.toFixed(3)})`
            : `skipped now: ${reason}`),
      );
      const local = this.#local.get(a.sensorId);
      if (local?.version === r.version) {
        local.factor = outcome?.factor ?? 1;
        local.state = after.state;
        local.windows = after.windows;
      }
      this.o.events.emit('burn-in:changed', { sensorId: a.sensorId, version: r.version });
    }
  }
}
