import { copyWindow } from '@hark/detection';
import {
  encodeWav,
  logMelSpectrogram,
  toAnalysisRate,
  resamplerTableBytes,
  S16_SCALE,
  toS16,
  transpose,
} from '@hark/dsp';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SensorStream, type ReadyWindow } from '../../src/ingest/sensor-stream.js';
import { quantiseDb } from '../../src/live/quantise.js';
import { chunk, f32Bytes, noise, s16Bytes, sine } from './helpers.js';

const T0 = 1_700_000_000_000;

/** `x` as the audio ring holds it: 16-bit PCM, read back as floats. */
const pcm16 = (x: ArrayLike<number>) => Float32Array.from(x, (v) => toS16(v) / S16_SCALE);

/** Sends `chunks` with consecutive seqs from `seq0`; returns every window. */
function send(s: SensorStream, chunks: Uint8Array[], seq0 = 0, now = T0): ReadyWindow[] {
  const windows: ReadyWindow[] = [];
  chunks.forEach((data, i) => {
    const r = s.audio({ seq: seq0 + i, data }, now);
    expect(r.ack).toEqual({ ok: true, seq: seq0 + i });
    windows.push(...r.windows);
  });
  return windows;
}

describe('SensorStream windows', () => {
  it('cuts windows equal to the batch log-mel, stamped with frame centre times', () => {
    const s = new SensorStream({ sensorId: 'pump' });
    expect(s.hello({ sampleRate: 16000, channels: 1, format: 'f32le', streamId: 'r' })).toEqual({
      ok: true,
      nextSeq: 0,
      maxChunkBytes: 512 * 1024,
      analysisSampleRate: 16000,
    });
    const x = noise(48000, 0.3);
    const windows = send(s, chunk(f32Bytes(x), 4, [1000, 5000, 5001, 20000]), 0, T0);
    expect([s.windowFrames, s.hopFrames]).toEqual([63, 31]);
    const spec = logMelSpectrogram(x); // 184 frames
    expect(spec.nFrames).toBe(184);
    expect(windows.map((w) => w.startFrame)).toEqual([0, 31, 62, 93]);
    for (const w of windows) {
      expect(w.endFrame - w.startFrame).toBe(63);
      expect(w.data).toEqual(copyWindow(spec.data, 128, spec.nFrames, w.startFrame, 63));
      // Anchor = arrival of the first chunk; column k at (k * 256 + 512) / 16 kHz.
      expect(w.t0).toBeCloseTo(T0 + (w.startFrame * 256 + 512) / 16, 6);
      expect(w.t1 - w.t0).toBeCloseTo(63 * 16, 6);
      expect(w.arrivedAt).toBe(T0);
    }
    expect(windows.map((w) => w.index)).toEqual([0, 1, 2, 3]);
    const cols = s.columns(10, 12);
    expect(cols.fromFrame).toBe(10);
    expect(cols.t0).toBeCloseTo(T0 + (10 * 256 + 512) / 16, 6);
    expect(cols.hopSeconds).toBe(0.016);
    // Held as the live columns' bytes (the windows above, cut as their last column came, are the floats).
    expect(cols.spectrogram.subarray(128, 256)).toEqual(
      quantiseDb(transpose(spec.data, 128, spec.nFrames).subarray(11 * 128, 12 * 128)),
    );
  });

  it('resamples 48 kHz stereo s16 to the analysis rate like the batch resampler', () => {
    const s = new SensorStream({ sensorId: 'fan' });
    s.hello({ sampleRate: 48000, channels: 2, format: 's16le' });
    const left = noise(96000, 0.4, 7);
    const right = sine(96000, 48000, 440, 0.3);
    const bytes = s16Bytes(left, right);
    const windows = send(s, chunk(bytes, 4, [4800, 33333, 60000]));
    const mono = Float32Array.from(
      left,
      (l, i) => (Math.round(l * 32768) + Math.round(right[i] * 32768)) / 65536,
    );
    const spec = logMelSpectrogram(toAnalysisRate(mono, 48000, 16000));
    expect(windows.map((w) => w.startFrame)).toEqual([0, 31]); // ~121 frames in 2 s
    for (const w of windows)
      expect(w.data).toEqual(copyWindow(spec.data, 128, spec.nFrames, w.startFrame, 63));
  });

  it('gives identical windows and columns for any chunking (property)', () => {
    const left = noise(48000 * 2.2, 0.4, 3);
    const right = noise(48000 * 2.2, 0.2, 4);
    const bytes = s16Bytes(left, right);
    const frames = left.length;
    const run = (chunks: Uint8Array[]) => {
      const s = new SensorStream({ sensorId: 'p', hopSeconds: 0.25 });
      s.hello({ sampleRate: 48000, channels: 2, format: 's16le' });
      const windows = send(s, chunks);
      return { windows, columns: s.columns(0, s.frameEnd) };
    };
    const reference = run([bytes]);
    expect(reference.windows.length).toBe(5); // 135 frames, starts 0, 16, ..., 64
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: frames }), { maxLength: 25 }), (cuts) => {
        const got = run(chunk(bytes, 4, cuts));
        expect(got.windows.map((w) => [w.startFrame, w.t0, w.t1])).toEqual(
          reference.windows.map((w) => [w.startFrame, w.t0, w.t1]),
        );
        got.windows.forEach((w, i) => expect(w.data).toEqual(reference.windows[i].data));
        expect(got.columns.spectrogram).toEqual(reference.columns.spectrogram);
        expect(got.columns.times).toEqual(reference.columns.times);
      }),
      { numRuns: 12 },
    );
  });

  it('anchors stream time at the first chunk t, and re-anchors a new stream', () => {
    const s = new SensorStream({ sensorId: 'p' });
    s.hello({ sampleRate: 16000, channels: 1, format: 'f32le', streamId: 'a' });
    // (A server clock near the sensor's: a t far off it is refused, see 'the sensor clock' below.)
    const first = s.audio({ seq: 3, data: f32Bytes(noise(17000)), t: 5_000 }, 5_100); // 63 frames
    expect(first.windows[0].t0).toBeCloseTo(5_032, 6);
    expect(first.seconds).toBe(17000 / 16000); // what hark_audio_seconds_total counts
    expect(s.streamStartedAt).toBe(5_000);
    expect(s.streamTime).toBeCloseTo(6_062.5, 6);
    // A later t on the same stream does not move the clock: sample counting carries it.
    const second = s.audio({ seq: 4, data: f32Bytes(noise(8000)), t: 99_999 }, 6_200);
    expect(second.windows[0].t0).toBeCloseTo(5_032 + 31 * 16, 6);
    expect(s.hello({ sampleRate: 16000, channels: 1, format: 'f32le', streamId: 'b' })).toMatchObject({
      nextSeq: 0,
    });
    const third = s.audio({ seq: 0, data: f32Bytes(noise(17000)) }, T0 + 50_000);
    expect(third.windows[0].t0).toBeCloseTo(T0 + 50_032, 6);
    expect(third.windows[0].startFrame).toBe(s.frameEnd - 63); // numbering continues, new segment
    expect(s.streamStartedAt).toBe(T0 + 50_000);
  });

  it('continues windows and time across a reconnect of the same stream', () => {
    const x = noise(40000, 0.3, 9);
    const bytes = f32Bytes(x);
    const straight = new SensorStream({ sensorId: 'p' });
    straight.hello({ sampleRate: 16000, channels: 1, format: 'f32le', streamId: 'a' });
    const expected = send(straight, chunk(bytes, 4, [10000, 20000, 30000]));

    const s = new SensorStream({ sensorId: 'p' });
    s.hello({ sampleRate: 16000, channels: 1, format: 'f32le', streamId: 'a' });
    const parts = chunk(bytes, 4, [10000, 20000, 30000]);
    const got = send(s, parts.slice(0, 2));
    s.disconnect();
    expect(s.audio({ seq: 2, data: parts[2] }, T0).ack).toMatchObject({ ok: false, code: 'NO_HELLO' });
    expect(s.hello({ sampleRate: 16000, channels: 1, format: 'f32le', streamId: 'a' })).toMatchObject({
      nextSeq: 2,
    });
    // The chunk whose ack was lost is sent again: a duplicate, acknowledged with the expected seq.
    expect(s.audio({ seq: 1, data: parts[1] }, T0).ack).toEqual({
      ok: false,
      code: 'DUPLICATE_SEQ',
      error: 'seq 1 was already received; expected 2',
      seq: 1,
      expected: 2,
    });
    got.push(...send(s, parts.slice(2), 2));
    expect(got.map((w) => [w.startFrame, w.t0])).toEqual(expected.map((w) => [w.startFrame, w.t0]));
    got.forEach((w, i) => expect(w.data).toEqual(expected[i].data));
  });

  it('carries stream time over a sample-rate change within a stream', () => {
    const s = new SensorStream({ sensorId: 'p' });
    s.hello({ sampleRate: 16000, channels: 1, format: 's16le', streamId: 'a' });
    send(s, [s16Bytes(noise(16000))]);
    s.hello({ sampleRate: 8000, channels: 1, format: 's16le', streamId: 'a' });
    const w = send(s, [s16Bytes(noise(16000))], 1);
    expect(s.streamTime).toBeCloseTo(T0 + 3000, 6);
    // The new segment's first window starts at its own first column.
    expect(w[0].t0).toBeCloseTo(T0 + 1000 + 32, 6);
  });

  it('rejects bad chunks without changing anything', () => {
    const s = new SensorStream({ sensorId: 'p', maxChunkBytes: 8000 });
    expect(s.audio({ seq: 0, data: new Uint8Array(4) }, T0).ack).toMatchObject({
      ok: false,
      code: 'NO_HELLO',
    });
    s.hello({ sampleRate: 16000, channels: 2, format: 's16le' });
    send(s, [s16Bytes(noise(1000), noise(1000))]);
    const before = { frames: s.frameEnd, meter: s.meter(), next: s.nextSeq };
    const bad = [
      [{ seq: 1, data: new Uint8Array(8004) }, 'TOO_LARGE'],
      [{ seq: 1, data: new Uint8Array(6) }, 'PARTIAL_SAMPLE'],
      [{ seq: 1, data: 'xx' }, 'BAD_MESSAGE'],
      [{ seq: 1, data: new Uint8Array(4), t: 'now' }, 'BAD_MESSAGE'],
      [{ seq: -1, data: new Uint8Array(4) }, 'BAD_MESSAGE'],
      [{ seq: 5, data: new Uint8Array(4) }, 'OUT_OF_ORDER_SEQ'],
      [null, 'BAD_MESSAGE'],
    ] as const;
    for (const [msg, code] of bad) {
      const r = s.audio(msg, T0);
      expect(r.ack).toMatchObject({ ok: false, code });
      expect(r.windows).toEqual([]);
    }
    expect({ frames: s.frameEnd, meter: s.meter(), next: s.nextSeq }).toEqual(before);
    expect(s.audio({ seq: 1, data: new Uint8Array(4) }, T0).ack).toEqual({ ok: true, seq: 1 });
  });

  it('answers a bad hello with its code and keeps the stream usable', () => {
    const s = new SensorStream({ sensorId: 'p' });
    expect(s.hello({ sampleRate: 44100, channels: 1, format: 'f64le' })).toEqual({
      ok: false,
      code: 'BAD_FORMAT',
      error: "format ('f64le') must be one of 's16le', 'f32le'",
    });
    expect(s.hello({ sampleRate: 44100, channels: 1, format: 'f32le' })).toMatchObject({ ok: true });
    expect(s.audio({ seq: 0, data: f32Bytes(noise(88200)) }, T0).windows.length).toBe(2);
  });
});

