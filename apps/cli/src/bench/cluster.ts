/**
 * `hark bench cluster`: live events per second that one instance forwards, through Redis, to a dashboard
 * connected to another instance (`hark serve --redis`), and the latency of that hop.
 *
 * Two servers run in this process on one Redis (`--redis`, else a `redis-server` started on a free loopback
 * port in a temporary directory, no persistence). Instance A's live hub is fed what `SensorLive` sends for N
 * sensors (per sensor and 0.5 s window hop: one `columns` event of 31 columns x 128 mel bands, spectrogram
 * and anomaly bytes, with the mel frequencies, and one `score`); a dashboard connected to instance B subscribes
 * to every sensor and counts what arrives. Latency: from A's hub taking the event to its arrival at the
 * dashboard (one clock: same process). The number of sensors is stepped up until the dashboard no longer
 * receives what A sends (under 99 %) or the p95 latency passes 1 s. A, B and the dashboard share this
 * process's event loop: the figure is a floor for instances on machines of their own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { io, type Socket } from 'socket.io-client';
import type { ColumnsEvent, ScoreEvent, SensorStatus } from '@hark/protocol';
import { createServer, type HarkServer } from '@hark/server';
import { positiveInt } from '../options.js';
import { markdownTable, writeBenchmarkSection } from './report.js';
import { startRedis } from './services.js';

export interface ClusterStep {
  sensors: number;
  /** Events A's hub sent per second (columns + score), and those the dashboard on B received. */
  sentPerSecond: number;
  receivedPerSecond: number;
  /** Payload bytes (spectrogram + anomaly) per second received. */
  bytesPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  sustained: boolean;
}

const N_MELS = 128;
/** Columns per event: one 0.5 s window hop at the default 16 ms log-mel hop. */
const N_COLUMNS = 31;
const HOP_SECONDS = 0.016;
const WINDOW_HOP_MS = 500;
const TICK_MS = 50;

const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

