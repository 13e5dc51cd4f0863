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
      /** The next sequence number the server expects (0 for a new stream). */
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
}

export interface SensorStatus {
  id: string;
  name: string;
  labels: Record<string, string>;
  state: SensorState;
  connected: boolean;
  lastSeen: number | null;
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
  lastScore: number | null;
  threshold: number;
  openAlerts: number;
  activeAlertId: number | null;
  snoozedUntil: number | null;
  model: ModelStatus;
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
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
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

/** `GET /api/health` (no token): whether the server runs and its data directory takes writes. */
export interface Health {
  /** `degraded`: the server runs, but writes fail (a full disk) or wait to be retried. */
  status: 'ok' | 'degraded';
  storage: StorageHealthReport;
}

export interface StorageHealthReport {
  /** False while writes fail (since `failingSince`). */
  writable: boolean;
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