describe('SensorStream audio ring and tap', () => {
  it('returns the audio of a time range with its actual start', () => {
    const s = new SensorStream({ sensorId: 'p', audioRingSeconds: 2 });
    s.hello({ sampleRate: 16000, channels: 1, format: 'f32le' });
    const x = noise(48000, 0.3, 5);
    send(s, chunk(f32Bytes(x), 4, [12345]), 0, T0);
    const a = s.readAudio(T0 + 1500, T0 + 1600);
    expect(a.sampleRate).toBe(16000);
    expect(a.start).toBe(T0 + 1500);
    expect(a.samples).toEqual(pcm16(x.subarray(24000, 25600)));
    // At the precision of a clip: the 16-bit WAV of what the ring returns is the WAV of the float audio.
    expect(encodeWav(a.samples, 16000)).toEqual(encodeWav(x.subarray(24000, 25600), 16000));
    // Only the last 2 s are kept: a range reaching further back is clamped to what is held.
    const b = s.readAudio(T0, T0 + 1100);
    expect(b.start).toBeCloseTo(T0 + 1000, 9);
    expect(b.samples).toEqual(pcm16(x.subarray(16000, 17600)));
    expect(s.readAudio(T0 + 5000, T0 + 6000).samples.length).toBe(0);
  });

  it('taps resampled samples until unsubscribed', () => {
    const s = new SensorStream({ sensorId: 'p' });
    s.hello({ sampleRate: 16000, channels: 1, format: 'f32le' });
    const got: number[] = [];
    const times: number[] = [];
    const off = s.onSamples((samples, t0, rate) => {
      got.push(...samples);
      times.push(t0);
      expect(rate).toBe(16000);
    });
    const x = noise(3000);
    send(s, chunk(f32Bytes(x), 4, [1000]));
    off();
    send(s, [f32Bytes(noise(100))], 2);
    expect(Float32Array.from(got)).toEqual(x);
    expect(times).toEqual([T0, T0 + 1000 / 16]);
  });
});

