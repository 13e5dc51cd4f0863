import { describe, expect, it } from 'vitest';
import { ROLES, roleAllows } from '@hark/protocol';
import { TOKEN_FALLBACK_MS } from '../../src/auth/token.service.js';
import { TokenService, generateToken, hashToken } from '../../src/auth/index.js';
import { tempStore } from '../store/helpers.js';

describe('tokens', () => {
  it('generates hark_ + 32 random bytes in base64url', () => {
    const a = generateToken();
    expect(a).toMatch(/^hark_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.slice(5), 'base64url')).toHaveLength(32);
    expect(generateToken()).not.toBe(a);
  });

  it('hashes with sha256 hex', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('orders roles admin > operator > sensor', () => {
    const allowed = ROLES.flatMap((have) =>
      ROLES.filter((need) => roleAllows(have, need)).map((n) => `${have}>=${n}`),
    );
    expect(allowed.sort()).toEqual(
      [
        'admin>=admin',
        'admin>=operator',
        'admin>=sensor',
        'operator>=operator',
        'operator>=sensor',
        'sensor>=sensor',
      ].sort(),
    );
  });
});

describe('TokenService', () => {
  const setup = (start = 1_000_000) => {
    const { store } = tempStore();
    let now = start;
    const service = new TokenService(store.tokens, { now: () => now });
    return { store, service, tick: (ms: number) => (now += ms) };
  };

  it('creates a token whose secret is shown once and stored only as a hash', async () => {
    const { store, service } = setup();
    const created = await service.create('operator', '  night shift ');
    expect(created).toMatchObject({
      name: 'night shift',
      role: 'operator',
      createdAt: 1_000_000,
      revokedAt: null,
    });
    const raw = store.database.sqlite.prepare('SELECT * FROM tokens').all();
    expect(JSON.stringify(raw)).not.toContain(created.token);
    expect(raw).toEqual([expect.objectContaining({ hash: hashToken(created.token) })]);
    expect(await service.list()).toEqual([expect.not.objectContaining({ token: expect.anything() })]);
  });

  it('verifies secrets, rejects unknown and revoked ones', async () => {
    const { service } = setup();
    const created = await service.create('sensor', 'pump');
    expect(await service.verify(created.token)).toMatchObject({ id: created.id, role: 'sensor' });
    expect(await service.verify(created.token + 'x')).toBeNull();
    expect(await service.verify('')).toBeNull();
    expect(await service.verify(undefined)).toBeNull();
    expect((await service.revoke(created.id)).revokedAt).toBe(1_000_000);
    expect(await service.verify(created.token)).toBeNull();
    await expect(async () => service.revoke(123)).rejects.toThrow('token 123 not found');
  });

  it('while the store cannot be reached, takes a token as it was last verified (within TOKEN_FALLBACK_MS)', async () => {
    const { store, service, tick } = setup();
    const ok = await service.create('sensor', 'mic');
    const revoked = await service.create('operator', 'old');
    const unseen = await service.create('operator', 'new');
    await service.verify(ok.token);
    expect(await service.streamAs((await service.verify(ok.token))!, 'pump-1')).toBeNull();
    await service.verify(revoked.token);
    await service.revoke(revoked.id);
    // The database goes away (what pg says of a server that refuses connections).
    const findByHash = store.tokens.findByHash.bind(store.tokens);
    store.tokens.findByHash = () =>
      Promise.reject(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      );
    // Known and valid: admitted, with the binding made before the outage (no write needed).
    const known = await service.verify(ok.token);
    expect(known).toMatchObject({ id: ok.id, sensors: ['pump-1'] });
    expect(await service.streamAs(known!, 'pump-1')).toBeNull();
    // Revoked here, or never verified here: the store's failure goes on (the caller answers 503).
    await expect(service.verify(revoked.token)).rejects.toThrow(/ECONNREFUSED/);
    await expect(service.verify(unseen.token)).rejects.toThrow(/ECONNREFUSED/);
    // Verified too long ago: not taken on trust.
    tick(TOKEN_FALLBACK_MS + 1);
    await expect(service.verify(ok.token)).rejects.toThrow(/ECONNREFUSED/);
    store.tokens.findByHash = findByHash;
    expect(await service.verify(ok.token)).toMatchObject({ id: ok.id });
  });

  it('records the last use at most once a minute', async () => {
    const { store, service, tick } = setup();
    const { id, token } = await service.create('operator', 'x');
    const lastUsed = async () => (await store.tokens.require(id)).lastUsedAt;
    await service.verify(token);
    expect(await lastUsed()).toBe(1_000_000);
    tick(59_000);
    expect((await service.verify(token))?.lastUsedAt).toBe(1_000_000);
    expect(await lastUsed()).toBe(1_000_000);
    tick(1000);
    await service.verify(token);
    expect(await lastUsed()).toBe(1_060_000);
  });

  it('validates role and name', async () => {
    const { service } = setup();
    // @ts-expect-error: not a role
    await expect(async () => service.create('root', 'x')).rejects.toThrow(
      "role 'root' must be one of sensor, operator, admin",
    );
    await expect(async () => service.create('admin', '   ')).rejects.toThrow(
      'token name must be 1-100 characters, got "   "',
    );
  });

  it('creates the first admin only when there are no tokens', async () => {
    const { service } = setup();
    const secret = await service.ensureAdmin();
    expect(secret).toMatch(/^hark_/);
    expect(await service.verify(secret)).toMatchObject({ role: 'admin', name: 'first admin' });
    expect(await service.ensureAdmin()).toBeNull();
  });
});

