/**
 * Errors of the model runtime (enrolment, uploads, feedback), each with a code of its own;
 * `http/error.filter.ts` maps the codes to HTTP statuses.
 */
export type ModelErrorCode =
  /** A bad argument (a sensor id, an enrolment length, too few clips). */
  | 'INVALID'
  /** An uploaded file that is not usable audio. */
  | 'BAD_AUDIO'
  /** The sensor is already enrolling or fitting. */
  | 'BUSY'
  /** Enrolment records the live stream, and the sensor is not streaming. */
  | 'NOT_STREAMING'
  /** The sensor has no model (to teach). */
  | 'NO_MODEL'
  /** The alert or the model cannot take this feedback. */
  | 'NOT_TEACHABLE'
  /** The alert was already taught. */
  | 'ALREADY_TAUGHT'
  /** The sensor has no model version of that number. */
  | 'NO_VERSION'
  /** The version is not the sensor's shadow (to discard). */
  | 'NOT_SHADOW'
  /** As many sensors as allowed run a shadow model already. */
  | 'SHADOW_LIMIT';

export class ModelError extends Error {
  constructor(
    message: string,
    readonly code: ModelErrorCode = 'INVALID',
  ) {
    super(message);
    this.name = 'ModelError';
  }
}