describe('SensorStream meter', () => {
  it('reads level, peak and clipping of the last half second', () => {
    const s = new SensorStream({ sensorId: 'p' });
    expect(s.meter()).toEqual({
      levelDbfs: null,
      peakDbfs: null,
      clipping: 0,
      clipped: false,
      silent: false,
      silentSince: null,
    });
    s.hello({ sampleRate: 16000, channels: 1, format: 'f32le' });
    send(s, [f32Bytes(sine(16000, 16000, 1000, 0.5))]);
    const m = s.meter();
    expect(m.levelDbfs).toBeCloseTo(20 * Math.log10(0.5 / Math.SQRT2), 2);
    expect(m.peakDbfs).toBeCloseTo(20 * Math.log10(0.5), 2);
    expect([m.clipping, m.clipped, m.silent]).toEqual([0, false, false]);
  });

  it('counts clipping on any channel of a multi-channel input', () => {
    const s = new SensorStream({ sensorId: 'p' });
    s.hello({ sampleRate: 8000, channels: 2, format: 's16le' });
    const quiet = new Float32Array(8000).fill(0.01);
    const loud = Float32Array.from({ length: 8000 }, (_, i) => (i % 10 === 0 ? 1 : 0.1)); // 1 -> 32767
    send(s, [s16Bytes(quiet, loud)]);
    const m = s.meter();
    expect(m.clipping).toBeCloseTo(0.1, 3);
    expect(m.clipped).toBe(true);
    expect(m.peakDbfs).toBeCloseTo(20 * Math.log10(32767 / 32768), 4);
  });

  it('turns silent after silenceSeconds of quiet and back when sound returns', () => {
    const s = new SensorStream({ sensorId: 'p', silenceSeconds: 3, silenceDbfs: -50 });
    s.hello({ sampleRate: 8000, channels: 1, format: 'f32le' });
    send(s, [f32Bytes(noise(8000, 0.3))]); // 1 s of sound
    send(s, [f32Bytes(noise(8000 * 2, 0.001))], 1); // -60 dBFS-ish for 2 s
    expect(s.meter().silent).toBe(false);
    send(s, [f32Bytes(new Float32Array(8000 * 1.5))], 2); // digital silence
    const m = s.meter();
    expect(m.silent).toBe(true);
    expect(m.silentSince).toBe(T0 + 1000);
    expect(m.levelDbfs).toBeNull();
    send(s, [f32Bytes(noise(800, 0.3))], 3);
    expect(s.meter()).toMatchObject({ silent: false, silentSince: null });
  });
});

