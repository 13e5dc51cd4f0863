/**
 * A real MQTT broker for tests: Debian's `mosquitto`, started in a temporary directory on a free loopback port
 * (anonymous, no persistence) and stopped by PID. `mosquittoOrWarn()` is false, with a visible message, when
 * the binary is absent (install it with `make system-deps` or `apt-get install mosquitto`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The broker binary (Debian puts it in /usr/sbin). */
export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find(
  (p) => spawnSync(p, ['-h']).error === undefined,
);

export function mosquittoOrWarn(test: string): boolean {
  if (MOSQUITTO) return true;
  console.warn(
    `SKIPPED ${test}: mosquitto is not installed (apt-get install mosquitto, or make system-deps)`,
  );
  return false;
}

/** A free loopback TCP port. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface Broker {
  url: string;
  port: number;
  log: () => string;
  stop(): Promise<void>;
}

/** Starts mosquitto on 127.0.0.1 and resolves once it listens. */
export async function startMosquitto(): Promise<Broker> {
  if (!MOSQUITTO) throw new Error('mosquitto is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'hark-mqtt-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  // As root, mosquitto drops to the `mosquitto` user after reading this file; it writes nothing to disk.
  writeFileSync(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n`,
  );
  const child: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Its log is block-buffered into a pipe: wait until the port takes a connection instead.
  let gone = false;
  void exited.then(() => (gone = true));
  const until = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (gone) throw new Error(`mosquitto exited: ${out}`);
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`mosquitto did not listen on ${port} within 10 s: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    log: () => out,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when something listens on the loopback port. */
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
