/**
 * Sensor ids that name folders (`.`, `..`, also sent as `%2e%2e`, which Express decodes) are refused at the
 * REST edge with 400, and nothing is written outside the data directory's folders. Raw `node:http` requests:
 * `fetch` would normalise `%2e%2e` away before sending.
 */
import { request } from 'node:http';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeWav } from '@hark/dsp';
import { startServer, type TestServer } from '../support/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startServer();
});
afterAll(() => s.close());

function raw(path: string, method: string, body?: { type: string; data: Buffer }) {
  return new Promise<{ status: number; body: { message?: string } }>((resolve, reject) => {
    const req = request(
      `${s.url}${path}`,
      {
        method,
        path,
        headers: {
          authorization: `Bearer ${s.admin}`,
          ...(body ? { 'content-type': body.type, 'content-length': body.data.length } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') }));
      },
    );
    req.on('error', reject);
    req.end(body?.data);
  });
}

/** Three 1.5 s WAVs as a multipart body. */
async function wavs() {
  const form = new FormData();
  const wav = encodeWav(
    new Float32Array(24000).map(() => Math.random() - 0.5),
    16000,
    'f32',
  );
  for (let i = 0; i < 3; i++) form.append('files', new Blob([wav]), `n${i}.wav`);
  const res = new Response(form);
  return { type: res.headers.get('content-type') as string, data: Buffer.from(await res.arrayBuffer()) };
}

describe('folder-like sensor ids in REST paths', () => {
  test.each(['%2e%2e', '%2E%2E', '%2e', '..%2e', '...'])(
    'an admin upload to /api/sensors/%s/model is refused with 400 and writes nothing',
    async (id) => {
      const before = readdirSync(s.server.config.dataDir).sort();
      const res = await raw(`/api/sensors/${id}/model`, 'POST', await wavs());
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/sensor id .* not only dots/);
      expect(readdirSync(s.server.config.dataDir).sort()).toEqual(before);
    },
  );

  test('reads and changes by such ids are refused too', async () => {
    for (const [method, path] of [
      ['GET', '/api/sensors/%2e%2e'],
      ['GET', '/api/sensors/%2e%2e/model'],
      ['POST', '/api/sensors/%2e/enroll'],
    ]) {
      const res = await raw(path, method);
      expect(res.status, `${method} ${path}`).toBe(400);
    }
  });
});

describe('uploaded WAVs below 8 kHz', () => {
  test('are refused with 422 naming the file (a 1 Hz header would make minutes of "audio")', async () => {
    const form = new FormData();
    const good = encodeWav(
      new Float32Array(24000).map(() => Math.random() - 0.5),
      16000,
      'f32',
    );
    // Enough clips for a fit, so the rate is what is refused.
    for (let i = 0; i < 12; i++) form.append('files', new Blob([good]), `n${i}.wav`);
    form.append('files', new Blob([encodeWav(new Float32Array(120), 1, 's16')]), 'one-hertz.wav');
    const res = await fetch(`${s.url}/api/sensors/pump-1/model`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.admin}` },
      body: form,
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toBe(
      'one-hertz.wav: sample rate 1 Hz is below the 8000 Hz hark needs; record or convert it at 8000 Hz or more (16 kHz is analysed)',
    );
    expect((await s.api<{ state: string }>('/api/sensors/pump-1/model')).state).toBe('none');
  });
});
