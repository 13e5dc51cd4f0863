/**
 * The wire contracts of the hark server: socket.io namespaces `/sensor` and `/live`, and the JSON of the REST
 * API under `/api`. Sensors, the dashboard, the CLI and operators' scripts rely on these names and shapes:
 * add fields, never rename or remove them.
 *
 * Times are milliseconds since the Unix epoch (UTC) unless a name ends in `Seconds`. Stream times come from
 * the sensor's clock: a chunk may carry the capture time of its first sample (`audio.t`); otherwise the
 * server's arrival time anchors the stream and sample counting carries it forward.
 */

import type { Role } from './roles.js';

export type SampleFormat = 's16le' | 'f32le';
export const SAMPLE_FORMATS: readonly SampleFormat[] = ['s16le', 'f32le'];

// ---------------------------------------------------------------------------------------------------------
// Namespace /sensor
// ---------------------------------------------------------------------------------------------------------

/** socket.io handshake `auth` of a sensor. A bad token or id fails the connection (`connect_error`). */
export interface SensorAuth {
  token: string;
  /** 1-64 characters of `[A-Za-z0-9._-]`, not only dots (`SENSOR_ID`). */
  sensorId: string;
}

/**
 * First message after connecting (and after every reconnect). Acknowledged with a `HelloAck`. Name and labels
 * apply when the sensor is registered (its first hello); later only an admin changes them (REST PATCH).
 */
export interface HelloMessage {
  sampleRate: number;
  channels: number;
  format: SampleFormat;
  /**
   * Identifies one run of the sensor client. Sequence numbers continue across reconnects of the same stream
   * (a chunk whose ack was lost and is sent again is a duplicate); a new stream id starts a new sequence.
   */
  streamId?: string;
  /**
   * Optional display name and labels (e.g. `{site: "plant-1", line: "A"}`) of the sensor; labels beyond the
   * limits (`MAX_LABELS`, `MAX_NAME_LENGTH`, `MAX_LABEL_VALUE_LENGTH`) are ignored.
   */
  name?: string;
  labels?: Record<string, string>;
  /**
   * Take the sensor over from another connection that still streams for it (the server logs it). Without it,
   * a second connection of a sensor is refused with `SENSOR_BUSY` until the first disconnects or its ping
   * times out. A client resuming its own stream after a reconnect sends it.
   */
  takeover?: boolean;
}

/** `audio` message: interleaved PCM in the hello's format, any whole number of frames. */
export interface AudioMessage {
  seq: number;
  data: ArrayBuffer | Uint8Array;
  /** Capture time of the chunk's first sample (ms epoch), optional. */
  t?: number;
}

/**
 * `data.code` of a refused `/sensor` handshake (socket.io `connect_error`): `UNAUTHORIZED` (token or sensor id),
 * `TOO_MANY_SENSORS` (a new sensor id while the server knows its limit of sensors, `HARK_MAX_SENSORS`).
 * With several servers on one Redis (`hark serve --redis`): `SENSOR_LEASED` (another instance scores the sensor
 * now: `data.instance` names it, `data.retryAfterMs` is what is left of its lease) and `LEASE_UNAVAILABLE`
 * (this instance cannot reach Redis, so it cannot prove nobody else scores the sensor). A sensor may try another
 * server, or this one again later, on both.
 */
export type HandshakeErrorCode = 'UNAUTHORIZED' | 'TOO_MANY_SENSORS' | 'SENSOR_LEASED' | 'LEASE_UNAVAILABLE';

/** `data` of a `SENSOR_LEASED` or `LEASE_UNAVAILABLE` refusal. */
export interface LeaseRefusal {
  code: 'SENSOR_LEASED' | 'LEASE_UNAVAILABLE';
  /** The instance holding the sensor's lease (`hark serve --instance`), null when unknown. */
  instance: string | null;
  /** When trying this server again may succeed, ms (the lease's time left; Redis's reconnect delay). */
  retryAfterMs: number;
}

