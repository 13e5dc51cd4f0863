/**
 * Boots the real hark server (in this process, or as a `hark serve` child process) on a random port with a
 * fresh data directory, and talks to it as operators and sensors do: REST with tokens, socket.io, and the
 * real `hark sensor` command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import type { Alert, ColumnsEvent, ModelStatus, Role, ScoreEvent, SensorStatus } from '@hark/protocol';
import { createServer, type HarkServer, type ServerOptions } from '@hark/server';
import { tempDir } from './temp.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const HARK_BIN = join(REPO, 'apps/cli/bin/hark.js');

export { tempDir };

export interface TestServer {
  server: HarkServer;
  url: string;
  admin: string;
  logs: string[];
  token(role: Role, name?: string): Promise<string>;
  api<T = unknown>(path: string, init?: RequestInit & { token?: string }): Promise<T>;
  close(): Promise<void>;
}

/** Any non-2xx answer throws with the server's JSON message. */
export async function apiCall<T>(
  base: string,
  token: string,
  path: string,
  init: RequestInit = {},
): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  if (init.body && typeof init.body === 'string') headers.set('content-type', 'application/json');
  const res = await fetch(`${base}${path}`, { ...init, headers });
  const type = res.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await res.json() : await res.arrayBuffer();
  if (!res.ok) {
    const msg = (body as { message?: string }).message ?? res.statusText;
    throw Object.assign(new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${msg}`), {
      status: res.status,
      body,
    });
  }
  return body as T;
}

/**
 * Server options for tests that check *what* is scored, not how fast: a per-sensor queue long enough that a
 * loaded machine scores every window late instead of dropping some (and the hop governor, which widens the hop
 * only when windows wait longer than that queue or are dropped, never engages). Capacity is measured by
 * `hark bench pipeline`, not by tests. A queued window holds its own columns, so a long queue costs memory only.
 */
export const SCORE_EVERY_WINDOW = { queuePerSensor: 100_000 } as const;

/** `admin`: the admin token of an earlier start on the same data directory (a restart prints none). */
export async function startServer(options: ServerOptions = {}, adminOfDataDir?: string): Promise<TestServer> {
  const logs: string[] = [];
  const server = await createServer({
    port: 0,
    dataDir: tempDir('data'),
    log: (l) => logs.push(l),
    // Tests count one alert per injected anomaly and act on alerts minutes after they clear: the lifecycle's
    // folding of repeats and auto-resolve are off unless a test asks for them (presence, operations).
    alertRepeatSeconds: 0,
    alertQuietSeconds: 7 * 86400,
    ...options,
  });
  const admin = server.adminToken ?? adminOfDataDir;
  if (!admin) {
    await server.close();
    throw new Error('a fresh data directory must give an admin token (pass the earlier one on a restart)');
  }
  const api = <T>(path: string, init: RequestInit & { token?: string } = {}) =>
    apiCall<T>(server.url, init.token ?? admin, path, init);
  return {
    server,
    url: server.url,
    admin,
    logs,
    api,
    token: async (role, name = `${role}-${Math.random().toString(36).slice(2, 8)}`) =>
      (await api<{ token: string }>('/api/tokens', { method: 'POST', body: JSON.stringify({ role, name }) }))
        .token,
    close: () => server.close(),
  };
}

/** Uploads every WAV of `dir` as the sensor's normal sound and waits until the model is ready. */
export async function fitFromFolder(s: TestServer, sensorId: string, dir: string, timeoutMs = 600_000) {
  const form = new FormData();
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.wav'))
    .sort()) {
    form.append('files', new Blob([readFileSync(join(dir, f))], { type: 'audio/wav' }), f);
  }
  const res = await fetch(`${s.url}/api/sensors/${sensorId}/model`, {
    method: 'POST',
    headers: { authorization: `Bearer ${s.admin}` },
    body: form,
  });
  if (res.status !== 202) throw new Error(`upload: ${res.status} ${await res.text()}`);
  return waitForModel(s, sensorId, timeoutMs);
}

/** Waits until the sensor is connected (e.g. a `hark sensor` process just started). */
export async function waitForConnected(s: TestServer, sensorId: string, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const st = await s.api<{ connected: boolean }>(`/api/sensors/${sensorId}`).catch(() => null);
    if (st?.connected) return;
    if (Date.now() > until) throw new Error(`sensor ${sensorId} did not connect within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function waitForModel(s: TestServer, sensorId: string, timeoutMs = 600_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = await s.api<ModelStatus>(`/api/sensors/${sensorId}/model`);
    if (m.state === 'ready') return m;
    if (m.state === 'failed') throw new Error(`fit failed: ${m.error}`);
    if (Date.now() > until) throw new Error(`model of ${sensorId} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Runs the real `hark sensor` command; resolves with its exit code and output. */
export function runSensor(args: string[], opts: { timeoutMs?: number } = {}) {
  const child: ChildProcess = spawn(process.execPath, [HARK_BIN, 'sensor', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const done = new Promise<{ code: number | null; out: string }>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
  return { child, done };
}

/** A dashboard connection on `/live`. */
export async function liveClient(url: string, token: string): Promise<Socket> {
  const s = io(`${url}/live`, { auth: { token }, transports: ['websocket'] });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', (e) => reject(e));
  });
  return s;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `ok()` holds, checking every 50 ms; fails naming `what` after `ms`. */
export async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(50);
  }
}

/**
 * Polls `get()` every 100 ms until `ok` holds for its value, and returns that value; fails naming `what` and
 * the last value after `ms`.
 */
export async function untilValue<T>(
  what: string,
  get: () => T | Promise<T>,
  ok: (v: T) => boolean,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what} (last: ${JSON.stringify(v)})`);
    await sleep(100);
  }
}

/** Everything a dashboard's `/live` connection receives, by event, in arrival order. */
export function recordLive(c: Socket) {
  const got = {
    columns: [] as ColumnsEvent[],
    score: [] as ScoreEvent[],
    status: [] as SensorStatus[],
    alert: [] as Alert[],
    update: [] as Alert[],
  };
  c.on('columns', (e: ColumnsEvent) => got.columns.push(e));
  c.on('score', (e: ScoreEvent) => got.score.push(e));
  c.on('sensor:status', (e: SensorStatus) => got.status.push(e));
  c.on('alert', (e: Alert) => got.alert.push(e));
  c.on('alert:update', (e: Alert) => got.update.push(e));
  return got;
}

/**
 * Starts `hark serve ARGS` as a child process; resolves once it prints its URL, with the child, its exit
 * code (a promise) and its output so far. Rejects if it exits first or has not started within a minute.
 */
export async function serveChild(args: string[]) {
  const child = spawn(process.execPath, [HARK_BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hark serve did not start: ${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => reject(new Error(`hark serve exited (${code}): ${out}`)));
  });
  return { child, url, exited, out: () => out };
}
