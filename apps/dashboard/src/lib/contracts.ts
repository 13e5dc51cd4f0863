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
  ColumnsEvent,
  FeedbackInfo,
  FitProgressEvent,
  Me,
  ModelStatus,
  ModelVersion,
  Page,
  Role,
  ScoreEvent,
  ScorePoint,
  SensorState,
  SensorStatus,
  ShadowTrial,
  SubscribeMessage,
  WouldBeAlert,
} from '@hark/protocol';

export {
  ALERT_STATES,
  ANNOTATION_LABELS,
  DEFAULT_BACKFILL_SECONDS,
  ENROL_MAX_SECONDS,
  ENROL_MIN_SECONDS,
} from '@hark/protocol';
