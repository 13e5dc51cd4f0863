/**
 * Child process of `hark bench pipeline`: plays the sensors (real-time WAV loops through `SensorClient`) and
 * one dashboard subscribed to every sensor's scores, in a process of its own so that neither the server's
 * event loop nor its CPU figures (`--profile`) are shared with them. Reports, per step, the latency from the
 * arrival of a window's last sample at the server (`ScoreEvent.arrivedAt`) to the `score` event at the
 * dashboard. Messages over the IPC channel: the parent sends one `ClientsJob`; the child answers
 * `{type: 'measuring'}` when the warm-up ends, then `{type: 'done', ok, result | error}`.
 */
import { setMaxListeners } from 'node:events';
import { io } from 'socket.io-client';
import { readWav } from '@hark/dsp';
import { SensorClient } from '../sensor/client.js';
import { encodePcm } from '../sensor/pcm.js';
import { pacedSource } from '../sensor/sources/paced.js';

export interface ClientsJob {
  url: string;
  sensorToken: string;
  operatorToken: string;
  sensorIds: string[];
  /** The streams sensor i plays `wavs[i % wavs.length]` of. */
  wavs: string[];
  seconds: number;
  warmupSeconds: number;
  /** Audio per message, ms (`hark sensor --chunk-ms`; the bench's default is `hark sensor`'s). */
  chunkMs: number;
}

/** What the child sends over IPC. */
export type ClientsMessage =
  | { type: 'measuring' }
  | { type: 'done'; ok: true; result: ClientsResult }
  | { type: 'done'; ok: false; error: string };

export interface ClientsResult {
  latenciesMs: number[];
  scores: number;
  errors: string[];
  /** This process's CPU (every thread) over the measured span, ms, and the span's wall time, ms. */
  cpuMs: number;
  wallMs: number;
}

async function main(job: ClientsJob, onMeasuring: () => void): Promise<ClientsResult> {
  const errors: string[] = [];
  const latencies: number[] = [];
  let scores = 0;
  let measuring = false;
  const live = io(`${job.url}/live`, { auth: { token: job.operatorToken }, transports: ['websocket'] });
  await new Promise<void>((resolve, reject) => {
    live.once('connect', () => resolve());
    live.once('connect_error', reject);
  });
  await live.emitWithAck('subscribe', { sensorId: '*' });
  live.on('score', (e: { arrivedAt: number }) => {
    if (!measuring) return;
    scores++;
    latencies.push(Date.now() - e.arrivedAt);
  });
  // Each file read once: a mixed fleet lists a stream per sensor, the same few files over and over.
  const decoded = new Map<string, Promise<{ bytes: Uint8Array; rate: number }>>();
  const pcm = await Promise.all(
    job.wavs.map((w) => {
      if (!decoded.has(w))
        decoded.set(
          w,
          readWav(w).then((a) => ({ bytes: encodePcm(a.samples, 's16le'), rate: a.sampleRate })),
        );
      return decoded.get(w)!;
    }),
  );
  const stop = new AbortController();
  // Every sensor's source listens on the one signal.
  setMaxListeners(0, stop.signal);
  // The sensors that play one file start at different points of it, evenly spread, as machines of one kind do:
  // played in step, the moments of a recording that cost the scorer more would come for all of them at once.
  const wavOf = (i: number) => job.wavs[i % job.wavs.length];
  const players = new Map<string, number>();
  const nth = job.sensorIds.map((_, i) => {
    const n = players.get(wavOf(i)) ?? 0;
    players.set(wavOf(i), n + 1);
    return n;
  });
  const clients = job.sensorIds.map((sensorId, i) => {
    const c = new SensorClient({ server: job.url, sensorId, token: job.sensorToken });
    c.on('warning', (w) => errors.push(`${sensorId}: ${w}`));
    const { bytes, rate } = pcm[i % pcm.length];
    const frames = bytes.length / 2;
    const startFrame = Math.floor((nth[i] * frames) / players.get(wavOf(i))!);
    // Sensors are not synchronised: start each at another offset within a window hop.
    const delay = (i * 500) / job.sensorIds.length;
    const run = new Promise((r) => setTimeout(r, delay)).then(() =>
      c.run(
        pacedSource(
          bytes,
          { sampleRate: rate, channels: 1, format: 's16le' },
          { loop: true, signal: stop.signal, chunkMs: job.chunkMs, startFrame },
        ),
      ),
    );
    return { c, run };
  });
  await new Promise((r) => setTimeout(r, job.warmupSeconds * 1000));
  measuring = true;
  onMeasuring();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await new Promise((r) => setTimeout(r, job.seconds * 1000));
  measuring = false;
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;
  stop.abort();
  await Promise.all(clients.map(({ c }) => c.stop()));
  for (const { run } of clients) await run.catch((e: Error) => errors.push(e.message));
  live.close();
  return { latenciesMs: latencies, scores, errors, cpuMs: (cpu.user + cpu.system) / 1000, wallMs };
}

if (process.send) {
  const send = (m: ClientsMessage) => process.send!(m);
  process.once('message', (job: ClientsJob) => {
    main(job, () => send({ type: 'measuring' })).then(
      (result) => send({ type: 'done', ok: true, result }),
      (e: Error) => send({ type: 'done', ok: false, error: e.stack ?? e.message }),
    );
  });
}
