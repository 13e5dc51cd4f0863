/**
 * JSON schemas of the wire contracts (`@hark/protocol`) for the OpenAPI document, as plain objects rather than
 * DTO classes. `setupOpenApi` puts them under `components.schemas`; decorators point at them with `ref()`.
 */
import {
  CHANNEL_KINDS,
  DELIVERY_STATES,
  NOTIFICATION_EVENTS,
  NOTIFICATION_SEVERITIES,
  RULE_EVENTS,
  SMTP_SECURITY,
  ALERT_STATES,
  ALERT_KINDS,
  ALERT_SEVERITIES,
  ANNOTATION_LABELS,
  MAX_LABEL_VALUE_LENGTH,
  MAX_LABELS,
  MAX_NAME_LENGTH,
  MAX_TEXT_LENGTH,
  ROLES,
  ASSET_LEVELS,
  TILE_STATES,
} from '@hark/protocol';

export type Schema = Record<string, unknown>;

const int = { type: 'integer' };
const num = { type: 'number' };
const str = { type: 'string' };
const bool = { type: 'boolean' };
const nullable = (s: Schema): Schema => ({ ...s, nullable: true });
const msNullable = nullable({ ...int, description: 'ms since the epoch' });
/** An object schema; `required` is left out when every property is optional (OpenAPI 3.0 wants 1+ names). */
const obj = (properties: Record<string, Schema>, optional: string[] = []): Schema => {
  const required = Object.keys(properties).filter((k) => !optional.includes(k));
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}) };
};

/** `{$ref}` of one of `SCHEMAS`. */
export const ref = (name: keyof typeof SCHEMAS): Schema => ({ $ref: `#/components/schemas/${name}` });
/** An array of one of `SCHEMAS`. */
export const arrayOf = (name: keyof typeof SCHEMAS): Schema => ({ type: 'array', items: ref(name) });

const fitProgress = obj(
  {
    sensorId: str,
    stage: {
      type: 'string',
      enum: ['recording', 'spectrogram', 'embed', 'fit', 'calibrate', 'refit', 'saving', 'done', 'failed'],
    },
    done: num,
    total: num,
    message: str,
  },
  ['message'],
);

const modelStatus = obj({
  sensorId: str,
  state: { type: 'string', enum: ['none', 'recording', 'fitting', 'ready', 'failed'] },
  method: nullable(str),
  backbone: nullable(str),
  bankSize: nullable(int),
  threshold: nullable(num),
  fittedAt: nullable(str),
  trainingSeconds: nullable(num),
  trainingClips: nullable(int),
  source: nullable({ type: 'string', enum: ['enrol', 'upload', 'directory'] }),
  feedbackWindows: int,
  progress: nullable(fitProgress),
  error: nullable(str),
  version: nullable(int),
  shadowVersion: nullable(int),
  minTrainingClips: int,
  recommendedEnrolSeconds: num,
});

const alertBox = obj({ t0: num, t1: num, fLow: num, fHigh: num, score: num });

const shadowTrial = obj({
  since: int,
  until: msNullable,
  outcome: { type: 'string', enum: ['running', 'promoted', 'discarded', 'replaced'] },
  endedBy: nullable(str),
  windows: int,
  skipped: int,
  shadowOver: int,
  activeOver: int,
  shadowMean: nullable(num),
  activeMean: nullable(num),
  shadowAlertCount: int,
  activeAlertCount: int,
  wouldBeAlerts: {
    type: 'array',
    items: obj({
      start: num,
      end: nullable(num),
      peakScore: num,
      peakAt: num,
      windows: int,
      boxes: { type: 'array', items: alertBox },
    }),
  },
});

const burnInFit = obj({
  perDay: { ...num, description: 'false alerts per sensor-day the factor was fitted for' },
  windowsPerDay: num,
  alertWindows: int,
  confidence: num,
  threshold: { ...num, description: 'the live threshold in units of the fitted one (the unbounded factor)' },
  estimate: num,
  u: num,
  zeta: num,
  xi: { ...num, description: "GPD shape of the live scores' tail" },
  sigma: num,
  n: int,
  excesses: int,
  clusters: int,
});

