/**
 * The role matrix (issue 18, "a reliability suite that stays"): every route of the served OpenAPI document,
 * called with every credential a client can hold, answers the status written in ONE table, `MATRIX`.
 *
 * - The routes come from the real server's `/api/docs-json`: a route there without a row fails, and so does a
 *   row without a route (a route renamed or removed).
 * - Credentials: no token, a revoked admin token, and real `sensor`, `operator` and `admin` tokens
 *   (`ROLES` of @hark/protocol; the test fails if a role is added without a column).
 * - Each call gets a fresh, valid request from its row (a new open alert to acknowledge, a new token to
 *   revoke...), so an allowed role reaches the route's own logic. Where the route then answers a documented
 *   4xx (a model that is not there, a clip too short to fit), the row says so; 401 and 403 only ever come
 *   from the credential. Every status in the table must be one the OpenAPI document lists for the route.
 * - The socket.io namespaces `/sensor` and `/live` are in the table too: their handshakes check tokens alike.
 *
 * When a route is added, add its row here: its key is `METHOD /path` exactly as in the OpenAPI document.
 */
import { encodeWav } from '@hark/dsp';
import { ROLES, type Alert, type Page, type Role } from '@hark/protocol';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TestSensor } from '../support/sensor.js';
import { sleep, startServer, type TestServer } from '../support/server.js';

/** A credential: a role's token, a revoked admin token, or none at all. */
type Credential = 'none' | 'revoked' | Role;
const CREDENTIALS: readonly Credential[] = ['none', 'revoked', 'sensor', 'operator', 'admin'];

type HttpExpect = Record<Credential, number>;
type SocketExpect = Record<Credential, 'connects' | 'refused'>;

/** What the test holds to build requests: the server, a streaming sensor's id, alerts to act on. */
interface Fixture {
  s: TestServer;
  sensorId: string;
  /** A closed silence alert of `sensorId` with its clip kept (for reads and media). */
  alertId: number;
  /** A fresh open alert of `sensorId`, never handed out before. */
  freshAlert(): number;
}

interface HttpRequest {
  /** Values of the path's `{name}` parameters. */
  params?: Record<string, string | number>;
  query?: string;
  json?: unknown;
  form?: FormData;
}

type Row =
  | { expect: HttpExpect; request: (f: Fixture) => HttpRequest | Promise<HttpRequest> }
  | { expect: SocketExpect; socket: '/sensor' | '/live' };

/** Open to anyone (no token needed). */
const open = (ok: number): HttpExpect => ({ none: ok, revoked: ok, sensor: ok, operator: ok, admin: ok });
/** Operators and admins; sensor tokens only stream. */
const operatorUp = (ok: number): HttpExpect => ({
  none: 401,
  revoked: 401,
  sensor: 403,
  operator: ok,
  admin: ok,
});
const adminOnly = (ok: number): HttpExpect => ({ ...operatorUp(ok), operator: 403 });

/**
 * Enough clips for a fit (7), each a WAV of 2 s at 4 kHz: the upload is refused as unusable (422, below the
 * 8 kHz hark needs) after the role check and the multipart parsing, and no fit starts.
 */
function lowRateUpload(): FormData {
  const form = new FormData();
  const samples = new Float32Array(8000).map(() => (Math.random() * 2 - 1) * 0.3);
  for (let i = 0; i < 7; i++)
    form.append('files', new Blob([encodeWav(samples, 4000)], { type: 'audio/wav' }), `clip-${i}.wav`);
  return form;
}

/** Sensors made for `DELETE /api/sensors/{id}` so far. */
let deleted = 0;

