/**
 * The server's wire contract, types only (nothing of the server is bundled). Runtime constants the dashboard
 * needs are repeated here and checked against the contract's types.
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
  FitProgressEvent,
  Me,
  ModelStatus,
  Page,
  Role,
  ScoreEvent,
  ScorePoint,
  SensorState,
  SensorStatus,
  SubscribeMessage,
} from '../../../server/src/contracts';

import type { AlertState, AnnotationLabel } from '../../../server/src/contracts';

export const ANNOTATION_LABELS = [
  'true fault',
  'false alarm',
  'maintenance',
  'unknown',
] as const satisfies readonly AnnotationLabel[];

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const satisfies readonly AlertState[];