const modelBurnIn = obj({
  sensorId: str,
  version: int,
  state: { type: 'string', enum: ['collecting', 'applied', 'reverted', 'skipped'] },
  reason: nullable({ ...str, description: 'why skipped, or what a full collection waits for' }),
  target: { ...int, description: 'windows to collect (hark serve --burn-in-windows)' },
  windows: { ...int, description: 'collected so far; once fitted, the windows fitted on' },
  excluded: { ...int, description: 'windows left out: in spans an operator marked as a fault' },
  factor: nullable({ ...num, description: 'the threshold in units of the fitted one (bounded to 0.5..2)' }),
  unbounded: nullable(num),
  fit: nullable(burnInFit),
  spanStart: nullable({ ...num, description: 'stream ms of the first window collected' }),
  spanEnd: nullable({ ...num, description: 'stream ms of the end of the last window collected' }),
  startedAt: int,
  startedBy: nullable({
    ...str,
    description: 'null: the server (a new version); else the admin who restarted it',
  }),
  appliedAt: msNullable,
  revertedAt: msNullable,
  revertedBy: nullable(str),
  updatedAt: int,
});

const modelVersion = obj({
  sensorId: str,
  version: int,
  active: bool,
  shadow: bool,
  createdAt: int,
  source: { type: 'string', enum: ['enrol', 'upload', 'directory'] },
  by: nullable(str),
  method: str,
  backbone: str,
  threshold: num,
  fittedAt: str,
  trainingSeconds: num,
  trainingClips: int,
  trainingWindows: int,
  calibration: obj({
    method: str,
    clips: int,
    scores: int,
    mean: num,
    std: num,
    q: num,
    perDay: nullable(num),
  }),
  flags: obj({ short: bool, alertsDuring: { type: 'array', items: int } }),
  warnings: { type: 'array', items: str },
  activatedAt: msNullable,
  activatedBy: nullable(str),
  trial: nullable(shadowTrial),
  burnIn: nullable(modelBurnIn),
});

const sensorStatus = obj({
  id: str,
  name: str,
  labels: { type: 'object', additionalProperties: str },
  state: {
    type: 'string',
    enum: ['connected', 'disconnected', 'no-model', 'enrolling', 'scoring', 'overloaded'],
  },
  connected: { ...bool, description: 'connected and sending audio' },
  lastSeen: { ...msNullable, description: 'the last audio (or hello) received, ms since the epoch' },
  stateSince: { ...msNullable, description: 'since when `state` has held' },
  levelDbfs: nullable(num),
  peakDbfs: nullable(num),
  clipping: num,
  clipped: bool,
  silent: bool,
  sampleRate: nullable(int),
  streamStartedAt: msNullable,
  windowsScored: int,
  windowsDropped: int,
  dropRate: num,
  queueDepth: int,
  windowsSkipped: {
    ...int,
    description:
      'windows not scored because the scoring hop was widened past capacity (not in windowsDropped)',
  },
  scoringHopSeconds: {
    ...num,
    description: 'seconds between scored windows: the hop, widened for every sensor alike past capacity',
  },
  lastScore: nullable(num),
  threshold: num,
  openAlerts: { ...int, description: 'unresolved alerts (open or acknowledged)' },
  needsAttention: { ...int, description: 'open alerts: neither acknowledged nor resolved' },
  activeAlertId: nullable(int),
  activeSince: { ...msNullable, description: "when the active alert's condition began" },
  snoozedUntil: msNullable,
  severityThresholds: obj({
    criticalPeak: { ...num, description: 'critical from this normalised peak (1 = threshold)' },
    criticalSeconds: { ...num, description: 'critical once one occurrence lasts this long' },
    custom: { ...bool, description: "the sensor's own values; false: the server's defaults" },
  }),
  model: { $ref: '#/components/schemas/ModelStatus' },
  burnIn: nullable(
    obj({
      version: int,
      state: { type: 'string', enum: ['collecting', 'applied', 'reverted', 'skipped'] },
      windows: { ...int, description: 'windows collected (collecting), or fitted on' },
      target: int,
      factor: nullable({ ...num, description: 'applied: the threshold in units of the fitted one' }),
    }),
  ),
  instance: {
    ...nullable(str),
    description: 'the server instance that receives and scores the stream now (`hark serve --instance`)',
  },
});

