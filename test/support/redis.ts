/**
 * A real Redis for tests: Debian's `redis-server`, started in a temporary directory on a free loopback port
 * (no persistence: `--save '' --appendonly no`) and stopped by PID. `redisOrWarn()` is false, with a visible
 * message, when the binary is absent (install it with `make system-deps` or `apt-get install redis-server`).
 * `kill()` and `restart()` take it away and bring it back on the same port (the cluster's Redis-down tests).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './mosquitto.js';

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find(
  (p) => spawnSync(p, ['--version']).error === undefined,
);

export function redisOrWarn(test: string): boolean {
  if (REDIS_SERVER) return true;
  console.warn(
    `SKIPPED ${test}: redis-server is not installed (apt-get install redis-server, or make system-deps)`,
  );
  return false;
}

export interface TestRedis {
  url: string;
  port: number;
  log: () => string;
  /** SIGKILL: gone at once, like a crashed Redis (its data is lost: nothing is persisted). */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  if (!REDIS_SERVER) throw new Error('redis-server is not installed');
  const bin = REDIS_SERVER;
  const dir = mkdtempSync(join(tmpdir(), 'hark-redis-'));
  const port = await freePort();
  let out = '';
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();

  const launch = async () => {
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ];
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout?.on('data', (d) => (out += d));
    c.stderr?.on('data', (d) => (out += d));
    let gone = false;
    exited = new Promise<void>((r) => c.once('exit', () => ((gone = true), r())));
    const until = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (gone) throw new Error(`redis-server exited: ${out}`);
      if (Date.now() > until) {
        c.kill('SIGKILL');
        throw new Error(`redis-server did not listen on ${port} within 10 s: ${out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async (signal: NodeJS.Signals) => {
    if (!child) return;
    child.kill(signal);
    await exited;
    child = null;
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    log: () => out,
    kill: () => kill('SIGKILL'),
    restart: launch,
    async stop() {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}