export type SensorErrorCode =
  | 'BAD_MESSAGE'
  | 'NO_HELLO'
  | 'BAD_FORMAT'
  | 'BAD_SAMPLE_RATE'
  | 'BAD_CHANNELS'
  | 'TOO_LARGE'
  | 'PARTIAL_SAMPLE'
  | 'DUPLICATE_SEQ'
  | 'OUT_OF_ORDER_SEQ'
  | 'SENSOR_BUSY'
  | 'INTERNAL';

export type SensorAck =
  | { ok: true; seq: number }
  | { ok: false; error: string; code: SensorErrorCode; seq?: number; expected?: number };

export type HelloAck =
  | {
      ok: true;
      /**
       * The next sequence number the server expects. 0 for a stream the server holds no chunk of (new to it):
       * its first chunk may then carry any seq >= 0, later ones follow on. A sensor failing over from another
       * server opens a new stream id there and keeps its numbering (`hark sensor --server A,B`).
       */
      nextSeq: number;
      /** Largest accepted `audio.data` in bytes. */
      maxChunkBytes: number;
      /** The rate the server analyses at (it resamples to it). */
      analysisSampleRate: number;
    }
  | { ok: false; error: string; code: SensorErrorCode };

// ---------------------------------------------------------------------------------------------------------
// Sensors
// ---------------------------------------------------------------------------------------------------------

export type SensorState = 'connected' | 'disconnected' | 'no-model' | 'enrolling' | 'scoring' | 'overloaded';

export interface ModelStatus {
  sensorId: string;
  state: 'none' | 'recording' | 'fitting' | 'ready' | 'failed';
  method: string | null;
  backbone: string | null;
  bankSize: number | null;
  /** Raw threshold of the window score; normalised scores divide by it (1.0 = threshold). */
  threshold: number | null;
  fittedAt: string | null;
  trainingSeconds: number | null;
  trainingClips: number | null;
  /** Where it came from. */
  source: 'enrol' | 'upload' | 'directory' | null;
  /** Feedback windows taught into the memory bank (not reverted). */
  feedbackWindows: number;
  /** Progress of an enrolment or fit in progress. */
  progress: FitProgressEvent | null;
  error: string | null;
  /** The numbered version in use (`GET /api/sensors/:id/models`), null without a model. */
  version: number | null;
  /** The version on trial beside it (scored on the same windows, alerts recorded, not raised), or null. */
  shadowVersion: number | null;
  /** Fewest clips a fit takes (`hark fit` says the same): every clip must be scorable by the folds. */
  minTrainingClips: number;
  /**
   * Shortest enrolment (s) whose threshold rests on the share of held-out sound the calibration is configured
   * for; a shorter one is accepted with a warning (the threshold is set from too few scores: false alarms).
   */
  recommendedEnrolSeconds: number;
}

/** `GET /api/sensors/:id/feedback`: an alert taught to the model as normal, and whether it was reverted. */
export interface FeedbackInfo {
  id: number;
  sensorId: string;
  alertId: number;
  windows: number;
  patches: number;
  createdAt: number;
  createdBy: string;
  revertedAt: number | null;
  revertedBy: string | null;
}

/** What a shadow version would have alerted on during its trial (recorded, never raised). */
export interface WouldBeAlert {
  /** Stream ms, as an alert's. */
  start: number;
  end: number | null;
  peakScore: number;
  peakAt: number;
  windows: number;
  boxes: AlertBox[];
}

/**
 * A shadow trial: a version scored beside the active one on the same live windows. Windows are skipped (not
 * scored by the shadow) while the scorer has live windows waiting, so the trial never delays live scoring.
 */
