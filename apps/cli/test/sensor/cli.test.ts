/** The real `hark sensor` binary (apps/cli/bin/hark.js, which runs dist/: `make test` builds it first). */
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '@hark/dsp';
import { FakeSensorServer, GOOD_TOKEN, streamBytes } from './fake-server.js';
import { tempDir } from '../../../../test/support/temp.js';

const root = new URL('../../../../', import.meta.url).pathname;
const bin = join(root, 'apps/cli/bin/hark.js');
const tmp = tempDir('sensor-cli');

function withoutToken() {
  const env = { ...process.env };
  delete env.HARK_TOKEN;
  return env;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `hark ...args`; `drive` may write to its stdin or signal it while it runs. */
function hark(
  args: string[],
  o: {
    env?: Record<string, string>;
    drive?: (child: ReturnType<typeof spawn>, out: () => string) => Promise<void>;
  } = {},
): Promise<Run> {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...withoutToken(), ...o.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<Run>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  if (o.drive) void o.drive(child, () => stdout);
  else child.stdin.end();
  return exited;
}

let server: FakeSensorServer;
let wavPath: string;
let wavPcm: Buffer;

beforeAll(async () => {
  if (!existsSync(join(root, 'apps/cli/dist/commands/sensor.js')))
    throw new Error('build the CLI first: npm run build');
  server = await FakeSensorServer.start({
    audio: (msg, { stream }) =>
      stream.sensorId === 'picky' && msg.seq === 2
        ? { ok: false, error: 'chunk of 640 bytes is over 600', code: 'TOO_LARGE' }
        : undefined,
  });
  const samples = Float32Array.from({ length: 16000 }, (_, i) => 0.5 * Math.sin(i / 5));
  const wav = encodeWav(samples, 16000, 's16');
  wavPath = join(tmp, 'sine.wav');
  writeFileSync(wavPath, wav);
  wavPcm = Buffer.from(wav.subarray(44));
});
afterAll(() => server?.close());

const base = () => ['sensor', '--server', server.url];

describe('hark sensor', () => {
  it('streams a WAV (token from HARK_TOKEN), logs state changes as lines and ends with a summary', async () => {
    const r = await hark([...base(), '--id', 'cli-wav', '--wav', wavPath, '--speed', '500'], {
      env: { HARK_TOKEN: GOOD_TOKEN },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/ connecting$/);
    expect(lines[1]).toMatch(/ connected \(stream [0-9a-f-]{36}, next seq 0\)$/);
    // The default --chunk-ms (100): ten chunks for the 1 s file.
    expect(lines.at(-1)).toBe(
      'done: streamed 1.00 s in 10 chunks, 10 sent (0 resent), 0 reconnects, dropped 0 chunks (0.00 s)',
    );
    const [stream] = server.streamsOf('cli-wav');
    expect(streamBytes(stream).equals(wavPcm)).toBe(true);
  });

  it('reads --stdin with frames split across writes, logs JSON lines with --json (token from --token-file)', async () => {
    const tokenFile = join(tmp, 'sensor-token');
    writeFileSync(tokenFile, `${GOOD_TOKEN}\n`, { mode: 0o600 });
    // Stereo f32le at 8 kHz (8-byte frames): 0.25 s, written in odd pieces with pauses between them.
    const pcm = Buffer.alloc(2000 * 8);
    for (let i = 0; i < 4000; i++) pcm.writeFloatLE(Math.sin(i / 3) * 0.25, 4 * i);
    const args = [
      '--id',
      'cli-stdin',
      '--token-file',
      tokenFile,
      '--stdin',
      '--rate',
      '8000',
      '--channels',
      '2',
    ];
    const r = await hark([...base(), ...args, '--format', 'f32le', '--json'], {
      drive: async (child) => {
        for (let off = 0, k = 0; off < pcm.length; k++) {
          const n = [3, 1021, 5, 4000][k % 4];
          child.stdin!.write(pcm.subarray(off, off + n));
          off += n;
          await sleep(2);
        }
        child.stdin!.end();
      },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => (e.event === 'state' ? e.state : e.event))).toEqual([
      'connecting',
      'connected',
      'stopped',
      'summary',
    ]);
    // Two 100 ms chunks (800 frames) and the last 50 ms.
    expect(events[3]).toMatchObject({ stopped: false, chunksAcked: 3, dropped: { chunks: 0, seconds: 0 } });
    expect(events[3].secondsAcked).toBeCloseTo(0.25, 9);
    const [stream] = server.streamsOf('cli-stdin');
    expect(stream.hello).toMatchObject({ sampleRate: 8000, channels: 2, format: 'f32le' });
    expect(stream.chunks.every((c) => c.data.length % 8 === 0)).toBe(true);
    expect(streamBytes(stream).equals(pcm)).toBe(true);
  });

  it('exits with code 2 and the server message when the token is refused', async () => {
    const r = await hark([...base(), '--id', 'cli-bad', '--token', 'nope', '--wav', wavPath]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("hark: server refused the connection: invalid token for sensor 'cli-bad'\n");
  });

  it('exits with code 1 and the server message when a chunk is rejected as malformed', async () => {
    const r = await hark([
      ...base(),
      '--id',
      'picky',
      '--token',
      GOOD_TOKEN,
      '--wav',
      wavPath,
      '--speed',
      '100',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('hark: server rejected chunk 2: chunk of 640 bytes is over 600 (TOO_LARGE)\n');
  });

  it('stops cleanly on SIGINT: exit 0 and a summary', async () => {
    const r = await hark(
      [
        ...base(),
        '--id',
        'cli-loop',
        '--token',
        GOOD_TOKEN,
        '--wav',
        wavPath,
        '--loop',
        '--speed',
        '20',
        '--json',
      ],
      {
        drive: async (child, out) => {
          while (!out().includes('"state":"connected"')) await sleep(10);
          child.kill('SIGINT');
        },
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ event: 'summary', stopped: true, inFlight: 0 });
    expect(server.streamsOf('cli-loop')[0].chunks).toHaveLength(summary.chunksAcked);
  });

  it('reports a missing file or token before connecting', async () => {
    const missing = join(tmp, 'missing.wav');
    const r = await hark([...base(), '--id', 'x', '--token', GOOD_TOKEN, '--wav', missing]);
    expect([r.code, r.stderr]).toEqual([1, `hark: ${missing}: no such file\n`]);
    const noToken = await hark([...base(), '--id', 'x', '--wav', wavPath]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/give the sensor token: --token-file FILE or HARK_TOKEN/);
    const emptyFile = join(tmp, 'empty-token');
    writeFileSync(emptyFile, '');
    const empty = await hark([...base(), '--id', 'x', '--token-file', emptyFile, '--wav', wavPath]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain(`--token-file '${emptyFile}' is empty`);
  });
});
