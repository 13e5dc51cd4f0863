import { describe, expect, it } from 'vitest';
import { Api, HttpError } from '../src/lib/api';
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
    expect(calls.map((c) => `${c.init?.method} ${c.url}`)).toEqual([
      'POST /api/alerts/3/annotations',
      'GET /api/alerts?sensorId=pump-1&state=open&limit=25&offset=50',
      'POST /api/sensors/pump%201/snooze',
      'POST /api/alerts/3/false-alarm',
    ]);
    const headers = calls[0].init?.headers as Record<string, string>;
    expect(headers.Authorization).toBe('Bearer secret');
    expect(JSON.parse(calls[0].init?.body as string)).toEqual({ label: 'maintenance', text: 'belt changed' });
    expect(JSON.parse(calls[3].init?.body as string)).toEqual({ teach: true });
    expect(api.audioUrl(3)).toBe('/api/alerts/3/audio?token=secret');
  });

  it('builds the export links with the list filters (no paging) and the token', () => {
    const api = new Api('s e', undefined);
    expect(api.alertsCsvUrl({ sensorId: 'pump-1', state: 'open', from: 5, limit: 25, offset: 50 })).toBe(
      '/api/export/alerts.csv?sensorId=pump-1&state=open&from=5&token=s+e',
    );
    expect(api.bundleUrl(7)).toBe('/api/export/alerts/7/bundle.zip?token=s%20e');
    expect(api.shiftReportUrl(1, 2, 'Europe/Berlin')).toBe(
      '/api/export/shift-report?from=1&to=2&tz=Europe%2FBerlin&token=s+e',
    );
  });

  it('turns API errors into HttpError with the server message', async () => {
    const { fn } = fakeFetch(404, { statusCode: 404, error: 'Not Found', message: 'alert 9 not found' });
    const err = await new Api('t', fn).alert(9).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(404);
    expect((err as HttpError).message).toBe('GET /api/alerts/9: 404 alert 9 not found');
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
