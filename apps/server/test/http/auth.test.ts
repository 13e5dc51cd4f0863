import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, CreatedToken, Me, TokenInfo } from '@hark/protocol';
import { startHarness, type Harness } from './harness.js';

describe('REST auth and tokens', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('answers 401 JSON without a token, with a bad one, or with a malformed header', async () => {
    const none = await h.call<ApiError>('/api/me', { token: null });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: "missing token: send 'Authorization: Bearer <token>'",
    });
    const bad = await h.call<ApiError>('/api/me', { token: 'hark_nope' });
    expect(bad.status).toBe(401);
    expect(bad.body.message).toBe('invalid or revoked token');
    const basic = await h.call<ApiError>('/api/me', { token: null, headers: { authorization: 'Basic abc' } });
    expect(basic.status).toBe(401);
    expect(basic.body.message).toMatch(/malformed Authorization header/);
  });

  it('tells the caller who they are', async () => {
    const me = await h.call<Me>('/api/me', { token: h.operator });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ name: 'olga', role: 'operator' });
    expect((await h.call<Me>('/api/me')).body).toEqual({ name: 'alice', role: 'admin' });
  });

  it('refuses a token in the URL on every route, even with a good header (L5)', async () => {
    const alert = await h.alert();
    for (const path of [
      '/api/me',
      '/api/tokens',
      '/api/alerts',
      `/api/alerts/${alert.id}`,
      `/api/alerts/${alert.id}/audio`,
      `/api/alerts/${alert.id}/picture`,
      `/api/alerts/${alert.id}/spectrogram`,
    ]) {
      for (const header of [null, h.admin]) {
        const res = await h.call<ApiError>(`${path}?token=${h.admin}`, { token: header });
        expect(res.status, `${path} ${header ? 'with' : 'without'} a header`).toBe(401);
        expect(res.body.message).toMatch(
          /^tokens are not accepted in URLs \(they end up in logs and browser history\)/,
        );
      }
    }
    const media = await h.call<ApiError>(`/api/alerts/${alert.id}/audio?token=${h.admin}`, { token: null });
    expect(media.body.message).toContain(`or ?ticket= from POST /api/alerts/${alert.id}/media-tickets`);
  });

  it('answers 403 to an operator on admin routes and to a sensor token everywhere', async () => {
    const tokens = await h.call<ApiError>('/api/tokens', { token: h.operator });
    expect(tokens.status).toBe(403);
    expect(tokens.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: "token 'olga' has role operator; this needs admin",
    });
    await h.store.sensors.upsert('pump-1', 1);
    const patch = await h.call('/api/sensors/pump-1', {
      method: 'PATCH',
      token: h.operator,
      body: { name: 'x' },
    });
    expect(patch.status).toBe(403);
    for (const path of ['/api/me', '/api/sensors', '/api/alerts', '/api/tokens']) {
      const res = await h.call<ApiError>(path, { token: h.sensor });
      expect(res.status, path).toBe(403);
      expect(res.body.message).toBe("token 'pump' is a sensor token: it may only stream on /sensor");
    }
  });

  it('creates, lists and revokes tokens; a revoked token gets 401 at once', async () => {
    const created = await h.call<CreatedToken>('/api/tokens', {
      method: 'POST',
      body: { role: 'operator', name: '  night shift ' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'night shift', role: 'operator', revokedAt: null });
    expect(created.body.token).toMatch(/^hark_/);
    expect((await h.call<Me>('/api/me', { token: created.body.token })).body.name).toBe('night shift');

    const list = await h.call<TokenInfo[]>('/api/tokens');
    expect(list.body.map((t) => t.name)).toEqual(['alice', 'olga', 'pump', 'night shift']);
    expect(JSON.stringify(list.body)).not.toContain(created.body.token);

    const revoked = await h.call<TokenInfo>(`/api/tokens/${created.body.id}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(Number));
    expect((await h.call('/api/me', { token: created.body.token })).status).toBe(401);
  });

  it('validates new tokens and token ids', async () => {
    const role = await h.call<ApiError>('/api/tokens', { method: 'POST', body: { role: 'root', name: 'x' } });
    expect(role.status).toBe(400);
    expect(role.body.message).toBe("role ('root') must be one of 'sensor', 'operator', 'admin'");
    const name = await h.call<ApiError>('/api/tokens', { method: 'POST', body: { role: 'admin' } });
    expect(name.body.message).toBe('name (missing) must be a string of 1-100 characters');
    const id = await h.call<ApiError>('/api/tokens/abc', { method: 'DELETE' });
    expect(id.status).toBe(400);
    expect(id.body.message).toBe("token id ('abc') must be an integer >= 1");
    const unknown = await h.call<ApiError>('/api/tokens/999', { method: 'DELETE' });
    expect(unknown.status).toBe(404);
  });
});
