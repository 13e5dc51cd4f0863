import { describe, expect, it } from 'vitest';
import { Api, errorText, HttpError } from '../src/lib/api';
import { createSession } from '../src/stores/session';

function fakeFetch(status: number, body: unknown) {
  const calls: { url: string; init?: RequestInit }[] = [];
  const fn = async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    return new Response(body === undefined ? '' : JSON.stringify(body), { status });
  };
  return { fn, calls };
}

describe('REST client', () => {
  it('sends the bearer token and JSON bodies to the contract paths', async () => {
    const { fn, calls } = fakeFetch(200, { id: 3 });
    const api = new Api('secret', fn);
    await api.annotate(3, 'maintenance', 'belt changed');
    await api.alerts({ sensorId: 'pump-1', state: 'open', limit: 25, offset: 50 });
    await api.snooze('pump 1', 900);
    await api.falseAlarm(3, true);
    await api.deleteSensor('pump 1');
    await api.deleteSensor('test-9', true);
    expect(calls.map((c) => `${c.init?.method} ${c.url}`)).toEqual([
      'POST /api/alerts/3/annotations',
      'GET /api/alerts?sensorId=pump-1&state=open&limit=25&offset=50',
      'POST /api/sensors/pump%201/snooze',
      'POST /api/alerts/3/false-alarm',
      'DELETE /api/sensors/pump%201',
      'DELETE /api/sensors/test-9?purge=true',
    ]);
    const headers = calls[0].init?.headers as Record<string, string>;
    expect(headers.Authorization).toBe('Bearer secret');
    expect(JSON.parse(calls[0].init?.body as string)).toEqual({ label: 'maintenance', text: 'belt changed' });
    expect(JSON.parse(calls[3].init?.body as string)).toEqual({ teach: true });
  });

  it('gets media URLs with tickets, never the token in a URL', async () => {
    const urls = {
      alertId: 3,
      expiresAt: 1,
      audio: '/api/alerts/3/audio?ticket=t1',
      picture: '/api/alerts/3/picture?ticket=t2',
      spectrogram: '/api/alerts/3/spectrogram?ticket=t3',
    };
    const { fn, calls } = fakeFetch(200, urls);
    const got = await new Api('secret', fn).mediaUrls(3);
    expect(calls.map((c) => `${c.init?.method} ${c.url}`)).toEqual(['POST /api/alerts/3/media-tickets']);
    expect(got).toEqual(urls);
    expect(JSON.stringify(got)).not.toContain('secret');
  });

  it('builds the export paths with the list filters (no paging) and never a token', () => {
    const api = new Api('s e', undefined);
    expect(api.alertsCsvPath({ sensorId: 'pump-1', state: 'open', from: 5, limit: 25, offset: 50 })).toBe(
      '/api/export/alerts.csv?sensorId=pump-1&state=open&from=5',
    );
    expect(api.bundlePath(7)).toBe('/api/export/alerts/7/bundle.zip');
    expect(api.shiftReportPath(1, 2, 'Europe/Berlin')).toBe(
      '/api/export/shift-report?from=1&to=2&tz=Europe%2FBerlin',
    );
  });

  it('downloads with the token in the header and takes the file name from Content-Disposition', async () => {
    const calls: { url: string; init?: RequestInit }[] = [];
    const fn = async (url: string, init?: RequestInit) => {
      calls.push({ url, init });
      return new Response('a,b\r\n', {
        status: 200,
        headers: { 'Content-Disposition': 'attachment; filename="hark-alerts-20261204-1200.csv"' },
      });
    };
    const got = await new Api('secret', fn).download('/api/export/alerts.csv?state=open');
    expect(calls[0].url).toBe('/api/export/alerts.csv?state=open');
    expect((calls[0].init?.headers as Record<string, string>).Authorization).toBe('Bearer secret');
    expect(got.filename).toBe('hark-alerts-20261204-1200.csv');
    expect(await got.blob.text()).toBe('a,b\r\n');
    const { fn: refused } = fakeFetch(401, {
      statusCode: 401,
      error: 'Unauthorized',
      message: 'token revoked',
    });
    await expect(new Api('t', refused).download('/api/export/alerts/7/bundle.zip')).rejects.toThrow(
      'GET /api/export/alerts/7/bundle.zip: 401 token revoked',
    );
  });

  it('turns API errors into HttpError with the server message', async () => {
    const { fn } = fakeFetch(404, { statusCode: 404, error: 'Not Found', message: 'alert 9 not found' });
    const err = await new Api('t', fn).alert(9).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(404);
    expect((err as HttpError).message).toBe('GET /api/alerts/9: 404 alert 9 not found');
  });

  it('reads the health without failing on a degraded answer (200)', async () => {
    const body = {
      status: 'degraded',
      storage: { reason: 'storage unreachable' },
      cluster: { redis: 'off' },
    };
    const { fn, calls } = fakeFetch(200, body);
    expect(await new Api('t', fn).health()).toEqual(body);
    expect(calls.map((c) => `${c.init?.method} ${c.url}`)).toEqual(['GET /api/health']);
  });

  it('a 503 says in plain words that nothing was applied and when to retry, and tells its listeners', async () => {
    // The server's answer while PostgreSQL is down (apps/server/src/http/error.filter.ts).
    const body = {
      statusCode: 503,
      error: 'Service Unavailable',
      message:
        'the database cannot be reached (connect ECONNREFUSED 127.0.0.1:5432); nothing was changed: try again ' +
        'in a few seconds (Retry-After), once GET /api/health says storage.writable',
    };
    const fn = async () =>
      new Response(JSON.stringify(body), { status: 503, headers: { 'Retry-After': '5' } });
    const api = new Api('t', fn);
    const heard: string[] = [];
    const off = api.onUnavailable((e, method) => heard.push(`${method} ${e.retryAfter}`));
    const ack = (await api.ack(3).catch((e: unknown) => e)) as HttpError;
    expect(ack).toBeInstanceOf(HttpError);
    expect(ack).toMatchObject({ status: 503, retryAfter: 5, body });
    expect(ack.message).toBe(
      'Not applied: the server cannot store changes right now, so nothing was changed (see the notice at the ' +
        'top). Retry in 5 s.',
    );
    // Views that show the server's own words show these instead.
    expect(errorText(ack)).toBe(ack.message);
    const read = (await api.alerts({ limit: 25, offset: 0 }).catch((e: unknown) => e)) as HttpError;
    expect(read.message).toBe(
      'Could not load: the server cannot read its storage right now (see the notice at the top). Retry in 5 s.',
    );
    expect(heard).toEqual(['POST 5', 'GET 5']);
    off();
    await api.resolve(3).catch(() => undefined);
    expect(heard).toHaveLength(2);
    // Without Retry-After: no number is made up.
    const bare = async () => new Response(JSON.stringify(body), { status: 503 });
    const e = (await new Api('t', bare).ack(3).catch((x: unknown) => x)) as HttpError;
    expect(e.retryAfter).toBeNull();
    expect(e.message).toMatch(/Retry in a few seconds\.$/);
  });
});