describe('TokenService: sensor tokens bound to sensor ids', () => {
  it('binds a token to the ids given at creation, checking them', async () => {
    const { store } = tempStore();
    const service = new TokenService(store.tokens);
    const t = await service.create('sensor', 'line A', ['pump-1', 'pump-2', 'pump-1']);
    expect(t.sensors).toEqual(['pump-1', 'pump-2']);
    expect(await service.streamAs(t, 'pump-2')).toBeNull();
    expect(await service.streamAs(t, 'pump-3')).toBe(
      "token 'line A' is bound to sensors pump-1, pump-2: it cannot stream as 'pump-3' (create a token for it: hark token create --role sensor --sensor pump-3)",
    );
    await expect(async () => service.create('sensor', 'x', ['..'])).rejects.toThrow(
      `sensors: ".." must be 1-64 characters`,
    );
    await expect(async () => service.create('sensor', 'x', [])).rejects.toThrow(
      'sensors must list 1 to 16 sensor ids',
    );
    await expect(async () => service.create('operator', 'x', ['pump-1'])).rejects.toThrow(
      'sensors bind sensor tokens only; a operator token takes none',
    );
  });

  it('binds an unbound token to the first id it streams as, for good (the database keeps it)', async () => {
    const { store } = tempStore();
    const service = new TokenService(store.tokens);
    const t = await service.create('sensor', 'box');
    expect(t.sensors).toBeNull();
    expect(await service.streamAs(t, 'fan-1')).toBeNull();
    // The caller's copy is stale (still unbound): the stored binding decides.
    expect(await service.streamAs(t, 'fan-2')).toMatch(/bound to sensor fan-1: it cannot stream as 'fan-2'/);
    expect((await service.list()).find((x) => x.id === t.id)?.sensors).toEqual(['fan-1']);
    expect(await service.streamAs((await service.verify(t.token))!, 'fan-1')).toBeNull();
  });

  it('lets admin tokens stream as any sensor and no operator token stream at all', async () => {
    const { store } = tempStore();
    const service = new TokenService(store.tokens);
    expect(await service.streamAs(await service.create('admin', 'root'), 'any-1')).toBeNull();
    expect(await service.streamAs(await service.create('operator', 'ana'), 'any-1')).toBe(
      'a operator token cannot stream audio; use a sensor token',
    );
  });

  it('refuses to stream when the binding of an unbound token cannot be stored', async () => {
    const { store } = tempStore();
    const service = new TokenService(store.tokens, { health: store.health });
    const t = await service.create('sensor', 'box');
    store.database.sqlite.pragma('query_only = ON');
    expect(await service.streamAs(t, 'fan-1')).toMatch(
      /^token 'box' is not bound to a sensor yet and the binding to 'fan-1' cannot be stored/,
    );
    store.database.sqlite.pragma('query_only = OFF');
    expect(await service.streamAs(t, 'fan-1')).toBeNull();
  });
});