describe('SensorStream reconfigure', () => {
  it('switches mel and window parameters, keeping frame numbering and stream time', () => {
    const s = new SensorStream({ sensorId: 'p' });
    s.hello({ sampleRate: 16000, channels: 1, format: 'f32le' });
    send(s, [f32Bytes(noise(16000))]);
    const end = s.frameEnd;
    s.reconfigure({ nMels: 64, hopLength: 160, nFft: 512 }, 1, 0.5);
    expect([s.windowFrames, s.hopFrames, s.mel.nMels]).toEqual([100, 50, 64]);
    const w = send(s, [f32Bytes(noise(17000, 0.3, 11))], 1); // 103 frames
    expect(w).toHaveLength(1);
    expect(w[0].data.length).toBe(64 * 100);
    expect(w[0].startFrame).toBeGreaterThanOrEqual(end);
    expect(w[0].t0).toBeCloseTo(T0 + 1000 + 16, 6);
    // The audio ring survived (same analysis rate).
    expect(s.readAudio(T0, T0 + 2000).samples.length).toBe(32000);
    expect(s.readAudio(T0 + 900, T0 + 1100).samples).toEqual(
      pcm16([...noise(16000).subarray(14400), ...noise(1600, 0.3, 11)]),
    );
    expect(() => s.reconfigure({}, 1, 2)).toThrow(
      'hopSeconds (2) must be > 0 with hopSeconds <= windowSeconds',
    );
    expect(s.mel.nMels).toBe(64);
  });
});

