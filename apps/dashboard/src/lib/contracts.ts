/**
 * The wire contract the dashboard reads, from `@hark/protocol` (the same definitions the server sends by;
 * nothing of the server is bundled).
 */
export type {
  Alert,
  AlertBox,
  AlertKind,
  AlertOccurrence,
  AlertSeverity,
  AlertSpectrogram,
  AlertState,
  Annotation,
  AnnotationLabel,
  ApiError,
  ChannelKind,
  ChannelTestResult,
  BulkAlertResult,
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
  SensorState,
  SensorStatus,
  SubscribeMessage,
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
