/**
 * Per-sensor ownership leases (`cluster/ownership.ts`) on a real Redis, without servers: one holder at a time,
 * shared by connections of the same instance, released by the last one, renewed (and set again after Redis
 * lost its data), lost to another holder (`onLost`), refused `LEASE_UNAVAILABLE` while Redis is away, and a
 * release racing a reconnect's claim does not delete the key the claim set.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SensorOwnership, leaseKey } from '../../apps/server/src/cluster/ownership.js';
import { RedisLink } from '../../apps/server/src/cluster/redis-link.js';
import { redisOrWarn, startRedis, type TestRedis } from '../support/redis.js';
import { sleep } from '../support/server.js';

const HAVE_REDIS = redisOrWarn('cluster-leases.test.ts');
// The default's order (3 s, renewed every 1 s): a shorter TTL made the renewal test fail when the test process
// stalled for a second on a loaded machine, which is a timing assertion, not the lease's behaviour.
const TTL_MS = 3000;

let redis: TestRedis;
const links: RedisLink[] = [];
const owners: SensorOwnership[] = [];

const cli = (...args: string[]) =>
  spawnSync('redis-cli', ['-p', String(redis.port), ...args])
    .stdout.toString()
    .trim();

async function instance(name: string, lost: string[] = [], alive = () => true) {
  const link = new RedisLink({ url: redis.url, log: () => {} });
  link.start();
  links.push(link);
  const deadline = Date.now() + 10_000;
  while (!link.up) {
    if (Date.now() > deadline) throw new Error('no Redis');
    await sleep(20);
  }
  const o = new SensorOwnership({
    redis: link.command,
    instance: () => name,
    ttlMs: TTL_MS,
    up: () => link.up,
    alive,
    onLost: (id, holder) => lost.push(`${id} ${holder}`),
    log: () => {},
  });
  owners.push(o);
  return { o, link };
}

// Plain Redis, and Redis Cluster (one node, every slot): there a script whose keys fall in several slots fails
// (CROSSSLOT), so the renewal of several leases in one script passes only if their keys share a slot.
describe.skipIf(!HAVE_REDIS).each([
  ['Redis', false],
  ['Redis Cluster', true],
])('sensor ownership leases on %s', (_, cluster) => {
  beforeAll(async () => {
    redis = await startRedis({ cluster });
  });
  afterAll(async () => {
    for (const o of owners.splice(0)) await o.stop();
    for (const l of links.splice(0)) await l.close();
    await redis?.stop();
  });

  test('one holder at a time; shared by its own connections; the last release frees it at once', async () => {
    const { o: a } = await instance('A');
    const { o: b } = await instance('B');
    expect(await a.claim('s-1', 'a1')).toEqual({ ok: true });
    expect(await a.claim('s-1', 'a2')).toEqual({ ok: true });
    const refused = await b.claim('s-1', 'b1');
    expect(refused).toMatchObject({ ok: false, code: 'SENSOR_LEASED' });
    expect(refused.ok === false && refused.code === 'SENSOR_LEASED' && refused.holder).toMatch(
      /^A#[0-9a-f]+$/,
    );
    expect(cli('PTTL', leaseKey('s-1'))).toMatch(/^\d+$/);
    await a.release('s-1', 'a1');
    expect(await b.claim('s-1', 'b1')).toMatchObject({ code: 'SENSOR_LEASED' });
    await a.release('s-1', 'a2');
    expect(cli('EXISTS', leaseKey('s-1'))).toBe('0');
    expect(await b.claim('s-1', 'b1')).toEqual({ ok: true });
    expect(b.holds('s-1')).toBe(true);
  });

  // On plain Redis any keys go together; on Redis Cluster only keys of one slot (what the hash tag ensures).
  test('a script over keys of two slots is refused on Redis Cluster only; the tagged keys pass on both', () => {
    const untagged = cli('EVAL', 'return 1', '2', 'hark:lease:s-2', 'hark:lease:s-2a');
    if (cluster) expect(untagged).toMatch(/CROSSSLOT/);
    else expect(untagged).toBe('1');
    expect(cli('EVAL', 'return 1', '2', leaseKey('s-2'), leaseKey('s-2a'))).toBe('1');
  });

  test('renewal keeps it past its TTL, sets it again after Redis lost it, and reports one taken', async () => {
    const lost: string[] = [];
    const { o: a } = await instance('A2', lost);
    a.start();
    // Several leases, renewed in one script: on Redis Cluster their keys must share a slot.
    for (const id of ['s-2', 's-2a', 's-2b', 'pump-17']) await a.claim(id, 'a1');
    await sleep(TTL_MS * 2);
    for (const id of ['s-2', 's-2a', 's-2b', 'pump-17']) expect(cli('GET', leaseKey(id))).toBe(a.owner);
    cli('DEL', leaseKey('s-2'));
    await a.renew();
    expect(cli('GET', leaseKey('s-2'))).toBe(a.owner);
    cli('SET', leaseKey('s-2'), 'Z#01', 'PX', '10000');
    await a.renew();
    expect(lost).toEqual(['s-2 Z#01']);
    expect(a.holds('s-2')).toBe(false);
  });

  // The race that made the test above flaky: the timer's renewal was in flight when the key went, and an
  // explicit renew() returned at once instead of renewing after it. Redis paused for writes holds the first
  // renewal's script until after the DEL, so the order is fixed: script, DEL, then our renew().
  test('a renew() while one is under way renews again after it', async () => {
    const { o: a } = await instance('A2r');
    await a.claim('s-2r', 'a1');
    expect(cli('CLIENT', 'PAUSE', '400', 'WRITE')).toBe('OK');
    const first = a.renew();
    await sleep(100); // the script reaches Redis and waits there
    cli('DEL', leaseKey('s-2r')); // waits for the pause too, queued after the script
    await a.renew();
    await first;
    expect(cli('GET', leaseKey('s-2r'))).toBe(a.owner);
  });

  test('a connection that never came lets its lease go after the TTL', async () => {
    const { o: a } = await instance('A3', [], () => false);
    await a.claim('s-3', 'ghost');
    await a.renew();
    expect(a.holds('s-3')).toBe(true);
    await sleep(TTL_MS + 100);
    await a.renew();
    await sleep(50);
    expect(a.holds('s-3')).toBe(false);
    expect(cli('EXISTS', leaseKey('s-3'))).toBe('0');
  });

  test('a release racing a claim of the same sensor keeps the key the claim set', async () => {
    const { o: a } = await instance('A4');
    await a.claim('s-4', 'old');
    const claim = a.claim('s-4', 'new');
    await a.release('s-4', 'old');
    expect(await claim).toEqual({ ok: true });
    expect(cli('GET', leaseKey('s-4'))).toBe(a.owner);
  });

  test('Redis away: held leases are kept, new claims refused LEASE_UNAVAILABLE; back: renewed', async () => {
    const { o: a, link } = await instance('A5');
    await a.claim('s-5', 'a1');
    await redis.kill();
    const deadline = Date.now() + 10_000;
    while (link.up) {
      if (Date.now() > deadline) throw new Error('the link did not notice Redis going');
      await sleep(20);
    }
    expect(await a.claim('s-6', 'a2')).toMatchObject({ ok: false, code: 'LEASE_UNAVAILABLE' });
    expect(await a.claim('s-5', 'a3')).toEqual({ ok: true });
    expect(a.holds('s-5')).toBe(true);
    await redis.restart();
    while (!link.up) {
      if (Date.now() > deadline + 10_000) throw new Error('the link did not notice Redis back');
      await sleep(20);
    }
    await a.renew();
    expect(cli('GET', leaseKey('s-5'))).toBe(a.owner);
  });
});
