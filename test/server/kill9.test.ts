/**
 * `kill -9` during alert writes (issue 18, faults): 20 times, a `hark serve` process takes a burst of operator
 * writes (acknowledge, resolve and annotate, at once) and is killed with SIGKILL the moment the first of them
 * is answered 200. Every write answered 200 before the kill must be there after the restart (0 acknowledged
 * writes lost), and SQLite's `integrity_check` must say `ok` after every kill.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alert, Page } from '@hark/protocol';
import { TestSensor } from '../support/sensor.js';
import { apiCall, serveChild, startServer, tempDir } from '../support/server.js';

const KILLS = Number(process.env.HARK_KILLS ?? 20);
/** Writes in each burst: one acknowledgement, one resolution and two annotations. */
const SENSORS = ['k-1', 'k-2', 'k-3', 'k-4'];

const dataDir = tempDir('kill9-data');
const children: ChildProcess[] = [];
let admin = '';
/** Open alerts to acknowledge or resolve, one per write. */
let fresh: number[] = [];

beforeAll(async () => {
  // Silence alerts to act on: two per kill, made by four sensors at once.
  const s = await startServer({ dataDir, silenceSeconds: 1, dashboardDir: null });
  try {
    admin = s.admin;
    const perSensor = Math.ceil((2 * KILLS) / SENSORS.length);
    await Promise.all(
      SENSORS.map(async (id) => {
        const sensor = await TestSensor.open(s.url, s.admin, id);
        for (let i = 0; i < perSensor; i++) await sensor.silenceAlert();
        sensor.close();
      }),
    );
    const page = await s.api<Page<Alert>>('/api/alerts?limit=500');
    fresh = page.items.map((a) => a.id).sort((a, b) => a - b);
    expect(fresh.length).toBeGreaterThanOrEqual(2 * KILLS);
  } finally {
    await s.close();
  }
}, 300_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

type Write = { kind: 'ack' | 'resolve'; alertId: number } | { kind: 'note'; alertId: number; text: string };

function integrity(): string {
  const db = new Database(join(dataDir, 'hark.db'));
  try {
    return (db.pragma('integrity_check', { simple: true }) as string) ?? '';
  } finally {
    db.close();
  }
}

/** Whether the restarted server has the write. */
function present(alerts: Map<number, Alert>, w: Write): boolean {
  const a = alerts.get(w.alertId);
  if (!a) return false;
  if (w.kind === 'note') return a.annotations.some((n) => n.text === w.text);
  if (w.kind === 'ack') return a.state === 'acknowledged' && a.acknowledgedBy !== null;
  return a.state === 'resolved' && a.resolvedBy !== null;
}

describe('kill -9 during alert writes', () => {
  test(`${KILLS} kills right after a 200: no acknowledged write lost, integrity ok`, async () => {
    const acknowledged: Write[] = [];
    let unanswered = 0;
    const noteTarget = fresh[fresh.length - 1];
    for (let k = 0; k < KILLS; k++) {
      const served = await serveChild(['--port', '0', '--data', dataDir]);
      children.push(served.child);
      const api = <T>(path: string, init?: RequestInit) => apiCall<T>(served.url, admin, path, init);

      // What earlier kills acknowledged is all there.
      const alerts = new Map(
        (await api<Page<Alert>>('/api/alerts?limit=500')).items.map((a) => [a.id, a] as const),
      );
      const lost = acknowledged.filter((w) => !present(alerts, w));
      expect(lost, `after kill ${k}`).toEqual([]);

      const burst: Write[] = [
        { kind: 'ack', alertId: fresh[2 * k] },
        { kind: 'resolve', alertId: fresh[2 * k + 1] },
        { kind: 'note', alertId: noteTarget, text: `kill ${k} note a` },
        { kind: 'note', alertId: noteTarget, text: `kill ${k} note b` },
      ];
      let killed = false;
      const kill = () => {
        if (!killed) served.child.kill('SIGKILL');
        killed = true;
      };
      await Promise.all(
        burst.map(async (w) => {
          const path =
            w.kind === 'note' ? `/api/alerts/${w.alertId}/annotations` : `/api/alerts/${w.alertId}/${w.kind}`;
          const body = w.kind === 'note' ? JSON.stringify({ label: 'unknown', text: w.text }) : undefined;
          try {
            await api(path, { method: 'POST', body });
            acknowledged.push(w);
            kill();
          } catch {
            unanswered++; // cut off by the kill: not acknowledged, so it may or may not be there
          }
        }),
      );
      expect(killed, `kill ${k}: no write was answered 200`).toBe(true);
      expect(await served.exited).toBeNull(); // killed by a signal, no exit code
      expect(integrity(), `after kill ${k}`).toBe('ok');
    }

    // A last start: everything acknowledged is there, and the database is sound.
    const last = await serveChild(['--port', '0', '--data', dataDir]);
    children.push(last.child);
    const alerts = new Map(
      (await apiCall<Page<Alert>>(last.url, admin, '/api/alerts?limit=500')).items.map(
        (a) => [a.id, a] as const,
      ),
    );
    const lost = acknowledged.filter((w) => !present(alerts, w));
    console.log(
      `kill -9 figures: ${JSON.stringify({ kills: KILLS, acknowledged: acknowledged.length, unanswered, lost: lost.length })}`,
    );
    expect(lost).toEqual([]);
    last.child.kill('SIGTERM');
    expect(await last.exited, last.out()).toBe(0);
    expect(integrity()).toBe('ok');
  }, 900_000);
});