describe('SensorStream: the sensor clock', () => {
  const data = () => f32Bytes(noise(1600, 0.1));

  it('refuses a t that anchors a stream far off the server clock, naming it and the fix; changes nothing', () => {
    const s = new SensorStream({ sensorId: 'pump', maxClockSkewMs: 60_000 });
    s.hello({ sampleRate: 16000, channels: 1, format: 'f32le' });
    for (const t of [1e308, 0, T0 + 61_000, T0 / 1000]) {
      const r = s.audio({ seq: 0, data: data(), t }, T0);
      expect(r.ack).toMatchObject({ ok: false, code: 'BAD_MESSAGE', seq: 0 });
      expect((r.ack as { error: string }).error).toMatch(
        /^t \(.+\) is .+ s off the server clock \(1700000000000\); at most 60 s is accepted \(HARK_MAX_CLOCK_SKEW_SECONDS\): set the sensor's clock \(NTP\) or leave t out$/,
      );
    }
    expect(s.streamTime).toBeNull();
    expect(s.audio({ seq: 0, data: data(), t: T0 - 59_000 }, T0).ack).toEqual({ ok: true, seq: 0 });
    expect(s.streamStartedAt).toBe(T0 - 59_000);
  });

  it('checks only the t that anchors: a replay faster than real time stamps later chunks ahead, and is fine', () => {
    const s = new SensorStream({ sensorId: 'pump', maxClockSkewMs: 1000 });
    s.hello({ sampleRate: 16000, channels: 1, format: 'f32le' });
    expect(s.audio({ seq: 0, data: data(), t: T0 }, T0).ack).toMatchObject({ ok: true });
    expect(s.audio({ seq: 1, data: data(), t: T0 + 3_600_000 }, T0 + 1).ack).toMatchObject({ ok: true });
  });
});

describe('SensorStream resamplers', () => {
  it('a sensor that declares ever new rates does not grow the process: each replaced resampler gives its table back', () => {
    const s = new SensorStream({ sensorId: 'rates' });
    const bytes: number[] = [];
    // 20 rates: without the bound they would hold ~74 MB, well over the 40 MB asserted (each table costs
    // seconds of CPU to build, so more rates only slow the test).
    for (let k = 0; k < 20; k++) {
      const sampleRate = 44_101 + 2 * k; // few common factors with 16 kHz: MBs of filter table each
      const ack = s.hello({ sampleRate, channels: 1, format: 's16le', streamId: 'r' });
      if (!ack.ok) throw new Error(ack.error);
      send(s, [s16Bytes(noise(sampleRate / 10, 0.2))], ack.nextSeq);
      bytes.push(resamplerTableBytes());
    }
    // 20 tables of ~3.7 MB would be over 70 MB; the cache keeps them to its bound.
    expect(Math.max(...bytes)).toBeLessThan(40 * 2 ** 20);
    s.dispose();
  });
});

