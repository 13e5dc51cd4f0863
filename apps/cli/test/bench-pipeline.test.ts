/**
 * `hark bench pipeline --mixed`: how a mixed fleet's sensors are given their streams, and how its steps are
 * tabled and summed up (the run itself is test/server/bench-pipeline.test.ts's, with a step per rate).
 */
import { describe, expect, it } from 'vitest';
import {
  fleetWavs,
  fleets,
  pipelineSummary,
  pipelineTable,
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
    scoringHopSeconds: 0.5,
    scoreEvents: 20 * sensors,
    p50: 20,
    p95: 40,
    p99: sensors > 4 ? 300 : 60,
    max: 400,
    sustained: true,
    errors: [],
    rssMb: 500,
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
    expect(pipelineTable(steps)).toMatch(/\n\| 4 \| 16000 \+ 48000 \| 80 \| 0 \|/);
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
