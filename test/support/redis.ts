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

/**
 * `cluster`: Redis Cluster mode with one node holding all 16384 slots. It answers every key itself (no
 * redirections, so a plain client works) but enforces cluster rules: a command or script whose keys hash to
 * different slots fails with CROSSSLOT, as on a cluster of many nodes.
 */
export async function startRedis(o: { cluster?: boolean } = {}): Promise<TestRedis> {
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
      ...(o.cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'] : []),
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
    if (o.cluster) await ownAllSlots(port);
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

/** Gives the one node every slot (kept in its nodes.conf across restarts) and waits for `cluster_state:ok`. */
async function ownAllSlots(port: number): Promise<void> {
  const cli = (...args: string[]) =>
    spawnSync('redis-cli', ['-p', String(port), ...args])
      .stdout.toString()
      .trim();
  if (/cluster_slots_assigned:0\b/.test(cli('CLUSTER', 'INFO'))) {
    const r = cli('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    if (r !== 'OK') throw new Error(`CLUSTER ADDSLOTSRANGE answered ${r}`);
  }
  const until = Date.now() + 10_000;
  while (!/cluster_state:ok/.test(cli('CLUSTER', 'INFO'))) {
    if (Date.now() > until)
      throw new Error(`the one-node Redis Cluster on ${port} is not ok: ${cli('CLUSTER', 'INFO')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
