import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  alsaSource,
  arecordArgs,
  DEFAULT_CHUNK_MS,
  pacedSource,
  PushSource,
  readableSource,
  type Clock,
  type PcmChunk,
  type PcmSource,
} from '../../src/sensor/index.js';
import { tempDir } from '../../../../test/support/temp.js';

const tmp = tempDir('sensor-src');

async function collect(source: PcmSource, onChunk?: (c: PcmChunk) => void): Promise<PcmChunk[]> {
  const out: PcmChunk[] = [];
  for await (const c of source) {
    out.push(c);
    onChunk?.(c);
  }
  return out;
}

/** A clock that only moves when slept on (or pushed by a test): pacing is checked without real time. */
function fakeClock() {
  const clock = {
    t: 1000,
    sleeps: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
    },
  };
  return clock satisfies Clock;
}

const mono16k = { sampleRate: 16000, channels: 1, format: 's16le' as const };

describe('the default chunk', () => {
  it('is 100 ms (DEFAULT_CHUNK_MS) for every source, in whole frames of its rate', async () => {
    expect(DEFAULT_CHUNK_MS).toBe(100);
    const stereo441 = { sampleRate: 44100, channels: 2, format: 's16le' as const };
    const paced = await collect(pacedSource(new Uint8Array(4410 * 4 * 2), stereo441, { speed: Infinity }));
    expect(paced.map((c) => c.data.length)).toEqual([4410 * 4, 4410 * 4]);
    async function* reads() {
      yield new Uint8Array(1600 * 2 * 3);
    }
    const read = await collect(readableSource(reads(), mono16k));
    expect(read.map((c) => c.data.length)).toEqual([3200, 3200, 3200]);
    expect(read[1].t - read[0].t).toBe(100);
  });
});

describe('pacedSource', () => {
  it('releases chunk k at start + (k + 1) * chunk / speed on the monotonic clock, stamped start + k * chunk', async () => {
    const clock = fakeClock();
    const pcm = new Uint8Array(16000 * 2); // 1 s
    const released: number[] = [];
    const chunks = await collect(
      pacedSource(pcm, mono16k, { speed: 4, chunkMs: 20, clock, startTime: 5_000 }),
      () => released.push(clock.now()),
    );
    expect(chunks).toHaveLength(50);
    expect(released).toEqual([...Array(50).keys()].map((k) => 1000 + ((k + 1) * 20) / 4));
    expect(chunks.map((c) => c.t)).toEqual([...Array(50).keys()].map((k) => 5_000 + 20 * k));
    expect(Buffer.concat(chunks.map((c) => c.data)).length).toBe(pcm.length);
  });

  it('does not drift: after a late reader it catches up at once, on the original schedule', async () => {
    const clock = fakeClock();
    const released: number[] = [];
    const source = pacedSource(new Uint8Array(320 * 2 * 10), mono16k, {
      speed: 1,
      clock,
      startTime: 0,
      chunkMs: 20,
    });
    await collect(source, (c) => {
      released.push(clock.now());
      if (c.t === 40) clock.t += 55; // the reader stalls 55 ms after chunk 2
    });
    // Chunks 3 and 4 were due at 80 and 100 ms: released immediately at 115; then back on the 20 ms grid.
    expect(released.map((t) => t - 1000)).toEqual([20, 40, 60, 115, 115, 120, 140, 160, 180, 200]);
  });

  it('loops with a clock that keeps counting, and stops when aborted', async () => {
    const clock = fakeClock();
    const abort = new AbortController();
    const pcm = new Uint8Array(320 * 2 * 3).map((_, i) => i & 0xff); // 3 chunks
    const chunks = await collect(
      pacedSource(pcm, mono16k, { loop: true, clock, startTime: 0, signal: abort.signal, chunkMs: 20 }),
      (c) => c.t >= 20 * 7 && abort.abort(),
    );
    expect(chunks.map((c) => c.t)).toEqual([0, 20, 40, 60, 80, 100, 120, 140]);
    expect(Buffer.from(chunks[4].data).equals(Buffer.from(chunks[1].data))).toBe(true);
  });

  it('starts a loop at a given frame, plays to the end, then on from the start', async () => {
    const clock = fakeClock();
    const abort = new AbortController();
    const pcm = new Uint8Array(320 * 2 * 3).map((_, i) => i & 0xff); // 3 chunks
    const chunks = await collect(
      pacedSource(pcm, mono16k, {
        loop: true,
        clock,
        startTime: 0,
        signal: abort.signal,
        chunkMs: 20,
        startFrame: 800,
      }),
      (c) => c.t >= 70 && abort.abort(),
    );
    // Half a chunk to the end, then whole chunks from the start; the clock counts what was played.
    expect(chunks.map((c) => c.data.length)).toEqual([320, 640, 640, 640, 640]);
    expect(chunks.map((c) => c.t)).toEqual([0, 10, 30, 50, 70]);
    expect(Buffer.from(chunks[0].data).equals(Buffer.from(pcm.subarray(1600)))).toBe(true);
    expect(Buffer.from(chunks[1].data).equals(Buffer.from(pcm.subarray(0, 640)))).toBe(true);
    expect(Buffer.from(chunks[4].data).equals(Buffer.from(chunks[1].data))).toBe(true);
    expect(() => pacedSource(pcm, mono16k, { startFrame: 960 })).toThrow(
      'startFrame (960) must be a whole frame within the 960 frames',
    );
  });

  it('ends with a shorter last chunk and rejects bytes that are not whole frames', async () => {
    const chunks = await collect(pacedSource(new Uint8Array(700), mono16k, { speed: Infinity, chunkMs: 20 }));
    expect(chunks.map((c) => c.data.length)).toEqual([640, 60]);
    expect(() => pacedSource(new Uint8Array(7), mono16k)).toThrow(
      /7 bytes is not a whole number of 2-byte frames/,
    );
    expect(() => pacedSource(new Uint8Array(8), mono16k, { speed: 0 })).toThrow('speed (0) must be > 0');
  });
});

