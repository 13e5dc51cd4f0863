/**
 * A live microphone through ALSA's `arecord`:
 * `arecord -D DEVICE -f S16_LE -r RATE -c CHANNELS -t raw -q` (FLOAT_LE for f32le), streaming its stdout.
 */
import { spawn } from 'node:child_process';
import { type PcmChunk, type PcmSource, type SampleFormat, type StreamFormat } from '../types.js';
import { readableSource } from './readable.js';

export interface AlsaOptions {
  /** Hz (default 16000). */
  rate?: number;
  channels?: number;
  format?: SampleFormat;
  chunkMs?: number;
  /** Stops arecord when aborted. */
  signal?: AbortSignal;
  /** The capture program (default `arecord`); tests substitute a script. */
  command?: string;
}

export function arecordArgs(device: string, f: StreamFormat): string[] {
  return [
    ...['-D', device, '-f', f.format === 's16le' ? 'S16_LE' : 'FLOAT_LE'],
    ...['-r', String(f.sampleRate), '-c', String(f.channels), '-t', 'raw', '-q'],
  ];
}

export function alsaSource(device: string, options: AlsaOptions = {}): PcmSource {
  const format: StreamFormat = {
    sampleRate: options.rate ?? 16000,
    channels: options.channels ?? 1,
    format: options.format ?? 's16le',
  };
  const command = options.command ?? 'arecord';
  const { signal } = options;
  const description = `arecord -D ${device}`;

  async function* capture(): AsyncGenerator<PcmChunk> {
    if (signal?.aborted) return;
    const child = spawn(command, arecordArgs(device, format), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    let spawnError: NodeJS.ErrnoException | null = null;
    const closed = new Promise<{ code: number | null; sig: NodeJS.Signals | null }>((resolve) => {
      child.once('close', (code, sig) => resolve({ code, sig }));
      child.once('error', (err) => {
        spawnError = err;
        resolve({ code: null, sig: null });
      });
    });
    let stopping = false;
    const stop = () => {
      stopping = true;
      child.kill('SIGTERM');
    };
    signal?.addEventListener('abort', stop, { once: true });
    let drained = false;
    try {
      yield* readableSource(child.stdout, format, { chunkMs: options.chunkMs, live: true, description });
      drained = true;
    } finally {
      signal?.removeEventListener('abort', stop);
      // The reader left early (stop, error): end the capture. Otherwise arecord closed its output itself.
      if (!drained && child.exitCode === null && child.signalCode === null) stop();
    }
    const { code, sig } = await closed;
    const failed = spawnError as NodeJS.ErrnoException | null;
    if (failed?.code === 'ENOENT')
      throw new Error(
        `${command} not found: install alsa-utils (apt-get install alsa-utils), or use --stdin`,
      );
    if (failed) throw new Error(`cannot start ${command}: ${failed.message}`);
    if (!stopping && code !== 0)
      throw new Error(
        `${description} failed (${code === null ? `signal ${sig}` : `exit code ${code}`}): ${stderr.trim() || 'no message'}`,
      );
  }

  return { format, live: true, description, [Symbol.asyncIterator]: capture };
}