export async function runClusterBench(o: {
  sensors: number[];
  seconds: number;
  warmup: number;
  redis?: string;
  log?: (line: string) => void;
}): Promise<ClusterStep[]> {
  const log = o.log ?? (() => {});
  const redis = o.redis ? null : await startRedis();
  const url = o.redis ?? redis!.url;
  const dirs: string[] = [];
  const servers: HarkServer[] = [];
  try {
    for (const instance of ['bench-a', 'bench-b']) {
      const dataDir = mkdtempSync(join(tmpdir(), `hark-bench-cluster-${instance}-`));
      dirs.push(dataDir);
      servers.push(
        await createServer({ port: 0, dataDir, log: () => {}, dashboardDir: null, redisUrl: url, instance }),
      );
    }
    const [a, b] = servers;
    const until = Date.now() + 10_000;
    while (a.cluster.health().redis !== 'up' || b.cluster.health().redis !== 'up') {
      if (Date.now() > until) throw new Error(`the instances did not reach Redis at ${url} within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const steps: ClusterStep[] = [];
    for (const n of [...o.sensors].sort((x, y) => x - y)) {
      log(`${n} sensors: ${o.warmup} s warm-up, ${o.seconds} s measured...`);
      const step = await measure(a, b, n, o.seconds, o.warmup);
      steps.push(step);
      log(
        `  sent ${step.sentPerSecond}/s, received ${step.receivedPerSecond}/s on B, ` +
          `latency p50 ${step.p50} ms p95 ${step.p95} ms p99 ${step.p99} ms`,
      );
      if (!step.sustained) break;
    }
    return steps;
  } finally {
    for (const s of servers) await s.close();
    await redis?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

async function measure(a: HarkServer, b: HarkServer, n: number, seconds: number, warmup: number) {
  const ids = Array.from({ length: n }, (_, i) => `bench-${n}-${i}`);
  const melHz = Array.from({ length: N_MELS }, (_, i) => 20 + i * 62.5);
  // B learns of the sensors from A's statuses (as from a sensor streaming there), so its dashboard may subscribe.
  for (const id of ids) a.hub.broadcast('sensor:status', { id, connected: true } as SensorStatus);
  const dash = io(`${b.url}/live`, {
    auth: { token: (await b.tokens.create('operator', `bench ${n}`)).token },
    transports: ['websocket'],
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    dash.once('connect', resolve);
    dash.once('connect_error', reject);
  });
  /** When A's hub took each event, and whether it was sent in the measured span. */
  const sentAt = new Map<string, { at: number; measured: boolean }>();
  let measuring = false;
  let received = 0;
  let bytes = 0;
  const latencies: number[] = [];
  const arrived = (key: string) => {
    const sent = sentAt.get(key);
    sentAt.delete(key);
    if (!sent?.measured) return;
    received++;
    latencies.push(performance.now() - sent.at);
  };
  dash.on('columns', (ev: ColumnsEvent) => {
    if (sentAt.get(`c:${ev.sensorId}:${ev.t0}`)?.measured)
      bytes += ev.spectrogram.byteLength + ev.anomaly.byteLength;
    arrived(`c:${ev.sensorId}:${ev.t0}`);
  });
  dash.on('score', (ev: ScoreEvent) => arrived(`s:${ev.sensorId}:${ev.t}`));
  await subscribeAll(dash, ids);

  let sent = 0;
  let tick = 0;
  const spec = new Uint8Array(N_MELS * N_COLUMNS).map((_, i) => i % 251);
  const anomaly = new Uint8Array(N_MELS * N_COLUMNS).map((_, i) => (i * 7) % 251);
  const ticksPerHop = WINDOW_HOP_MS / TICK_MS;
  const timer = setInterval(() => {
    tick++;
    // Each sensor's window hop falls on its own tick, as real sensors' do.
    for (let i = tick % ticksPerHop; i < n; i += ticksPerHop) {
      const sensorId = ids[i];
      const t = tick * TICK_MS;
      const stamp = { at: performance.now(), measured: measuring };
      sentAt.set(`c:${sensorId}:${t}`, stamp);
      sentAt.set(`s:${sensorId}:${t + 1000}`, stamp);
      a.hub.columns({
        sensorId,
        t0: t,
        hopSeconds: HOP_SECONDS,
        nMels: N_MELS,
        nColumns: N_COLUMNS,
        spectrogram: spec,
        anomaly,
        dbRange: [-80, 0],
        anomalyScale: 4,
        scored: true,
        melHz,
      });
      a.hub.score({ sensorId, t: t + 1000, score: 0.5, threshold: 1, rawScore: 0.5, arrivedAt: Date.now() });
      if (measuring) sent += 2;
    }
  }, TICK_MS);
  await new Promise((r) => setTimeout(r, warmup * 1000));
  measuring = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(timer);
  const span = (performance.now() - started) / 1000;
  measuring = false;
  // What is on its way when the load stops still counts (it was sent in the measured span).
  await new Promise((r) => setTimeout(r, 1000));
  dash.close();
  latencies.sort((x, y) => x - y);
  const round = (x: number) => Math.round(x * 10) / 10;
  const p95 = round(pct(latencies, 95));
  return {
    sensors: n,
    sentPerSecond: Math.round(sent / span),
    receivedPerSecond: Math.round(received / span),
    bytesPerSecond: Math.round(bytes / span),
    p50: round(pct(latencies, 50)),
    p95,
    p99: round(pct(latencies, 99)),
    sustained: received >= 0.99 * sent && p95 < 1000,
  };
}

async function subscribeAll(dash: Socket, ids: string[]): Promise<void> {
  await dash.timeout(10_000).emitWithAck('subscribe', { sensorId: '*' });
  for (const id of ids) {
    for (let attempt = 0; ; attempt++) {
      const ack = (await dash
        .timeout(10_000)
        .emitWithAck('subscribe', { sensorId: id, backfillSeconds: 0 })) as {
        ok: boolean;
        error?: string;
      };
      if (ack.ok) break;
      // The relayed status may still be on its way.
      if (attempt > 100) throw new Error(`subscribe ${id} on B: ${ack.error}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const list = (v: string) =>
  v.split(',').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`'${x}' is not a number of sensors (a whole number >= 1)`);
    return n;
  });

export function clusterTable(steps: ClusterStep[]): string {
  return markdownTable(
    [
      'sensors',
      'offered events/s',
      'sent events/s (A)',
      'received events/s (B)',
      'payload kB/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'kept up',
    ],
    steps.map((s) => [
      s.sensors,
      // A columns and a score event per sensor and window hop.
      (s.sensors * 2 * 1000) / WINDOW_HOP_MS,
      s.sentPerSecond,
      s.receivedPerSecond,
      (s.bytesPerSecond / 1000).toFixed(0),
      s.p50,
      s.p95,
      s.p99,
      s.sustained ? 'yes' : 'no',
    ]),
  );
}

export function registerBenchCluster(bench: Command): void {
  bench
    .command('cluster')
    .description(
      'live events/s one instance forwards through Redis to a dashboard on another, and their latency',
    )
    .option('--sensors <list>', 'numbers of sensors to try, in order', list, [16, 64, 256, 512, 1024])
    .option('--seconds <s>', 'measured seconds per step', positiveInt, 10)
    .option('--warmup <s>', 'seconds before measuring, per step', positiveInt, 3)
    .option('--redis <url>', 'a Redis to use (default: start redis-server on a free loopback port)')
    .option('--no-write', 'print the table without updating BENCHMARKS.md')
    .action(
      async (o: { sensors: number[]; seconds: number; warmup: number; redis?: string; write: boolean }) => {
        const steps = await runClusterBench({ ...o, log: (l) => console.log(l) });
        const table = clusterTable(steps);
        console.log(`\n${table}`);
        if (!o.write) return;
        const body =
          `${table}\n\n` +
          'Per sensor and 0.5 s: one `columns` event (31 columns x 128 mel bands of spectrogram and anomaly bytes, ' +
          "with the mel frequencies) and one `score`, fed to instance A's live hub as `SensorLive` does; a dashboard on " +
          "instance B subscribed to every sensor. A reaches B through socket.io's Redis streams adapter (server-side " +
          "emits, Redis pub/sub, msgpack). Latency: from A's hub to the dashboard socket on B. A, B and the dashboard " +
          'share one Node process (and Redis the same machine): a floor for instances on machines of their own. ' +
          '"Offered": what N sensors make; "sent": what the feeding timer managed (below "offered" when the process ' +
          'itself is saturated). "Kept up": the dashboard received at least 99 % of what A sent and p95 under 1 s. ' +
          'Load average (1, 5, 15 ' +
          `min) at the end: ${loadavg()
            .map((x) => x.toFixed(2))
            .join(', ')} on ${cpus().length} cores.`;
        console.log(
          `written to ${writeBenchmarkSection('cluster', 'Cluster: live events forwarded between instances through Redis', body)}`,
        );
      },
    );
}
