/**
 * The streams' DSP in a worker thread (ingest/dsp-worker.ts): a stream whose resampling and log-mel run in
 * the worker cuts the same windows, columns and audio as one that runs them here, through new streams, rate
 * changes, a reconfiguration and an idle release; and when the worker stops, streams go on without it.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DspWorker } from '../../src/ingest/dsp-worker.js';
import { SensorStream, type ReadyWindow } from '../../src/ingest/sensor-stream.js';
import { chunk, noise, s16Bytes, sine } from './helpers.js';

const workers: DspWorker[] = [];
afterAll(async () => {
  for (const w of workers) await w.stop();
});

function newWorker(log: string[] = [], running?: (r: boolean) => void): DspWorker {
  const w = new DspWorker((line) => log.push(line), running);
  workers.push(w);
  return w;
}

/** A stream and every window it gave, from `audio` (here) or from the worker's answers. */
function streamWithWindows(dsp?: DspWorker): { stream: SensorStream; windows: ReadyWindow[] } {
  const stream = new SensorStream({ sensorId: 's', dsp });
  const windows: ReadyWindow[] = [];
  stream.onWindows((ws) => windows.push(...ws));
  return { stream, windows };
}

/** One script of messages, played into a stream. */
type Step =
  | { hello: { sampleRate: number; channels: number; format: 's16le'; streamId?: string } }
  | { audio: Uint8Array; t: number }
  | { reconfigure: { nMels: number; hop: number } }
  | { release: true };

function script(): Step[] {
  const steps: Step[] = [];
  const a = s16Bytes(noise(48000 * 3, 0.3, 7));
  steps.push({ hello: { sampleRate: 48000, channels: 1, format: 's16le', streamId: 'a' } });
  // Uneven chunks, 3 s at 48 kHz.
  const cuts = Array.from({ length: 40 }, (_, i) => Math.round((i + 1) * 3500 + (i % 3) * 700));
  for (const [i, c] of chunk(a, 2, cuts).entries()) steps.push({ audio: c, t: 1_000_000 + i * 70 });
  // A rate change in the same stream, then a new stream at 16 kHz.
  steps.push({ hello: { sampleRate: 44100, channels: 1, format: 's16le', streamId: 'a' } });
  const b = s16Bytes(sine(44100 * 2, 44100, 1000, 0.4));
  for (const c of chunk(b, 2, [9000, 21000, 40000, 70000])) steps.push({ audio: c, t: 0 });
  steps.push({ hello: { sampleRate: 16000, channels: 1, format: 's16le', streamId: 'b' } });
  const c16 = s16Bytes(noise(16000 * 2, 0.2, 3));
  for (const [i, c] of chunk(c16, 2, [4000, 12000, 20000]).entries())
    steps.push({ audio: c, t: 2_000_000 + i * 250 });
  // Another model's parameters, then an idle release and more audio.
  steps.push({ reconfigure: { nMels: 64, hop: 160 } });
  for (const [i, c] of chunk(s16Bytes(noise(16000 * 2, 0.2, 4)), 2, [8000, 16000, 24000]).entries())
    steps.push({ audio: c, t: 2_010_000 + i * 500 });
  steps.push({ release: true });
  for (const [i, c] of chunk(s16Bytes(noise(16000 * 2, 0.2, 5)), 2, [10000, 20000]).entries())
    steps.push({ audio: c, t: 2_020_000 + i * 600 });
  return steps;
}

function play(stream: SensorStream, windows: ReadyWindow[], steps: Step[], after?: () => void): void {
  let seq = 0;
  for (const step of steps) {
    if ('hello' in step) {
      const ack = stream.hello(step.hello);
      expect(ack.ok).toBe(true);
      if (ack.ok && ack.nextSeq !== null) seq = ack.nextSeq;
    } else if ('audio' in step) {
      const r = stream.audio({ seq: seq++, data: step.audio }, step.t);
      expect(r.ack.ok).toBe(true);
      windows.push(...r.windows);
    } else if ('reconfigure' in step) {
      stream.reconfigure({ nMels: step.reconfigure.nMels, hopLength: step.reconfigure.hop }, 1, 0.5);
    } else stream.release();
    after?.();
  }
}

