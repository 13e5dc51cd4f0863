/**
 * The model service without Nest, over a real (empty) model registry, store and alert media: what enrolment,
 * teaching and reverting refuse, the feedback kept for the registry, and the record of each fit.
 */
import { describe, expect, it } from 'vitest';
import { AlertMediaStore } from '../../src/alerts/alert-media.js';
import { HarkEvents } from '../../src/events.js';
import { ModelError } from '../../src/models/errors.js';
import { ModelRegistry } from '../../src/models/model-registry.js';
import { ModelService } from '../../src/models/model.service.js';
import { BlobCache } from '../../src/store/blob-cache.js';
import { tempStore } from '../store/helpers.js';

function setup() {
  const { store, dir } = tempStore();
  const media = new AlertMediaStore(dir, store);
  const events = new HarkEvents();
  const recorded: string[] = [];
  // eslint-disable-next-line prefer-const
  let service: ModelService;
  const registry = new ModelRegistry({
    dataDir: dir,
    versionStore: { versions: store.modelVersions, cache: new BlobCache(dir, store.blobs) },
    events,
    pollMs: 60_000,
    record: (id) => {
      recorded.push(id);
      throw new ModelError(
        `sensor ${id} is not connected: enrolment records its live stream`,
        'NOT_STREAMING',
      );
    },
    activeFeedback: (id) => service.activeFeedback(id),
  });
  service = new ModelService(registry, store, media, events);
  const alert = (kind: 'anomaly' | 'silence' = 'anomaly') =>
    store.alerts.open({ sensorId: 'pump-1', kind, start: 1000, peakScore: 2, peakAt: 1100, threshold: 1 });
  return { store, media, events, registry, service, recorded, alert };
}

const codeOf = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return [(err as ModelError).code, (err as Error).message];
  }
  return null;
};

describe('ModelService', () => {
  it('refuses to teach what cannot be taught, each with its code', async () => {
    const s = setup();
    await s.registry.start();
    const silence = await s.alert('silence');
    expect(await codeOf(s.service.teach(silence.id, 'ana'))).toEqual([
      'NOT_TEACHABLE',
      `alert ${silence.id} is a silence alert: there is no sound to learn`,
    ]);
    const anomaly = await s.alert();
    expect(await codeOf(s.service.teach(anomaly.id, 'ana'))).toEqual([
      'NO_MODEL',
      'sensor pump-1 has no model to teach',
    ]);
    expect(await codeOf(s.service.teach(999, 'ana'))).toEqual(['NOT_FOUND', 'alert 999 not found']);
    expect(await s.store.feedback.listBySensor('pump-1')).toEqual([]);
    await s.registry.stop();
  });

  it('refuses enrolments outside the limits and of sensors that are not streaming', async () => {
    const s = setup();
    expect(await codeOf(() => s.service.enrol('pump-1', 5, 'ana'))).toEqual([
      'INVALID',
      'seconds must be a number from 10 to 3600 (got 5)',
    ]);
    expect(s.recorded).toEqual([]);
    expect(await codeOf(() => s.service.enrol('pump-1', 60, 'ana'))).toEqual([
      'NOT_STREAMING',
      'sensor pump-1 is not connected: enrolment records its live stream',
    ]);
    expect(s.service.status('pump-1')).toMatchObject({ state: 'none', error: null });
    expect(await codeOf(() => s.service.enrol('..', 60, 'ana'))).toEqual([
      'INVALID',
      'sensor id ".." is not valid',
    ]);
  });

  it('hands the registry the active feedback (windows, and the patches of alerts that kept them), and reverts it', async () => {
    const s = setup();
    const a = await s.alert();
    const b = await s.alert();
    const c = await s.alert();
    const d = await s.alert();
    // c kept its windows only, as alerts do now (the registry computes the patches); d kept nothing.
    await s.media.writeWindows(c.id, new Float32Array([9, 10]));
    await s.media.writeWindows(a.id, new Float32Array([1, 2]));
    await s.media.writePatches(a.id, new Float32Array([3, 4, 5, 6]));
    await s.media.writePatches(b.id, new Float32Array([7, 8]));
    const fa = await s.store.feedback.create({
      sensorId: 'pump-1',
      alertId: a.id,
      windows: 1,
      patches: 2,
      path: s.media.ref(a.id, 'patches'),
      createdBy: 'ana',
    });
    const fb = await s.store.feedback.create({
      sensorId: 'pump-1',
      alertId: b.id,
      windows: 1,
      patches: 1,
      path: s.media.ref(b.id, 'patches'),
      createdBy: 'ana',
    });
    const fc = await s.store.feedback.create({
      sensorId: 'pump-1',
      alertId: c.id,
      windows: 1,
      patches: 1,
      path: s.media.ref(c.id, 'windows'),
      createdBy: 'ana',
    });
    const fd = await s.store.feedback.create({
      sensorId: 'pump-1',
      alertId: d.id,
      windows: 1,
      patches: 1,
      path: s.media.ref(d.id, 'windows'),
      createdBy: 'ana',
    });
    expect(await s.service.activeFeedback('pump-1')).toEqual([
      { id: fa.id, patches: new Float32Array([3, 4, 5, 6]), windows: new Float32Array([1, 2]) },
      { id: fb.id, patches: new Float32Array([7, 8]), windows: null },
      { id: fc.id, patches: null, windows: new Float32Array([9, 10]) },
    ]);
    const reverted = await s.service.revert('pump-1', fa.id, 'bob');
    expect(reverted).toMatchObject({ id: fa.id, alertId: a.id, revertedBy: 'bob' });
    expect(reverted).not.toHaveProperty('path');
    expect((await s.service.activeFeedback('pump-1')).map((f) => f.id)).toEqual([fb.id, fc.id]);
    expect((await s.service.listFeedback('pump-1')).map((f) => [f.id, f.revertedBy])).toEqual([
      [fa.id, 'bob'],
      [fb.id, null],
      [fc.id, null],
      [fd.id, null],
    ]);
    await expect(s.service.revert('pump-1', fa.id, 'bob')).rejects.toThrow(/already reverted/);
  });

  it('records the end of every fit in the store, failures with their message', async () => {
    const s = setup();
    s.events.emit('model:progress', { sensorId: 'pump-1', stage: 'fit', done: 1, total: 2 });
    expect(await s.store.models.latest('pump-1')).toBeNull();
    s.events.emit('model:progress', {
      sensorId: 'pump-1',
      stage: 'failed',
      done: 0,
      total: 0,
      message: 'no audio',
    });
    expect(await s.store.models.latest('pump-1')).toMatchObject({
      sensorId: 'pump-1',
      error: 'no audio',
      fittedAt: null,
    });
  });
});
