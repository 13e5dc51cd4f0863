/**
 * What the REST controllers need from the live runtime (sensor streams and models). Abstract classes so they
 * double as Nest injection tokens; `sensors/` (`Sensors`) and `models/` (`ModelService`) implement them.
 */
import type { ModelStatus, SensorStatus } from '@hark/protocol';
import type { SensorPatch } from '../store/sensor.repository.js';

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

/** An uploaded file, streamed to a temporary file (the service moves or reads it; the controller removes what is left). */
export interface UploadedWav {
  name: string;
  path: string;
  size: number;
}

export abstract class SensorsPort {
  abstract list(): SensorStatus[];
  /** Null for a sensor never seen. */
  abstract status(sensorId: string): SensorStatus | null;
  abstract update(sensorId: string, patch: SensorPatch): SensorStatus;
  /** `until` null lifts the snooze. */
  abstract snooze(sensorId: string, until: number | null): SensorStatus;
}

export abstract class ModelsPort {
  abstract status(sensorId: string): ModelStatus;
  /** Starts recording `seconds` of the live stream, then fits in the background. */
  abstract enrol(sensorId: string, seconds: number, by: string): ModelStatus;
  /** Validates the WAVs now (throws a clear error), fits in the background. */
  abstract upload(sensorId: string, files: UploadedWav[], by: string): Promise<ModelStatus>;
  abstract listFeedback(sensorId: string): FeedbackInfo[];
  /** Adds the alert's patches to the sensor's memory bank. */
  abstract teach(alertId: number, by: string): Promise<FeedbackInfo>;
  abstract revert(sensorId: string, feedbackId: number, by: string): Promise<FeedbackInfo>;
}
