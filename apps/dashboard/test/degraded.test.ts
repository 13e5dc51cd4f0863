import { describe, expect, it } from 'vitest';
import { agoText, CLEARS_BY_ITSELF, degradedNotices, sinceText } from '../src/lib/degraded';
import type { Health } from '../src/lib/contracts';

const T = Date.UTC(2026, 11, 4, 22, 41, 5);

/** A health answer: ok on one SQLite server alone unless patched. */
function health(patch: { storage?: Partial<Health['storage']>; cluster?: Partial<Health['cluster']> } = {}) {
  const h: Health = {
    status: 'ok',
    storage: {
      engine: 'sqlite',
      writable: true,
      reason: null,
      readOnly: false,
      failingSince: null,
      lastError: null,
      errors: 0,
      waitingWrites: {},
      ...patch.storage,
    },
    cluster: { instance: 'north:8080', redis: 'off', downSince: null, leasesHeld: 0, ...patch.cluster },
  };
  if (h.storage.reason !== null || h.cluster.redis === 'down') h.status = 'degraded';
  return h;
}

describe('degraded banner texts', () => {
  it('says nothing while the server is ok or not heard from yet', () => {
    expect(degradedNotices(null)).toEqual([]);
    expect(degradedNotices(health())).toEqual([]);
    expect(degradedNotices(health({ cluster: { redis: 'up', leasesHeld: 3 } }))).toEqual([]);
  });

  it('PostgreSQL unreachable: alerts held, live view on, actions not applied, since when', () => {
    const [n, ...rest] = degradedNotices(
      health({
        storage: {
          engine: 'postgres',
          writable: false,
          reason: 'storage unreachable',
          failingSince: T,
          lastError: 'sweep: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:5432',
          waitingWrites: { alerts: 3 },
        },
      }),
    );
    expect(rest).toEqual([]);
    expect(n).toEqual({
      part: 'storage',
      title: 'The database (PostgreSQL) cannot be reached.',
      detail:
        'New alerts and scores are held by the server and written when it returns; the live view continues. ' +
        'Actions (acknowledge, resolve, settings) are not applied meanwhile: retry them once this clears.',
      since: T,
    });
  });

  it('a full disk, and a start on a disk that took no writes, name the data directory', () => {
    const full = degradedNotices(
      health({ storage: { writable: false, reason: 'storage refuses writes', failingSince: T } }),
    );
    expect(full.map((n) => n.title)).toEqual([
      'The data directory refuses writes (a full disk or an I/O error).',
    ]);
    expect(full[0].detail).toMatch(/held by the server and written once it takes writes again/);
    expect(full[0].detail).toMatch(/not applied meanwhile: retry them once this clears/);
    const readOnly = degradedNotices(
      health({
        storage: { writable: false, reason: 'storage refuses writes', readOnly: true, failingSince: T },
      }),
    );
    expect(readOnly[0].title).toBe(
      'The data directory took no writes when the server started: it runs read-only.',
    );
  });

  it('writes that still wait after the outage: counted, actions work, no since', () => {
    const [n] = degradedNotices(
      health({
        storage: { engine: 'postgres', reason: 'writes wait', waitingWrites: { alerts: 2, sensors: 1 } },
      }),
    );
    expect(n).toEqual({
      part: 'storage',
      title: 'Storage is back: the server is writing what it held during the outage.',
      detail: '3 held writes still to go; actions work again.',
      since: null,
    });
    expect(
      degradedNotices(health({ storage: { reason: 'writes wait', waitingWrites: { alerts: 1 } } }))[0].detail,
    ).toBe('1 held write still to go; actions work again.');
  });

  it('Redis down: only this instance sensors, named, since when', () => {
    const [n, ...rest] = degradedNotices(health({ cluster: { redis: 'down', downSince: T, leasesHeld: 2 } }));
    expect(rest).toEqual([]);
    expect(n).toEqual({
      part: 'cluster',
      title: 'The cluster link (Redis) is down.',
      detail:
        "Only this instance's sensors (north:8080) are shown and scored here; sensors streaming to other " +
        'instances are missing from this page, and sensors that connect meanwhile wait, until it returns.',
      since: T,
    });
  });

  it('both at once: the store first, then the cluster link', () => {
    const notices = degradedNotices(
      health({
        storage: { engine: 'postgres', writable: false, reason: 'storage unreachable', failingSince: T },
        cluster: { redis: 'down', downSince: T + 1000 },
      }),
    );
    expect(notices.map((n) => [n.part, n.since])).toEqual([
      ['storage', T],
      ['cluster', T + 1000],
    ]);
  });

  it('since when, how long ago (never negative), and that it clears by itself', () => {
    expect(sinceText(T, true)).toBe('Since 22:41:05');
    expect(agoText(T, T + 195_000)).toBe('(3 min ago)');
    expect(agoText(T, T + 12_000)).toBe('(12 s ago)');
    // The server's clock a little ahead of the browser's.
    expect(agoText(T, T - 800)).toBe('(0 s ago)');
    expect(CLEARS_BY_ITSELF).toBe(
      'This notice clears by itself when the server reports healthy again (checked every 10 s); no need to reload.',
    );
  });
});
