import { describe, expect, it } from 'vitest';
import { TokenService } from '../../src/auth/token.service.js';
import { isStorageFailure, isUnreachable, StorageHealth } from '../../src/store/storage-health.js';
import { tempStore } from './helpers.js';

/** SQLite's own refusal of writes (`query_only`): a real SQLITE_READONLY from the real file, switchable. */
const refuseWrites = (store: { database: { sqlite: { pragma: (s: string) => unknown } } }, on: boolean) =>
  store.database.sqlite.pragma(`query_only = ${on ? 'ON' : 'OFF'}`);

describe('StorageHealth', () => {
  it('turns a failed write into a logged, counted, remembered failure, and never throws', async () => {
    const logged: string[] = [];
    const counted: string[] = [];
    let t = 1000;
    const health = new StorageHealth({
      log: (l) => logged.push(l),
      onError: (op) => counted.push(op),
      now: () => t,
    });
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    expect(
      await health.attempt('token', () => {
        throw full;
      }),
    ).toBeUndefined();
    await health.attempt('token', () => {
      throw full;
    });
    expect(counted).toEqual(['token', 'token']);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(
      /^STORAGE ERROR: token write failed \(token: SQLITE_FULL database or disk is full\)/,
    );
    expect(health.degraded).toBe(true);
    expect(health.report()).toEqual({
      engine: 'sqlite',
      writable: false,
      reason: 'storage refuses writes',
      readOnly: false,
      failingSince: 1000,
      lastError: 'token: SQLITE_FULL database or disk is full',
      errors: 2,
      waitingWrites: {},
    });
    t = 3500;
    // A success of its own ends no outage (it may have written nothing); the probe's does.
    expect(await health.attempt('token', () => 7)).toBe(7);
    expect(health.degraded).toBe(true);
    health.addRetry('probe', () => 0);
    await health.retryNow();
    expect(health.degraded).toBe(false);
    expect(logged[1]).toBe('storage: writes resumed after 2.5 s; 2 failed writes in all');
    health.close();
  });

  it('stays degraded while writes wait in a queue, even after another write succeeded', async () => {
    const health = new StorageHealth();
    health.failed('alert', Object.assign(new Error('full'), { code: 'SQLITE_FULL' }));
    health.setWaiting('alerts', 3);
    expect(health.degraded).toBe(true);
    expect(health.report().waitingWrites).toEqual({ alerts: 3 });
    health.addRetry('alerts', () => 0);
    await health.retryNow();
    expect(health.degraded).toBe(false);
    expect(health.report()).toMatchObject({ writable: true, waitingWrites: {} });
    health.close();
  });

  it('knows storage failures from request errors', () => {
    for (const code of ['SQLITE_FULL', 'SQLITE_IOERR_SHMSIZE', 'SQLITE_READONLY', 'ENOSPC', 'EIO'])
      expect(isStorageFailure(Object.assign(new Error(code), { code })), code).toBe(true);
    for (const err of [new Error('x'), Object.assign(new Error('c'), { code: 'SQLITE_CONSTRAINT' }), null])
      expect(isStorageFailure(err)).toBe(false);
  });

  it('knows a database that cannot be reached (the 503 and the health reason say so) from a disk that refuses writes', () => {
    // What pg and the socket say of a PostgreSQL that is down, restarting (57P01: terminated by
    // `pg_ctl stop`, 57P03: starting up) or silent (the pool's connect and query timeouts).
    const lost = [
      ...['ECONNREFUSED', 'ECONNRESET', '57P01', '57P03', '08006'].map((code) =>
        Object.assign(new Error(code), { code }),
      ),
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Query read timeout'),
    ];
    for (const err of lost) {
      expect(isStorageFailure(err), err.message).toBe(true);
      expect(isUnreachable(err), err.message).toBe(true);
    }
    for (const code of ['SQLITE_FULL', 'ENOSPC', '53100'])
      expect(isUnreachable(Object.assign(new Error(code), { code })), code).toBe(false);
    // A constraint violation (23505) is the request's fault: neither.
    expect(isStorageFailure(Object.assign(new Error('dup'), { code: '23505' }))).toBe(false);

    const changes: boolean[] = [];
    const health = new StorageHealth({ engine: 'postgres', onChange: (up) => changes.push(up) });
    health.failed('alert', lost[0]);
    health.failed('scores', lost[5]);
    expect(health.report()).toMatchObject({ writable: false, reason: 'storage unreachable' });
    expect(changes).toEqual([false]);
    health.close();
  });

  it("on a store that refuses writes, a token's use is not recorded but the token still verifies", async () => {
    const logged: string[] = [];
    const { store } = tempStore({ health: { log: (l) => logged.push(l), retryMs: 60_000 } });
    const tokens = new TokenService(store.tokens, { health: store.health });
    const { token, id } = await tokens.create('sensor', 'mic');
    refuseWrites(store, true);
    expect(await tokens.verify(token)).toMatchObject({ id, role: 'sensor' });
    expect((await store.tokens.get(id))?.lastUsedAt).toBeNull();
    expect(store.health.report()).toMatchObject({ writable: false, errors: 1 });
    expect(logged[0]).toMatch(/STORAGE ERROR: token write failed .*SQLITE_READONLY/);
    // The probe finds out by itself that writes work again.
    await store.health.retryNow();
    expect(store.health.degraded).toBe(true);
    refuseWrites(store, false);
    await store.health.retryNow();
    expect(store.health.degraded).toBe(false);
  });

  it('keeps score points whose flush failed, up to `maxQueued` (the oldest dropped, counted), and writes them later', async () => {
    const dropped: number[] = [];
    const { store } = tempStore({
      scores: { maxBuffered: 3, maxQueued: 4, onDropped: (n) => dropped.push(n) },
    });
    refuseWrites(store, true);
    await store.scores.append('pump-1', 1, 0.5);
    await expect(async () => store.scores.flush()).rejects.toThrow(/readonly/);
    await store.scores.append('pump-1', 2, 0.6);
    // The third point appended asks for a flush; the fourth and fifth do not (one attempt per `maxBuffered`).
    await expect(async () => store.scores.append('pump-1', 3, 0.7)).rejects.toThrow(/readonly/);
    await store.scores.append('pump-1', 4, 0.8);
    await store.scores.append('pump-1', 5, 0.9);
    expect(store.scores.buffered).toBe(4);
    expect(store.scores.dropped).toBe(1);
    expect(dropped).toEqual([1]);
    refuseWrites(store, false);
    expect(await store.scores.flush()).toBe(4);
    expect((await store.scores.range('pump-1')).map((p) => p.t)).toEqual([2, 3, 4, 5]);
  });
});