export interface ShadowTrial {
  /** Server ms when it started, and when it ended (null while it runs). */
  since: number;
  until: number | null;
  outcome: 'running' | 'promoted' | 'discarded' | 'replaced';
  /** Who promoted or discarded it (null while it runs, or when a newer version replaced it). */
  endedBy: string | null;
  /** Windows scored by both models, and live windows the shadow skipped (scorer busy). */
  windows: number;
  skipped: number;
  /** Of the windows scored by both: how many each model put over its threshold, and the mean scores. */
  shadowOver: number;
  activeOver: number;
  shadowMean: number | null;
  activeMean: number | null;
  /** Alerts each model would have opened on those windows (the live alert rule); the shadow's listed. */
  shadowAlertCount: number;
  activeAlertCount: number;
  /** The shadow's would-be alerts, newest last (the last 100). */
  wouldBeAlerts: WouldBeAlert[];
}

/** The tail fitted to a burn-in's live scores (normalised units; calibration/rate.ts `RateFit` without its arrays). */
export interface BurnInFit {
  /** False alerts per sensor-day, windows per day, alert rule and confidence the factor was fitted for. */
  perDay: number;
  windowsPerDay: number;
  alertWindows: number;
  confidence: number;
  /** The live threshold (the unbounded factor) and the return level at the maximum-likelihood estimate. */
  threshold: number;
  estimate: number;
  /** Level over which the tail is modelled, the share of run minima over it, GPD shape and scale. */
  u: number;
  zeta: number;
  xi: number;
  sigma: number;
  /** Run minima fitted, excesses over u, and independent clusters among them. */
  n: number;
  excesses: number;
  clusters: number;
}

/** A sensor's burn-in as its status carries it (`SensorStatus.burnIn`). */
export interface SensorBurnIn {
  version: number;
  state: ModelBurnIn['state'];
  windows: number;
  target: number;
  /** Applied: the factor in use; otherwise null (the fitted threshold). */
  factor: number | null;
}

/**
 * `GET /api/sensors/:id/models/:version/burn-in`: the live burn-in of an enrolled or uploaded version (issue 13,
 * `hark serve --burn-in-windows`). It collects the version's first `target` scored windows (normalised scores
 * in units of the fitted threshold; breaks in the stream cut the series), leaves out every span an operator
 * marked as a fault (an alert annotated 'true fault' or 'maintenance', whenever the mark arrives), and applies
 * `factor`: the threshold becomes `factor` times the fitted one, so every normalised score, map and alert peak
 * of the sensor is divided by it. An admin can revert it (back to the fitted threshold) or restart it.
 */
export interface ModelBurnIn {
  sensorId: string;
  version: number;
  /**
   * 'collecting' (windows so far in `windows`; a full collection may wait for an open alert to be labelled,
   * see `reason`), 'applied', 'reverted' (by an admin: the fitted threshold again) or 'skipped' (`reason`).
   */
  state: 'collecting' | 'applied' | 'reverted' | 'skipped';
  reason: string | null;
  /** Windows to collect. */
  target: number;
  /** Windows collected so far; once fitted, the windows fitted on. */
  windows: number;
  /** Windows left out because an operator marked them as a fault. */
  excluded: number;
  /** The threshold in units of the fitted one (within the bounds; null until fitted), and before the bounds. */
  factor: number | null;
  unbounded: number | null;
  fit: BurnInFit | null;
  /** Stream ms of the first and last window collected (null before the first). */
  spanStart: number | null;
  spanEnd: number | null;
  /** Server ms; `startedBy` null: started by the server for a new version, else the admin who restarted it. */
  startedAt: number;
  startedBy: string | null;
  appliedAt: number | null;
  revertedAt: number | null;
  revertedBy: string | null;
  updatedAt: number;
}

