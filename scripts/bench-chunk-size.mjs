#!/usr/bin/env node
/**
 * Server CPU per sensor-second of live audio, by the audio per message (`hark sensor --chunk-ms`; issue 16).
 * Starts a real server in this process with no model (every chunk is decoded, metered, turned into log-mel
 * columns and cut into windows, none is scored), and plays N real-time sensors (`SensorClient` over
 * `pacedSource`, as `hark sensor --wav --loop` does) from a child process, so their CPU is not counted. For
 * each chunk size in turn, rounds interleaved: connect, warm up, measure the server process's CPU (every
 * thread, `process.cpuUsage`) over the measured span, disconnect. Prints CPU ms per sensor-second and per
 * message, median and range over the rounds, with the load average at each.
 *
 *   node scripts/bench-chunk-size.mjs [--sensors 16] [--chunk-ms 20,100,250] [--seconds 10] [--warmup 3]
 *     [--rounds 3] [--rate 16000]
 *
 * Build first (`npx tsc -b tsconfig.build.json`): it runs the built server and client.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const { AbortController, performance } = globalThis;
const root = resolve(import.meta.dirname, '..');
const req = createRequire(join(root, 'package.json'));
const load = async (name) => import(pathToFileURL(req.resolve(name)).href);

if (process.argv[2] === '--child') {
  // The sensors: one job per step, over IPC.
  const { SensorClient, pacedSource, encodePcm } = await load('@hark/cli');
  let stopStep = null;
  process.on('message', (m) => (m.type === 'stop' ? stopStep() : startStep(m)));
  function startStep(job) {
    const stop = new AbortController();
    setMaxListeners(0, stop.signal);
    const rate = job.rate;
    const noise = new Float32Array(rate * 5).map(() => (Math.random() * 2 - 1) * 0.2);
    const pcm = encodePcm(noise, 's16le');
    const format = { sampleRate: rate, channels: 1, format: 's16le' };
    const errors = [];
    const clients = job.ids.map((sensorId, i) => {
      const c = new SensorClient({ server: job.url, sensorId, token: job.token });
      c.on('warning', (w) => errors.push(`${sensorId}: ${w}`));
      const run = sleep((i * job.chunkMs) / job.ids.length).then(() =>
        c.run(pacedSource(pcm, format, { loop: true, signal: stop.signal, chunkMs: job.chunkMs })),
      );
      return { c, run };
    });
    stopStep = async () => {
      stop.abort();
      await Promise.all(clients.map(({ c }) => c.stop()));
      for (const { run } of clients) await run.catch((e) => errors.push(e.message));
      const acked = clients.reduce((n, { c }) => n + c.stats().chunksAcked, 0);
      process.send({ type: 'stopped', errors, acked });
    };
    process.send({ type: 'streaming' });
  }
} else {
  const { values: o } = parseArgs({
    options: {
      sensors: { type: 'string', default: '16' },
      'chunk-ms': { type: 'string', default: '20,100,250' },
      seconds: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '3' },
      rate: { type: 'string', default: '16000' },
    },
  });
  const N = Number(o.sensors);
  const chunks = o['chunk-ms'].split(',').map(Number);
  const SECONDS = Number(o.seconds);
  const WARMUP = Number(o.warmup);
  const ROUNDS = Number(o.rounds);
  const RATE = Number(o.rate);
  for (const [k, v] of [
    ['sensors', N],
    ['seconds', SECONDS],
    ['rounds', ROUNDS],
    ['rate', RATE],
    ...chunks.map((c) => ['chunk-ms', c]),
  ])
    if (!(v > 0)) throw new Error(`--${k} (${v}) must be a number > 0`);

  const { createServer } = await load('@hark/server');
  const dataDir = mkdtempSync(join(tmpdir(), 'hark-bench-chunk-'));
  const server = await createServer({
    port: 0,
    dataDir,
    log: () => {},
    dashboardDir: null,
    maxSensors: N,
    maxSensorsPerToken: N,
    backupIntervalMinutes: 0,
  });
  const child = fork(import.meta.filename, ['--child'], { stdio: 'inherit' });
  const next = (type) =>
    new Promise((res) => {
      const on = (m) => m.type === type && (child.off('message', on), res(m));
      child.on('message', on);
    });
  const ids = Array.from({ length: N }, (_, i) => `chunk-${i + 1}`);
  const results = new Map(chunks.map((c) => [c, []]));
  try {
    for (let r = 0; r < ROUNDS; r++)
      for (const chunkMs of r % 2 ? [...chunks].reverse() : chunks) {
        child.send({ type: 'start', url: server.url, token: server.adminToken, ids, rate: RATE, chunkMs });
        await next('streaming');
        await sleep(WARMUP * 1000);
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await sleep(SECONDS * 1000);
        const cpu = process.cpuUsage(cpu0);
        const wall = (performance.now() - t0) / 1000;
        const stopped = next('stopped');
        child.send({ type: 'stop' });
        const { errors } = await stopped;
        if (errors.length) console.error(`chunk ${chunkMs} ms: ${errors.slice(0, 3).join('; ')}`);
        const ms = (cpu.user + cpu.system) / 1000;
        const sensorSeconds = N * wall;
        const perSensorSecond = ms / sensorSeconds;
        const perMessage = perSensorSecond / (1000 / chunkMs);
        const la = loadavg()[0];
        results.get(chunkMs).push({ perSensorSecond, perMessage, la });
        console.log(
          `round ${r + 1}, ${chunkMs} ms chunks: ${perSensorSecond.toFixed(3)} ms CPU per sensor-second ` +
            `(${(perMessage * 1000).toFixed(0)} us per message), load ${la.toFixed(1)}`,
        );
        await sleep(1000);
      }
  } finally {
    child.kill();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(
    `\n${N} sensors at ${RATE} Hz, ${ROUNDS} rounds of ${SECONDS} s (after ${WARMUP} s), no model (ingest only):\n`,
  );
  console.log(
    '| chunk ms | messages per sensor-second | server CPU ms per sensor-second, median (range) | per message, us | load (1 min) |',
  );
  console.log('| ---: | ---: | --- | ---: | --- |');
  for (const [c, rs] of results) {
    const per = rs.map((x) => x.perSensorSecond);
    console.log(
      `| ${c} | ${(1000 / c).toFixed(0)} | ${median(per).toFixed(2)} (${Math.min(...per).toFixed(2)}-${Math.max(...per).toFixed(2)}) | ` +
        `${(median(rs.map((x) => x.perMessage)) * 1000).toFixed(0)} | ${rs.map((x) => x.la.toFixed(1)).join(', ')} |`,
    );
  }
}