describe('readableSource', () => {
  it('stamps chunks by counting samples from the first read', async () => {
    let wall = 10_000;
    async function* reads() {
      yield new Uint8Array(640 * 2); // 40 ms, arriving at 10 000
      wall += 40;
      yield new Uint8Array(640);
    }
    const chunks = await collect(readableSource(reads(), mono16k, { now: () => wall, chunkMs: 20 }));
    expect(chunks.map((c) => c.t)).toEqual([9_960, 9_980, 10_000]);
  });

  it('follows the wall clock again after the input paused for more than a second', async () => {
    let wall = 10_000;
    async function* reads() {
      yield new Uint8Array(640);
      wall += 5_000;
      yield new Uint8Array(640);
    }
    const chunks = await collect(readableSource(reads(), mono16k, { now: () => wall, chunkMs: 20 }));
    expect(chunks.map((c) => c.t)).toEqual([9_980, 14_980]);
  });
});

describe('alsaSource', () => {
  it('runs arecord with the documented arguments', () => {
    expect(arecordArgs('hw:1,0', mono16k)).toEqual([
      '-D',
      'hw:1,0',
      '-f',
      'S16_LE',
      '-r',
      '16000',
      '-c',
      '1',
      '-t',
      'raw',
      '-q',
    ]);
    expect(arecordArgs('default', { sampleRate: 48000, channels: 2, format: 'f32le' })).toContain('FLOAT_LE');
  });

  it("streams the capture program's stdout as whole-frame chunks", async () => {
    const script = join(tmp, 'fake-arecord.sh');
    // Writes its arguments to a file, then 1000 bytes (500 frames) of audio.
    writeFileSync(script, `#!/bin/sh\necho "$@" > "${tmp}/args"\nhead -c 1000 /dev/zero | tr '\\0' '\\1'\n`);
    chmodSync(script, 0o755);
    const chunks = await collect(alsaSource('hw:7', { command: script, chunkMs: 10 }));
    expect(chunks.map((c) => c.data.length)).toEqual([320, 320, 320, 40]);
    expect(chunks.every((c) => c.data.every((b) => b === 1))).toBe(true);
  });

  it('a missing arecord is a clear error', async () => {
    await expect(collect(alsaSource('default', { command: 'hark-no-such-arecord' }))).rejects.toThrow(
      'hark-no-such-arecord not found: install alsa-utils (apt-get install alsa-utils), or use --stdin',
    );
  });

  it('a failing arecord (bad device) reports its exit code and message', async () => {
    const script = join(tmp, 'bad-arecord.sh');
    writeFileSync(
      script,
      '#!/bin/sh\necho "arecord: main:850: audio open error: No such device" >&2\nexit 1\n',
    );
    chmodSync(script, 0o755);
    await expect(collect(alsaSource('hw:9', { command: script }))).rejects.toThrow(
      'arecord -D hw:9 failed (exit code 1): arecord: main:850: audio open error: No such device',
    );
  });

  it('stops the capture program when aborted', async () => {
    const script = join(tmp, 'endless-arecord.sh');
    writeFileSync(script, '#!/bin/sh\nexec cat /dev/zero\n');
    chmodSync(script, 0o755);
    const abort = new AbortController();
    let n = 0;
    await collect(
      alsaSource('default', { command: script, signal: abort.signal }),
      () => ++n === 5 && abort.abort(),
    );
    expect(n).toBeGreaterThanOrEqual(5);
  });
});

describe('PushSource', () => {
  it('yields pushed chunks in order, then ends or fails', async () => {
    const s = new PushSource(mono16k);
    s.push(new Uint8Array(4), 1);
    s.push(new Uint8Array(2), 2);
    setTimeout(() => s.end(), 1);
    expect((await collect(s)).map((c) => c.t)).toEqual([1, 2]);
    expect(() => s.push(new Uint8Array(3))).toThrow();
    const f = new PushSource(mono16k);
    f.fail(new Error('mic unplugged'));
    await expect(collect(f)).rejects.toThrow('mic unplugged');
    expect(() => new PushSource(mono16k).push(new Uint8Array(3))).toThrow(
      /not a whole number of 2-byte frames/,
    );
  });
});
