/**
 * `hark bench pipeline --mixed`: how a mixed fleet's sensors are given their streams, and how its steps are
 * tabled and summed up (the run itself is test/server/bench-pipeline.test.ts's, with a step per rate).
 * `--dataset`: which machines a dataset gives and what their sensors play.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeWav, resample, toAnalysisRate } from '@hark/dsp';
import { tempDir } from '../../../test/support/temp.js';
import {
  atSensorRate,
  benchMachines,
  fleetWavs,
  fleets,
  pipelineSummary,
  pipelineTable,
  seamlessLoop,
  type PipelineStep,
} from '../src/bench/pipeline.js';

const wavs = new Map([
  [16000, ['pump-16k', 'fan-16k', 'gearbox-16k']],
  [48000, ['pump-48k', 'fan-48k', 'gearbox-48k']],
]);

function step(sensors: number, rate: number, rates?: number[]): PipelineStep {
  return {
    sensors,
    rate,
    ...(rates && { rates }),
    seconds: 10,
    windowsScored: 20 * sensors,
    windowsDropped: 0,
    windowsSkipped: 0,
    windowsConfirming: 0,
    alertSensors: [],
    scoringHopSeconds: 0.5,
    scoringHopStartSeconds: 1,
    scoreEvents: 20 * sensors,
    alertsOpened: 3,
    p50: 20,
    p95: 40,
    p99: sensors > 4 ? 300 : 60,
    max: 400,
    sustained: true,
    errors: [],
    rssMb: 500,
    serverCores: 1.25,
    serverLoopBusy: 0.6,
    clientsCores: 0.5,
    heapUsedMb: 50,
    externalMb: 100,
  };
}

describe('a mixed fleet', () => {
  it('runs the rates together with --mixed, one after the other without it', () => {
    expect(fleets([16000, 48000], true)).toEqual([[16000, 48000]]);
    expect(fleets([16000, 48000], false)).toEqual([[16000], [48000]]);
    // One rate is one run either way.
    expect(fleets([48000], true)).toEqual([[48000]]);
  });

  it("splits the sensors evenly between the rates, each playing its model's machine", () => {
    const streams = fleetWavs(6, [16000, 48000], wavs);
    expect(streams).toEqual(['pump-16k', 'fan-48k', 'gearbox-16k', 'pump-48k', 'fan-16k', 'gearbox-48k']);
    // Sensor i's model is machine i % 3 (prepareSensors), and so is its stream, at either rate.
    streams.forEach((w, i) => expect(w.split('-')[0]).toBe(['pump', 'fan', 'gearbox'][i % 3]));
    const at48 = fleetWavs(64, [16000, 48000], wavs).filter((w) => w.endsWith('48k'));
    expect(at48).toHaveLength(32);
    // A single rate keeps its three streams, which the clients cycle through.
    expect(fleetWavs(6, [48000], wavs)).toEqual(wavs.get(48000));
  });

  it('labels its rows and its summary with both rates', () => {
    const steps = [step(4, 48000, [16000, 48000]), step(8, 48000, [16000, 48000])];
    expect(pipelineTable(steps)).toMatch(/\n\| 4 \| 16000 \+ 48000 \| 80 \| 0 \| 0 \| 1 \/ 0\.5 \|/);
    // The alerts the sound opened, each process's CPU in cores (the server's event loop's busy share between
    // them), then whether the step was sustained.
    expect(pipelineTable(steps)).toMatch(/\| 400 \| 3 \| 500 \| 1\.25 \| 0\.6 \| 0\.5 \| yes \|\n/);
    const summary = pipelineSummary(steps, [16000, 48000], true);
    expect(summary).toContain(
      'Sustained without dropping or skipping a window (sensors at 16000 + 48000 Hz, split evenly): **8 sensors**',
    );
    expect(summary).toContain(
      'Largest step with no drop and p99 under 250 ms (sensors at 16000 + 48000 Hz, split evenly): **4 sensors**',
    );
    // Without --mixed the same rates are two runs, each summed up on its own.
    const apart = pipelineSummary([step(4, 16000), step(4, 48000)], [16000, 48000]);
    expect(apart).toContain('(sensors at 16000 Hz): **4 sensors**');
    expect(apart).toContain('(sensors at 48000 Hz): **4 sensors**');
  });
});

describe('--dataset', () => {
  /** A WAV of `seconds` of a `hz` sine at 16 kHz; its samples say which file it was. */
  function wav(path: string, seconds: number, hz: number): void {
    mkdirSync(join(path, '..'), { recursive: true });
    const x = new Float32Array(16000 * seconds).map((_, i) => 0.1 * Math.sin((2 * Math.PI * hz * i) / 16000));
    writeFileSync(path, encodeWav(x, 16000));
  }

  it("plays one recording of each group's normal sound: normal_stream.wav, else its first normal test clip, else stream.wav", async () => {
    const root = tempDir('bench-dataset');
    const data = join(root, 'data');
    wav(join(data, 'a_stream', 'train', '0.wav'), 1, 100);
    wav(join(data, 'a_stream', 'normal_stream.wav'), 3, 200);
    wav(join(data, 'a_stream', 'test', 'normal_0000.wav'), 1, 300);
    wav(join(data, 'b_clips', 'train', '0.wav'), 1, 100);
    wav(join(data, 'b_clips', 'test', 'anomaly_0000.wav'), 1, 500);
    wav(join(data, 'b_clips', 'test', 'normal_0000.wav'), 1, 300);
    wav(join(data, 'b_clips', 'test', 'normal_0001.wav'), 2, 400);
    wav(join(data, 'b_clips', 'stream.wav'), 4, 600);
    wav(join(data, 'c_events', 'train', '0.wav'), 1, 100);
    wav(join(data, 'c_events', 'stream.wav'), 4, 600);
    wav(join(data, 'd_untrained', 'test', 'normal_0000.wav'), 1, 300);
    const lines: string[] = [];
    const work = join(root, 'work');
    mkdirSync(work);
    const machines = await benchMachines(work, data, (l) => lines.push(l));
    expect(machines.map((m) => m.name)).toEqual(['a_stream', 'b_clips', 'c_events']);
    expect(machines[0].stream).toBe(join(data, 'a_stream', 'normal_stream.wav'));
    expect(machines[0].train).toEqual([join(data, 'a_stream', 'train', '0.wav')]);
    // The first normal clip, looped by the sensor: not the clips joined (each join a jump the detector
    // flags), the anomalous clip or the stream with events.
    expect(machines[1].stream).toBe(join(data, 'b_clips', 'test', 'normal_0000.wav'));
    expect(readdirSync(work)).toEqual([]);
    expect(machines[2].stream).toBe(join(data, 'c_events', 'stream.wav'));
    expect(lines).toEqual(['d_untrained: left out (no training clips)']);
    // Without a dataset: the three synthetic machines, each with its training clips and stream.
    const synth = await benchMachines(work, undefined, () => {});
    expect(synth.map((m) => m.name)).toEqual(['pump', 'fan', 'gearbox']);
    for (const m of synth) expect(m.train.length).toBe(12);
    await expect(benchMachines(work, join(data, 'd_untrained', '..', 'none'), () => {})).rejects.toThrow(
      /is not a folder/,
    );
  });

  it("upsamples a stream without taking the top of its band, which the server's downsampling takes once", () => {
    // A tone at 7.8 kHz, in the top mel bins of a 16 kHz model, inside the default filter's transition band.
    const x = new Float32Array(16000).map((_, i) => Math.sin((2 * Math.PI * 7800 * i) / 16000));
    const rms = (y: Float32Array) =>
      Math.sqrt(y.subarray(y.length / 4, (3 * y.length) / 4).reduce((s, v) => s + v * v, 0) / (y.length / 2));
    const db = (y: Float32Array) => 20 * Math.log10(rms(y) / rms(x));
    expect(Math.abs(db(atSensorRate(x, 16000, 48000)))).toBeLessThan(0.1);
    // What the resampler's default would have sent (and the server then attenuates again).
    expect(db(resample(x, 16000, 48000))).toBeLessThan(-3);
    // So the server's downsampling takes from the copy what it takes from a 48 kHz microphone's tone, once.
    const native = new Float32Array(48000).map((_, i) => Math.sin((2 * Math.PI * 7800 * i) / 48000));
    const server = (y: Float32Array) => toAnalysisRate(y, 48000, 16000);
    const once = db(server(native));
    expect(once).toBeLessThan(-3);
    expect(db(server(atSensorRate(x, 16000, 48000)))).toBeCloseTo(once, 1);
    expect(db(atSensorRate(atSensorRate(x, 16000, 48000), 48000, 16000))).toBeCloseTo(once, 1);
  });

  it('loops a recording without a join: its end cross-faded into its start, at the same power', () => {
    const rate = 1000;
    // A 50 Hz sine of 10.013 s: looped as it is, its end and start do not meet (a step of about 0.8).
    const n = 10_013;
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * 50 * i) / rate));
    const step = (a: Float32Array) => Math.abs(a[0] - a[a.length - 1]);
    expect(step(x)).toBeGreaterThan(0.5);
    const y = seamlessLoop(x, rate);
    // A 2 s cross-fade (under a tenth of 10 s): the loop is 2 s shorter, and its join steps no more than the sine
    // does from one sample to the next (0.31).
    expect(y.length).toBe(n - 1001);
    const maxStep = Math.max(...Array.from(y.subarray(1), (v, i) => Math.abs(v - y[i])));
    expect(step(y)).toBeLessThanOrEqual(maxStep + 1e-6);
    expect(maxStep).toBeLessThan(0.32);
    // Past the cross-fade the recording is as it was.
    expect(y.subarray(2000)).toEqual(x.subarray(2000, n - 1001));
    // Equal power: independent noise keeps its level through the cross-fade.
    let seed = 7;
    const noise = Float32Array.from({ length: 40_000 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 30 - 1;
    });
    const rms = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    const faded = seamlessLoop(noise, 10_000).subarray(0, 20_000);
    expect(rms(faded) / rms(noise)).toBeGreaterThan(0.97);
    expect(rms(faded) / rms(noise)).toBeLessThan(1.03);
    // A short recording takes a tenth of itself; one too short to fade stays as it is.
    expect(seamlessLoop(new Float32Array(5000), 1000).length).toBe(4500);
    const tiny = new Float32Array(5);
    expect(seamlessLoop(tiny, 1000)).toBe(tiny);
  });

  it('refuses a dataset whose groups it cannot play', async () => {
    const data = tempDir('bench-dataset');
    wav(join(data, 'x', 'test', 'anomaly_0000.wav'), 1, 300);
    await expect(benchMachines(tempDir('bench-work'), data, () => {})).rejects.toThrow(
      /no group has training clips and sound to play/,
    );
  });
});
