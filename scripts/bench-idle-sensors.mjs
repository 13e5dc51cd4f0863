#!/usr/bin/env node
/**
 * RSS of a server whose sensors connect, stream briefly and go idle (issue 18, M2). Starts a real server in
 * this process (no model: windows are cut but not scored), connects N sensors over real socket.io, each sends
 * `--seconds` of 16 kHz s16 noise in 100 ms chunks and disconnects; RSS (after a full GC) is printed at start,
 * with all sensors streamed, right after they left, and after the idle time has passed.
 *
 *   node --expose-gc scripts/bench-idle-sensors.mjs [--sensors 100] [--seconds 1] [--idle-free 5] [--wait S]
 *     [--root DIR]
 *
 * `--root` is the repository whose built server (`apps/server/dist`) is measured (default this one), so the
 * same script measures a build from before a change.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const { fetch, gc } = globalThis;

const { values: o } = parseArgs({
  options: {
    sensors: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '1' },
    'idle-free': { type: 'string', default: '5' },
    // Seconds to wait after the sensors left (default: the idle time and 3 s for the 1 s tick).
    wait: { type: 'string' },
    root: { type: 'string', default: resolve(import.meta.dirname, '..') },
  },
});
const N = Number(o.sensors);
const SECONDS = Number(o.seconds);
const IDLE = Number(o['idle-free']);
const WAIT = o.wait === undefined ? IDLE + 3 : Number(o.wait);
if (!gc) throw new Error('run with node --expose-gc (RSS is read after a full GC)');

const req = createRequire(join(o.root, 'package.json'));
const { createServer } = await import(pathToFileURL(req.resolve('@hark/server')).href);
const { io } = await import(pathToFileURL(req.resolve('socket.io-client')).href);

/** RSS after a full GC and a moment for V8 to give freed ArrayBuffer memory back (it does so off-thread). */
async function mb() {
  gc();
  await sleep(500);
  gc();
  return (process.memoryUsage().rss / 1e6).toFixed(0);
}
/** What the server says its rings hold (`hark_sensor_ring_bytes`; absent in builds before the gauge). */
async function ringMb() {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = /^hark_sensor_ring_bytes (\S+)$/m.exec(text);
  return m ? (Number(m[1]) / 1e6).toFixed(0) : '–';
}
const rows = [];
const note = async (what) => rows.push([what, await mb(), await ringMb()]);

const dataDir = mkdtempSync(join(tmpdir(), 'hark-bench-idle-'));
const server = await createServer({
  port: 0,
  dataDir,
  log: () => {},
  dashboardDir: null,
  maxSensors: N,
  maxSensorsPerToken: N,
  sensorIdleFreeSeconds: IDLE,
  backupIntervalMinutes: 0,
});
await note('server started');

const chunk = () => {
  const s = new Int16Array(1600);
  for (let i = 0; i < s.length; i++) s[i] = Math.round((Math.random() * 2 - 1) * 0.2 * 32767);
  return Buffer.from(s.buffer);
};

async function sensor(id) {
  const c = io(`${server.url}/sensor`, {
    auth: { token: server.adminToken, sensorId: id },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  await new Promise((res, rej) => {
    c.once('connect', res);
    c.once('connect_error', rej);
  });
  const ack = await c
    .timeout(30_000)
    .emitWithAck('hello', { sampleRate: 16000, channels: 1, format: 's16le' });
  if (!ack.ok) throw new Error(`${id}: ${ack.error}`);
  for (let seq = 0; seq < SECONDS * 10; seq++) {
    const a = await c.timeout(30_000).emitWithAck('audio', { seq, data: chunk() });
    if (!a.ok) throw new Error(`${id} chunk ${seq}: ${a.error}`);
  }
  return c;
}

const ids = Array.from({ length: N }, (_, i) => `idle-${i + 1}`);
const sockets = [];
for (let i = 0; i < N; i += 10) sockets.push(...(await Promise.all(ids.slice(i, i + 10).map(sensor))));
await sleep(1200); // the gauge is set by the 1 s tick
await note(`${N} sensors streamed ${SECONDS} s each, connected`);
for (const c of sockets) c.close();
await sleep(1500);
await note('all disconnected');
await sleep(WAIT * 1000);
await note(`${WAIT} s later (--sensor-idle-free ${IDLE})`);
const res = await fetch(`${server.url}/api/sensors`, {
  headers: { authorization: `Bearer ${server.adminToken}` },
});
const listed = (await res.json()).length;
await note(`after GET /api/sensors (${listed} listed)`);
await server.close();
rmSync(dataDir, { recursive: true, force: true });

console.log(`| step | RSS MB | rings MB |\n| --- | ---: | ---: |`);
for (const [what, v, r] of rows) console.log(`| ${what} | ${v} | ${r} |`);
