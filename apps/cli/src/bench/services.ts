/**
 * The engines a cluster benchmark needs, started by the benchmark itself on free loopback ports in temporary
 * directories when the user names none: Debian's `redis-server` (no persistence) and PostgreSQL 15 (as the
 * `postgres` user when run as root, since PostgreSQL refuses root). `stop()` ends them and removes their files.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Service {
  url: string;
  stop(): Promise<void>;
}

/** Debian's binaries of PostgreSQL 15. */
const PG_BIN = '/usr/lib/postgresql/15/bin';

async function freePort(): Promise<number> {
  const s = netServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

/** `redis-server` on a free loopback port in a temporary directory, without persistence. */
export async function startRedis(): Promise<Service> {
  const bin = ['/usr/bin/redis-server', '/usr/sbin/redis-server'].find(
    (p) => spawnSync(p, ['--version']).error === undefined,
  );
  if (!bin)
    throw new Error(
      'redis-server is not installed: apt-get install redis-server, or pass --redis redis://HOST:PORT',
    );
  const dir = mkdtempSync(join(tmpdir(), 'hark-bench-redis-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const until = Date.now() + 10_000;
  while (!(await listening(port))) {
    if (Date.now() > until) throw new Error(`redis-server did not listen on ${port} within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * PostgreSQL 15 initialised in a temporary directory, listening on a free loopback port, with the database
 * `hark` owned by the trusted user `hark`. Unlike the tests' PostgreSQL it keeps `fsync` on (the default):
 * an insert rate measured without it would not be one a plant gets.
 */
export async function startPostgres(): Promise<Service> {
  if (!existsSync(join(PG_BIN, 'initdb')))
    throw new Error(
      'PostgreSQL 15 is not installed: apt-get install postgresql, or pass --database postgres://USER@HOST:PORT/DB',
    );
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const run = (cmd: string) =>
    asRoot
      ? execFileSync('su', ['postgres', '-s', '/bin/bash', '-c', cmd], { stdio: 'pipe' })
      : execFileSync('/bin/bash', ['-c', cmd], { stdio: 'pipe' });
  const dir = mkdtempSync(join(tmpdir(), 'hark-bench-pg-'));
  chmodSync(dir, 0o755);
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const port = await freePort();
  const data = join(dir, 'db');
  try {
    run(`${PG_BIN}/initdb -D ${data} -A trust -U hark >/dev/null`);
    run(
      `${PG_BIN}/pg_ctl -D ${data} -o "-p ${port} -k ${dir} -c listen_addresses=127.0.0.1" ` +
        `-l ${dir}/log -w start >/dev/null`,
    );
    run(`${PG_BIN}/createdb -h 127.0.0.1 -p ${port} -U hark hark`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start in ${dir}: ${(err as Error).message}`);
  }
  return {
    url: `postgres://hark@127.0.0.1:${port}/hark`,
    async stop() {
      try {
        run(`${PG_BIN}/pg_ctl -D ${data} stop -m fast >/dev/null`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
