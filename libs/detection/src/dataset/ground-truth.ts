/**
 * Ground-truth JSON of an anomalous clip or stream (see DATASET.md):
 * `{"type": "...", "detail": {...}, "events": [{"onset": s, "offset": s, "lowHz": Hz, "highHz": Hz, "label": "..."}]}`.
 * Each event is a time-frequency box in seconds and Hz, independent of any spectrogram's parameters.
 */
import { readFile } from 'node:fs/promises';
import type { GroundTruthEvent } from '@hark/dsp';

/** One anomalous time-frequency box (defined with the synthetic sound that also produces it). */
export type { GroundTruthEvent };

/** Parsed ground truth of one file. */
export interface GroundTruth {
  /** Anomaly kind (e.g. `tone`, `event`, `stream`); '' when absent. */
  type: string;
  /** Free-form generator details; {} when absent. */
  detail: Record<string, unknown>;
  events: GroundTruthEvent[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Validates parsed ground-truth JSON.
 *
 * @param json - output of `JSON.parse`.
 * @param source - file name used in error messages.
 * @throws naming the file and the field, e.g. `a.json: events[1].offset (0.2) must be >= onset (0.5)`.
 */
export function parseGroundTruth(json: unknown, source: string): GroundTruth {
  if (!isObject(json))
    throw new Error(`${source}: ground truth must be a JSON object with an 'events' array`);
  const { type = '', detail = {}, events } = json;
  if (typeof type !== 'string')
    throw new Error(`${source}: 'type' must be a string, got ${JSON.stringify(type)}`);
  if (!isObject(detail))
    throw new Error(`${source}: 'detail' must be an object, got ${JSON.stringify(detail)}`);
  if (!Array.isArray(events))
    throw new Error(`${source}: 'events' must be an array of {onset, offset, lowHz, highHz}`);
  return { type, detail, events: events.map((e, i) => parseEvent(e, `${source}: events[${i}]`)) };
}

function parseEvent(e: unknown, where: string): GroundTruthEvent {
  if (!isObject(e)) throw new Error(`${where} must be an object {onset, offset, lowHz, highHz, label}`);
  const num = (key: string): number => {
    const v = e[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new Error(`${where}.${key} (${JSON.stringify(v)}) must be a finite number >= 0`);
    }
    return v;
  };
  const [onset, offset, lowHz, highHz] = [num('onset'), num('offset'), num('lowHz'), num('highHz')];
  if (offset < onset) throw new Error(`${where}.offset (${offset}) must be >= onset (${onset}) seconds`);
  if (highHz < lowHz) throw new Error(`${where}.highHz (${highHz}) must be >= lowHz (${lowHz})`);
  const label = e.label ?? '';
  if (typeof label !== 'string')
    throw new Error(`${where}.label must be a string, got ${JSON.stringify(label)}`);
  return { onset, offset, lowHz, highHz, label };
}

/** Reads and validates a ground-truth JSON file. @throws naming the file on bad JSON or fields. */
export async function readGroundTruth(path: string): Promise<GroundTruth> {
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return parseGroundTruth(json, path);
}
