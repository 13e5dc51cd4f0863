#!/usr/bin/env node
// Failover time of `hark sensor --server A,B` (issue 17): two `hark serve` processes on loopback with the same
// data (model fitted once with `hark fit`, tokens made with `hark token create`, the directory copied), one
// `hark sensor --server A,B --wav --loop` streaming a synthetic pump in real time. KILLS times: wait until the
// server the sensor streams to is scoring it, `kill -9` that server, and time the kill to the first score
// event on the other one (a dashboard on `/live` on each); then start the killed server again on its port,
// so the next kill goes the other way. Prints every time, p50 and max.
//
//   node scripts/bench-failover.mjs [KILLS=10]
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, URL } from 'node:url';
import { io } from 'socket.io-client';

const KILLS = Number(process.argv[2] ?? 10);
const REPO = fileURLToPath(new URL('..', import.meta.url));
const HARK = join(REPO, 'apps/cli/bin/hark.js');
const SENSOR = 'pump-bench';
const hark = (...args) => execFileSync(process.execPath, [HARK, ...args], { encoding: 'utf8' });
const tmp = mkdtempSync(join(tmpdir(), 'hark-bench-failover-'));

// One data directory, copied: same model, same tokens on both servers.
hark(
  'synth',
  join(tmp, 'sound'),
  '--machines',
  'pump',
  '--train',
  '12',
  '--test',
  '1',
  '--stream-seconds',
  '60',
);
const group = join(tmp, 'sound', 'synth_pump');
const dataA = join(tmp, 'a');
hark('fit', join(group, 'train'), '--out', join(dataA, 'models', SENSOR));
const token = (role) =>
  JSON.parse(hark('token', 'create', '--role', role, '--name', `bench ${role}`, '--data', dataA, '--json'))
    .token;
const sensorToken = token('sensor');
const operator = token('operator');
const dataB = join(tmp, 'b');
cpSync(dataA, dataB, { recursive: true });

const children = new Set();
/** Starts `hark serve` on `port` (0: any); resolves with its URL once it listens. */
function serve(data, port) {
  const child = spawn(
    process.execPath,
    [HARK, 'serve', '--host', '127.0.0.1', '--port', String(port), '--data', data],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1], data, port: Number(new URL(m[1]).port) });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`hark serve exited (${code}): ${out}`)));
  });
}

/** A dashboard on `/live` of `url` (reconnecting), calling `onScore` with each score's arrival time. */
function dashboard(url, onScore) {
  const s = io(`${url}/live`, {
    auth: { token: operator },
    transports: ['websocket'],
    reconnectionDelay: 200,
  });
  s.on('connect', () => s.emit('subscribe', { sensorId: SENSOR }));
  s.on('score', () => onScore(Date.now()));
  return s;
}

const servers = await Promise.all([serve(dataA, 0), serve(dataB, 0)]);
const scores = new Map(servers.map((s) => [s.url, []]));
const dashboards = servers.map((s) => dashboard(s.url, (t) => scores.get(s.url).push(t)));
const sensor = spawn(
  process.execPath,
  [
    HARK,
    'sensor',
    '--server',
    servers.map((s) => s.url).join(','),
    '--id',
    SENSOR,
    '--token',
    sensorToken,
    '--wav',
    join(group, 'stream.wav'),
    '--loop',
    '--json',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
children.add(sensor);
let current = null;
sensor.stdout.on('data', (d) => {
  for (const line of String(d).split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line);
    if (e.event === 'state' && e.state === 'connected') current = e.server;
  }
});

const times = [];
try {
  for (let k = 0; k < KILLS; k++) {
    // Streaming and scored on one server: at least 4 scores there since the last kill.
    let since = Date.now();
    while (!current || scores.get(current).filter((t) => t > since).length < 4) await sleep(100);
    const victim = servers.find((s) => s.url === current);
    const other = servers.find((s) => s !== victim);
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    while (!scores.get(other.url).some((t) => t > killedAt)) await sleep(20);
    const ms = scores.get(other.url).find((t) => t > killedAt) - killedAt;
    times.push(ms);
    console.log(
      `kill ${k + 1}: ${victim.url} -> ${other.url}: scoring again after ${ms} ms (load ${loadavg()[0].toFixed(1)})`,
    );
    // The killed server back on its port, for the next kill.
    await new Promise((r) =>
      victim.child.exitCode !== null || victim.child.signalCode ? r() : victim.child.once('exit', r),
    );
    Object.assign(victim, await serve(victim.data, victim.port));
  }
} finally {
  for (const d of dashboards) d.close();
  for (const c of children) c.kill('SIGKILL');
}
const sorted = [...times].sort((a, b) => a - b);
const p50 = sorted[Math.floor((sorted.length - 1) / 2)];
console.log(
  `failover: ${times.length} kills, p50 ${p50} ms, max ${sorted.at(-1)} ms (${cpus().length} cores, ` +
    `load ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')})`,
);