/** The one table: every route and namespace, every credential, the expected answer. */
const MATRIX: Record<string, Row> = {
  'GET /api/health': { expect: open(200), request: () => ({}) },
  'GET /metrics': { expect: open(200), request: () => ({}) },
  'GET /api/me': { expect: operatorUp(200), request: () => ({}) },

  'GET /api/sensors': { expect: operatorUp(200), request: () => ({}) },
  'GET /api/assets': { expect: operatorUp(200), request: () => ({}) },
  'GET /api/sensors/{id}': { expect: operatorUp(200), request: (f) => ({ params: { id: f.sensorId } }) },
  'PATCH /api/sensors/{id}': {
    expect: adminOnly(200),
    request: (f) => ({ params: { id: f.sensorId }, json: { name: 'Mic one', labels: { line: 'A' } } }),
  },
  'DELETE /api/sensors/{id}': {
    // A new stored sensor each call: the one that streams for the other rows stays.
    expect: adminOnly(204),
    request: (f) => {
      const id = `gone-${++deleted}`;
      f.s.server.store.sensors.upsert(id, Date.now());
      return { params: { id } };
    },
  },
  'GET /api/sensors/{id}/scores': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.sensorId }, query: 'limit=10' }),
  },
  'GET /api/sensors/{id}/history': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.sensorId }, query: 'maxColumns=10' }),
  },
  'GET /api/sensors/{id}/trends': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.sensorId }, query: 'days=3' }),
  },
  'POST /api/sensors/{id}/snooze': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.sensorId }, json: { seconds: 60 } }),
  },
  'DELETE /api/sensors/{id}/snooze': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.sensorId } }),
  },

  'GET /api/sensors/{id}/model': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.sensorId } }),
  },
  // Past the role check the clips are refused as unusable (422): the route's own answer.
  'POST /api/sensors/{id}/model': {
    expect: adminOnly(422),
    request: (f) => ({ params: { id: f.sensorId }, form: lowRateUpload() }),
  },
  // The sensor streams: recording starts (202); it stops when the sensor disconnects at the end.
  'POST /api/sensors/{id}/enroll': {
    expect: adminOnly(202),
    request: (f) => ({ params: { id: f.sensorId }, json: { seconds: 3600 } }),
  },
  'GET /api/sensors/{id}/models': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.sensorId } }),
  },
  // The sensor has no model version 999999: 404 (versions themselves: test/server/model-versions.test.ts).
  'POST /api/sensors/{id}/models/{version}/activate': {
    expect: adminOnly(404),
    request: (f) => ({ params: { id: f.sensorId, version: 999999 } }),
  },
  'POST /api/sensors/{id}/models/{version}/discard': {
    expect: adminOnly(404),
    request: (f) => ({ params: { id: f.sensorId, version: 999999 } }),
  },
  // Version 999999 has no burn-in: 404; a restart is refused as it is not the active version (409). The
  // burn-in itself: test/server/burn-in.test.ts.
  'GET /api/sensors/{id}/models/{version}/burn-in': {
    expect: operatorUp(404),
    request: (f) => ({ params: { id: f.sensorId, version: 999999 } }),
  },
  'POST /api/sensors/{id}/models/{version}/burn-in/revert': {
    expect: adminOnly(404),
    request: (f) => ({ params: { id: f.sensorId, version: 999999 } }),
  },
  'POST /api/sensors/{id}/models/{version}/burn-in/restart': {
    expect: adminOnly(409),
    request: (f) => ({ params: { id: f.sensorId, version: 999999 } }),
  },
  'GET /api/sensors/{id}/feedback': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.sensorId } }),
  },
  // The sensor has no model to teach: 409 (teaching itself is tested in test/server/models.test.ts).
  'POST /api/sensors/{id}/feedback': {
    expect: adminOnly(409),
    request: (f) => ({ params: { id: f.sensorId }, json: { alertId: f.alertId } }),
  },
  'DELETE /api/sensors/{id}/feedback/{feedbackId}': {
    expect: adminOnly(404),
    request: (f) => ({ params: { id: f.sensorId, feedbackId: 999999 } }),
  },

  'GET /api/alerts': { expect: operatorUp(200), request: (f) => ({ query: `sensorId=${f.sensorId}` }) },
  'GET /api/alerts/{id}': { expect: operatorUp(200), request: (f) => ({ params: { id: f.alertId } }) },
  'GET /api/alerts/{id}/neighbours': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.alertId }, query: 'state=open&sort=peakScore' }),
  },
  'GET /api/alerts/{id}/actions': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.alertId } }),
  },
  // Bulk steps: an unknown id is skipped with its reason (200), after the role check; nothing changes.
  'POST /api/alerts/ack': { expect: operatorUp(200), request: () => ({ json: { ids: [999999] } }) },
  'POST /api/alerts/resolve': { expect: operatorUp(200), request: () => ({ json: { ids: [999999] } }) },
  'POST /api/alerts/{id}/ack': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.freshAlert() } }),
  },
  'POST /api/alerts/{id}/resolve': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.freshAlert() } }),
  },
  'POST /api/alerts/{id}/annotations': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.alertId }, json: { label: 'maintenance', text: 'belt changed' } }),
  },
  'POST /api/alerts/{id}/false-alarm': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.freshAlert() }, json: { teach: false, text: 'door slam' } }),
  },
  'POST /api/alerts/{id}/media-tickets': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.alertId } }),
  },
  'GET /api/alerts/{id}/audio': { expect: operatorUp(200), request: (f) => ({ params: { id: f.alertId } }) },
  'GET /api/alerts/{id}/picture': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.alertId }, query: 'kind=overlay' }),
  },
  'GET /api/alerts/{id}/spectrogram': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.alertId } }),
  },

  'GET /api/tokens': { expect: adminOnly(200), request: () => ({}) },
  'POST /api/tokens': {
    expect: adminOnly(201),
    request: () => ({ json: { role: 'operator', name: `op-${Math.random().toString(36).slice(2, 8)}` } }),
  },
  'DELETE /api/tokens/{id}': {
    expect: adminOnly(200),
    request: async (f) => ({
      params: { id: (await f.s.api<{ id: number }>('/api/tokens', tokenBody('operator'))).id },
    }),
  },

  // Notification channels and rules hold addresses and secrets: admin only. Deliveries: operators too.
  'GET /api/notifications/channels': { expect: adminOnly(200), request: () => ({}) },
  'POST /api/notifications/channels': { expect: adminOnly(201), request: () => ({ json: channelBody() }) },
  'GET /api/notifications/channels/{id}': {
    expect: adminOnly(200),
    request: async (f) => ({ params: { id: await newChannel(f) } }),
  },
  'PATCH /api/notifications/channels/{id}': {
    expect: adminOnly(200),
    request: async (f) => ({ params: { id: await newChannel(f) }, json: { enabled: false } }),
  },
  'DELETE /api/notifications/channels/{id}': {
    expect: adminOnly(200),
    request: async (f) => ({ params: { id: await newChannel(f) } }),
  },
  // One attempt to a port nothing listens on: answered 200 with ok: false and the error.
  'POST /api/notifications/channels/{id}/test': {
    expect: adminOnly(200),
    request: async (f) => ({ params: { id: await newChannel(f) } }),
  },
  'GET /api/notifications/rules': { expect: adminOnly(200), request: () => ({}) },
  'POST /api/notifications/rules': {
    expect: adminOnly(201),
    request: async (f) => ({ json: { name: 'rule', channelId: await newChannel(f), sensorIds: ['nobody'] } }),
  },
  'GET /api/notifications/rules/{id}': {
    expect: adminOnly(200),
    request: async (f) => ({ params: { id: await newRule(f) } }),
  },
  'PATCH /api/notifications/rules/{id}': {
    expect: adminOnly(200),
    request: async (f) => ({ params: { id: await newRule(f) }, json: { severities: ['critical'] } }),
  },
  'DELETE /api/notifications/rules/{id}': {
    expect: adminOnly(200),
    request: async (f) => ({ params: { id: await newRule(f) } }),
  },
  'GET /api/notifications/deliveries': {
    expect: operatorUp(200),
    request: (f) => ({ query: `alertId=${f.alertId}` }),
  },

  // Exports: downloads for operators (links may carry ?token=, as media URLs).
  'GET /api/export/alerts.csv': {
    expect: operatorUp(200),
    request: (f) => ({ query: `sensorId=${f.sensorId}&state=open` }),
  },
  'GET /api/export/alerts/{id}/bundle.zip': {
    expect: operatorUp(200),
    request: (f) => ({ params: { id: f.alertId } }),
  },
  'GET /api/export/shift-report': { expect: operatorUp(200), request: () => ({ query: 'tz=UTC' }) },

  // Handshakes: sensors stream with sensor (bound) or admin tokens; dashboards need operator or above.
  'SOCKET /sensor': {
    socket: '/sensor',
    expect: {
      none: 'refused',
      revoked: 'refused',
      sensor: 'connects',
      operator: 'refused',
      admin: 'connects',
    },
  },
  'SOCKET /live': {
    socket: '/live',
    expect: {
      none: 'refused',
      revoked: 'refused',
      sensor: 'refused',
      operator: 'connects',
      admin: 'connects',
    },
  },
};

