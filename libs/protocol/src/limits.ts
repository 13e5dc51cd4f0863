/**
 * Limits shared by the server (which enforces them), its OpenAPI document (which advertises them) and the
 * clients (which check before sending). Each is defined here once.
 */

/**
 * Lowest sample rate accepted anywhere audio enters (a sensor's hello, uploaded and fitted WAVs), Hz: below it
 * the analysis band (up to 8 kHz at the 16 kHz analysis rate) would be mostly empty, and a header claiming
 * 1 Hz turns a few bytes into minutes of "audio".
 */
export const MIN_SAMPLE_RATE = 8000;

/** Null for a WAV sample rate that may be analysed, else what is wrong (to follow the file's name). */
export function wavSampleRateProblem(sampleRate: number): string | null {
  return sampleRate >= MIN_SAMPLE_RATE
    ? null
    : `sample rate ${sampleRate} Hz is below the ${MIN_SAMPLE_RATE} Hz hark needs; record or convert it at ${MIN_SAMPLE_RATE} Hz or more (16 kHz is analysed)`;
}

/** A sensor's display name (`hello.name`, `PATCH /api/sensors/:id`) and a token's name: characters. */
export const MAX_NAME_LENGTH = 100;

/**
 * A sensor's labels (`hello.labels`, `PATCH /api/sensors/:id`): at most this many keys, each key 1 to
 * `MAX_NAME_LENGTH` characters, each value a string of at most `MAX_LABEL_VALUE_LENGTH` characters.
 */
export const MAX_LABELS = 32;
export const MAX_LABEL_VALUE_LENGTH = 200;

/** An annotation's or a false alarm's free text: characters. */
export const MAX_TEXT_LENGTH = 2000;

/** `hello.streamId`: characters. */
export const MAX_STREAM_ID_LENGTH = 200;

/**
 * Enrolment records this many seconds of the live stream: at least enough for the clips a fit holds out for
 * its threshold, at most an hour (the recording is held in memory: 230 MB for an hour at 16 kHz, f32).
 */
export const ENROL_MIN_SECONDS = 10;
export const ENROL_MAX_SECONDS = 3600;

/** Snoozes last from 1 s to 30 days. */
export const SNOOZE_MIN_SECONDS = 1;
export const SNOOZE_MAX_SECONDS = 30 * 24 * 3600;

/** `/live` `subscribe {backfillSeconds}`: default and largest. */
export const DEFAULT_BACKFILL_SECONDS = 30;
export const MAX_BACKFILL_SECONDS = 300;

/** A value that breaks a limit: the field's name, the value, and the rule it breaks. */
export interface LimitProblem {
  field: string;
  value: unknown;
  rule: string;
}

/** Null when `labels` keeps the label limits, else the first field that breaks them. */
export function labelsProblem(labels: unknown): LimitProblem | null {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels))
    return {
      field: 'labels',
      value: labels,
      rule: 'must be an object of string values, e.g. {"site": "plant-1"}',
    };
  const entries = Object.entries(labels);
  if (entries.length > MAX_LABELS)
    return { field: 'labels', value: `${entries.length} keys`, rule: `must have at most ${MAX_LABELS}` };
  for (const [key, value] of entries) {
    if (key.length < 1 || key.length > MAX_NAME_LENGTH)
      return { field: 'labels key', value: key, rule: `must be 1-${MAX_NAME_LENGTH} characters` };
    if (typeof value !== 'string' || value.length > MAX_LABEL_VALUE_LENGTH)
      return {
        field: `labels.${key}`,
        value,
        rule: `must be a string of at most ${MAX_LABEL_VALUE_LENGTH} characters`,
      };
  }
  return null;
}

/** Null for an enrolment length inside the limits, else the message. */
export function enrolSecondsProblem(seconds: unknown): string | null {
  return typeof seconds === 'number' &&
    Number.isFinite(seconds) &&
    seconds >= ENROL_MIN_SECONDS &&
    seconds <= ENROL_MAX_SECONDS
    ? null
    : `seconds must be a number from ${ENROL_MIN_SECONDS} to ${ENROL_MAX_SECONDS} (got ${String(seconds)})`;
}