describe('session', () => {
  function memoryStorage() {
    const m = new Map<string, string>();
    return {
      getItem: (k: string) => m.get(k) ?? null,
      setItem: (k: string, v: string) => void m.set(k, v),
      removeItem: (k: string) => void m.delete(k),
    };
  }

  it('keeps a token the server accepts, and forgets it on sign-out', async () => {
    const storage = memoryStorage();
    const session = createSession(
      storage,
      (token) => new Api(token, fakeFetch(200, { name: 'ops', role: 'operator' }).fn),
    );
    expect(await session.signIn('  tok  ')).toBe(true);
    expect(session.state.me).toEqual({ name: 'ops', role: 'operator' });
    expect(session.storedToken()).toBe('tok');
    session.signOut();
    expect(session.storedToken()).toBeNull();
    expect(session.state.token).toBeNull();
  });

  it('refuses unknown tokens and sensor tokens with a message', async () => {
    const bad = createSession(
      memoryStorage(),
      (t) => new Api(t, fakeFetch(401, { statusCode: 401, error: 'Unauthorized', message: 'bad token' }).fn),
    );
    expect(await bad.signIn('x')).toBe(false);
    expect(bad.state.error).toMatch(/does not know this token/);
    const sensorToken = createSession(
      memoryStorage(),
      (t) => new Api(t, fakeFetch(200, { name: 's', role: 'sensor' }).fn),
    );
    expect(await sensorToken.signIn('x')).toBe(false);
    expect(sensorToken.state.error).toMatch(/sensor token/);
  });
});
