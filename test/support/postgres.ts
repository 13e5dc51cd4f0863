/**
 * A real PostgreSQL for tests: Debian's PostgreSQL 15, initialised in a temporary directory owned by the
 * `postgres` user (PostgreSQL refuses to run as root), listening on a free loopback port, with one database;
 * stopped and removed by `stop()`. `postgresOrWarn()` is false, with a visible message, when it is absent
 * (install it with `make system-deps` or `apt-get install postgresql`).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './mosquitto.js';

/** Debian's binaries of PostgreSQL 15. */
export const PG_BIN = '/usr/lib/postgresql/15/bin';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export function postgresOrWarn(test: string): boolean {
  const why = !existsSync(join(PG_BIN, 'initdb'))
    ? `PostgreSQL 15 is not installed (apt-get install postgresql, or make system-deps)`
    : asRoot && spawnSync('id', ['postgres']).status !== 0
      ? 'the postgres user is missing (it comes with the postgresql package)'
      : null;
  if (why) console.warn(`SKIPPED ${test}: ${why}`);
  return why === null;
}

export interface Postgres {
  /** `postgres://hark@127.0.0.1:PORT/hark` */
  url: string;
  port: number;
  /** Stops the server at once (`pg_ctl stop -m immediate`: connections cut, as in a crash); its data stays. */
  halt(): void;
  /** Starts it again on the same port and data (after `halt`); resolves once it takes connections. */
  restart(): void;
  stop(): Promise<void>;
}

/** Runs `cmd` as the postgres user when this process is root (PostgreSQL refuses root), else as itself. */
function run(cmd: string): void {
  if (asRoot) execFileSync('su', ['postgres', '-s', '/bin/bash', '-c', cmd], { stdio: 'pipe' });
  else execFileSync('/bin/bash', ['-c', cmd], { stdio: 'pipe' });
}

/** Initialises, starts (about 3 s) and creates the database `hark` owned by the trusted user `hark`. */
export async function startPostgres(): Promise<Postgres> {
  const dir = mkdtempSync(join(tmpdir(), 'hark-pg-'));
  chmodSync(dir, 0o755);
  if (asRoot) execFileSync('chown', ['postgres:postgres', dir]);
  const port = await freePort();
  const data = join(dir, 'db');
  const start = () =>
    run(
      `${PG_BIN}/pg_ctl -D ${data} -o "-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off" ` +
        `-l ${dir}/log -w start >/dev/null`,
    );
  const halt = () => run(`${PG_BIN}/pg_ctl -D ${data} stop -m immediate >/dev/null`);
  try {
    run(`${PG_BIN}/initdb -D ${data} -A trust -U hark --no-sync >/dev/null`);
    start();
    run(`${PG_BIN}/createdb -h 127.0.0.1 -p ${port} -U hark hark`);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start in ${dir}: ${(err as Error).message}`);
  }
  return {
    url: `postgres://hark@127.0.0.1:${port}/hark`,
    port,
    halt,
    restart: start,
    stop: async () => {
      try {
        if (existsSync(join(data, 'postmaster.pid'))) halt();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
