import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '@hark/dsp';
import type { Alert, ApiError, ModelStatus, ScorePoint, SensorStatus } from '@hark/protocol';
import type { FeedbackInfo } from '../../src/http/ports.js';
import { startHarness, type Harness } from './harness.js';

const wav = () => Buffer.from(encodeWav(new Float32Array(1600), 16000, 's16'));

describe('REST sensors and models', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.store.sensors.upsert('pump-1', 1000, { name: 'Pump 1', labels: { site: 'plant-1' } });
    await h.store.sensors.upsert('fan-2', 1000);
  });
  afterAll(() => h.close());

  it('lists sensors and gets one; unknown is 404, a bad id 400', async () => {
    const list = await h.call<SensorStatus[]>('/api/sensors', { token: h.operator });
    expect(list.body.map((s) => s.id)).toEqual(['fan-2', 'pump-1']);
    const one = await h.call<SensorStatus>('/api/sensors/pump-1', { token: h.operator });
    expect(one.body).toMatchObject({ id: 'pump-1', name: 'Pump 1', labels: { site: 'plant-1' } });
    const missing = await h.call<ApiError>('/api/sensors/nope');
    expect(missing.body).toEqual({ statusCode: 404, error: 'Not Found', message: "sensor 'nope' not found" });
    const bad = await h.call<ApiError>('/api/sensors/a%24b');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toBe("sensor id ('a$b') must be 1-64 characters of A-Z a-z 0-9 . _ -");
  });

  it('renames and relabels (admin), validating the body', async () => {
    const res = await h.call<SensorStatus>('/api/sensors/fan-2', {
      method: 'PATCH',
      body: { name: 'Fan 2', labels: { line: 'B' } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Fan 2', labels: { line: 'B' } });
    expect((await h.store.sensors.require('fan-2')).name).toBe('Fan 2');
    const bad = await h.call<ApiError>('/api/sensors/fan-2', {
      method: 'PATCH',
      body: { labels: { line: 3 } },
    });
    expect(bad.body.message).toBe('labels.line (3) must be a string of at most 200 characters');
    const empty = await h.call<ApiError>('/api/sensors/fan-2', { method: 'PATCH', body: { name: ' ' } });
    expect(empty.body.message).toBe("name (' ') must be a string of 1-100 characters");
  });

  it("sets a sensor's own severity thresholds, and null returns to the defaults", async () => {
    const patch = (body: unknown) =>
      h.call<SensorStatus & ApiError>('/api/sensors/fan-2', { method: 'PATCH', body });
    const own = await patch({ severityThresholds: { criticalPeak: 4, criticalSeconds: 10 } });
    expect(own.body.severityThresholds).toEqual({ criticalPeak: 4, criticalSeconds: 10, custom: true });
    const half = await patch({ severityThresholds: { criticalPeak: null } });
    expect(half.body.severityThresholds).toEqual({ criticalPeak: 2, criticalSeconds: 10, custom: true });
    const back = await patch({ severityThresholds: { criticalSeconds: null } });
    expect(back.body.severityThresholds).toEqual({ criticalPeak: 2, criticalSeconds: 30, custom: false });
    expect((await patch({ severityThresholds: { criticalPeak: 0.5 } })).body.message).toBe(
      'criticalPeak (0.5) must be a number from 1 to 1000',
    );
    expect((await patch({ severityThresholds: { peak: 3 } })).body.message).toBe(
      'severityThresholds.peak (3) is not a setting: use criticalPeak or criticalSeconds',
    );
  });

  it('returns the score history with validated ranges', async () => {
    for (let i = 0; i < 10; i++) await h.store.scores.append('pump-1', 1000 + i * 500, i / 10);
    const all = await h.call<ScorePoint[]>('/api/sensors/pump-1/scores?from=2000&to=3000');
    expect(all.body).toEqual([
      { t: 2000, score: 0.2 },
      { t: 2500, score: 0.3 },
      { t: 3000, score: 0.4 },
    ]);
    const bad = await h.call<ApiError>('/api/sensors/pump-1/scores?limit=0');
    expect(bad.body.message).toBe("limit ('0') must be an integer in 1..20000");
  });

  it('snoozes and lifts the snooze', async () => {
    const before = Date.now();
    const on = await h.call<SensorStatus>('/api/sensors/pump-1/snooze', {
      method: 'POST',
      token: h.operator,
      body: { seconds: 600 },
    });
    expect(on.status).toBe(200);
    expect(on.body.snoozedUntil).toBeGreaterThanOrEqual(before + 600_000);
    const off = await h.call<SensorStatus>('/api/sensors/pump-1/snooze', {
      method: 'DELETE',
      token: h.operator,
    });
    expect(off.body.snoozedUntil).toBeNull();
    const bad = await h.call<ApiError>('/api/sensors/pump-1/snooze', {
      method: 'POST',
      body: { seconds: '10' },
    });
    expect(bad.body.message).toBe("seconds ('10') must be a number from 1 to 2592000");
  });

  it('shows the model and starts an enrolment (202, admin only)', async () => {
    expect((await h.call<ModelStatus>('/api/sensors/pump-1/model', { token: h.operator })).body.state).toBe(
      'none',
    );
    const denied = await h.call('/api/sensors/pump-1/enroll', {
      method: 'POST',
      token: h.operator,
      body: { seconds: 60 },
    });
    expect(denied.status).toBe(403);
    const res = await h.call<ModelStatus>('/api/sensors/pump-1/enroll', {
      method: 'POST',
      body: { seconds: 60 },
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ sensorId: 'pump-1', state: 'recording' });
    const short = await h.call<ApiError>('/api/sensors/pump-1/enroll', {
      method: 'POST',
      body: { seconds: 2 },
    });
    expect(short.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'seconds must be a number from 10 to 3600 (got 2)',
    });
  });

  it('takes several WAVs as multipart upload (202) and passes the runtime errors on', async () => {
    const form = new FormData();
    for (let i = 0; i < 3; i++)
      form.append('files', new Blob([wav()], { type: 'audio/wav' }), `normal-${i}.wav`);
    const res = await h.call<ModelStatus>('/api/sensors/fan-2/model', { method: 'POST', body: form });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ sensorId: 'fan-2', state: 'fitting', source: 'upload' });
    expect(h.models.uploads).toHaveLength(1);
    expect(h.models.uploads[0].by).toBe('alice');
    expect(h.models.uploads[0].files.map((f) => f.name)).toEqual([
      'normal-0.wav',
      'normal-1.wav',
      'normal-2.wav',
    ]);
    expect(h.models.uploads[0].files[0].data.equals(wav())).toBe(true);

    const junk = new FormData();
    for (const name of ['a.wav', 'b.wav', 'notes.txt'])
      junk.append('files', new Blob([name === 'notes.txt' ? 'hello' : wav()]), name);
    const bad = await h.call<ApiError>('/api/sensors/fan-2/model', { method: 'POST', body: junk });
    expect(bad.body).toEqual({
      statusCode: 422,
      error: 'Unprocessable Entity',
      message: 'notes.txt: not a WAV file',
    });

    const none = await h.call<ApiError>('/api/sensors/fan-2/model', { method: 'POST', body: new FormData() });
    expect(none.status).toBe(400);
    expect(none.body.message).toMatch(/files \(none\)/);
    const wrongField = new FormData();
    wrongField.append('clips', new Blob([wav()]), 'x.wav');
    const wrong = await h.call<ApiError>('/api/sensors/fan-2/model', { method: 'POST', body: wrongField });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('Bad Request');
    const many = new FormData();
    for (let i = 0; i < 51; i++) many.append('files', new Blob([wav()]), `n-${i}.wav`);
    const tooMany = await h.call<ApiError>('/api/sensors/fan-2/model', { method: 'POST', body: many });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toMatch(/too many files/i);
    const operator = await h.call('/api/sensors/fan-2/model', {
      method: 'POST',
      token: h.operator,
      body: form,
    });
    expect(operator.status).toBe(403);
  });

  it('teaches, lists and reverts feedback, emitting alert:update', async () => {
    h.models.ready('pump-1');
    const alert = await h.alert('pump-1');
    const other = await h.alert('fan-2');
    const updates: Alert[] = [];
    h.events.on('alert:update', (a) => updates.push(a));

    const wrong = await h.call<ApiError>('/api/sensors/pump-1/feedback', {
      method: 'POST',
      body: { alertId: other.id },
    });
    expect(wrong.body.message).toBe(`alertId (${other.id}) is an alert of sensor 'fan-2', not 'pump-1'`);
    const taught = await h.call<FeedbackInfo>('/api/sensors/pump-1/feedback', {
      method: 'POST',
      body: { alertId: alert.id },
    });
    expect(taught.status).toBe(200);
    expect(taught.body).toMatchObject({
      sensorId: 'pump-1',
      alertId: alert.id,
      createdBy: 'alice',
      revertedAt: null,
    });
    expect(updates.at(-1)?.feedback).toEqual({ id: taught.body.id, taught: true, revertedAt: null });

    const list = await h.call<FeedbackInfo[]>('/api/sensors/pump-1/feedback', { token: h.operator });
    expect(list.body).toEqual([taught.body]);
    expect((await h.call<ModelStatus>('/api/sensors/pump-1/model')).body.feedbackWindows).toBe(4);

    const reverted = await h.call<FeedbackInfo>(`/api/sensors/pump-1/feedback/${taught.body.id}`, {
      method: 'DELETE',
    });
    expect(reverted.body).toMatchObject({ id: taught.body.id, revertedBy: 'alice' });
    expect(updates.at(-1)?.feedback).toMatchObject({ taught: false });
    const twice = await h.call<ApiError>(`/api/sensors/pump-1/feedback/${taught.body.id}`, {
      method: 'DELETE',
    });
    expect(twice.status).toBe(409);
    const other404 = await h.call<ApiError>(`/api/sensors/fan-2/feedback/${taught.body.id}`, {
      method: 'DELETE',
    });
    expect(other404.status).toBe(404);
  });

  it('answers 500 with a generic message for unexpected errors', async () => {
    const res = await h.call<ApiError>('/api/sensors/boom/feedback');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'internal server error (see the server log)',
    });
  });
});