describe('SensorStream memory: rings taken on first audio, given back when idle', () => {
  const RINGS = { audioRingSeconds: 90, columnRingSeconds: 120 };

  it('a stream made, greeted and read holds no ring until audio comes', () => {
    const s = new SensorStream({ sensorId: 'lazy', ...RINGS });
    s.hello({ sampleRate: 16000, channels: 1, format: 's16le', streamId: 'a' });
    expect(s.ringBytes).toBe(0);
    expect(s.columns(0, 100).spectrogram.length).toBe(0);
    expect(s.readAudio(0, Infinity).samples.length).toBe(0);
    send(s, [s16Bytes(noise(1600, 0.2))]);
    // 90 s of 16 kHz 16-bit audio, 120 s of 128-band dB and anomaly columns as bytes with their times and
    // flags, and the newest window (63 columns) as float dB.
    const columns = Math.ceil((120 * 16000) / 256);
    expect(s.ringBytes).toBe(90 * 16000 * 2 + columns * (128 * 2 + 8 + 1) + 63 * 128 * 4);
    expect(s.ringBytes / 1e6).toBeCloseTo(4.9, 1);
  });

  it('released, a sensor streams on as before: sequence, stream time and window timing carry on', () => {
    const x = noise(192_000, 0.3, 5);
    const parts = chunk(f32Bytes(x), 4, [48000, 96000]);
    const s = new SensorStream({ sensorId: 'idle', ...RINGS });
    s.hello({ sampleRate: 48000, channels: 1, format: 'f32le', streamId: 'a' });
    const before = send(s, parts.slice(0, 2));
    const time = s.streamTime;
    s.disconnect();
    s.release();
    expect(s.ringBytes).toBe(0);
    expect(s.readAudio(T0 - 1e6, T0 + 1e6).samples.length).toBe(0);
    expect(s.frameRange[0]).toBe(s.frameRange[1]);
    // The same stream comes back: the next seq is expected, a replayed one is a duplicate.
    expect(s.hello({ sampleRate: 48000, channels: 1, format: 'f32le', streamId: 'a' })).toMatchObject({
      ok: true,
      nextSeq: 2,
    });
    expect(s.audio({ seq: 1, data: parts[1] }, T0).ack).toMatchObject({ ok: false, code: 'DUPLICATE_SEQ' });
    const after = send(s, parts.slice(2), 2, T0 + 600_000);
    expect(s.streamTime).toBeCloseTo(T0 + 4000, 6); // all of x, as if never released
    expect(s.ringBytes).toBeGreaterThan(0);
    // A new segment from the release on: windows keep counting and start where the stream time is.
    expect(after.length).toBeGreaterThan(0);
    expect(after[0].index).toBe(before.length);
    expect(after[0].startFrame).toBeGreaterThanOrEqual(before.at(-1)!.endFrame);
    expect(after[0].t0).toBeGreaterThanOrEqual(time!);
    expect(after[0].t0).toBeLessThan(time! + 100);
    // Its audio is readable again at its own times.
    expect(s.readAudio(time!, time! + 200).samples.length).toBeGreaterThan(0);
    s.dispose();
  });

  it('released while connected (a silent sensor), the next chunk takes a resampler and the rings again', () => {
    const s = new SensorStream({ sensorId: 'quiet', ...RINGS });
    s.hello({ sampleRate: 44100, channels: 1, format: 's16le', streamId: 'q' });
    send(s, [s16Bytes(noise(44100, 0.2))]);
    s.release();
    expect(s.ringBytes).toBe(0);
    const w = send(s, [s16Bytes(noise(44100, 0.2)), s16Bytes(noise(44100, 0.2))], 1);
    expect(w.length).toBeGreaterThan(0);
    expect(s.ringBytes).toBeGreaterThan(0);
    s.dispose();
  });
});
