/**
 * What the REST controllers need from the live runtime (sensor streams and models). Abstract classes so they
 * double as Nest injection tokens; `sensors/` (`Sensors`) and `models/` (`ModelService`) implement them.
 */
import type { FeedbackInfo, ModelBurnIn, ModelStatus, ModelVersion, SensorStatus } from '@hark/protocol';
import type { SensorPatch } from '../store/sensor.repository.js';

export type { FeedbackInfo } from '@hark/protocol';

/** An uploaded file, streamed to a temporary file (the service moves or reads it; the controller removes what is left). */
export interface UploadedWav {
  name: string;
  path: string;
  size: number;
}

export abstract class SensorsPort {
  abstract list(): Promise<SensorStatus[]>;
  /** Null for a sensor never seen. */
  abstract status(sensorId: string): Promise<SensorStatus | null>;
  abstract update(sensorId: string, patch: SensorPatch): Promise<SensorStatus>;
  /** `until` null lifts the snooze. */
  abstract snooze(sensorId: string, until: number | null): Promise<SensorStatus>;
  /** Deletes a sensor (and with `purge` its data); false for an unknown id. */
  abstract remove(sensorId: string, o: { purge: boolean; by: string }): Promise<boolean>;
  /** Centre frequencies (Hz) of the sensor's analysis mel bands; null for a sensor never seen. */
  abstract melHz(sensorId: string): number[] | null;
}

export abstract class ModelsPort {
  abstract status(sensorId: string): ModelStatus;
  /**
   * Starts recording `seconds` of the live stream, then fits in the background. The new version runs in
   * shadow beside the active model unless `activateNow` (or the sensor has no model yet).
   */
  abstract enrol(sensorId: string, seconds: number, by: string, o?: { activateNow?: boolean }): ModelStatus;
  /** Validates the WAVs now (throws a clear error), fits in the background (a new version, as `enrol`). */
  abstract upload(
    sensorId: string,
    files: UploadedWav[],
    by: string,
    o?: { activateNow?: boolean },
  ): Promise<ModelStatus>;
  /** The sensor's kept model versions, newest first. */
  abstract versions(sensorId: string): Promise<ModelVersion[]>;
  /** Makes a kept version the model in use (a shadow of it is promoted). */
  abstract activate(sensorId: string, version: number, by: string): Promise<ModelVersion>;
  /** Ends the shadow trial of a version without using it. */
  abstract discard(sensorId: string, version: number, by: string): Promise<ModelVersion>;
  /** A version's live burn-in; `NotFoundError` when it has none. */
  abstract burnIn(sensorId: string, version: number): Promise<ModelBurnIn>;
  /** Back to the fitted threshold (an applied burn-in only). */
  abstract revertBurnIn(sensorId: string, version: number, by: string): Promise<ModelBurnIn>;
  /** Collects again from now (the active version only). */
  abstract restartBurnIn(sensorId: string, version: number, by: string): Promise<ModelBurnIn>;
  abstract listFeedback(sensorId: string): Promise<FeedbackInfo[]>;
  /** Adds the alert's patches to the sensor's memory bank. */
  abstract teach(alertId: number, by: string): Promise<FeedbackInfo>;
  abstract revert(sensorId: string, feedbackId: number, by: string): Promise<FeedbackInfo>;
}