/** A webhook channel (to a port nothing listens on) with a name of its own. */
const channelBody = () => ({
  name: `hook-${Math.random().toString(36).slice(2, 10)}`,
  kind: 'webhook',
  config: { url: 'http://127.0.0.1:65535/hook', secret: 'matrix-secret' },
});
const newChannel = async (f: Fixture) =>
  (
    await f.s.api<{ id: number }>('/api/notifications/channels', {
      method: 'POST',
      body: JSON.stringify(channelBody()),
    })
  ).id;
const newRule = async (f: Fixture) =>
  (
    await f.s.api<{ id: number }>('/api/notifications/rules', {
      method: 'POST',
      body: JSON.stringify({ name: 'rule', channelId: await newChannel(f), sensorIds: ['nobody'] }),
    })
  ).id;

const tokenBody = (role: Role, extra: Record<string, unknown> = {}) => ({
  method: 'POST',
  body: JSON.stringify({ role, name: `${role}-${Math.random().toString(36).slice(2, 8)}`, ...extra }),
});

/** Sensor ids: the fixture's streamer, and the one the socket rows connect as. */
const STREAMER = 'mic-1';
const SOCKET_SENSOR = 'mic-2';
/** Alerts handed out fresh: two routes (ack, resolve, false-alarm) x five credentials, and spare. */
const FRESH_ALERTS = 16;

