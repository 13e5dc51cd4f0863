/**
 * The tables as Kysely sees them (column names as in `migrations.ts`). Times are ms since the epoch (SQLite
 * INTEGER, PostgreSQL BIGINT read back as numbers); flags are 0 / 1 integers in both engines; JSON columns
 * are text.
 */
import type { ColumnType, Generated } from 'kysely';

/** A column with a default: optional on insert. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface TokensTable {
  id: Generated<number>;
  name: string;
  role: string;
  hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  sensors: string | null;
}

export interface SensorsTable {
  id: string;
  name: string;
  labels: Defaulted<string>;
  first_seen: number;
  last_seen: number;
  snoozed_until: number | null;
  critical_peak: number | null;
  critical_seconds: number | null;
  deleted_at: number | null;
}

export interface AlertsTable {
  id: Generated<number>;
  sensor_id: string;
  kind: string;
  state: Defaulted<string>;
  active: Defaulted<number>;
  start_at: number;
  end_at: number | null;
  peak_score: number;
  peak_at: number;
  threshold: number;
  boxes: Defaulted<string>;
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  resolved_by: string | null;
  resolved_at: number | null;
  clip_start: number | null;
  clip_seconds: number | null;
  clip_available: Defaulted<number>;
  severity: Defaulted<string>;
  occurrences: Defaulted<number>;
  closed_at: number | null;
  cleared_at: number | null;
  auto_resolved: Defaulted<number>;
}

export interface AlertOccurrencesTable {
  id: Generated<number>;
  alert_id: number;
  start_at: number;
  end_at: number | null;
  peak_score: number;
  peak_at: number;
  opened_at: number;
  cleared_at: number | null;
}

export interface AnnotationsTable {
  id: Generated<number>;
  alert_id: number;
  label: string;
  text: Defaulted<string>;
  author: string;
  at: number;
}

export interface AlertActionsTable {
  id: Generated<number>;
  alert_id: number;
  action: string;
  outcome: string;
  actor: string;
  at: number;
  detail: string | null;
}

export interface ScoresTable {
  sensor_id: string;
  t: number;
  score: number;
}

export interface ScoreDaysTable {
  sensor_id: string;
  day: number;
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface FeedbackTable {
  id: Generated<number>;
  sensor_id: string;
  alert_id: number;
  windows: number;
  patches: number;
  path: string;
  created_by: string;
  created_at: number;
  reverted_by: string | null;
  reverted_at: number | null;
}

export interface ModelsTable {
  id: Generated<number>;
  sensor_id: string;
  source: string;
  fitted_at: string | null;
  training_seconds: number | null;
  training_clips: number | null;
  method: string | null;
  backbone: string | null;
  bank_size: number | null;
  threshold: number | null;
  error: string | null;
  recorded_at: number;
}

export interface WebhookOutboxTable {
  id: Generated<number>;
  event: string;
  payload: string;
  created_at: number;
  state: Defaulted<string>;
  attempts: Defaulted<number>;
  next_attempt_at: number;
  last_error: string | null;
  done_at: number | null;
}

export interface StorageProbeTable {
  id: number;
  at: number;
}

export interface NotifyChannelsTable {
  id: Generated<number>;
  name: string;
  kind: string;
  config: Defaulted<string>;
  secret: Defaulted<string>;
  enabled: Defaulted<number>;
  created_at: number;
  updated_at: number;
}

export interface NotifyRulesTable {
  id: Generated<number>;
  name: string;
  enabled: Defaulted<number>;
  channel_id: number;
  sensor_ids: Defaulted<string>;
  labels: Defaulted<string>;
  severities: Defaulted<string>;
  events: Defaulted<string>;
  quiet_hours: string | null;
  escalate_minutes: number | null;
  escalate_channel_id: number | null;
  created_at: number;
  updated_at: number;
}

export interface NotifyDeliveriesTable {
  id: Generated<number>;
  alert_id: number | null;
  channel_id: number | null;
  channel_name: string;
  channel_kind: string;
  rule_id: number | null;
  event: string;
  payload: string;
  state: Defaulted<string>;
  attempts: Defaulted<number>;
  created_at: number;
  next_attempt_at: number;
  done_at: number | null;
  error: string | null;
}

export interface NotifyEscalationsTable {
  alert_id: number;
  rule_id: number;
  due_at: number;
  state: Defaulted<string>;
  done_at: number | null;
}

export interface HistoryBlocksTable {
  id: Generated<number>;
  sensor_id: string;
  tier: number;
  t0: number;
  t1: number;
  hop_ms: number;
  n_mels: number;
  n_columns: number;
  db_lo: number;
  db_hi: number;
  anomaly_scale: number;
  spectrogram: Buffer;
  anomaly: Buffer;
}

export interface BlobsTable {
  sha256: string;
  size: number;
  chunks: number;
  created_at: number;
}

export interface BlobChunksTable {
  sha256: string;
  idx: number;
  bytes: Buffer;
}

export interface ModelVersionsTable {
  sensor_id: string;
  version: number;
  meta: string;
  summary: string;
  created_at: number;
}

export interface ModelFilesTable {
  sensor_id: string;
  version: number;
  name: string;
  sha256: string;
  size: number;
}

export interface ModelActiveTable {
  sensor_id: string;
  version: number;
  changed_at: number;
}

export interface AlertMediaTable {
  alert_id: number;
  name: string;
  sha256: string;
  size: number;
}

export interface BurnInsTable {
  sensor_id: string;
  version: number;
  state: string;
  reason: string | null;
  target: number;
  windows: number;
  excluded: number;
  factor: number | null;
  unbounded: number | null;
  fit: string | null;
  series: string | null;
  span_start: number | null;
  span_end: number | null;
  started_at: number;
  started_by: string | null;
  applied_at: number | null;
  reverted_at: number | null;
  reverted_by: string | null;
  updated_at: number;
}

export interface SchemaVersionTable {
  version: number;
  applied_at: number;
}

export interface Schema {
  tokens: TokensTable;
  sensors: SensorsTable;
  alerts: AlertsTable;
  alert_occurrences: AlertOccurrencesTable;
  annotations: AnnotationsTable;
  alert_actions: AlertActionsTable;
  scores: ScoresTable;
  score_days: ScoreDaysTable;
  feedback: FeedbackTable;
  models: ModelsTable;
  webhook_outbox: WebhookOutboxTable;
  storage_probe: StorageProbeTable;
  notify_channels: NotifyChannelsTable;
  notify_rules: NotifyRulesTable;
  notify_deliveries: NotifyDeliveriesTable;
  notify_escalations: NotifyEscalationsTable;
  history_blocks: HistoryBlocksTable;
  blobs: BlobsTable;
  blob_chunks: BlobChunksTable;
  model_versions: ModelVersionsTable;
  model_files: ModelFilesTable;
  model_active: ModelActiveTable;
  alert_media: AlertMediaTable;
  burn_ins: BurnInsTable;
  schema_version: SchemaVersionTable;
}