describe('DspWorker: the streams resample and extract in a worker thread', () => {
  it('cuts the same windows, columns and audio as a stream that does it on its own thread', async () => {
    const steps = script();
    const here = streamWithWindows();
    play(here.stream, here.windows, steps);

    const dsp = newWorker();
    const there = streamWithWindows(dsp);
    play(there.stream, there.windows, steps);
    // The last chunks' answers come through the port.
    await until(() => dsp.pending === 0);
    await new Promise((r) => setTimeout(r, 20));

    expect(there.windows.length).toBeGreaterThan(8);
    expect(there.windows.length).toBe(here.windows.length);
    for (let i = 0; i < here.windows.length; i++) {
      const [a, b] = [here.windows[i], there.windows[i]];
      expect({ ...b, data: null }).toEqual({ ...a, data: null });
      expect(Buffer.from(b.data.buffer).equals(Buffer.from(a.data.buffer))).toBe(true);
    }
    expect(there.stream.frameRange).toEqual(here.stream.frameRange);
    const [from, to] = here.stream.frameRange;
    const ca = here.stream.columns(from, to);
    const cb = there.stream.columns(from, to);
    expect(Buffer.from(cb.spectrogram).equals(Buffer.from(ca.spectrogram))).toBe(true);
    expect([...cb.times]).toEqual([...ca.times]);
    const ra = here.stream.readAudio(0, 3_000_000);
    const rb = there.stream.readAudio(0, 3_000_000);
    expect(rb.start).toBe(ra.start);
    expect(Buffer.from(rb.samples.buffer).equals(Buffer.from(ra.samples.buffer))).toBe(true);
  });

  it('a segment ends only after the worker has answered every chunk before it (a drain at each step)', () => {
    const steps = script();
    const here = streamWithWindows();
    play(here.stream, here.windows, steps);
    const dsp = newWorker();
    const there = streamWithWindows(dsp);
    // Drained after every message: the windows come in the same order and at the same steps.
    const counts: number[] = [];
    const hereCounts: number[] = [];
    const h2 = streamWithWindows();
    play(h2.stream, h2.windows, steps, () => hereCounts.push(h2.windows.length));
    play(there.stream, there.windows, steps, () => {
      dsp.drain();
      counts.push(there.windows.length);
    });
    expect(counts).toEqual(hereCounts);
  });

  it('when the worker stops, streams go on here: a new segment, windows again, and a log line', async () => {
    const log: string[] = [];
    const told: boolean[] = [];
    const dsp = newWorker(log, (r) => told.push(r));
    const { stream, windows } = streamWithWindows(dsp);
    expect(stream.hello({ sampleRate: 48000, channels: 1, format: 's16le' }).ok).toBe(true);
    const bytes = s16Bytes(noise(48000 * 4, 0.3, 9));
    const parts = chunk(
      bytes,
      2,
      Array.from({ length: 39 }, (_, i) => (i + 1) * 4800),
    );
    let seq = 0;
    for (const p of parts.slice(0, 20)) stream.audio({ seq: seq++, data: p }, 5_000_000 + seq * 100);
    dsp.drain();
    const before = windows.length;
    expect(before).toBeGreaterThan(0);
    // The worker crashes: a pipe it cannot open (a rate of 0 Hz, which streams check first) throws there.
    dsp.open(0, stream.mel, { result: () => {}, lost: () => {} });
    await until(() => !dsp.running);
    expect(log.join('\n')).toMatch(/DSP worker stopped .*on the event loop from now on/);
    expect(told).toEqual([false]);
    for (const p of parts.slice(20)) {
      const r = stream.audio({ seq: seq++, data: p }, 5_000_000 + seq * 100);
      expect(r.ack.ok).toBe(true);
      windows.push(...r.windows);
    }
    // 2 s after the restart of the segment: at least two more windows, cut here.
    expect(windows.length).toBeGreaterThanOrEqual(before + 2);
  });
});

describe('DspWorker in a process run with flags a worker thread refuses', () => {
  it('starts and answers under node --single-threaded-gc (the built server, as `hark bench pipeline` runs it)', () => {
    const built = pathToFileURL(fileURLToPath(new URL('../../dist/ingest/dsp-worker.js', import.meta.url)));
    const code = `
      const { DspWorker } = await import(${JSON.stringify(built.href)});
      const dsp = new DspWorker();
      const got = [];
      const mel = { sampleRate: 16000, center: false };
      const pipe = dsp.open(48000, mel, { result: (r) => got.push(r.samples.length), lost: () => {} });
      pipe.push(new Float32Array(48000));
      dsp.drain();
      console.log(JSON.stringify({ running: dsp.running, got }));
      await dsp.stop();`;
    const out = execFileSync(
      process.execPath,
      ['--single-threaded-gc', '--initial-old-space-size=256', '--input-type=module', '-e', code],
      { encoding: 'utf8', timeout: 30_000 },
    );
    const r = JSON.parse(out.trim().split('\n').pop()!) as { running: boolean; got: number[] };
    expect(r.running).toBe(true);
    // 1 s at 48 kHz less the resampler's latency (it holds back half its taps).
    expect(r.got).toHaveLength(1);
    expect(r.got[0]).toBeGreaterThan(15_000);
    expect(r.got[0]).toBeLessThanOrEqual(16_000);
  });
});

async function until(ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