type OpenApi = { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
const METHODS = new Set(['get', 'put', 'post', 'patch', 'delete', 'head', 'options']);

describe('role matrix: every route x every credential', () => {
  let s: TestServer;
  let doc: OpenApi;
  const secrets: Partial<Record<Credential, string>> = {};
  const fixture = {} as Fixture;
  let streamer: TestSensor | null = null;

  beforeAll(async () => {
    // Silence alerts after 1 s of silence make alerts to act on without a model.
    s = await startServer({
      silenceSeconds: 1,
      clipPreSeconds: 0.5,
      clipPostSeconds: 0.5,
      dashboardDir: null,
    });
    doc = (await (await fetch(`${s.url}/api/docs-json`)).json()) as OpenApi;
    secrets.admin = s.admin;
    secrets.operator = await s.token('operator');
    secrets.sensor = (
      await s.api<{ token: string }>(
        '/api/tokens',
        tokenBody('sensor', { sensors: [STREAMER, SOCKET_SENSOR] }),
      )
    ).token;
    const doomed = await s.api<{ id: number; token: string }>('/api/tokens', tokenBody('admin'));
    await s.api(`/api/tokens/${doomed.id}`, { method: 'DELETE' });
    secrets.revoked = doomed.token;

    // Alerts to act on: silence alerts, made by four sensors at once (the first is the fixture's streamer);
    // a disconnect writes their clips.
    const ids = [STREAMER, 'mic-3', 'mic-4', 'mic-5'];
    const makers = await Promise.all(
      ids.map((id) => TestSensor.open(s.url, id === STREAMER ? (secrets.sensor as string) : s.admin, id)),
    );
    const perSensor = Math.ceil((FRESH_ALERTS + 1) / ids.length);
    await Promise.all(
      makers.map(async (m) => {
        for (let i = 0; i < perSensor; i++) await m.silenceAlert();
        m.close();
      }),
    );
    const until = Date.now() + 30_000;
    let alerts: Alert[] = [];
    while (Date.now() < until) {
      alerts = (await s.api<Page<Alert>>('/api/alerts?limit=100')).items;
      if (alerts.length >= perSensor * ids.length && alerts.every((a) => a.clip.available)) break;
      await sleep(100);
    }
    expect(alerts.length).toBeGreaterThanOrEqual(perSensor * ids.length);
    expect(alerts.every((a) => a.state === 'open' && !a.active && a.clip.available)).toBe(true);
    const pool = alerts.map((a) => a.id).sort((a, b) => a - b);
    fixture.s = s;
    fixture.sensorId = STREAMER;
    fixture.alertId = (alerts.find((a) => a.sensorId === STREAMER) as Alert).id;
    pool.splice(pool.indexOf(fixture.alertId), 1);
    fixture.freshAlert = () => {
      const id = pool.shift();
      if (id === undefined)
        throw new Error(`more than ${FRESH_ALERTS} fresh alerts asked for: raise FRESH_ALERTS`);
      return id;
    };
    streamer = await TestSensor.open(s.url, secrets.sensor, STREAMER);
    await streamer.stream(0.5, 0.3);
  }, 120_000);

  afterAll(async () => {
    streamer?.close();
    await s?.close();
  });

  test('every role of @hark/protocol has a column', () => {
    for (const role of ROLES) expect(CREDENTIALS).toContain(role);
  });

  test('every route of the OpenAPI document has a row, and every row a route', () => {
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => METHODS.has(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    const rows = Object.keys(MATRIX).filter((k) => !k.startsWith('SOCKET '));
    const missing = routes.filter((r) => !(r in MATRIX));
    const stale = rows.filter((r) => !routes.includes(r));
    expect(missing, 'routes without a row in MATRIX (test/server/role-matrix.test.ts): add them').toEqual([]);
    expect(stale, 'rows of MATRIX whose route is not in the OpenAPI document').toEqual([]);
  });

  test('every expected status is one the OpenAPI document lists for the route', () => {
    const undocumented: string[] = [];
    for (const [key, row] of Object.entries(MATRIX)) {
      if ('socket' in row) continue;
      const [method, path] = key.split(' ');
      const documented = Object.keys(doc.paths[path]?.[method.toLowerCase()]?.responses ?? {});
      for (const status of new Set(Object.values(row.expect)))
        if (!documented.includes(String(status))) undocumented.push(`${key} ${status}`);
    }
    expect(undocumented).toEqual([]);
  });

  describe.each(Object.entries(MATRIX))('%s', (key, row) => {
    test.each(CREDENTIALS)('with credential %s', async (credential) => {
      const secret = secrets[credential];
      if ('socket' in row) {
        const outcome = await handshake(s.url, row.socket, secret);
        expect(outcome.result, outcome.message).toBe(row.expect[credential]);
        return;
      }
      const [method, template] = key.split(' ');
      const req = await row.request(fixture);
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
        const value = req.params?.[name];
        if (value === undefined) throw new Error(`row ${key} gave no value for {${name}}`);
        return encodeURIComponent(String(value));
      });
      const headers = new Headers();
      if (secret) headers.set('authorization', `Bearer ${secret}`);
      if (req.json !== undefined) headers.set('content-type', 'application/json');
      const res = await fetch(`${s.url}${path}${req.query ? `?${req.query}` : ''}`, {
        method,
        headers,
        body: req.form ?? (req.json === undefined ? undefined : JSON.stringify(req.json)),
      });
      const text = await res.text();
      expect(res.status, `${method} ${path} as ${credential}: ${text.slice(0, 300)}`).toBe(
        row.expect[credential],
      );
      if (res.status >= 400) {
        // Refusals are ApiError JSON that says why.
        const body = JSON.parse(text) as { statusCode: number; message: string };
        expect(body.statusCode).toBe(res.status);
        expect(body.message.length).toBeGreaterThan(0);
      }
    });
  });
});

/** Opens a socket.io connection to `namespace` with `token` (none when undefined), then closes it. */
async function handshake(
  url: string,
  namespace: string,
  token: string | undefined,
): Promise<{ result: 'connects' | 'refused'; message: string }> {
  const auth: Record<string, string> = {};
  if (token) auth.token = token;
  if (namespace === '/sensor') auth.sensorId = SOCKET_SENSOR;
  const c = io(`${url}${namespace}`, { auth, transports: ['websocket'], reconnection: false });
  try {
    return await new Promise((resolve) => {
      c.once('connect', () => resolve({ result: 'connects', message: 'connected' }));
      c.once('connect_error', (err) => resolve({ result: 'refused', message: err.message }));
    });
  } finally {
    c.close();
  }
}
