import { describe, expect, it } from 'vitest';
import { ColumnEmitter } from '../../src/live/column-emitter.js';
import { transpose } from '@hark/dsp';
import { decodeColumnsEvent, quantiseAnomaly, quantiseDb } from '../../src/live/quantise.js';
import { SensorStream, type ReadyWindow } from '../../src/ingest/sensor-stream.js';
import { f32Bytes, noise } from '../ingest/helpers.js';

const T0 = 1_700_000_000_000;

/** A `[128, 63]` map whose value at (mel m, frame t) is (t + m / 128) / 40: distinct per column. */
function rampMap(offset = 0): Float32Array {
  const map = new Float32Array(128 * 63);
  for (let m = 0; m < 128; m++) for (let t = 0; t < 63; t++) map[m * 63 + t] = offset + (t + m / 128) / 40;
  return map;
}

function setup() {
  const stream = new SensorStream({ sensorId: 'pump' });
  stream.hello({ sampleRate: 16000, channels: 1, format: 'f32le', streamId: 'a' });
  const { windows } = stream.audio({ seq: 0, data: f32Bytes(noise(48000, 0.3)) }, T0);
  const emitter = new ColumnEmitter({ sensorId: 'pump', source: stream });
  return { stream, windows, emitter };
}

describe('ColumnEmitter', () => {
  it('emits each column once, with the anomaly of the newest window covering it', () => {
    const { stream, windows, emitter } = setup();
    expect(windows.map((w: ReadyWindow) => w.startFrame)).toEqual([0, 31, 62, 93]);
    const [first] = emitter.scored(windows[0], rampMap());
    expect(first).toMatchObject({
      sensorId: 'pump',
      nMels: 128,
      nColumns: 63,
      scored: true,
      hopSeconds: 0.016,
    });
    expect(first.t0).toBeCloseTo(T0 + 32, 6);
    // The bytes the float columns and map quantise to (the window's data is its columns' float dB).
    expect(first.spectrogram).toEqual(quantiseDb(transpose(windows[0].data, 128, 63)));
    expect(first.anomaly).toEqual(quantiseAnomaly(transpose(rampMap(), 128, 63)));
    expect(stream.columns(0, 63).spectrogram).toEqual(first.spectrogram);
    const { anomaly } = decodeColumnsEvent(first);
    // Column 10, mel 5 comes from map[5, 10].
    expect(anomaly[10 * 128 + 5]).toBeCloseTo((10 + 5 / 128) / 40, 2);
    expect(emitter.emittedUpTo).toBe(63);

    const [dropped] = emitter.dropped(windows[1]);
    expect(dropped).toMatchObject({ nColumns: 31, scored: false });
    expect(dropped.t0).toBeCloseTo(T0 + 32 + 63 * 16, 6);
    expect(dropped.anomaly.every((a) => a === 0)).toBe(true);

    // Window 3 finishes before window 2: it supplies columns 94..155; window 2 then adds nothing.
    const [late] = emitter.scored(windows[3], rampMap(1));
    expect(late.nColumns).toBe(156 - 94);
    expect(decodeColumnsEvent(late).anomaly[0]).toBeCloseTo(1 + 1 / 40, 2); // column 94 = window 3 frame 1
    expect(emitter.scored(windows[2], rampMap())).toEqual([]);
    expect(emitter.emittedUpTo).toBe(156);
  });

  it('backfills what was sent, split by scored runs', () => {
    const { windows, emitter } = setup();
    const sent = [
      ...emitter.scored(windows[0], rampMap()),
      ...emitter.dropped(windows[1]),
      ...emitter.scored(windows[2], rampMap(0.5)),
    ];
    const back = emitter.backfill(10);
    expect(back.map((e) => [e.nColumns, e.scored])).toEqual([
      [63, true],
      [31, false],
      [31, true],
    ]);
    back.forEach((e, i) => {
      expect(e.spectrogram).toEqual(sent[i].spectrogram);
      expect(e.anomaly).toEqual(sent[i].anomaly);
      expect(e.t0).toBe(sent[i].t0);
    });
    const recent = emitter.backfill(0.2); // ceil(0.2 / 0.016) = 13 columns
    expect(recent.map((e) => e.nColumns)).toEqual([13]);
  });

  it('splits columns of two streams and sends the uncovered tail unscored', () => {
    const { stream, windows, emitter } = setup();
    for (const w of windows) emitter.scored(w, rampMap());
    expect(emitter.emittedUpTo).toBe(156);
    stream.hello({ sampleRate: 16000, channels: 1, format: 'f32le', streamId: 'b' });
    const { windows: next } = stream.audio(
      { seq: 0, data: f32Bytes(noise(17000)), t: T0 + 60_000 },
      T0 + 60_000,
    );
    expect(next.map((w) => w.startFrame)).toEqual([184]);
    const events = emitter.scored(next[0], rampMap());
    expect(events.map((e) => [e.nColumns, e.scored])).toEqual([
      [28, false], // frames 156..183 of the first stream: no window covered them
      [63, true],
    ]);
    expect(events[0].t0).toBeCloseTo(T0 + 32 + 156 * 16, 6);
    expect(events[1].t0).toBeCloseTo(T0 + 60_032, 6);
  });
});