/** One numbered model version of a sensor, kept on disk with what it was trained on. */
export interface ModelVersion {
  sensorId: string;
  version: number;
  active: boolean;
  shadow: boolean;
  /** Server ms when the version was made. */
  createdAt: number;
  source: 'enrol' | 'upload' | 'directory';
  /** Token name that made it (null for a model placed by hand). */
  by: string | null;
  method: string;
  backbone: string;
  /** Raw threshold (normalised 1.0). */
  threshold: number;
  fittedAt: string;
  trainingSeconds: number;
  trainingClips: number;
  trainingWindows: number;
  calibration: {
    /** 'gamma' / 'empirical' (a quantile of held-out clip scores), 'rate' (false alerts per day) or 'levels' (each fused part at its own held-out level, threshold 1). */
    method: string;
    /** Held-out clips whose scores set the threshold, and how many scores were fitted. */
    clips: number;
    scores: number;
    mean: number;
    std: number;
    q: number;
    /** The false-alarm rate it was set for ('rate' only). */
    perDay: number | null;
  };
  /** Why the training audio may not be enough or not normal: shorter than recommended, alerts during it. */
  flags: { short: boolean; alertsDuring: number[] };
  /** The flags in words, for people. */
  warnings: string[];
  /** Last time it was made the active version (ms), null if never, and by whom (null: the server). */
  activatedAt: number | null;
  activatedBy: string | null;
  /** Its latest shadow trial, if it had one. */
  trial: ShadowTrial | null;
  /** Its live burn-in (`GET .../models/:version/burn-in`), null when it has none. */
  burnIn: ModelBurnIn | null;
}

export interface SensorStatus {
  id: string;
  name: string;
  labels: Record<string, string>;
  state: SensorState;
  /**
   * Streaming now: connected and sending audio. A connection whose pings stop (`hark serve --ping-interval`,
   * `--ping-timeout`) or that sends no audio for `--data-timeout` reads false, `state: 'disconnected'`.
   */
  connected: boolean;
  /** The last audio (or hello) received, server ms: "last seen". */
  lastSeen: number | null;
  /** Server ms since when `state` has held (for a sensor disconnected before the server started: `lastSeen`). */
  stateSince: number | null;
  /** RMS level of the last half second in dBFS (-Infinity sent as null), and its peak. */
  levelDbfs: number | null;
  peakDbfs: number | null;
  /** Fraction of samples at full scale in the last half second. */
  clipping: number;
  clipped: boolean;
  silent: boolean;
  sampleRate: number | null;
  streamStartedAt: number | null;
  windowsScored: number;
  windowsDropped: number;
  /** Dropped / (scored + dropped) over the last minute. */
  dropRate: number;
  queueDepth: number;
  /**
   * Windows not scored because the server widened the scoring hop past capacity (not counted in
   * `windowsDropped`: their columns still go out, unscored).
   */
  windowsSkipped: number;
  /**
   * Seconds between the starts of this sensor's scored windows: the server's hop (`--hop-seconds`), or wider
   * when more sensors stream than it can score (every sensor gets the same hop, none starves).
   */
  scoringHopSeconds: number;
  lastScore: number | null;
  threshold: number;
  /** Unresolved alerts (open or acknowledged). */
  openAlerts: number;
  /** Alerts that need a person: open, neither acknowledged nor resolved (auto-resolved ones do not count). */
  needsAttention: number;
  /** The alert whose condition holds now (anomaly first), or null. */
  activeAlertId: number | null;
  /** Stream ms when the condition of the active alert began (this occurrence), or null. */
  activeSince: number | null;
  snoozedUntil: number | null;
  /**
   * When this sensor's alerts turn `critical` (the sensor's own, set by `PATCH /api/sensors/:id
   * {severityThresholds}`, else the server's `--critical-peak` / `--critical-seconds`).
   */
  severityThresholds: SeverityThresholds;
  model: ModelStatus;
  /**
   * The live burn-in of the version in use (`ModelBurnIn` in brief), null when it has none: collecting
   * `windows` of `target`, or applied (`factor`: the threshold in units of the fitted one; 1 = threshold in
   * `lastScore` and every score already includes it), reverted, skipped.
   */
  burnIn: SensorBurnIn | null;
  /**
   * The server instance that receives and scores the sensor's stream now (`hark serve --instance`, default
   * host name and port); null while no instance streams it.
   */
  instance: string | null;
}

