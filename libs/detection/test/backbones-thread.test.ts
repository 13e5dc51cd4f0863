/**
 * A backbone's session in a worker thread (`session-runner.ts`): the same outputs as on the caller's thread, to
 * the bit; concurrent runs answered each with its own outputs; a failed run, a dead worker, a session that does
 * not open and a release.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  backboneThread,
  loadBackbone,
  openBackboneSessions,
  setBackboneThread,
  type Backbone,
  type BackboneThread,
  type TapOutput,
} from '../src/backbones/index.js';
import { WorkerRunner } from '../src/backbones/session-runner.js';
import { testImage } from './backbones-reference.js';

let cacheDir: string;
beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'hark-backbones-thread-'));
});
afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

function bytesOf(outs: TapOutput[]): Buffer[] {
  return outs.map((o) => Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength));
}

function expectSame(a: TapOutput[], b: TapOutput[]): void {
  expect(b.map((o) => o.dims)).toEqual(a.map((o) => o.dims));
  const [x, y] = [bytesOf(a), bytesOf(b)];
  for (let k = 0; k < x.length; k++) expect(Buffer.compare(x[k], y[k])).toBe(0);
}

/** The worker runner behind a backbone loaded with `thread: 'worker'`. */
function runnerOf(b: Backbone): WorkerRunner {
  const runner = (b as unknown as { session: unknown }).session;
  expect(runner).toBeInstanceOf(WorkerRunner);
  return runner as WorkerRunner;
}

describe("a backbone's session in a worker thread", () => {
  test('the same outputs as on the caller, to the bit; concurrent runs each get their own', async () => {
    const here = await loadBackbone('mobilenetv2', { cacheDir });
    const there = await loadBackbone('mobilenetv2', { cacheDir, thread: 'worker' });
    expect([here.thread, there.thread]).toEqual(['caller', 'worker']);
    // Separate sessions: a caller's and a worker's are not shared.
    expect(openBackboneSessions()).toBe(2);
    const x = testImage(2, 128, 96, 3);
    expectSame(await here.run(x, 2, 128, 96), await there.run(x, 2, 128, 96));
    // The caller keeps its input: it is copied, not moved.
    expect(x.length).toBe(2 * 128 * 96);

    const inputs = Array.from({ length: 6 }, (_, i) => testImage(1, 128, 64, 10 + i));
    const expected: TapOutput[][] = [];
    for (const input of inputs) expected.push(await here.run(input, 1, 128, 64));
    const answers = await Promise.all(inputs.map((input) => there.run(input, 1, 128, 64)));
    answers.forEach((a, i) => expectSame(expected[i], a));
    await here.release();
    await there.release();
    expect(openBackboneSessions()).toBe(0);
    await expect(there.run(x, 2, 128, 96)).rejects.toThrow(/released/);
  });

  test('a backbone loaded after setBackboneThread runs there; a bad value is an error', async () => {
    expect(backboneThread()).toBe('caller');
    try {
      setBackboneThread('worker');
      const b = await loadBackbone('mobilenetv2', { cacheDir });
      expect(b.thread).toBe('worker');
      await b.release();
    } finally {
      setBackboneThread('caller');
    }
    expect(() => setBackboneThread('gpu' as BackboneThread)).toThrow(
      "backbone thread must be 'caller' or 'worker', not gpu",
    );
  });

  test("a run onnxruntime refuses fails alone; the worker's next run is answered", async () => {
    const b = await loadBackbone('mobilenetv2', { cacheDir, thread: 'worker' });
    const runner = runnerOf(b);
    // Past the backbone's own checks: 10 values for a [1, 1, 128, 64] input.
    await expect(runner.run(new Float32Array(10), [1, 1, 128, 64])).rejects.toThrow(/^backbone run failed: /);
    const x = testImage(1, 128, 64, 5);
    const out = await b.run(x, 1, 128, 64);
    expect(out.map((o) => o.dims[0])).toEqual([1, 1]);
    expect(runner.starts).toBe(1);
    await b.release();
  });

  test('a worker that dies fails the runs it held, and the next run starts a new one', async () => {
    const here = await loadBackbone('mobilenetv2', { cacheDir });
    const b = await loadBackbone('mobilenetv2', { cacheDir, thread: 'worker' });
    const runner = runnerOf(b);
    const x = testImage(1, 128, 64, 8);
    const expected = await here.run(x, 1, 128, 64);

    // Terminated while it holds runs.
    const held = [b.run(x, 1, 128, 64), b.run(x, 1, 128, 64)];
    void runner.worker!.terminate();
    for (const p of held) {
      await expect(p).rejects.toThrow(
        /^the backbone's worker thread stopped before answering \(it exited with code 1\); the next run starts a new worker$/,
      );
    }
    expectSame(expected, await b.run(x, 1, 128, 64));
    expect(runner.starts).toBe(2);

    // An error thrown in the worker outside any run: the run posted after it is lost.
    runner.worker!.postMessage({ op: 'crash' });
    await expect(b.run(x, 1, 128, 64)).rejects.toThrow(
      /stopped before answering \(backbone worker: crash requested\)/,
    );
    expectSame(expected, await b.run(x, 1, 128, 64));
    expect(runner.starts).toBe(3);
    await here.release();
    await b.release();
    expect(openBackboneSessions()).toBe(0);
  });

  test('a model the session cannot open is an error that says where', async () => {
    await expect(WorkerRunner.open(new Uint8Array([1, 2, 3, 4]), {})).rejects.toThrow(
      /^the backbone's session did not open in its worker thread: /,
    );
  });
});
