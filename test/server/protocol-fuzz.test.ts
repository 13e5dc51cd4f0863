/**
 * The protocol fuzzer (issue 18): a real `hark serve` process takes at least 10,000 random and malformed
 * sensor messages (fast-check: handshakes, `hello`, `audio` with wrong lengths, types, rates, sequence
 * numbers and times, unknown events, raw garbage under socket.io; see `test/support/fuzz.ts`) while a good
 * sensor streams in real time to its fitted model. It asserts:
 *
 * - no crash: the process is alive and printed no error or stack line;
 * - every message got the answer the protocol promises (an ack or a coded refusal, never `INTERNAL`; a
 *   handshake connects only with a bound token), and no fuzzing sensor was disconnected;
 * - the good sensor dropped no window and every window of its stream was scored;
 * - RSS stayed bounded: it peaks within `RSS_GROWTH_MB` of where it was with the fuzzing sensors connected,
 *   and in long runs it levels off (`RSS_SECOND_HALF_MB`).
 *
 * `HARK_FUZZ_MESSAGES` (default 10,000) and `HARK_FUZZ_SEED` set the run (`make soak` runs 200,000); the
 * figures are printed as one `fuzz figures:` JSON line for docs/reliability.md.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeWav, writeSynthDataset } from '@hark/dsp';
import type { SensorStatus } from '@hark/protocol';
import { SensorFuzzer, fuzzMessage, type FuzzMessage } from '../support/fuzz.js';
import { RssSampler, serverErrorLines } from '../support/process.js';
import { TestSensor } from '../support/sensor.js';
import { apiCall, fitFromFolder, serveChild, sleep, startServer, tempDir } from '../support/server.js';

const MESSAGES = Number(process.env.HARK_FUZZ_MESSAGES ?? 10_000);
const SEED = Number(process.env.HARK_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** Messages sent at once (spread over the fuzzing connections). */
const BATCH = 50;
/**
 * Growth allowed from the RSS measured with every fuzzing sensor connected: their rings fill page by page
 * as audio arrives (13.7 MB a sensor: 60 s of audio, 300 s of columns; 5 sensors here: 69 MB), each of the
 * four odd rates builds a resampler table (3.8 MB each), and up to 50 messages of up to 1 MiB are in flight
 * at once; 100 MB covers that and the heap. What a message allocates is garbage once answered.
 */
const RSS_GROWTH_MB = 69 + 15 + 100;
/**
 * Long runs (the soak's 200,000 messages) must also level off: from the middle of the run to its end RSS may
 * rise by at most this much (a 200,000-message run leveled at +1 MB; a leak of 1 kB a message would add 100).
 */
const RSS_SECOND_HALF_MB = 50;
const LONG_RUN = 100_000;

const GOOD = 'good-1';
const STREAM_IDS = ['fuzz-1', 'fuzz-2', 'fuzz-3', 'fuzz-4'];
const HANDSHAKE_IDS = ['hs-1', 'hs-2'];
const RAW_ID = 'raw-1';

const root = tempDir('fuzz-synth');
const dataDir = tempDir('fuzz-data');
let admin = '';
let goodToken = '';
let fuzzToken = '';
let child: ChildProcess | null = null;

beforeAll(async () => {
  writeSynthDataset(root, {
    machines: ['pump'],
    trainClips: 8,
    testClips: 0,
    clipSeconds: 4,
    streamSeconds: 0,
  });
  const s = await startServer({ dataDir, dashboardDir: null });
  try {
    await fitFromFolder(s, GOOD, join(root, 'synth_pump', 'train'));
    admin = s.admin;
    const token = async (name: string, sensors: string[]) =>
      (
        await s.api<{ token: string }>('/api/tokens', {
          method: 'POST',
          body: JSON.stringify({ role: 'sensor', name, sensors }),
        })
      ).token;
    goodToken = await token('good', [GOOD]);
    fuzzToken = await token('fuzzer', [...STREAM_IDS, ...HANDSHAKE_IDS, RAW_ID]);
  } finally {
    await s.close();
  }
}, 600_000);

afterAll(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
});

