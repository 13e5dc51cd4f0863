import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '@hark/dsp';
import type { AlertSpectrogram, ApiError, MediaTicketUrls } from '@hark/protocol';
import { parseRange } from '../../src/http/index.js';
import { startHarness, type Harness } from './harness.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('parseRange', () => {
  it('reads single byte ranges and ignores what it does not serve', () => {
    expect(parseRange(undefined, 100)).toEqual({ kind: 'full' });
    expect(parseRange('bytes=0-9', 100)).toEqual({ kind: 'partial', start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(parseRange('bytes=90-200', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(parseRange('bytes=-500', 100)).toEqual({ kind: 'partial', start: 0, end: 99 });
    expect(parseRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('bytes=0-1,5-6', 100)).toEqual({ kind: 'full' });
    expect(parseRange('bytes=9-3', 100)).toEqual({ kind: 'full' });
    expect(parseRange('items=0-1', 100)).toEqual({ kind: 'full' });
  });
});

describe('REST alert media', () => {
  let h: Harness;
  let id: number;
  let bare: number;
  beforeAll(async () => {
    h = await startHarness();
    id = (await h.alert()).id;
    bare = (await h.alert()).id;
    const samples = Float32Array.from({ length: 16000 }, (_, i) => 0.5 * Math.sin(i / 10));
    await h.media.writeClip(id, samples, 16000);
    await h.store.alerts.setClip(id, { start: 0, seconds: 1 });
    const nFrames = 50;
    const nMels = 8;
    await h.media.writeSpectrogram(id, {
      t0: 1000,
      hopSeconds: 0.016,
      nFrames,
      nMels,
      melHz: Array.from({ length: nMels }, (_, i) => 100 * (i + 1)),
      dbRange: [-80, 0],
      anomalyScale: 4,
      spectrogram: Uint8Array.from({ length: nFrames * nMels }, (_, i) => (i % nMels) * 30),
      anomaly: Uint8Array.from({ length: nFrames * nMels }, (_, i) => (i > 200 ? 128 : 0)),
    });
  });
  afterAll(() => h.close());

  it('serves the clip as audio/wav, with a media ticket for <audio>', async () => {
    const urls = await h.call<MediaTicketUrls>(`/api/alerts/${id}/media-tickets`, {
      method: 'POST',
      token: h.operator,
    });
    expect(urls.status).toBe(200);
    const res = await h.call(urls.body.audio, { token: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.bytes.equals(await h.media.readClip(id))).toBe(true);
    expect(decodeWav(new Uint8Array(res.bytes), 'clip.wav').samples.length).toBe(16000);
  });

  it('answers byte ranges with 206 and Content-Range, and 416 outside the clip', async () => {
    const whole = await h.media.readClip(id);
    const part = await h.call(`/api/alerts/${id}/audio`, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${whole.length}`);
    expect(part.headers.get('content-length')).toBe('100');
    expect(part.bytes.equals(whole.subarray(100, 200))).toBe(true);
    const tail = await h.call(`/api/alerts/${id}/audio`, { headers: { range: 'bytes=-44' } });
    expect(tail.status).toBe(206);
    expect(tail.bytes.equals(whole.subarray(whole.length - 44))).toBe(true);
    const outside = await h.call<ApiError>(`/api/alerts/${id}/audio`, {
      headers: { range: `bytes=${whole.length}-` },
    });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${whole.length}`);
    expect(outside.body.statusCode).toBe(416);
  });

  it('renders pictures as PNG of each kind and rejects other kinds', async () => {
    for (const kind of ['spectrogram', 'anomaly', 'overlay']) {
      const res = await h.call(`/api/alerts/${id}/picture?kind=${kind}`);
      expect(res.status, kind).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    }
    expect((await h.call(`/api/alerts/${id}/picture`)).status).toBe(200);
    const bad = await h.call<ApiError>(`/api/alerts/${id}/picture?kind=rainbow`);
    expect(bad.body.message).toBe("kind ('rainbow') must be one of 'spectrogram', 'anomaly', 'overlay'");
  });

  it('serves the spectrogram as JSON', async () => {
    const res = await h.call<AlertSpectrogram>(`/api/alerts/${id}/spectrogram`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(await h.media.readSpectrogram(id));
    expect(res.body).toMatchObject({ alertId: id, nFrames: 50, nMels: 8 });
  });

  it('answers 404 JSON when the alert or its media is not there (yet)', async () => {
    const noClip = await h.call<ApiError>(`/api/alerts/${bare}/audio`);
    expect(noClip.status).toBe(404);
    expect(noClip.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: `alert ${bare} has no audio clip (yet)`,
    });
    expect((await h.call<ApiError>(`/api/alerts/${bare}/picture`)).body.message).toBe(
      `alert ${bare} has no spectrogram (yet)`,
    );
    expect((await h.call(`/api/alerts/${bare}/spectrogram`)).status).toBe(404);
    const unknown = await h.call<ApiError>('/api/alerts/4242/audio');
    expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'alert 4242 not found' });
    expect((await h.call(`/api/alerts/${id}/audio`, { token: null })).status).toBe(401);
  });
});

describe('media tickets (L5)', () => {
  let h: Harness;
  let a: number;
  let b: number;
  beforeAll(async () => {
    h = await startHarness();
    [a, b] = [(await h.alert('pump-1')).id, (await h.alert('pump-2')).id];
    for (const id of [a, b]) {
      await h.media.writeClip(id, new Float32Array(1600), 16000);
      await h.store.alerts.setClip(id, { start: 0, seconds: 0.1 });
    }
  });
  afterAll(() => h.close());

  const tickets = async (id: number, token = h.operator) =>
    (await h.call<MediaTicketUrls>(`/api/alerts/${id}/media-tickets`, { method: 'POST', token })).body;

  it('open their own route of their own alert until they expire, and nothing else', async () => {
    const t = await tickets(a);
    expect(t.alertId).toBe(a);
    expect(t.expiresAt - Date.now()).toBeGreaterThan(60_000);
    expect(t.audio).toMatch(new RegExp(`^/api/alerts/${a}/audio\\?ticket=`));
    expect((await h.call(t.audio, { token: null })).status).toBe(200);
    // Range requests (seeking) work under the same ticket.
    expect((await h.call(t.audio, { token: null, headers: { range: 'bytes=0-43' } })).status).toBe(206);
    const ticketOf = (url: string) => new URL(url, 'http://x').searchParams.get('ticket')!;
    // Another alert, another route: refused, saying why.
    const other = await h.call<ApiError>(`/api/alerts/${b}/audio?ticket=${ticketOf(t.audio)}`, {
      token: null,
    });
    expect(other.status).toBe(401);
    expect(other.body.message).toBe(`the ticket is for the audio of alert ${a}, not the audio of alert ${b}`);
    const route = await h.call<ApiError>(`/api/alerts/${a}/spectrogram?ticket=${ticketOf(t.audio)}`, {
      token: null,
    });
    expect(route.status).toBe(401);
    expect(route.body.message).toMatch(/not the spectrogram of alert/);
    // Not on any other route, not even of the same alert.
    for (const path of [`/api/alerts/${a}`, '/api/me', '/api/alerts'])
      expect((await h.call(`${path}?ticket=${ticketOf(t.audio)}`, { token: null })).status, path).toBe(401);
    // Tampered: the alert id changed in the ticket.
    const forged = ticketOf(t.audio).replace(/^\d+\./, `${b}.`);
    const bad = await h.call<ApiError>(`/api/alerts/${b}/audio?ticket=${forged}`, { token: null });
    expect(bad.body.message).toBe('the ticket is not valid (bad signature)');
    // Picture and spectrogram tickets open theirs.
    expect((await h.call(t.spectrogram, { token: null })).status).not.toBe(401);
    expect((await h.call(`${t.picture}&kind=spectrogram`, { token: null })).status).not.toBe(401);
    // Expired: a minute past its end.
    h.ticketClock.offset = t.expiresAt - Date.now() + 60_000;
    try {
      const late = await h.call<ApiError>(t.audio, { token: null });
      expect(late.status).toBe(401);
      expect(late.body.message).toMatch(
        /^the ticket expired at .*: ask for new ones \(POST \/api\/alerts\/\d+\/media-tickets\)$/,
      );
    } finally {
      h.ticketClock.offset = 0;
    }
    expect((await h.call(t.audio, { token: null })).status).toBe(200);
  });

  it('stop with the token that asked for them; a sensor token gets none', async () => {
    const created = await h.tokens.create('operator', 'short');
    const t = await tickets(a, created.token);
    expect((await h.call(t.audio, { token: null })).status).toBe(200);
    await h.tokens.revoke(created.id);
    const res = await h.call<ApiError>(t.audio, { token: null });
    expect(res.status).toBe(401);
    expect(res.body.message).toBe('the token that asked for this ticket was revoked');
    expect((await h.call(`/api/alerts/${a}/media-tickets`, { method: 'POST', token: h.sensor })).status).toBe(
      403,
    );
    expect((await h.call(`/api/alerts/999999/media-tickets`, { method: 'POST' })).status).toBe(404);
  });
});