export interface ScorePoint {
  t: number;
  score: number;
}

// ---------------------------------------------------------------------------------------------------------
// Alerts
// ---------------------------------------------------------------------------------------------------------

export type AlertState = 'open' | 'acknowledged' | 'resolved';
export const ALERT_STATES: readonly AlertState[] = ['open', 'acknowledged', 'resolved'];
export type AlertKind = 'anomaly' | 'silence';
/** `critical`: the peak reached the sensor's `criticalPeak` or one occurrence lasted `criticalSeconds`. */
export type AlertSeverity = 'warning' | 'critical';
export const ALERT_SEVERITIES: readonly AlertSeverity[] = ['warning', 'critical'];

/** When a sensor's alerts turn critical. */
export interface SeverityThresholds {
  /** Normalised peak score (1 = the detection threshold) from which an alert is critical. */
  criticalPeak: number;
  /** Seconds one occurrence must last to make its alert critical. */
  criticalSeconds: number;
  /** True when the sensor has its own values; false: the server's defaults. */
  custom: boolean;
}

/** One time an alert's condition held: the first opened the alert, later ones folded into it (repeats). */
export interface AlertOccurrence {
  /** Stream ms: first and last over-threshold window (silence: where it began / ended; end null while on). */
  start: number;
  end: number | null;
  peakScore: number;
  peakAt: number;
  /** Server ms when it was recorded, and when its condition was seen to clear (null: on, or unknown). */
  openedAt: number;
  clearedAt: number | null;
}
export const ALERT_KINDS: readonly AlertKind[] = ['anomaly', 'silence'];
export type AnnotationLabel = 'true fault' | 'false alarm' | 'maintenance' | 'unknown';
export const ANNOTATION_LABELS: readonly AnnotationLabel[] = [
  'true fault',
  'false alarm',
  'maintenance',
  'unknown',
];

/**
 * A time-frequency region of an alert (detection's `AnomalyBox`): where in the alert the anomaly map is over
 * the threshold, strongest first.
 */
export interface AlertBox {
  /** Seconds (frame centre times) of the region's first and last frame. */
  t0: number;
  t1: number;
  /** Band of the region in Hz (mel filter edges). */
  fLow: number;
  fHigh: number;
  /**
   * The region's score on the scale of `Alert.peakScore` (1 = the threshold): the normalised score of the
   * strongest window the region was found in (detection's `AnomalyBox.peak` with its windows), so a box of an
   * over-threshold window is itself over the threshold and no box reads above the alert's peak. The anomaly
   * map (blurred, overlap-averaged) only says where: which cells form the region and its band.
   */
  score: number;
}

export interface Annotation {
  id: number;
  alertId: number;
  label: AnnotationLabel;
  text: string;
  author: string;
  at: number;
}

export interface Alert {
  id: number;
  sensorId: string;
  kind: AlertKind;
  state: AlertState;
  /** Still over the threshold (the signal has not closed yet). */
  active: boolean;
  start: number;
  end: number | null;
  peakScore: number;
  peakAt: number;
  threshold: number;
  boxes: AlertBox[];
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
  resolvedBy: string | null;
  resolvedAt: number | null;
  annotations: Annotation[];
  /** The kept audio clip (start - 2 s to end + 2 s), once the alert has closed. */
  clip: { available: boolean; start: number | null; seconds: number | null };
  /** Feedback taught to the model from this alert, if any. */
  feedback: { id: number; taught: boolean; revertedAt: number | null } | null;
  /** From the peak and the longest occurrence; only ever rises (warning -> critical). */
  severity: AlertSeverity;
  /**
   * Occurrences folded into this alert: a repeat on the same sensor (and kind) within the server's
   * `--alert-repeat` seconds of the last one adds an occurrence here instead of a new alert. `peakScore`,
   * `peakAt`, `boxes` and the clip are those of the strongest occurrence; `start` is the first's, `end` the
   * last's.
   */
  count: number;
  occurrences: AlertOccurrence[];
  /**
   * Server ms when the condition was last seen to clear (null while active, or when the signal was lost: a
   * disconnect). An alert cleared for `--alert-quiet` seconds resolves by itself: `state: 'resolved'`,
   * `autoResolved: true`, `resolvedBy: 'auto'`; `acknowledgedAt` null then reads "auto-resolved, not
   * acknowledged". A repeat within `--alert-repeat` reopens it.
   */
  clearedAt: number | null;
  autoResolved: boolean;
}