describe('protocol fuzz', () => {
  test(
    `${MESSAGES} random and malformed sensor messages: no crash, no lost window, bounded RSS`,
    async () => {
      const served = await serveChild(['--port', '0', '--data', dataDir]);
      child = served.child;
      const pid = served.child.pid as number;
      const api = <T>(path: string) => apiCall<T>(served.url, admin, path);

      const clip = decodeWav(readFileSync(join(root, 'synth_pump', 'train', 'normal_0000.wav')), 'clip');
      const good = await TestSensor.open(served.url, goodToken, GOOD);
      const stream = good.realTime(clip.samples);
      const rss = new RssSampler(pid);

      const fuzzer = new SensorFuzzer({
        url: served.url,
        token: fuzzToken,
        ids: { handshake: HANDSHAKE_IDS, foreign: GOOD },
        streamIds: STREAM_IDS,
        rawId: RAW_ID,
      });
      await fuzzer.open();
      // Every fuzzing sensor says a valid hello and streams a second, so its rings exist before the baseline.
      await fuzzer.send(
        STREAM_IDS.flatMap((): FuzzMessage[] => [
          { kind: 'hello', body: { sampleRate: 16000, channels: 1, format: 's16le' } },
        ]),
      );
      await sleep(2000);
      const baseline = rss.sample();

      const message = fuzzMessage({
        ids: { handshake: HANDSHAKE_IDS, foreign: GOOD },
        token: fuzzToken,
        maxChunkBytes: 1 << 20,
      });
      const started = Date.now();
      await fc.assert(
        fc.asyncProperty(fc.array(message, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
          await fuzzer.send(batch);
          expect(fuzzer.report.failures.slice(0, 5)).toEqual([]);
          expect(served.child.exitCode, served.out()).toBeNull();
        }),
        { numRuns: Math.ceil(MESSAGES / BATCH), seed: SEED, endOnFailure: true },
      );
      const fuzzSeconds = (Date.now() - started) / 1000;
      fuzzer.close();

      // The good sensor streams a moment longer, stops, and its last windows are scored.
      await sleep(1000);
      stream.stop();
      const streamed = await stream.done;
      let status = await api<SensorStatus>(`/api/sensors/${GOOD}`);
      for (let i = 0; i < 50 && status.queueDepth > 0; i++) {
        await sleep(100);
        status = await api<SensorStatus>(`/api/sensors/${GOOD}`);
      }
      const peak = rss.stop();
      good.close();

      const sent = Object.values(fuzzer.report.sent).reduce((a, b) => a + b, 0);
      // One window per hop (0.5 s) once the first second is in; the last may wait for its hop to complete.
      const expectedWindows = Math.floor((streamed.seconds - 1) / 0.5) + 1;
      const figures = {
        seed: SEED,
        messages: sent,
        byKind: fuzzer.report.sent,
        acks: fuzzer.report.acks,
        handshakes: fuzzer.report.handshakes,
        rawConnectionsClosedByServer: fuzzer.report.rawClosed,
        failures: fuzzer.report.failures.length,
        fuzzSeconds: Math.round(fuzzSeconds),
        good: {
          seconds: streamed.seconds,
          windowsScored: status.windowsScored,
          windowsDropped: status.windowsDropped,
          expectedWindows,
        },
        rssMb: {
          baseline: Math.round(baseline),
          peak: Math.round(peak),
          end: Math.round(rss.last),
          quartiles: [0.25, 0.5, 0.75].map((q) =>
            Math.round(rss.samples[Math.floor(q * rss.samples.length)]),
          ),
        },
        alive: served.child.exitCode === null,
        errorLines: serverErrorLines(served.out()).length,
      };
      console.log(`fuzz figures: ${JSON.stringify(figures)}`);

      expect(sent).toBeGreaterThanOrEqual(MESSAGES);
      expect(fuzzer.report.failures).toEqual([]);
      expect(served.child.exitCode).toBeNull();
      expect(serverErrorLines(served.out())).toEqual([]);
      expect(status.windowsDropped).toBe(0);
      expect(status.windowsScored).toBeGreaterThanOrEqual(expectedWindows - 1);
      expect(peak - baseline).toBeLessThan(RSS_GROWTH_MB);
      if (MESSAGES >= LONG_RUN)
        expect(rss.last - rss.samples[Math.floor(rss.samples.length / 2)]).toBeLessThan(RSS_SECOND_HALF_MB);

      served.child.kill('SIGTERM');
      expect(await served.exited, served.out()).toBe(0);
    },
    Math.max(600_000, MESSAGES * 10),
  );
});