const annotation = obj({
  id: int,
  alertId: int,
  label: { type: 'string', enum: [...ANNOTATION_LABELS] },
  text: str,
  author: str,
  at: int,
});

const alert = obj({
  id: int,
  sensorId: str,
  kind: { type: 'string', enum: [...ALERT_KINDS] },
  state: { type: 'string', enum: [...ALERT_STATES] },
  active: bool,
  start: int,
  end: msNullable,
  peakScore: num,
  peakAt: int,
  threshold: num,
  boxes: {
    type: 'array',
    items: obj({ t0: num, t1: num, fLow: num, fHigh: num, score: num }),
  },
  acknowledgedBy: nullable(str),
  acknowledgedAt: msNullable,
  resolvedBy: nullable(str),
  resolvedAt: msNullable,
  annotations: { type: 'array', items: { $ref: '#/components/schemas/Annotation' } },
  clip: obj({ available: bool, start: msNullable, seconds: nullable(num) }),
  feedback: nullable(obj({ id: int, taught: bool, revertedAt: msNullable })),
  severity: { type: 'string', enum: [...ALERT_SEVERITIES] },
  count: { ...int, description: 'occurrences folded into this alert (repeats within --alert-repeat)' },
  occurrences: {
    type: 'array',
    items: obj({
      start: int,
      end: msNullable,
      peakScore: num,
      peakAt: int,
      openedAt: { ...int, description: 'server ms' },
      clearedAt: { ...msNullable, description: 'server ms its condition was seen to clear' },
    }),
  },
  clearedAt: {
    ...msNullable,
    description: 'when the condition was last seen to clear (null: active, or the signal was lost)',
  },
  autoResolved: {
    ...bool,
    description: "resolved by itself after --alert-quiet seconds clear (resolvedBy 'auto')",
  },
});

const tokenInfo = obj({
  id: int,
  name: str,
  role: { type: 'string', enum: [...ROLES] },
  createdAt: int,
  lastUsedAt: msNullable,
  revokedAt: msNullable,
  sensors: {
    ...nullable({ type: 'array', items: str }),
    description: 'sensor ids a sensor token may stream as; null: bound to the first it streams as',
  },
});

