/**
 * The wire contract the dashboard reads, from `@hark/protocol` (the same definitions the server sends by;
 * nothing of the server is bundled).
 */
export type {
  Alert,
  AlertBox,
  AlertKind,
  AlertSpectrogram,
  AlertState,
  Annotation,
  AnnotationLabel,
  ApiError,
  ChannelKind,
  ChannelTestResult,
  ColumnsEvent,
  FitProgressEvent,
  Me,
  ModelStatus,
  NotificationChannel,
  NotificationChannelInput,
  NotificationDelivery,
  NotificationEvent,
  NotificationRule,
  NotificationRuleInput,
  NotificationSeverity,
  Page,
  Role,
  ScoreEvent,
  ScorePoint,
  SensorHistory,
  SensorTrends,
  SensorState,
  SensorStatus,
  SubscribeMessage,
  TrendDay,
} from '@hark/protocol';

export {
  ALERT_STATES,
  ANNOTATION_LABELS,
  CHANNEL_KINDS,
  DEFAULT_BACKFILL_SECONDS,
  ENROL_MAX_SECONDS,
  ENROL_MIN_SECONDS,
  NOTIFICATION_SEVERITIES,
  RULE_EVENTS,
  SMTP_SECURITY,
} from '@hark/protocol';