/**
 * `POST /api/alerts/ack` and `POST /api/alerts/resolve`: the alerts named by `ids`, or every alert matching
 * the filter that can take the step (ack: open ones; resolve: open and acknowledged ones), at most 500.
 */
export interface BulkAlertRequest {
  ids?: number[];
  sensorId?: string;
  kind?: AlertKind;
  severity?: AlertSeverity;
}

/** What a bulk step did: the alerts changed, and those it skipped with why (not found, already done). */
export interface BulkAlertResult {
  changed: Alert[];
  skipped: { id: number; reason: string }[];
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/**
 * The columns `GET /api/alerts?sort=` orders by, each with its default `order` (what a reader wants first: the
 * newest, the strongest, the most repeated; names and states A to Z). Ties go by id in the same direction, so
 * paging and next / previous are stable. Without `sort`: open first, then acknowledged, then resolved, newest
 * first within each.
 */
export const ALERT_SORTS = {
  start: 'desc',
  peakScore: 'desc',
  count: 'desc',
  severity: 'desc',
  id: 'desc',
  sensor: 'asc',
  state: 'asc',
  kind: 'asc',
} as const satisfies Record<string, SortOrder>;
export type AlertSort = keyof typeof ALERT_SORTS;
export type SortOrder = 'asc' | 'desc';
export const SORT_ORDERS: readonly SortOrder[] = ['asc', 'desc'];
/** Longest `q` of `GET /api/alerts` (characters), and most words in it. */
export const MAX_ALERT_SEARCH_LENGTH = 200;
export const MAX_ALERT_SEARCH_TERMS = 8;

/**
 * `GET /api/alerts/:id/neighbours` (same filters and sort as the list): the alerts before and after this one in
 * that order (null at either end), and its 1-based place in the list (null when it no longer matches the
 * filters, e.g. acknowledged while the list shows open alerts: its neighbours are still those around where it
 * was).
 */
export interface AlertNeighbours {
  id: number;
  previous: number | null;
  next: number | null;
  position: number | null;
  total: number;
}

/**
 * `GET /api/alerts/:id/actions`: every acknowledge or resolve an operator asked of the alert, oldest first, with
 * what came of it. `refused` when the alert had already taken the step (another operator, perhaps on another
 * instance, came first): `detail` says who and when. Notes are the alert's `annotations`.
 */
export interface AlertAction {
  id: number;
  alertId: number;
  action: 'acknowledge' | 'resolve';
  outcome: 'applied' | 'refused';
  /** The token's name. */
  by: string;
  /** Server time (ms since the epoch). */
  at: number;
  detail: string | null;
}

/**
 * `POST /api/alerts/:id/media-tickets`: the alert's media URLs for `<audio src>` / `<img src>`, each carrying a
 * short-lived `?ticket=` bound to the alert and the route (tokens are never accepted in URLs).
 */
export interface MediaTicketUrls {
  alertId: number;
  /** When the tickets stop working (ms since the epoch); ask for new ones after. */
  expiresAt: number;
  /** `/api/alerts/:id/audio?ticket=...` (HTTP Range works under the same ticket). */
  audio: string;
  /** `/api/alerts/:id/picture?ticket=...` (add `&kind=`). */
  picture: string;
  /** `/api/alerts/:id/spectrogram?ticket=...` */
  spectrogram: string;
}

/** `GET /api/alerts/:id/spectrogram`: the clip's log-mel and anomaly map, quantised like `columns`. */
export interface AlertSpectrogram {
  alertId: number;
  t0: number;
  hopSeconds: number;
  nMels: number;
  nFrames: number;
  /** Centre frequency of each mel bin (Hz), low to high. */
  melHz: number[];
  dbRange: [number, number];
  anomalyScale: number;
  /** Base64 of `[nFrames, nMels]` bytes, frame-major, like `columns`. */
  spectrogram: string;
  anomaly: string;
}

// ---------------------------------------------------------------------------------------------------------
// Namespace /live
// ---------------------------------------------------------------------------------------------------------

/** Handshake `auth` of a dashboard: any token of role operator or admin. */
export interface LiveAuth {
  token: string;
}

/**
 * `subscribe {sensorId}`: columns and scores of one sensor; `sensorId: "*"` gives the scores of every sensor
 * (no columns), for the overview. `backfillSeconds` (`DEFAULT_BACKFILL_SECONDS`, up to
 * `MAX_BACKFILL_SECONDS`) sends recent columns first.
 * Acknowledged with `{ok: true, status}` or `{ok: false, error}`.
 */
export interface SubscribeMessage {
  sensorId: string;
  backfillSeconds?: number;
}

/**
 * `columns`: new spectrogram columns with their anomaly map, frame-major `[nColumns, nMels]` bytes (mel bin 0
 * = lowest frequency). Spectrogram byte b is `dbRange[0] + b / 255 * (dbRange[1] - dbRange[0])` dB; anomaly
 * byte a is `a / 255 * anomalyScale` times the threshold (so 1.0 = threshold sits at `255 / anomalyScale`).
 * Columns of windows that were dropped under overload carry `scored: false` and zero anomaly.
 */
export interface ColumnsEvent {
  sensorId: string;
  /** Stream time of the first column. */
  t0: number;
  /** Seconds between consecutive columns (the log-mel frame hop, e.g. 256 / 16000 = 0.016). */
  hopSeconds: number;
  nMels: number;
  nColumns: number;
  spectrogram: Uint8Array;
  anomaly: Uint8Array;
  dbRange: [number, number];
  anomalyScale: number;
  scored: boolean;
  /** Mel bin centre frequencies (Hz); sent with the first columns of a subscription and on changes. */
  melHz?: number[];
}

/** `score`: one scored window (normalised: threshold = 1). `t` is the window's end. */
export interface ScoreEvent {
  sensorId: string;
  t: number;
  score: number;
  threshold: number;
  rawScore: number;
  /** Server time when the last sample of the window arrived (for latency measurement). */
  arrivedAt: number;
}

/** `alert` (a new alert) and `alert:update` (any change) carry the whole `Alert`. `sensor:status` the whole `SensorStatus`. */
export type AlertEvent = Alert;
export type SensorStatusEvent = SensorStatus;

/**
 * `sensor:deleted` to every dashboard when an admin deletes a sensor (`DELETE /api/sensors/:id`): drop it from
 * the list. It comes back as a new `sensor:status` if it registers again.
 */
export interface SensorDeletedEvent {
  sensorId: string;
}

/** `model:progress` to every dashboard while a sensor's model is recorded or fitted. */
export interface FitProgressEvent {
  sensorId: string;
  stage: 'recording' | 'spectrogram' | 'embed' | 'fit' | 'calibrate' | 'refit' | 'saving' | 'done' | 'failed';
  done: number;
  total: number;
  message?: string;
}

// ---------------------------------------------------------------------------------------------------------
// REST bodies
// ---------------------------------------------------------------------------------------------------------

export interface TokenInfo {
  id: number;
  name: string;
  role: Role;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  /**
   * The sensor ids a sensor token may stream as (`hark token create --sensor pump-1,pump-2`); null for a
   * sensor token not bound yet (it is bound to the first id it streams as) and for the other roles.
   */
  sensors: string[] | null;
}

/** `POST /api/tokens` answer: the secret is shown once. */
export interface CreatedToken extends TokenInfo {
  token: string;
}

export interface Me {
  name: string;
  role: Role;
}

/**
 * `GET /api/health` (no token): whether the server runs, its store takes writes and the cluster's Redis answers.
 * The dashboard's degraded banner reads `status`, `storage.engine`, `reason`, `readOnly`, `failingSince` and
 * `waitingWrites`, and `cluster.redis`, `downSince` and `instance`.
 */
export interface Health {
  /**
   * `degraded`: the server runs, but writes fail (a full disk) or wait to be retried, or it was started with
   * `--redis` and cannot reach Redis (it scores its own sensors; dashboards see only this instance's).
   */
  status: 'ok' | 'degraded';
  storage: StorageHealthReport;
  cluster: ClusterHealthReport;
}

export interface ClusterHealthReport {
  /** This server's instance name (`hark serve --instance`, default host name and port). */
  instance: string;
  /** `off`: no `--redis` (one server alone); `up` / `down`: whether Redis answers now. */
  redis: 'off' | 'up' | 'down';
  /** Server ms since when Redis has been unreachable, else null. */
  downSince: number | null;
  /** Sensors whose ownership lease this instance holds (it scores them). */
  leasesHeld: number;
}

export interface StorageHealthReport {
  /** The store's engine: SQLite in the data directory (the default) or PostgreSQL (`--database`). */
  engine: 'sqlite' | 'postgres';
  /** False while writes fail (since `failingSince`). */
  writable: boolean;
  /**
   * Why the store is degraded: `storage unreachable` (PostgreSQL down, restarting or not answering),
   * `storage refuses writes` (a full disk, an I/O error), `writes wait` (writable again, queued writes still
   * being written); null when not degraded.
   */
  reason: 'storage unreachable' | 'storage refuses writes' | 'writes wait' | null;
  /** The server started on a disk that took no writes, read-only; it turns writable by itself. */
  readOnly: boolean;
  failingSince: number | null;
  /** The last failed write: what was written, the error code and message. */
  lastError: string | null;
  /** Failed writes since start (`hark_storage_errors_total`). */
  errors: number;
  /** Writes kept in memory for a retry, by queue (e.g. `alerts`, `sensors`). */
  waitingWrites: Record<string, number>;
}

/** Every error of the REST API. */
export interface ApiError {
  statusCode: number;
  error: string;
  message: string;
}

/**
 * `/sensor` event `server:shutdown`, sent to every sensor before a clean stop (SIGTERM / SIGINT) disconnects
 * it: the server is going away on purpose, the sensor keeps its audio and reconnects (to this address, which a
 * restarted server or a load balancer's next backend answers). `hark sensor` reports `reason` as its
 * reconnect reason.
 */
export const SERVER_SHUTDOWN_EVENT = 'server:shutdown';

export interface ServerShutdown {
  /** Always `'shutdown'`: the disconnect that follows is a planned stop, not an error. */
  reason: 'shutdown';
  /** What the operator sees, e.g. `server shutting down (SIGTERM)`. */
  message: string;
}

/**
 * `/sensor` event `server:closed`, sent to a sensor's connection just before the server closes it on purpose
 * (not at shutdown, which sends `server:shutdown`): the sensor was deleted by an admin, or another connection
 * took it over. `message` says which, for the sensor's log.
 */
export const SERVER_CLOSED_EVENT = 'server:closed';

export interface ServerClosed {
  /** What the operator sees, e.g. `sensor pump-1 was deleted by an admin (admin); connecting again registers it anew`. */
  message: string;
}