const channelKind = { type: 'string', enum: [...CHANNEL_KINDS] };
const severities = {
  type: 'array',
  items: { type: 'string', enum: [...NOTIFICATION_SEVERITIES] },
  minItems: 1,
};
const ruleEvents = { type: 'array', items: { type: 'string', enum: [...RULE_EVENTS] }, minItems: 1 };
const quietHours = nullable({
  ...obj({
    start: { ...str, pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', example: '22:00' },
    end: { ...str, pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', example: '06:00' },
    timeZone: { ...str, example: 'Europe/Berlin', description: 'IANA time zone' },
  }),
  description: 'no message from start to end (local time; over midnight when end < start)',
});
const escalation = nullable({
  ...obj({ afterMinutes: { ...num, exclusiveMinimum: true, minimum: 0 }, channelId: int }),
  description:
    'send alert.escalated to channelId when the alert is still open afterMinutes after it was notified',
});
/** A channel's settings: the kind's fields; secret fields (write-only) marked. */
const channelConfigIn = {
  type: 'object',
  description:
    'webhook: url, secret (write-only); slack / teams: url (write-only); email: host, port, security, user, ' +
    'password (write-only), from, to[]; mqtt: url, topic ({sensorId} {event} {kind} {severity}), qos, retain, ' +
    'username, password (write-only)',
  properties: {
    url: str,
    secret: { ...str, writeOnly: true },
    password: { ...str, writeOnly: true },
    host: str,
    port: int,
    security: { type: 'string', enum: [...SMTP_SECURITY] },
    user: str,
    from: str,
    to: { type: 'array', items: str },
    topic: str,
    qos: { type: 'integer', enum: [0, 1, 2] },
    retain: bool,
    username: str,
  },
};
const notificationDelivery = obj({
  id: int,
  alertId: nullable({ ...int, description: 'null for a channel test' }),
  channelId: nullable({ ...int, description: 'null once the channel is deleted' }),
  channelName: str,
  channelKind: channelKind,
  ruleId: nullable(int),
  event: { type: 'string', enum: [...NOTIFICATION_EVENTS, 'test'] },
  state: { type: 'string', enum: [...DELIVERY_STATES] },
  attempts: int,
  createdAt: int,
  doneAt: msNullable,
  error: nullable(str),
});

export const SCHEMAS = {
  ApiError: obj({ statusCode: int, error: str, message: str }),
  Me: obj({ name: str, role: { type: 'string', enum: [...ROLES] } }),
  Health: obj({
    status: { type: 'string', enum: ['ok', 'degraded'] },
    storage: obj({
      engine: { type: 'string', enum: ['sqlite', 'postgres'] },
      writable: bool,
      reason: nullable({
        type: 'string',
        enum: ['storage unreachable', 'storage refuses writes', 'writes wait'],
        description: 'why the store is degraded (unreachable: PostgreSQL down or not answering)',
      }),
      readOnly: bool,
      failingSince: msNullable,
      lastError: nullable(str),
      errors: int,
      waitingWrites: { type: 'object', additionalProperties: int },
    }),
    cluster: obj({
      instance: { ...str, description: '`hark serve --instance` (default host name and port)' },
      redis: {
        type: 'string',
        enum: ['off', 'up', 'down'],
        description: 'off: no `--redis`; down: this instance scores its own sensors only',
      },
      downSince: msNullable,
      leasesHeld: { ...int, description: 'sensors whose ownership lease this instance holds' },
    }),
  }),
  ModelStatus: modelStatus,
  ModelVersion: modelVersion,
  ModelBurnIn: modelBurnIn,
  ShadowTrial: shadowTrial,
  FitProgress: fitProgress,
  SensorStatus: sensorStatus,
  ScorePoint: obj({ t: int, score: num }),
  HistoryAlertMark: obj({
    id: int,
    kind: { type: 'string', enum: [...ALERT_KINDS] },
    state: { type: 'string', enum: [...ALERT_STATES] },
    start: int,
    end: msNullable,
    peakScore: num,
    peakAt: int,
  }),
  TrendDay: obj({
    day: { ...int, description: 'UTC midnight starting the day, ms since the epoch' },
    n: int,
    p50: nullable(num),
    p90: nullable(num),
    p99: nullable(num),
    max: nullable(num),
    alerts: int,
  }),
  AssetSensor: obj({
    id: str,
    name: str,
    state: { type: 'string', enum: [...TILE_STATES] },
    labels: { type: 'object', additionalProperties: str },
  }),
  AssetGroup: obj({
    level: { type: 'string', enum: [...ASSET_LEVELS] },
    value: nullable({ ...str, description: "the label's value; null for the level's 'unassigned' group" }),
    key: { ...str, description: 'path of the group, e.g. site=plant-1/line=A (site= for unassigned)' },
    children: { type: 'array', items: { $ref: '#/components/schemas/AssetGroup' } },
    sensors: {
      type: 'array',
      items: { $ref: '#/components/schemas/AssetSensor' },
      description: "sensors whose deepest site / line / machine label is this group's",
    },
    worst: {
      type: 'string',
      enum: [...TILE_STATES],
      description: 'the most urgent state of its sensors, nested groups included',
    },
    counts: {
      type: 'object',
      properties: Object.fromEntries(TILE_STATES.map((s) => [s, int])),
      required: [...TILE_STATES],
      description: 'sensors of the group (nested included) in each state',
    },
    total: int,
  }),
  AssetTree: obj({
    groups: { type: 'array', items: { $ref: '#/components/schemas/AssetGroup' } },
    total: int,
  }),
  SensorTrends: obj({
    sensorId: str,
    days: { type: 'array', items: { $ref: '#/components/schemas/TrendDay' } },
  }),
  SensorHistory: obj({
    sensorId: str,
    from: int,
    to: int,
    tier: { type: 'string', enum: ['full', 'reduced', 'coarse'] },
    tierHopMs: num,
    columnMs: num,
    times: { type: 'array', items: num, description: 'start of each column, ms since the epoch' },
    nMels: int,
    melHz: {
      type: 'array',
      items: num,
      description:
        "centre frequency (Hz) of each band, from the sensor's analysis layout; empty when unknown or of another band count",
    },
    dbRange: { type: 'array', items: num, minItems: 2, maxItems: 2 },
    anomalyScale: num,
    spectrogram: {
      ...str,
      format: 'byte',
      description: 'base64 of [times.length, nMels] bytes, frame-major',
    },
    anomaly: { ...str, format: 'byte', description: 'base64 of [times.length, nMels] bytes, frame-major' },
    fullSince: nullable(num),
    reducedSince: nullable(num),
    coarseSince: nullable(num),
    alerts: { type: 'array', items: { $ref: '#/components/schemas/HistoryAlertMark' } },
  }),
  Annotation: annotation,
  Alert: alert,
  AlertPage: obj({
    items: { type: 'array', items: { $ref: '#/components/schemas/Alert' } },
    total: int,
    limit: int,
    offset: int,
  }),
  AlertNeighbours: obj({
    id: int,
    previous: { ...nullable(int), description: 'the alert before this one in the list; null at the start' },
    next: { ...nullable(int), description: 'the alert after this one; null at the end' },
    position: { ...nullable(int), description: '1-based; null when the alert no longer matches the filters' },
    total: { ...int, description: 'alerts matching the filters' },
  }),
  AlertAction: obj({
    id: int,
    alertId: int,
    action: { type: 'string', enum: ['acknowledge', 'resolve'] },
    outcome: {
      type: 'string',
      enum: ['applied', 'refused'],
      description: 'refused: the alert had already taken the step (detail says by whom and when)',
    },
    by: { ...str, description: "the token's name" },
    at: { ...int, description: 'server time, ms since the epoch' },
    detail: nullable(str),
  }),
  BulkAlertResult: obj({
    changed: { type: 'array', items: { $ref: '#/components/schemas/Alert' } },
    skipped: { type: 'array', items: obj({ id: int, reason: str }) },
  }),
  MediaTicketUrls: obj({
    alertId: int,
    expiresAt: { ...int, description: 'ms since the epoch; ask for new tickets after' },
    audio: { ...str, description: '/api/alerts/{id}/audio?ticket=...' },
    picture: { ...str, description: '/api/alerts/{id}/picture?ticket=... (add &kind=)' },
    spectrogram: { ...str, description: '/api/alerts/{id}/spectrogram?ticket=...' },
  }),
  AlertSpectrogram: obj({
    alertId: int,
    t0: num,
    hopSeconds: num,
    nMels: int,
    nFrames: int,
    melHz: { type: 'array', items: num },
    dbRange: { type: 'array', items: num, minItems: 2, maxItems: 2 },
    anomalyScale: num,
    spectrogram: { ...str, format: 'byte', description: 'base64 of [nFrames, nMels] bytes, frame-major' },
    anomaly: { ...str, format: 'byte' },
  }),
  Feedback: obj({
    id: int,
    sensorId: str,
    alertId: int,
    windows: int,
    patches: int,
    createdAt: int,
    createdBy: str,
    revertedAt: msNullable,
    revertedBy: nullable(str),
  }),
  TokenInfo: tokenInfo,
  NotificationChannel: obj({
    id: int,
    name: str,
    kind: channelKind,
    enabled: bool,
    config: {
      type: 'object',
      description: "the kind's settings without secrets (slack / teams: the URL's host)",
    },
    hasSecret: bool,
    secretFields: { type: 'array', items: str },
    createdAt: int,
    updatedAt: int,
  }),
  NotificationRule: obj({
    id: int,
    name: str,
    enabled: bool,
    channelId: int,
    sensorIds: { type: 'array', items: str, description: 'with labels: [] and {} cover every sensor' },
    labels: {
      type: 'object',
      additionalProperties: str,
      description: 'a label group: every label must match',
    },
    severities,
    events: ruleEvents,
    quietHours,
    escalation,
    createdAt: int,
    updatedAt: int,
  }),
  NotificationDelivery: notificationDelivery,
  NotificationDeliveryPage: obj({
    items: { type: 'array', items: { $ref: '#/components/schemas/NotificationDelivery' } },
    total: int,
    limit: int,
    offset: int,
  }),
  ChannelTestResult: obj({
    ok: bool,
    error: nullable(str),
    delivery: { $ref: '#/components/schemas/NotificationDelivery' },
  }),
  CreatedToken: {
    allOf: [
      { $ref: '#/components/schemas/TokenInfo' },
      obj({ token: { ...str, description: 'the secret, shown once' } }),
    ],
  },
} satisfies Record<string, Schema>;

/** Request bodies. */
/** A notification rule's fields: all of them on create (some required), any of them on change. */
const ruleFields = {
  name: { ...str, minLength: 1, maxLength: MAX_NAME_LENGTH },
  channelId: int,
  enabled: bool,
  sensorIds: { type: 'array', items: str },
  labels: { type: 'object', additionalProperties: str },
  severities,
  events: ruleEvents,
  quietHours,
  escalation,
};

export const BODIES = {
  sensorPatch: obj(
    {
      name: { ...str, minLength: 1, maxLength: MAX_NAME_LENGTH },
      labels: {
        type: 'object',
        maxProperties: MAX_LABELS,
        additionalProperties: { ...str, maxLength: MAX_LABEL_VALUE_LENGTH },
      },
      severityThresholds: obj(
        {
          criticalPeak: nullable({ ...num, minimum: 1, maximum: 1000, description: 'null: the default' }),
          criticalSeconds: nullable({ ...num, minimum: 0, maximum: 86400, description: 'null: the default' }),
        },
        ['criticalPeak', 'criticalSeconds'],
      ),
    },
    ['name', 'labels', 'severityThresholds'],
  ),
  seconds: (min: number, max: number) => obj({ seconds: { ...num, minimum: min, maximum: max } }),
  feedback: obj({ alertId: { ...int, minimum: 1 } }),
  annotation: obj(
    { label: { type: 'string', enum: [...ANNOTATION_LABELS] }, text: { ...str, maxLength: MAX_TEXT_LENGTH } },
    ['text'],
  ),
  falseAlarm: obj(
    {
      teach: {
        ...bool,
        default: false,
        description: "also add the alert's sound to the sensor's normal memory bank (undo: DELETE feedback)",
      },
      text: { ...str, maxLength: MAX_TEXT_LENGTH },
    },
    ['teach', 'text'],
  ),
  bulkAlerts: obj(
    {
      ids: { type: 'array', items: { ...int, minimum: 1 }, minItems: 1, maxItems: 500 },
      sensorId: str,
      kind: { type: 'string', enum: [...ALERT_KINDS] },
      severity: { type: 'string', enum: [...ALERT_SEVERITIES] },
    },
    ['ids', 'sensorId', 'kind', 'severity'],
  ),
  token: obj(
    {
      role: { type: 'string', enum: [...ROLES] },
      name: { ...str, minLength: 1, maxLength: MAX_NAME_LENGTH },
      sensors: {
        type: 'array',
        items: str,
        minItems: 1,
        description: 'sensor tokens only: the sensor ids it may stream as (default: the first it streams as)',
      },
    },
    ['sensors'],
  ),
  channel: obj(
    {
      name: { ...str, minLength: 1, maxLength: MAX_NAME_LENGTH },
      kind: channelKind,
      enabled: bool,
      config: channelConfigIn,
    },
    ['enabled'],
  ),
  channelPatch: obj(
    { name: { ...str, minLength: 1, maxLength: MAX_NAME_LENGTH }, enabled: bool, config: channelConfigIn },
    ['name', 'enabled', 'config'],
  ),
  rule: obj(ruleFields, [
    'enabled',
    'sensorIds',
    'labels',
    'severities',
    'events',
    'quietHours',
    'escalation',
  ]),
  rulePatch: obj(ruleFields, [
    'name',
    'channelId',
    'enabled',
    'sensorIds',
    'labels',
    'severities',
    'events',
    'quietHours',
    'escalation',
  ]),
  upload: {
    type: 'object',
    properties: {
      files: { type: 'array', items: { type: 'string', format: 'binary' }, description: 'normal WAV clips' },
    },
    required: ['files'],
  },
};