describe('uploads stream to disk, with limits (L1)', () => {
  let h: Harness;
  const KB = 1024;
  beforeAll(async () => {
    h = await startHarness({ maxFileBytes: 64 * KB, maxTotalBytes: 160 * KB });
  });
  afterAll(() => h.close());

  const temp = () => readdirSync(join(h.dir, 'tmp', 'uploads'));
  const form = (sizes: number[]) => {
    const f = new FormData();
    sizes.forEach((bytes, i) => {
      const samples = Math.floor((bytes - 44) / 2);
      f.append(
        'files',
        new Blob([Buffer.from(encodeWav(new Float32Array(samples), 16000, 's16'))]),
        `c-${i}.wav`,
      );
    });
    return f;
  };
  const upload = (body: FormData) => h.call<ApiError>('/api/sensors/fan-9/model', { method: 'POST', body });

  it('accepts an upload within the limits and leaves no temporary file', async () => {
    const res = await upload(form([60 * KB, 50 * KB, 40 * KB]));
    expect(res.status).toBe(202);
    expect(h.models.uploads.at(-1)?.files.map((f) => f.size)).toEqual([60 * KB, 50 * KB, 40 * KB]);
    expect(temp()).toEqual([]);
  });

  it('refuses a file over the per-file limit with 413 naming it and the setting; nothing is left', async () => {
    const res = await upload(form([10 * KB, 70 * KB, 10 * KB]));
    expect(res.status).toBe(413);
    expect(res.body.message).toBe(
      "file 'c-1.wav' is larger than 64 KB, the limit per file (HARK_UPLOAD_MAX_FILE_MB)",
    );
    expect(temp()).toEqual([]);
  });

  it('refuses an upload over the total with 413; the files already stored are removed', async () => {
    const res = await upload(form([60 * KB, 60 * KB, 60 * KB]));
    expect(res.status).toBe(413);
    expect(res.body.message).toBe(
      'the upload is larger than 160 KB, the limit per upload (HARK_UPLOAD_MAX_TOTAL_MB): send fewer or shorter clips',
    );
    expect(temp()).toEqual([]);
  });

  it('removes the temporary files when the service refuses the upload', async () => {
    const bad = form([10 * KB, 10 * KB]);
    bad.append('files', new Blob(['not a wav']), 'notes.txt');
    const res = await upload(bad);
    expect(res.status).toBe(422);
    expect(temp()).toEqual([]);
  });
});
